package orchestrator_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/orchestrator"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

func TestBuildClosesWhatItStartedWhenALaterPartFails(t *testing.T) {
	tests := []struct {
		name     string
		services string // %A and %B are replaced by instance names
		pipes    string
		wantErr  string // "" for success
		isBroken bool
	}{
		{
			name:     "third service fails to start",
			services: "  - {id: a, use: testsys:Memory, params: {instance: '%A'}}\n  - {id: b, use: testsys:Memory, params: {instance: '%B'}}\n  - {id: down, use: testsys:Broken, params: {error: 'connection refused'}}\n",
			wantErr:  "starting service down (testsys:Broken): connection refused: testsys: broken on purpose",
			isBroken: true,
		},
		{
			name:     "the first service fails: nothing to close",
			services: "  - {id: down, use: testsys:Broken}\n  - {id: a, use: testsys:Memory, params: {instance: '%A'}}\n",
			wantErr:  "starting service down (testsys:Broken)",
			isBroken: true,
		},
		{
			name:     "service params cannot be configured",
			services: "  - {id: a, use: testsys:Memory, params: {instance: '%A'}}\n  - {id: b, use: testsys:Memory, params: {instance: '%B'}}\n  - {id: c, use: testsys:Memory, params: {instance: '{{ 1 / context.zero.x }}'}}\n",
			wantErr:  "configuring service c",
		},
		{
			name:     "a pipe cannot be built",
			services: "  - {id: a, use: testsys:Memory, params: {instance: '%A'}}\n  - {id: b, use: testsys:Memory, params: {instance: '%B'}}\n",
			pipes:    "pipes:\n  - {id: fetch, use: base:FetchTicketsPipe, params: {ticket_system: a}}\n  - {id: bad, use: orchtest:BadPipe}\n",
			wantErr:  "building pipe bad (orchtest:BadPipe): no good",
		},
		{
			name:     "success: closed by Close, not by Build",
			services: "  - {id: a, use: testsys:Memory, params: {instance: '%A'}}\n  - {id: b, use: testsys:Memory, params: {instance: '%B'}}\n",
			pipes:    "pipes:\n  - {id: fetch, use: base:FetchTicketsPipe, params: {ticket_system: a}}\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := testsys.New(), testsys.New()
			var mu sync.Mutex
			var order []string
			a.OnClose(func() { mu.Lock(); order = append(order, "a"); mu.Unlock() })
			b.OnClose(func() { mu.Lock(); order = append(order, "b"); mu.Unlock() })
			src := "services:\n" + tc.services + tc.pipes
			src = strings.ReplaceAll(src, "%A", testsys.Provide(t, a))
			src = strings.ReplaceAll(src, "%B", testsys.Provide(t, b))
			used := map[string]bool{"a": strings.Contains(tc.services, "id: a"), "b": strings.Contains(tc.services, "id: b")}
			if i := strings.Index(tc.services, "id: down"); i >= 0 {
				// services after the failing one were never started
				used["a"] = used["a"] && strings.Index(tc.services, "id: a") < i
				used["b"] = used["b"] && strings.Index(tc.services, "id: b") < i
			}

			eng, err := orchestrator.Build(context.Background(), parse(t, src), orchestrator.Options{Env: map[string]any{}})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				if a.Closed()+b.Closed() != 0 {
					t.Fatal("Build closed services of an engine it returned")
				}
				if err := eng.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Build error %v, want one containing %q", err, tc.wantErr)
				}
				if eng != nil {
					t.Errorf("Build returned an engine with its error")
				}
				if tc.isBroken && !errors.Is(err, testsys.ErrBroken) {
					t.Errorf("the constructor's error is not wrapped: %v", err)
				}
			}
			var want []string // newest first
			if used["b"] {
				want = append(want, "b")
			}
			if used["a"] {
				want = append(want, "a")
			}
			if !slices.Equal(order, want) {
				t.Errorf("closed %v, want %v", order, want)
			}
			for name, s := range map[string]*testsys.System{"a": a, "b": b} {
				if n := s.Closed(); n > 1 {
					t.Errorf("%s closed %d times", name, n)
				}
			}
		})
	}
}

