package server

import (
	"fmt"
	"strings"
	"time"

	"github.com/otai-dev/otai/config"
)

// Readiness defaults.
const (
	DefaultStaleFactor = 3           // a runner is stale after this many trigger periods without a run
	DefaultMinStaleAge = time.Minute // ... but never sooner than this
)

// Readiness is what /readyz answers.
type Readiness struct {
	Ready   bool              `json:"ready"`
	Reason  string            `json:"reason,omitempty"`
	Runners []RunnerReadiness `json:"runners"`
}

// RunnerReadiness is one runner's part of it.
type RunnerReadiness struct {
	Runner        string     `json:"runner"`
	OK            bool       `json:"ok"`
	LastRun       *time.Time `json:"last_run,omitempty"` // when the last run finished
	AgeSeconds    float64    `json:"age_seconds"`        // since the last run, or since start when none
	MaxAgeSeconds float64    `json:"max_age_seconds,omitempty"`
	Reason        string     `json:"reason,omitempty"`
}

// readyState is what readiness is decided from.
type readyState struct {
	Stopping bool
	Built    bool
	BuiltAt  time.Time
	Runners  []runnerState
	Factor   float64
	MinAge   time.Duration
}

type runnerState struct {
	ID       string
	Triggers []config.Trigger
	LastEnd  time.Time // zero: no run finished yet
}

// checkReady decides readiness: otai is shutting down, or its services are
// not built, or some runner has not finished a run for longer than
// Factor trigger periods (at least MinAge), counted from its last run or,
// before the first, from when the services were built. Runners with only
// once-triggers never go stale. A failed run still counts as a run:
// failures are what the metrics and alerts are for.
func checkReady(now time.Time, st readyState) Readiness {
	out := Readiness{Ready: true, Runners: []RunnerReadiness{}}
	switch {
	case st.Stopping:
		return Readiness{Ready: false, Reason: "shutting down", Runners: []RunnerReadiness{}}
	case !st.Built:
		return Readiness{Ready: false, Reason: "services are not built yet", Runners: []RunnerReadiness{}}
	}
	var reasons []string
	for _, r := range st.Runners {
		ref := st.BuiltAt
		rr := RunnerReadiness{Runner: r.ID, OK: true}
		if !r.LastEnd.IsZero() {
			ref = r.LastEnd
			t := r.LastEnd
			rr.LastRun = &t
		}
		age := max(now.Sub(ref), 0)
		rr.AgeSeconds = round(age.Seconds())
		if maxAge, ok := maxAge(r.Triggers, ref, st.Factor, st.MinAge); ok {
			rr.MaxAgeSeconds = round(maxAge.Seconds())
			if age > maxAge {
				rr.OK = false
				if r.LastEnd.IsZero() {
					rr.Reason = fmt.Sprintf("runner %s: no run finished in the %s since start (expected %s, limit %s)",
						r.ID, short(age), triggers(r.Triggers), short(maxAge))
				} else {
					rr.Reason = fmt.Sprintf("runner %s: last run finished %s ago (expected %s, limit %s)",
						r.ID, short(age), triggers(r.Triggers), short(maxAge))
				}
				reasons = append(reasons, rr.Reason)
			}
		}
		out.Runners = append(out.Runners, rr)
	}
	if len(reasons) > 0 {
		out.Ready = false
		out.Reason = strings.Join(reasons, "; ")
	}
	return out
}

// maxAge is how long after ref a runner may go without finishing a run:
// for an interval trigger factor intervals; for a cron trigger the wait
// until its next time plus factor-1 of its periods. The shortest over
// the triggers counts; false when the runner only has once-triggers.
func maxAge(ts []config.Trigger, ref time.Time, factor float64, floor time.Duration) (time.Duration, bool) {
	if factor <= 0 {
		factor = DefaultStaleFactor
	}
	best, found := time.Duration(0), false
	for _, t := range ts {
		var d time.Duration
		switch {
		case t.Interval > 0:
			d = time.Duration(factor * float64(t.Interval))
		case t.Schedule != nil:
			next := t.Schedule.Next(ref)
			if next.IsZero() {
				continue
			}
			period := t.Schedule.Next(next).Sub(next)
			d = next.Sub(ref) + time.Duration((factor-1)*float64(period))
		default:
			continue
		}
		if !found || d < best {
			best, found = d, true
		}
	}
	if found && best < floor {
		best = floor
	}
	return best, found
}

func triggers(ts []config.Trigger) string {
	var s []string
	for _, t := range ts {
		s = append(s, t.String())
	}
	return strings.Join(s, ", ")
}

// short formats d to the second ("2m0s" -> "2m", "1h30m0s" -> "1h30m").
func short(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

func round(f float64) float64 { return float64(int64(f*1000)) / 1000 }
