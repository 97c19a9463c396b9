package server

import (
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/config"
)

// hourly fires at every full hour (a cron.Schedule without parsing cron).
type hourly struct{}

func (hourly) Next(t time.Time) time.Time { return t.Truncate(time.Hour).Add(time.Hour) }

func TestCheckReady(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 10, 30, 0, 0, time.UTC)
	every := func(d time.Duration) []config.Trigger { return []config.Trigger{{Interval: d}} }
	cron := []config.Trigger{{Cron: "0 * * * *", Schedule: hourly{}}}
	once := []config.Trigger{{Once: true}}
	built := func(rs ...runnerState) readyState {
		return readyState{Built: true, BuiltAt: t0, Runners: rs, Factor: 3, MinAge: time.Minute}
	}
	tests := []struct {
		name   string
		now    time.Time
		st     readyState
		ready  bool
		reason string // substring of the reason
	}{
		{"not built", t0, readyState{}, false, "not built"},
		{"stopping wins", t0, readyState{Built: true, Stopping: true}, false, "shutting down"},
		{"built, no runners", t0, built(), true, ""},
		{"fresh start, no run yet", t0.Add(time.Minute), built(runnerState{ID: "a", Triggers: every(2 * time.Minute)}), true, ""},
		{"no run within 3 intervals of start", t0.Add(6*time.Minute + time.Second), built(runnerState{ID: "a", Triggers: every(2 * time.Minute)}), false, "runner a: no run finished in the 6m1s since start (expected every 2m0s, limit 6m)"},
		{"recent run", t0.Add(time.Hour), built(runnerState{ID: "a", Triggers: every(2 * time.Minute), LastEnd: t0.Add(time.Hour - 3*time.Minute)}), true, ""},
		{"exactly at the limit", t0.Add(time.Hour), built(runnerState{ID: "a", Triggers: every(2 * time.Minute), LastEnd: t0.Add(time.Hour - 6*time.Minute)}), true, ""},
		{"stale run", t0.Add(time.Hour), built(runnerState{ID: "a", Triggers: every(2 * time.Minute), LastEnd: t0.Add(time.Hour - 7*time.Minute)}), false, "runner a: last run finished 7m ago"},
		{"short interval uses the floor", t0.Add(50 * time.Second), built(runnerState{ID: "a", Triggers: every(5 * time.Second), LastEnd: t0}), true, ""},
		{"short interval beyond the floor", t0.Add(61 * time.Second), built(runnerState{ID: "a", Triggers: every(5 * time.Second), LastEnd: t0}), false, "limit 1m"},
		{"shortest trigger counts", t0.Add(10 * time.Minute), built(runnerState{ID: "a", Triggers: []config.Trigger{{Interval: time.Hour}, {Interval: 2 * time.Minute}}, LastEnd: t0}), false, "every 1h0m0s, every 2m0s"},
		{"once-only never stale", t0.Add(48 * time.Hour), built(runnerState{ID: "a", Triggers: once}), true, ""},
		// built 10:30, next fire 11:00, then 2 more hours: limit 12:00 = 2h30m
		{"cron before the limit", t0.Add(2*time.Hour + 29*time.Minute), built(runnerState{ID: "c", Triggers: cron}), true, ""},
		{"cron past the limit", t0.Add(2*time.Hour + 31*time.Minute), built(runnerState{ID: "c", Triggers: cron}), false, "expected cron 0 * * * *, limit 2h30m"},
		{"one stale runner of two", t0.Add(time.Hour), built(
			runnerState{ID: "ok", Triggers: every(time.Minute), LastEnd: t0.Add(time.Hour - time.Minute)},
			runnerState{ID: "late", Triggers: every(time.Minute), LastEnd: t0}), false, "runner late:"},
		{"clock went back", t0, built(runnerState{ID: "a", Triggers: every(time.Minute), LastEnd: t0.Add(time.Minute)}), true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := checkReady(tc.now, tc.st)
			if got.Ready != tc.ready {
				t.Errorf("ready = %v, want %v (reason %q)", got.Ready, tc.ready, got.Reason)
			}
			if tc.reason != "" && !strings.Contains(got.Reason, tc.reason) {
				t.Errorf("reason %q does not contain %q", got.Reason, tc.reason)
			}
			if tc.ready && got.Reason != "" {
				t.Errorf("ready with reason %q", got.Reason)
			}
			if got.Runners == nil {
				t.Error("runners is nil (JSON null)")
			}
			for _, r := range got.Runners {
				if r.OK == (r.Reason != "") {
					t.Errorf("runner %s: ok=%v with reason %q", r.Runner, r.OK, r.Reason)
				}
			}
		})
	}
}

func TestRing(t *testing.T) {
	r := newRing(3)
	if got := r.newestFirst(); len(got) != 0 {
		t.Fatalf("empty ring: %v", got)
	}
	for i := 1; i <= 5; i++ {
		r.add(RunView{Seq: uint64(i)})
		got := r.newestFirst()
		if want := min(i, 3); len(got) != want {
			t.Fatalf("after %d adds: %d runs, want %d", i, len(got), want)
		}
		for j, v := range got {
			if v.Seq != uint64(i-j) {
				t.Fatalf("after %d adds: runs[%d].Seq = %d, want %d", i, j, v.Seq, i-j)
			}
		}
	}
}

func TestText(t *testing.T) {
	if got := text("a\n\tb   c", 10); got != "a b c" {
		t.Errorf("whitespace: %q", got)
	}
	if got := text("Schlüsselübergabe", 5); got != "Schl…" {
		t.Errorf("clip: %q", got)
	}
	if got := text("bad \xff byte", 20); got != "bad \uFFFD byte" {
		t.Errorf("utf8: %q", got)
	}
}
