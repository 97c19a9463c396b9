// Package crashtest kills `otai run` with SIGKILL at chosen points of a
// triage run against a help desk that outlives it, restarts it each time,
// and checks that in the end every ticket has exactly one note and the
// right queue and priority. See docs/reliability-crash.md.
package crashtest

import (
	"bytes"
	"os"
	"sync"
	"testing"

	"github.com/otai-dev/otai/internal/cli"
)

// asMain is the environment variable that turns the test binary into otai.
const asMain = "OTAI_CRASHTEST_AS_MAIN"

// TestMain lets the test binary act as the otai binary, so the test can run
// it as a child process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer safe to read while a process writes to it.
// It keeps only the last max bytes (a long run logs a lot).
type syncBuffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	max int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Write(p)
	if s.max > 0 && s.b.Len() > 2*s.max {
		keep := bytes.Clone(s.b.Bytes()[s.b.Len()-s.max:])
		s.b.Reset()
		s.b.Write(keep)
	}
	return len(p), nil
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
