package secret

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLookupOrder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "FROM_FILE"), []byte("file-value\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "lower_case"), []byte("lower-value"), 0o600)
	env := map[string]string{"OTAI_SECRET_BOTH": "prefixed", "BOTH": "plain", "PLAIN": "plain-only", "OTAI_SECRET_EMPTY": ""}
	r := Resolver{Dir: dir, LookupEnv: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	tests := []struct{ name, want string }{
		{"BOTH", "prefixed"},
		{"both", "prefixed"}, // OTAI_SECRET_ is upper-cased
		{"PLAIN", "plain-only"},
		{"FROM_FILE", "file-value"}, // trailing newline trimmed
		{"LOWER_CASE", "lower-value"},
	}
	for _, tt := range tests {
		got, err := r.Lookup(tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	_, err := r.Lookup("EMPTY")
	if !errors.Is(err, ErrMissing) {
		t.Errorf("an empty variable should count as missing, got %v", err)
	}
	if _, err := r.Lookup("../etc/passwd"); err == nil || errors.Is(err, ErrMissing) {
		t.Errorf("a path as secret name must be refused, got %v", err)
	}
}

func TestRedact(t *testing.T) {
	Register("abc") // too short: ignored
	Register("correct-horse")
	Register("correct-horse-battery") // longer first: masked whole
	got := Redact("pw=correct-horse-battery, old=correct-horse, x=abc")
	if got != "pw=[REDACTED], old=[REDACTED], x=abc" {
		t.Errorf("Redact = %q", got)
	}
	if !Contains("xx correct-horse xx") || Contains("nothing here") {
		t.Error("Contains is wrong")
	}
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestHandlerRedactsEverything(t *testing.T) {
	const v = "s3cr3t-t0ken-value"
	Register(v)
	var buf bytes.Buffer
	log := slog.New(Handler(slog.NewJSONHandler(&buf, nil)))
	log = log.With("preset", "token="+v)
	log.Info("login with "+v,
		"plain", v,
		"err", fmt.Errorf("auth failed for %s", v),
		"stringer", stringer{"Bearer " + v},
		"bytes", []byte(v),
		"struct", struct{ Password string }{v},
		slog.Group("g", "inner", v))
	log.WithGroup("grp").Warn("x", "k", v)
	if strings.Contains(buf.String(), v) {
		t.Fatalf("secret in log output:\n%s", buf.String())
	}
	if strings.Count(buf.String(), Mask) < 8 {
		t.Errorf("expected every mention masked:\n%s", buf.String())
	}
}
