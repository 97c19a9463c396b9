package pipe

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// deadPID returns the pid of a process that has run and been reaped.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// withPID returns owner id self with another pid, random part and (when
// machine is not "") machine id.
func withPID(self string, pid int, machine string) string {
	p := strings.Split(self, "/")
	p[1], p[2] = strconv.Itoa(pid), "0badc0de"
	if machine != "" {
		p[3] = machine
	}
	return strings.Join(p, "/")
}

func TestOwnerGone(t *testing.T) {
	self := NewOwner()
	if p := strings.Split(self, "/"); len(p) != 4 || p[3] == "" {
		t.Skipf("owner id %q carries no machine id (no /proc here): leases then only expire", self)
	}
	dead := deadPID(t)
	host, _ := os.Hostname()
	for _, tt := range []struct {
		name   string
		holder string
		want   bool
	}{
		{"itself", self, false},
		{"a stopped process on this machine", withPID(self, dead, ""), true},
		{"a running process on this machine", withPID(self, os.Getppid(), ""), false},
		{"another engine in this process", withPID(self, os.Getpid(), ""), false},
		{"a stopped pid on another machine or namespace", withPID(self, dead, "0123456789ab"), false},
		{"another host", strings.Replace(withPID(self, dead, ""), host, host+"-b", 1), false},
		{"an id of the old form host/pid/random", strings.Join(strings.Split(withPID(self, dead, ""), "/")[:3], "/"), false},
		{"not an owner id", "owner-1", false},
		{"empty", "", false},
		{"a bad pid", withPID(self, -4, ""), false},
	} {
		if got := OwnerGone(tt.holder, self); got != tt.want {
			t.Errorf("%s: OwnerGone(%q, %q) = %v, want %v", tt.name, tt.holder, self, got, tt.want)
		}
	}
}

func TestProcessRunningZombie(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Not reaped yet: once it exits it is a zombie, which counts as stopped.
	for i := 0; processRunning(pid); i++ {
		if i > 1000 {
			t.Fatal("the child still runs after 10 s")
		}
		sleepMS(10)
	}
	if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err != nil {
		t.Fatalf("the child was reaped already (%v): the zombie case was not tested", err)
	}
	cmd.Wait()
	if processRunning(pid) {
		t.Error("a reaped process counts as running")
	}
	if !processRunning(os.Getpid()) {
		t.Error("this process counts as stopped")
	}
}

func sleepMS(n int) { time.Sleep(time.Duration(n) * time.Millisecond) }
