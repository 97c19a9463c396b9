package pipe

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Claims hands out leases on work items, so that several otai processes
// sharing one state store never work on the same ticket at once, and the
// leases of a process that died run out and are taken over by the others.
//
// A lease is held by an owner (one otai process, see NewOwner) until it
// expires or is released, or until a process on the same machine finds
// that the owner is no longer running (OwnerGone) and takes it over.
type Claims interface {
	// Claim takes the lease on key for owner for ttl. It succeeds (true)
	// when nobody holds key, when the holder's lease has expired, when
	// owner already holds it (which renews the lease for another ttl), or
	// when OwnerGone(holder, owner) says the holder is dead.
	Claim(ctx context.Context, key, owner string, ttl time.Duration) (bool, error)
	// Release gives up owner's lease on key; a lease held by another owner
	// is left alone.
	Release(ctx context.Context, key, owner string) error
}

// NewOwner returns an id for this process as a lease owner,
// host/pid/random/machine, unique among processes that share a store.
// machine names this kernel boot and PID namespace (empty where that is
// not known), so that OwnerGone can tell when a pid in an owner id can be
// looked up here.
func NewOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	host = strings.ReplaceAll(host, "/", "_")
	var b [4]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s/%d/%s/%s", host, os.Getpid(), hex.EncodeToString(b[:]), machineID())
}

// machineID is a short hash of the kernel's boot id and this process's PID
// namespace: two processes with the same machineID see the same pids.
// Empty when either cannot be read (not Linux, /proc not mounted).
func machineID() string {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil || len(strings.TrimSpace(string(boot))) == 0 {
		return ""
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	if err != nil || ns == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(string(boot)) + "\x00" + ns))
	return hex.EncodeToString(sum[:6])
}

type ownerID struct {
	host    string
	pid     int
	machine string
}

func parseOwner(s string) (ownerID, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 4 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return ownerID{}, false
	}
	pid, err := strconv.Atoi(parts[1])
	if err != nil || pid <= 0 {
		return ownerID{}, false
	}
	return ownerID{host: parts[0], pid: pid, machine: parts[3]}, true
}

// OwnerGone reports whether holder, a lease owner id from NewOwner, is a
// process that has certainly stopped, judged by self, this process's own
// owner id. It is true only when both ids come from the same host, kernel
// boot and PID namespace and no running process has holder's pid (a zombie
// counts as stopped). Everything it cannot judge (another host or
// namespace, an id of another form, a pid now used by another program, an
// earlier engine in this very process) counts as running: that lease then
// runs out after its ttl, as without this check.
func OwnerGone(holder, self string) bool {
	if holder == self {
		return false
	}
	h, ok1 := parseOwner(holder)
	s, ok2 := parseOwner(self)
	if !ok1 || !ok2 || h.host != s.host || h.machine != s.machine {
		return false
	}
	return !processRunning(h.pid)
}

// processRunning reports whether a process with pid runs in this PID
// namespace, from /proc: no entry, or a zombie or dead one, means no.
// When /proc cannot be read for another reason it says yes.
func processRunning(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !os.IsNotExist(err)
	}
	// The state follows the command name in parentheses, which may itself
	// contain ") ": take the last one.
	i := strings.LastIndex(string(stat), ") ")
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	switch stat[i+2] {
	case 'Z', 'X', 'x':
		return false
	}
	return true
}
