package state

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/internal/sqlitex/sqlitextest"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/secret"
)

func openSQLite(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteClaims(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	var stores []pipe.Claims
	for range 3 { // three handles on one file: as three processes on one host
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	testClaims(t, stores)
}

func TestSQLiteBackend(t *testing.T) { testBackend(t, openSQLite(t)) }

// testClaims checks the lease contract on handles that share one store.
func testClaims(t *testing.T, cs []pipe.Claims) {
	ctx := context.Background()
	c := cs[0]
	t.Run("concurrent claimers: exactly one wins", func(t *testing.T) {
		for round := range 20 {
			key := fmt.Sprintf("race/%d", round)
			var wins atomic.Int32
			var winner atomic.Value
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					owner := fmt.Sprintf("owner-%d", i)
					ok, err := cs[i%len(cs)].Claim(ctx, key, owner, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						wins.Add(1)
						winner.Store(owner)
					}
				}()
			}
			close(start)
			wg.Wait()
			if n := wins.Load(); n != 1 {
				t.Fatalf("round %d: %d claimers won, want exactly 1", round, n)
			}
			// The winner renews; nobody else gets it.
			if ok, err := c.Claim(ctx, key, winner.Load().(string), time.Minute); !ok || err != nil {
				t.Fatalf("the holder could not renew: %v %v", ok, err)
			}
			if ok, err := c.Claim(ctx, key, "latecomer", time.Minute); ok || err != nil {
				t.Fatalf("a latecomer took a held lease: %v %v", ok, err)
			}
		}
	})
	t.Run("expiry", func(t *testing.T) {
		if ok, err := c.Claim(ctx, "exp", "a", 300*time.Millisecond); !ok || err != nil {
			t.Fatalf("first claim: %v %v", ok, err)
		}
		if ok, err := cs[len(cs)-1].Claim(ctx, "exp", "b", time.Minute); ok || err != nil {
			t.Fatalf("b took a's live lease: %v %v", ok, err)
		}
		time.Sleep(400 * time.Millisecond)
		if ok, err := cs[len(cs)-1].Claim(ctx, "exp", "b", time.Minute); !ok || err != nil {
			t.Fatalf("b could not take a's expired lease: %v %v", ok, err)
		}
		if ok, err := c.Claim(ctx, "exp", "a", time.Minute); ok || err != nil {
			t.Fatalf("a took back the lease b now holds: %v %v", ok, err)
		}
		// A release by the former holder leaves the new holder's lease.
		if err := c.Release(ctx, "exp", "a"); err != nil {
			t.Fatal(err)
		}
		if ok, err := c.Claim(ctx, "exp", "c", time.Minute); ok || err != nil {
			t.Fatalf("a's release freed b's lease: %v %v", ok, err)
		}
	})
	t.Run("a stopped holder on this machine", func(t *testing.T) {
		self := pipe.NewOwner()
		p := strings.Split(self, "/")
		if len(p) != 4 || p[3] == "" {
			t.Skipf("owner id %q carries no machine id (no /proc here): leases then only expire", self)
		}
		owner := func(pid int, machine string) string {
			q := slices.Clone(p)
			q[1], q[2], q[3] = strconv.Itoa(pid), "0badc0de", machine
			return strings.Join(q, "/")
		}
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		dead := cmd.ProcessState.Pid()
		for _, tt := range []struct {
			key, holder string
			want        bool
		}{
			{"gone/stopped", owner(dead, p[3]), true},
			{"gone/running", owner(os.Getppid(), p[3]), false},
			{"gone/elsewhere", owner(dead, "0123456789ab"), false},
		} {
			if ok, err := c.Claim(ctx, tt.key, tt.holder, time.Hour); !ok || err != nil {
				t.Fatalf("%s: first claim: %v %v", tt.key, ok, err)
			}
			if ok, err := cs[len(cs)-1].Claim(ctx, tt.key, self, time.Minute); ok != tt.want || err != nil {
				t.Errorf("%s: claiming a live lease of %s: %v %v, want %v", tt.key, tt.holder, ok, err, tt.want)
			}
		}
		// The new holder keeps it: the stopped one's release is ignored,
		// and a third process cannot take it from a running holder.
		if err := c.Release(ctx, "gone/stopped", owner(dead, p[3])); err != nil {
			t.Fatal(err)
		}
		if ok, err := c.Claim(ctx, "gone/stopped", owner(os.Getppid(), p[3]), time.Minute); ok || err != nil {
			t.Errorf("a lease taken over was lost: %v %v", ok, err)
		}
	})
	t.Run("release", func(t *testing.T) {
		if ok, err := c.Claim(ctx, "rel", "a", time.Hour); !ok || err != nil {
			t.Fatalf("claim: %v %v", ok, err)
		}
		if err := cs[len(cs)-1].Release(ctx, "rel", "a"); err != nil {
			t.Fatal(err)
		}
		if ok, err := cs[len(cs)-1].Claim(ctx, "rel", "b", time.Hour); !ok || err != nil {
			t.Fatalf("claim after release: %v %v", ok, err)
		}
		if err := c.Release(ctx, "never-claimed", "a"); err != nil {
			t.Fatalf("releasing a key nobody holds: %v", err)
		}
	})
}

