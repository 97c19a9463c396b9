package pipe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"
)

// Claims hands out leases on work items, so that several otai processes
// sharing one state store never work on the same ticket at once, and the
// leases of a process that died run out and are taken over by the others.
//
// A lease is held by an owner (one otai process, see NewOwner) until it
// expires or is released.
type Claims interface {
	// Claim takes the lease on key for owner for ttl. It succeeds (true)
	// when nobody holds key, when the holder's lease has expired, or when
	// owner already holds it (which renews the lease for another ttl).
	Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Release gives up owner's lease on key; a lease held by another owner
	// is left alone.
	Release(ctx context.Context, key, owner string) error
}

// NewOwner returns an id for this process as a lease owner:
// host/pid/random, unique among processes that share a store.
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