func TestServiceLookup(t *testing.T) {
	const rules = "  - {id: rules, use: base:RuleClassifier, params: {rules: [{label: X, keywords: [x]}]}}\n"
	tests := []struct {
		name     string
		services string
		kind     string // "ticket_system" or "classifier"
		id       string
		want     string // the id found, or the error
	}{
		{"only ticket system", "  - {id: desk, use: testsys:Memory}\n" + rules, "ticket_system", "", "desk"},
		{"named ticket system", "  - {id: desk, use: testsys:Memory}\n  - {id: desk2, use: testsys:Memory}\n", "ticket_system", "desk2", "desk2"},
		{"two ticket systems", "  - {id: desk, use: testsys:Memory}\n  - {id: desk2, use: testsys:Memory}\n" + rules, "ticket_system", "",
			"2 ticket systems are configured (desk, desk2): name one in the pipe's params: no such service"},
		{"no ticket system", rules, "ticket_system", "", "no ticket system is configured: no such service"},
		{"unknown id", "  - {id: desk, use: testsys:Memory}\n", "ticket_system", "desk3", `ticket system "desk3": no such service`},
		{"wrong kind", "  - {id: desk, use: testsys:Memory}\n" + rules, "ticket_system", "rules", `service "rules" is not a ticket system: no such service`},
		{"only classifier", "  - {id: desk, use: testsys:Memory}\n" + rules, "classifier", "", "rules"},
		{"two classifiers", rules + strings.Replace(rules, "id: rules", "id: more", 1), "classifier", "",
			"2 classifiers are configured (rules, more): name one in the pipe's params: no such service"},
		{"classifier of wrong kind", "  - {id: desk, use: testsys:Memory}\n" + rules, "classifier", "desk", `service "desk" is not a classifier: no such service`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng := build(t, "services:\n"+tc.services, orchestrator.Options{})
			var got any
			var err error
			if tc.kind == "ticket_system" {
				got, err = eng.Services().TicketSystem(tc.id)
			} else {
				got, err = eng.Services().Classifier(tc.id)
			}
			if err != nil {
				if err.Error() != tc.want || !errors.Is(err, pipe.ErrNoService) {
					t.Fatalf("error %q, want %q (wrapping ErrNoService)", err, tc.want)
				}
				return
			}
			if want := eng.Service(tc.want); want == nil || got != want {
				t.Fatalf("found %T %p, want service %q", got, got, tc.want)
			}
		})
	}
}

func TestRunOnceScope(t *testing.T) {
	src := `
services:
  - {id: desk, use: testsys:Memory}
vars: {greeting: hello, who: world}
pipes:
  - id: say
    use: base:ExpressionPipe
    params: {expression: "{{ context.runner }} {{ context.greeting }} {{ context.who }} {{ context.dry_run }} {{ env.OTAI_TEST_HOME }}"}
orchestrator:
  runners:
    - {id: first, pipes: [say]}
    - {id: second, pipes: [say], vars: {who: there}, dry_run: true}
`
	eng := build(t, src, orchestrator.Options{Env: map[string]any{"OTAI_TEST_HOME": "/home/otai"}})
	rs := eng.RunAll(context.Background())
	var got []string
	for _, r := range rs {
		s, _ := stepIn(r.Steps, "say")
		got = append(got, r.Runner+": "+s.Data["value"].(string))
	}
	want := []string{"first: first hello world false /home/otai", "second: second hello there true /home/otai"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if !rs[1].DryRun || rs[0].DryRun {
		t.Error("dry_run is per runner")
	}
}

func TestRunResultStatusAndFailures(t *testing.T) {
	src := `
services:
  - {id: desk, use: testsys:Memory}
pipes:
  - {id: fetch, use: base:FetchTicketsPipe}
  - id: each
    use: base:ForEachTicketPipe
    params: {tickets: "{{ pipes.fetch.tickets }}"}
    steps:
      - id: check
        use: base:ExpressionPipe
        params: {expression: 1, fail_if: "{{ ticket.subject == 'bad' }}", message: "bad subject"}
`
	eng := build(t, src, orchestrator.Options{})
	d := eng.Service("desk").(*testsys.System)
	d.Add(ticket.Ticket{ID: "1", Subject: "good"}, ticket.Ticket{ID: "2", Subject: "bad"}, ticket.Ticket{ID: "3", Subject: "good"})
	r := eng.RunAll(context.Background())[0]
	if r.Status != pipe.StatusFailed || r.Runner != "default" {
		t.Fatalf("runner %s status %s, want default failed", r.Runner, r.Status)
	}
	if got, want := r.Failures(), []string{"ticket 2: check: bad subject"}; !slices.Equal(got, want) {
		t.Errorf("Failures() = %q, want %q", got, want)
	}
	if c := r.Counts(); c[pipe.StatusSucceeded] != 2 || c[pipe.StatusFailed] != 1 {
		t.Errorf("Counts() = %v", c)
	}
}

func TestEnvironLeavesOutSecrets(t *testing.T) {
	t.Setenv("OTAI_TEST_PLAIN", "visible")
	t.Setenv("OTAI_SECRET_DB", "hidden")
	t.Setenv("MY_API_TOKEN", "hidden")
	t.Setenv("SMTP_PASSWORD", "hidden")
	t.Setenv("Otobo_ApiKey", "hidden")
	env := orchestrator.Environ()
	if env["OTAI_TEST_PLAIN"] != "visible" {
		t.Error("a plain variable is missing")
	}
	for _, k := range []string{"OTAI_SECRET_DB", "MY_API_TOKEN", "SMTP_PASSWORD", "Otobo_ApiKey"} {
		if _, ok := env[k]; ok {
			t.Errorf("%s is visible to templates", k)
		}
	}
}
