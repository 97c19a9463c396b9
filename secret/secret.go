// Package secret resolves ${{ secrets.NAME }} references and keeps secret
// values out of every log line, error and printed config.
//
// Resolution order for NAME: the environment variable OTAI_SECRET_NAME, then
// NAME, then the file NAME (or name, lower-cased) in the secrets directory
// (/run/secrets by default, as Docker and Kubernetes mount them).
//
// Every resolved value is registered with the process-wide redactor; Redact
// replaces registered values with [REDACTED], and Handler wraps a slog.Handler
// so log output is redacted too.
package secret

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// ErrMissing is returned (wrapped) when a secret is not set anywhere.
var ErrMissing = errors.New("secret not set")

// DefaultDir is where file secrets are read from when no directory is set.
const DefaultDir = "/run/secrets"

// Mask replaces a secret in output.
const Mask = "[REDACTED]"

// MinLen is the shortest value the redactor masks: masking shorter values
// would shred ordinary text; such secrets are too weak to be secret anyway.
const MinLen = 4

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Resolver looks secrets up. The zero value reads the process environment
// and DefaultDir.
type Resolver struct {
	Dir       string                            // "" means DefaultDir
	LookupEnv func(key string) (string, bool)   // nil means os.LookupEnv
	ReadFile  func(name string) ([]byte, error) // nil means os.ReadFile
}

// Lookup returns the value of secret name and registers it for redaction.
func (r Resolver) Lookup(name string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("secret name %q: use letters, digits and _", name)
	}
	env := r.LookupEnv
	if env == nil {
		env = os.LookupEnv
	}
	for _, k := range []string{"OTAI_SECRET_" + strings.ToUpper(name), name} {
		if v, ok := env(k); ok && v != "" {
			Register(v)
			return v, nil
		}
	}
	dir := r.Dir
	if dir == "" {
		dir = DefaultDir
	}
	read := r.ReadFile
	if read == nil {
		read = os.ReadFile
	}
	for _, fn := range []string{name, strings.ToLower(name)} {
		b, err := read(filepath.Join(dir, fn))
		if err == nil {
			v := strings.TrimRight(string(b), "\r\n")
			Register(v)
			return v, nil
		}
	}
	return "", fmt.Errorf("secret %s: %w (set OTAI_SECRET_%s or %s, or put a file %s in %s)",
		name, ErrMissing, strings.ToUpper(name), name, name, dir)
}

var (
	mu     sync.RWMutex
	values []string // longest first, so overlapping secrets mask fully
)

// Register marks v as secret. Values shorter than MinLen are ignored.
func Register(v string) {
	if len(v) < MinLen {
		return
	}
	mu.Lock()
	defer mu.Unlock()
	for _, x := range values {
		if x == v {
			return
		}
	}
	values = append(values, v)
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
}

// Redact replaces every registered secret in s with Mask.
func Redact(s string) string {
	mu.RLock()
	defer mu.RUnlock()
	for _, v := range values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Mask)
		}
	}
	return s
}

// Contains reports whether s holds a registered secret.
func Contains(s string) bool { return Redact(s) != s }
