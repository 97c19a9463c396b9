// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// packaged binaries (apt-get install postgresql), a fresh cluster in a
// temporary directory, listening on a free loopback port and a private
// Unix socket directory, stopped and removed when the test ends.
//
// When the binaries are missing or the server cannot start, the test is
// skipped with the reason; under CI=true it fails instead, because CI
// installs PostgreSQL (.ci/run) and a skip there would hide the test.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a running PostgreSQL.
type Server struct {
	Port    int
	Dir     string // cluster data and socket directory
	Version string // e.g. "15"
	bin     string
	runAs   string // unprivileged user when the test runs as root
	dbs     atomic.Int32
}

// unavailable skips the test, or fails it under CI.
func unavailable(t testing.TB, format string, a ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, a...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("PostgreSQL is required under CI=true but %s (.ci/run installs it with apt-get install postgresql)", msg)
	}
	t.Skipf("skipped: no PostgreSQL server can be started here: %s (install it with: apt-get install postgresql)", msg)
}

// binDir finds the newest /usr/lib/postgresql/<version>/bin with initdb
// and pg_ctl, or the directory of initdb on PATH.
func binDir() (dir, version string, err error) {
	ms, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(ms, func(i, j int) bool {
		vi, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(ms[i]))), 64)
		vj, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(filepath.Dir(ms[j]))), 64)
		return vi > vj
	})
	for _, m := range ms {
		d := filepath.Dir(m)
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, filepath.Base(filepath.Dir(d)), nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			p = r
		}
		d := filepath.Dir(p)
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, "", nil
		}
	}
	return "", "", fmt.Errorf("initdb and pg_ctl not found in /usr/lib/postgresql/*/bin or on PATH")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a server for t and stops it when t ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, version, err := binDir()
	if err != nil {
		unavailable(t, "%v", err)
	}
	s := &Server{bin: bin, Version: version}
	var uid, gid int = -1, -1
	if os.Geteuid() == 0 { // initdb and postgres refuse to run as root
		for _, name := range []string{"postgres", "nobody"} {
			u, err := user.Lookup(name)
			if err != nil {
				continue
			}
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
			s.runAs = name
			break
		}
		if s.runAs == "" {
			unavailable(t, "running as root and neither a postgres nor a nobody user exists to run the server as")
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			unavailable(t, "running as root and runuser is missing: %v", err)
		}
	}
	// Not t.TempDir: its parents are private to the test's user, and the
	// server's user must reach the directory.
	dir, err := os.MkdirTemp("", "otai-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s.Dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if uid >= 0 {
		if err := os.Chown(dir, uid, gid); err != nil {
			unavailable(t, "cannot hand %s to user %s: %v", dir, s.runAs, err)
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.command("initdb", "-D", data, "-U", "otai", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync").CombinedOutput(); err != nil {
		unavailable(t, "initdb failed: %v\n%s", err, out)
	}
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			unavailable(t, "no free loopback port: %v", err)
		}
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", port, dir)
		out, err := s.command("pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "-o", opts, "start").CombinedOutput()
		if err == nil {
			s.Port = port
			break
		}
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		lastErr = fmt.Sprintf("pg_ctl start failed: %v\n%s\nserver log:\n%s", err, out, log)
	}
	if s.Port == 0 {
		unavailable(t, "%s", lastErr)
	}
	t.Cleanup(func() {
		if out, err := s.command("pg_ctl", "-D", data, "-m", "immediate", "-w", "stop").CombinedOutput(); err != nil {
			t.Logf("stopping PostgreSQL: %v\n%s", err, out)
		}
	})
	t.Logf("PostgreSQL %s on 127.0.0.1:%d (data %s, run as %q)", s.Version, s.Port, data, s.runAs)
	return s
}

// command runs a PostgreSQL binary, as the unprivileged user when root.
func (s *Server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.runAs != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.runAs, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C")
	return cmd
}

// DSN is the URL of database db as the superuser otai.
func (s *Server) DSN(db string) string {
	return fmt.Sprintf("postgres://otai@127.0.0.1:%d/%s?sslmode=disable", s.Port, db)
}

// NewDatabase creates an empty database and returns its DSN.
func (s *Server) NewDatabase(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("otai_test_%d", s.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		t.Fatalf("connecting to PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	return s.DSN(name)
}

// Log returns the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "server.log"))
	return strings.TrimSpace(string(b))
}