// testBackend checks marks, decisions, applied changes and corrections.
func testBackend(t *testing.T, s Backend) {
	ctx := context.Background()
	secret.Register("hunter2-backend-secret")
	if _, ok, err := s.Processed(ctx, "r/p/1"); ok || err != nil {
		t.Fatalf("fresh store has a mark: %v %v", ok, err)
	}
	t1 := time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC)
	for _, at := range []time.Time{t1.Add(-time.Hour), t1} {
		if err := s.MarkProcessed(ctx, "r/p/1", at); err != nil {
			t.Fatal(err)
		}
	}
	if got, ok, err := s.Processed(ctx, "r/p/1"); !ok || err != nil || !got.Equal(t1) {
		t.Fatalf("Processed = %v %v %v, want %v", got, ok, err, t1)
	}
	// Marks keep the ticket's fingerprint; a plain MarkProcessed clears it.
	fm, ok := s.(pipe.FingerprintMarks)
	if !ok {
		t.Fatal("the store keeps no fingerprints")
	}
	if err := fm.MarkProcessedAs(ctx, "r/p/2", pipe.Mark{At: t1, Fingerprint: "abc123"}); err != nil {
		t.Fatal(err)
	}
	if m, ok, err := fm.ProcessedMark(ctx, "r/p/2"); !ok || err != nil || !m.At.Equal(t1) || m.Fingerprint != "abc123" {
		t.Fatalf("ProcessedMark = %+v %v %v", m, ok, err)
	}
	if err := s.MarkProcessed(ctx, "r/p/2", t1); err != nil {
		t.Fatal(err)
	}
	if m, _, err := fm.ProcessedMark(ctx, "r/p/2"); err != nil || m.Fingerprint != "" {
		t.Fatalf("after MarkProcessed: %+v %v", m, err)
	}
	if m, ok, err := fm.ProcessedMark(ctx, "r/p/none"); ok || err != nil || m.Fingerprint != "" {
		t.Fatalf("no mark: %+v %v %v", m, ok, err)
	}

	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 {
		at := base.Add(time.Duration(i) * time.Minute)
		o := pipe.StatusSucceeded
		if i%3 == 0 {
			o = pipe.StatusFailed
		}
		d := pipe.Decision{ID: pipe.NewDecisionID(at), At: at, Runner: "r", Pipe: "each", TicketSystem: "hd",
			TicketID: fmt.Sprint(i), Subject: "subject with hunter2-backend-secret", Outcome: o, DryRun: i == 9,
			Predictions: []pipe.Prediction{{Step: "q", Label: "Billing", Confidence: 0.9,
				TopK: []classify.Prediction{{Label: "Billing", Confidence: 0.9}}}},
			Written: []string{"noted"}, Changes: []pipe.Change{{Field: "queue", From: "Inbox", To: fmt.Sprint("Q", i)}}}
		if o == pipe.StatusFailed {
			d.Error = "boom hunter2-backend-secret"
		}
		if i == 4 { // the same ticket as 3, later
			d.TicketID = "3"
		}
		if err := s.RecordDecision(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Decisions(ctx, Filter{})
	if err != nil || len(all) != 10 {
		t.Fatalf("%d decisions, %v", len(all), err)
	}
	if all[0].TicketID != "9" || all[9].TicketID != "0" || !all[9].At.Equal(base) {
		t.Errorf("not newest first: %s ... %s at %v", all[0].TicketID, all[9].TicketID, all[9].At)
	}
	if l, c := all[0].Label(); l != "Billing" || c != 0.9 || len(all[0].Predictions[0].TopK) != 1 || len(all[0].Changes) != 1 {
		t.Errorf("round trip lost predictions or changes: %+v", all[0])
	}
	for _, d := range all {
		if strings.Contains(d.Subject+d.Error, "hunter2-backend-secret") {
			t.Fatalf("a secret reached the decision store: %+v", d)
		}
	}
	yes := true
	for _, tt := range []struct {
		f    Filter
		want int
	}{
		{Filter{Outcome: "failed"}, 4},
		{Filter{Since: base.Add(5 * time.Minute)}, 5},
		{Filter{Until: base.Add(2 * time.Minute)}, 2},
		{Filter{TicketID: "3"}, 2},
		{Filter{DryRun: &yes}, 1},
		{Filter{Limit: 3}, 3},
		{Filter{Runner: "other"}, 0},
		{Filter{Runner: "r", Outcome: "succeeded", Since: base.Add(time.Minute), Limit: 2}, 2},
	} {
		got, err := s.Decisions(ctx, tt.f)
		if err != nil || len(got) != tt.want {
			t.Errorf("%+v: %d decisions (%v), want %d", tt.f, len(got), err, tt.want)
		}
	}
	// Applied: real decisions of any outcome (their changes are those of
	// steps that succeeded); the newest per field.
	ap, err := s.Applied(ctx, "hd", "3")
	if err != nil || ap["queue"].To != "Q4" {
		t.Errorf("Applied(3) = %+v, %v; want queue -> Q4 (the newer of decisions 3 and 4)", ap, err)
	}
	if ap, err := s.Applied(ctx, "hd", "6"); err != nil || ap["queue"].To != "Q6" {
		t.Errorf("Applied(6) = %+v, %v; want queue -> Q6: decision 6 failed (a later step), but its update was written", ap, err)
	}
	if ap, err := s.Applied(ctx, "hd", "9"); err != nil || len(ap) != 0 {
		t.Errorf("Applied(9) = %+v, %v; a dry run applies nothing", ap, err)
	}
	c := pipe.Correction{At: base, Runner: "r", TicketSystem: "hd", TicketID: "3", Field: "queue", Otai: "Q4", Agent: "Sales",
		DecisionID: ap["queue"].DecisionID, Subject: "hunter2-backend-secret in subject", Body: "body"}
	for range 2 { // kept once
		if err := s.RecordCorrection(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := s.Corrections(ctx, "", time.Time{})
	if err != nil || len(cs) != 1 || cs[0].Agent != "Sales" || !cs[0].At.Equal(base) || strings.Contains(cs[0].Subject, "hunter2") {
		t.Fatalf("Corrections = %+v, %v", cs, err)
	}
	if cs, err := s.Corrections(ctx, "priority", time.Time{}); err != nil || len(cs) != 0 {
		t.Errorf("Corrections(priority) = %+v, %v", cs, err)
	}
}

// TestSQLiteConcurrentOpen: processes that open a new state.db at once
// (replicas sharing a data directory) migrate it one after the other.
func TestSQLiteConcurrentOpen(t *testing.T) {
	sqlitextest.OpenAtOnce(t, "state.db", 5, 4, func(ctx context.Context, path string) (*sql.DB, func() error, error) {
		s, err := Open(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		return s.db, s.Close, nil
	})
}
