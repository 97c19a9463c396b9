package pipe_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

func ok(data map[string]any) pipe.Pipe {
	return pipe.Func(func(context.Context, *pipe.Context) pipe.Result { return pipe.Succeeded(data) })
}

func fail(msg string) pipe.Pipe {
	return pipe.Func(func(context.Context, *pipe.Context) pipe.Result { return pipe.Failf("%s", msg) })
}

func TestRunSteps(t *testing.T) {
	var ran []string
	rec := func(id string, r pipe.Result) *pipe.Step {
		return &pipe.Step{ID: id, Use: "test:" + id, Pipe: pipe.Func(func(_ context.Context, rc *pipe.Context) pipe.Result {
			ran = append(ran, id)
			return r
		})}
	}
	cond := func(v bool, err error) func(*pipe.Context) (bool, error) {
		return func(*pipe.Context) (bool, error) { return v, err }
	}
	withIf := func(s *pipe.Step, f func(*pipe.Context) (bool, error)) *pipe.Step { s.If = f; return s }
	panics := &pipe.Step{ID: "boom", Pipe: pipe.Func(func(context.Context, *pipe.Context) pipe.Result {
		var m map[string]int
		m["x"] = 1 // a real runtime panic
		return pipe.Result{}
	})}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name   string
		ctx    context.Context
		steps  []*pipe.Step
		want   []string // "id status message"
		ran    []string
		status pipe.Status
	}{
		{"all succeed", context.Background(),
			[]*pipe.Step{rec("a", pipe.Succeeded(nil)), rec("b", pipe.Succeeded(nil))},
			[]string{"a succeeded ", "b succeeded "}, []string{"a", "b"}, pipe.StatusSucceeded},
		{"after a failure the rest is skipped, naming the failed step", context.Background(),
			[]*pipe.Step{rec("a", pipe.Failf("nope")), rec("b", pipe.Succeeded(nil)), rec("c", pipe.Succeeded(nil))},
			[]string{"a failed nope", "b skipped skipped because a failed", "c skipped skipped because a failed"}, []string{"a"}, pipe.StatusFailed},
		{"a skipped step does not stop the others", context.Background(),
			[]*pipe.Step{rec("a", pipe.Skipped("no %s", "text")), rec("b", pipe.Succeeded(nil))},
			[]string{"a skipped no text", "b succeeded "}, []string{"a", "b"}, pipe.StatusSucceeded},
		{"all skipped", context.Background(),
			[]*pipe.Step{rec("a", pipe.Skipped("x")), withIf(rec("b", pipe.Succeeded(nil)), cond(false, nil))},
			[]string{"a skipped x", "b skipped condition is false"}, []string{"a"}, pipe.StatusSkipped},
		{"if false skips, if true runs", context.Background(),
			[]*pipe.Step{withIf(rec("a", pipe.Succeeded(nil)), cond(false, nil)), withIf(rec("b", pipe.Succeeded(nil)), cond(true, nil))},
			[]string{"a skipped condition is false", "b succeeded "}, []string{"b"}, pipe.StatusSucceeded},
		{"if error fails the step", context.Background(),
			[]*pipe.Step{withIf(rec("a", pipe.Succeeded(nil)), cond(false, errors.New("bad expr"))), rec("b", pipe.Succeeded(nil))},
			[]string{"a failed evaluating if: bad expr", "b skipped skipped because a failed"}, nil, pipe.StatusFailed},
		{"a panic is a failure", context.Background(),
			[]*pipe.Step{panics, rec("b", pipe.Succeeded(nil))},
			[]string{"boom failed panic in pipe boom: assignment to entry in nil map", "b skipped skipped because boom failed"}, nil, pipe.StatusFailed},
		{"a panicking condition is a failure", context.Background(),
			[]*pipe.Step{withIf(rec("a", pipe.Succeeded(nil)), func(*pipe.Context) (bool, error) { panic("in if") })},
			[]string{"a failed panic in pipe a: in if"}, nil, pipe.StatusFailed},
		{"cancelled context: nothing runs", cancelled,
			[]*pipe.Step{rec("a", pipe.Succeeded(nil)), rec("b", pipe.Succeeded(nil))},
			[]string{"a failed not run: context canceled", "b skipped skipped because a failed"}, nil, pipe.StatusFailed},
		{"no steps", context.Background(), nil, nil, nil, pipe.StatusSucceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ran = nil
			rc := &pipe.Context{}
			rs := pipe.RunSteps(tc.ctx, rc, tc.steps)
			var got []string
			for i, r := range rs {
				got = append(got, fmt.Sprintf("%s %s %s", r.Pipe, r.Status, r.Message))
				if r.Use != tc.steps[i].Use {
					t.Errorf("result %d: Use %q, want %q", i, r.Use, tc.steps[i].Use)
				}
				// every result is visible to later steps, status and message included
				if d := rc.Pipes[r.Pipe]; d["status"] != string(r.Status) || d["message"] != r.Message {
					t.Errorf("recorded %v for %s", d, r.Pipe)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("results\n got %q\nwant %q", got, tc.want)
			}
			if !slices.Equal(ran, tc.ran) {
				t.Errorf("ran %v, want %v", ran, tc.ran)
			}
			if s := pipe.Summarize(rs); s != tc.status {
				t.Errorf("Summarize = %s, want %s", s, tc.status)
			}
		})
	}
}

func TestLaterStepsReadEarlierResults(t *testing.T) {
	var seen any
	steps := []*pipe.Step{
		{ID: "fetch-open", Pipe: ok(map[string]any{"count": 3})},
		{ID: "use", Pipe: pipe.Func(func(_ context.Context, rc *pipe.Context) pipe.Result {
			seen = rc.Scope()["pipes"].(map[string]any)["fetch_open"].(map[string]any)["count"]
			return pipe.Succeeded(nil)
		})},
	}
	pipe.RunSteps(context.Background(), &pipe.Context{}, steps)
	if seen != 3 {
		t.Fatalf("pipes.fetch_open.count = %v, want 3", seen)
	}
}

func TestChildIsolatesResults(t *testing.T) {
	parent := &pipe.Context{Runner: "r", Pipes: map[string]map[string]any{"fetch": {"count": 2}}, Vars: map[string]any{"x": 1}}
	a := parent.Child(&ticket.Ticket{ID: "1"})
	b := parent.Child(&ticket.Ticket{ID: "2"})
	a.Record(pipe.Result{Pipe: "classify", Status: pipe.StatusSucceeded, Data: map[string]any{"label": "A"}})
	if _, ok := b.Pipes["classify"]; ok {
		t.Error("a sibling sees another ticket's result")
	}
	if _, ok := parent.Pipes["classify"]; ok {
		t.Error("the parent sees a ticket's result")
	}
	if a.Pipes["fetch"]["count"] != 2 || a.Runner != "r" || a.Vars["x"] != 1 || a.Ticket.ID != "1" || b.Ticket.ID != "2" {
		t.Errorf("child lost the parent's data: %+v", a)
	}
	if s := a.Scope(); s["ticket"].(*ticket.Ticket).ID != "1" || s["context"].(map[string]any)["x"] != 1 {
		t.Errorf("scope %v", s)
	}
	if s := (&pipe.Context{}).Scope(); s["ticket"] != nil || s["env"] == nil || s["context"] == nil || s["pipes"] == nil {
		t.Errorf("empty scope %v: want nil ticket and empty maps", s)
	}
}

func TestFailuresAndCounts(t *testing.T) {
	r := pipe.Result{Pipe: "each", Status: pipe.StatusFailed, Items: []pipe.ItemResult{
		{TicketID: "1", Status: pipe.StatusSucceeded, Steps: []pipe.Result{{Pipe: "note", Status: pipe.StatusSucceeded}}},
		{TicketID: "2", Status: pipe.StatusFailed, Steps: []pipe.Result{
			{Pipe: "classify", Status: pipe.StatusSucceeded},
			{Pipe: "group", Status: pipe.StatusFailed, Message: "move failed: HTTP 500", Steps: []pipe.Result{
				{Pipe: "move", Status: pipe.StatusFailed, Message: "HTTP 500"},
			}},
		}},
		{TicketID: "3", Status: pipe.StatusFailed, Message: "reading processed mark: disk I/O error"},
		{TicketID: "4", Status: pipe.StatusSkipped, Message: "already processed"},
	}}
	want := []string{"ticket 2: move: HTTP 500", "ticket 3: reading processed mark: disk I/O error"}
	if got := r.Failures(); !slices.Equal(got, want) {
		t.Errorf("Failures() = %q, want %q", got, want)
	}
	c := r.Counts()
	if c[pipe.StatusSucceeded] != 1 || c[pipe.StatusFailed] != 2 || c[pipe.StatusSkipped] != 1 {
		t.Errorf("Counts() = %v", c)
	}
	top := pipe.Failf("cannot reach %s", "desk")
	top.Pipe = "fetch"
	if got := top.Failures(); !slices.Equal(got, []string{"fetch: cannot reach desk"}) {
		t.Errorf("Failures() = %q", got)
	}
}

func TestParams(t *testing.T) {
	type P struct{ N int }
	if p, err := pipe.StaticParams(P{N: 3}).Get(&pipe.Context{}); err != nil || p.N != 3 {
		t.Errorf("StaticParams: %v, %v", p, err)
	}
	var zero pipe.Params[P]
	if p, err := zero.Get(&pipe.Context{}); err != nil || p.N != 0 {
		t.Errorf("zero Params: %v, %v", p, err)
	}
	var scopeSeen map[string]any
	p := pipe.NewParams[P](func(scope map[string]any, out any) error {
		scopeSeen = scope
		out.(*P).N = len(scope["context"].(map[string]any))
		return nil
	})
	got, _ := p.Get(&pipe.Context{Vars: map[string]any{"a": 1, "b": 2}})
	if got.N != 2 || scopeSeen["ticket"] != nil {
		t.Errorf("NewParams: %v (scope %v)", got, scopeSeen)
	}
	boom := pipe.NewParams[P](func(map[string]any, any) error { return errors.New("bad template") })
	if _, err := boom.Get(&pipe.Context{}); err == nil {
		t.Error("decode error lost")
	}
}

func TestIsStopping(t *testing.T) {
	if (&pipe.Context{}).IsStopping() {
		t.Error("nil Stopping means not stopping")
	}
	ch := make(chan struct{})
	rc := &pipe.Context{Stopping: ch}
	if rc.IsStopping() {
		t.Error("stopping before close")
	}
	close(ch)
	if !rc.IsStopping() || !rc.Child(nil).IsStopping() {
		t.Error("not stopping after close (or the child does not know)")
	}
}

// TestStepsLoggedAtDebug: --log-level debug shows every step's outcome.
func TestStepsLoggedAtDebug(t *testing.T) {
	var buf strings.Builder
	steps := []*pipe.Step{
		{ID: "classify", Pipe: pipe.Func(func(context.Context, *pipe.Context) pipe.Result {
			return pipe.Succeeded(nil).WithAction("%s", "Billing 82%")
		})},
		{ID: "move", Pipe: fail("no such queue")},
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		buf.Reset()
		rc := &pipe.Context{Logger: slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))}
		pipe.RunSteps(context.Background(), rc, steps)
		got := buf.String()
		if level == slog.LevelInfo {
			if got != "" {
				t.Errorf("at info: %s", got)
			}
			continue
		}
		for _, want := range []string{`pipe=classify status=succeeded`, `action="Billing 82%"`, `pipe=move status=failed`, `message="no such queue"`} {
			if !strings.Contains(got, want) {
				t.Errorf("debug log lacks %s:\n%s", want, got)
			}
		}
	}
}

func TestFingerprint(t *testing.T) {
	base := ticket.Ticket{ID: "1", Subject: "Invoice", Body: "wrong", Queue: ticket.Entity{ID: "2", Name: "Billing"},
		Priority: ticket.Entity{Name: "high"}, Tags: []string{"b", "a"}, CustomFields: map[string]any{"x": 1}}
	fp := pipe.Fingerprint(&base)
	same := []func(*ticket.Ticket){
		func(t *ticket.Ticket) { t.Notes = append(t.Notes, ticket.Note{Body: "reply"}) },
		func(t *ticket.Ticket) { t.Owner = ticket.Entity{Name: "anna"} },
		func(t *ticket.Ticket) { t.Queue = ticket.Entity{Name: "billing"} }, // as written by name, case aside
		func(t *ticket.Ticket) { t.Tags = []string{"A", "b"} },
		func(t *ticket.Ticket) { t.UpdatedAt = t.UpdatedAt.Add(1) },
	}
	for i, f := range same {
		c := base
		f(&c)
		if got := pipe.Fingerprint(&c); got != fp {
			t.Errorf("change %d altered the fingerprint", i)
		}
	}
	differ := []func(*ticket.Ticket){
		func(t *ticket.Ticket) { t.Subject = "Invoice!" },
		func(t *ticket.Ticket) { t.Body = "right" },
		func(t *ticket.Ticket) { t.Queue = ticket.Entity{Name: "Sales"} },
		func(t *ticket.Ticket) { t.Priority = ticket.Entity{Name: "low"} },
		func(t *ticket.Ticket) { t.State = ticket.Entity{Name: "closed"} },
		func(t *ticket.Ticket) { t.Tags = []string{"a"} },
		func(t *ticket.Ticket) { t.CustomFields = map[string]any{"x": 2} },
	}
	for i, f := range differ {
		c := base
		f(&c)
		if got := pipe.Fingerprint(&c); got == fp {
			t.Errorf("change %d kept the fingerprint", i)
		}
	}
}
