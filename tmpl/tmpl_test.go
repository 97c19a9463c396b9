package tmpl

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

// testSecrets are the values the test resolver knows. They are long enough
// to be registered with the redactor.
var testSecrets = map[string]string{
	"PIN":      "1234",
	"TOKEN":    "tok-s3cr3t-value",
	"BRACES":   "pa{{ss}}word",
	"ZAMMAD_T": "zammad-token-xyz",
}

func testResolver(name string) (string, error) {
	if v, ok := testSecrets[name]; ok {
		return v, nil
	}
	return "", fmt.Errorf("secret %s: %w", name, secret.ErrMissing)
}

var testOpts = Options{Secrets: testResolver}

func testTicket() *ticket.Ticket {
	return &ticket.Ticket{
		ID:           "42",
		Subject:      "Invoice missing",
		Body:         "Where is my invoice?",
		Queue:        ticket.Entity{ID: "3", Name: "Inbox"},
		Tags:         []string{"vip", "billing"},
		CustomFields: map[string]any{"plan": "gold"},
	}
}

func testScope() map[string]any {
	return map[string]any{
		"ticket": testTicket(),
		"pipes": map[string]any{
			"a":          map[string]any{"list": []any{1, 2, 3}, "n": 0},
			"fetch-open": map[string]any{"tickets": []*ticket.Ticket{testTicket()}},
			"classify": map[string]any{
				"confidence": 0.87,
				"label":      "Billing",
				"predictions": []classify.Prediction{
					{Label: "Sales", Confidence: 0.09},
					{Label: "Billing", Confidence: 0.87},
				},
			},
		},
		"context": map[string]any{"x": "ctx-x"},
		"env":     map[string]any{"HOME": "/home/otai"},
	}
}

func mustCompile(t *testing.T, src string) *Template {
	t.Helper()
	tp, err := Compile(src, testOpts)
	if err != nil {
		t.Fatalf("Compile(%q): %v", src, err)
	}
	return tp
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		src    string
		offset int
		msg    string
	}{
		{"{{ tiket.subject }}", 0, `unknown name "tiket" (known: ticket, pipes, context, env)`},
		{"Hi {{ ticket.subject }} {{ tiket.subject }}", 24, `unknown name "tiket"`},
		{"a {{ secrets.TOKEN }}", 2, `a secret is written ${{ secrets.NAME }}`},
		{"x {{ ticket. }}", 2, "in {{ ticket. }}"},
		{"x {{ 1 + }}", 2, "in {{ 1 + }}"},
		{"abc {{ ticket.subject", 4, `unclosed "{{"`},
		{"abc {{ \"}} ", 4, "unterminated string"},
		{"abc }} def", 4, `unexpected "}}"`},
		{"{{ }}", 0, "empty {{ }}"},
		{"ab{{}}", 2, "empty {{ }}"},
		{"€ {{ nope }}", 4, `unknown name "nope"`},
		{"x ${{ secrets.MISSING }}", 2, "secret MISSING"},
		{"x ${{ secrets.bad-name }}", 2, "malformed secret reference"},
		{"{{ foo(1) }}", 0, `unknown name "foo"`},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := Compile(tt.src, testOpts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q) error = %v (%T), want *Error", tt.src, err, err)
			}
			if e.Offset != tt.offset {
				t.Errorf("Offset = %d, want %d (%s)", e.Offset, tt.offset, e.Msg)
			}
			if !strings.Contains(e.Error(), tt.msg) {
				t.Errorf("Error() = %q, want it to contain %q", e.Error(), tt.msg)
			}
			if strings.Contains(e.Error(), "\n") {
				t.Errorf("Error() has a newline: %q", e.Error())
			}
		})
	}
}

func TestCompileRoots(t *testing.T) {
	opts := Options{Roots: []string{"item"}}
	if _, err := Compile("{{ item.x }}", opts); err != nil {
		t.Fatal(err)
	}
	_, err := Compile("{{ ticket.x }}", opts)
	if err == nil || !strings.Contains(err.Error(), `unknown name "ticket" (known: item)`) {
		t.Fatalf("err = %v", err)
	}
}

func TestEvalTyping(t *testing.T) {
	tests := []struct {
		src    string
		want   any    // Eval
		render string // Render
	}{
		{"{{ 5 }}", 5, "5"},
		{"  {{ 5 }}\n", 5, "  5\n"},
		{"n={{ 5 }}", "n=5", "n=5"},
		{"{{ 0.5 }}", 0.5, "0.5"},
		{"{{ 1e21 }}", 1e21, "1e+21"},
		{"{{ 2.0 * 3 }}", 6.0, "6"},
		{"{{ true }}", true, "true"},
		{"{{ nil }}", nil, ""},
		{"[{{ nil }}]", "[]", "[]"},
		{"{{ pipes.a.list }}", []any{1, 2, 3}, "[1,2,3]"},
		{"{{ 1 }}{{ 2 }}", "12", "12"},
		{"plain text", "plain text", "plain text"},
		{"", "", ""},
		{`\{{ literal \}}`, "{{ literal }}", "{{ literal }}"},
		{`{{ "{{" }}`, "{{", "{{"},
		{`{{ "}}" }}`, "}}", "}}"},
		{`{{ {"a": {"b": 1}} }}`, map[string]any{"a": map[string]any{"b": 1}}, `{"a":{"b":1}}`},
		{`a\b`, `a\b`, `a\b`},
		{"${{ ticket.id }}", "$42", "$42"},
		{"{{ ticket.subject }}", "Invoice missing", "Invoice missing"},
		{"{{ ticket.queue.name }}", "Inbox", "Inbox"},
		{"{{ ticket.queue }}", ticket.Entity{ID: "3", Name: "Inbox"}, "Inbox"},
		{"{{ ticket.tags }}", []string{"vip", "billing"}, `["vip","billing"]`},
		{`{{ ticket.custom_fields.plan }}`, "gold", "gold"},
		{`{{ len(pipes["fetch-open"].tickets) }}`, 1, "1"},
		{`{{ pipes["fetch-open"].tickets[0].subject }}`, "Invoice missing", "Invoice missing"},
		{"{{ pipes.classify.confidence >= 0.8 }}", true, "true"},
		{"{{ context.x }}", "ctx-x", "ctx-x"},
		{"{{ env.HOME }}", "/home/otai", "/home/otai"},
		{"{{ upper(ticket.subject) }}", "INVOICE MISSING", "INVOICE MISSING"},
		{`{{ join(ticket.tags, ", ") }}`, "vip, billing", "vip, billing"},
		{"{{ ticket.body contains 'invoice' }}", true, "true"},
	}
	scope := testScope()
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			tp := mustCompile(t, tt.src)
			got, err := tp.Eval(scope)
			if err != nil {
				t.Fatalf("Eval: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Eval = %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
			s, err := tp.Render(scope)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			if s != tt.render {
				t.Errorf("Render = %q, want %q", s, tt.render)
			}
		})
	}
}

func TestNilTicket(t *testing.T) {
	scope := testScope()
	scope["ticket"] = nil
	got, err := mustCompile(t, "{{ ticket?.subject }}").Eval(scope)
	if err != nil || got != nil {
		t.Fatalf("ticket?.subject = %#v, %v; want nil, nil", got, err)
	}
	got, err = mustCompile(t, "{{ ticket?.subject ?? 'none' }}").Eval(scope)
	if err != nil || got != "none" {
		t.Fatalf("ticket?.subject ?? 'none' = %#v, %v", got, err)
	}
	// A missing root behaves like nil.
	got, err = mustCompile(t, "{{ default(ticket?.subject, '-') }}").Eval(nil)
	if err != nil || got != "-" {
		t.Fatalf("nil scope: %#v, %v", got, err)
	}
}

func TestRuntimeError(t *testing.T) {
	tp := mustCompile(t, "{{ ticket.subjekt }}")
	_, err := tp.Eval(testScope())
	if err == nil {
		t.Fatal("no error for ticket.subjekt")
	}
	if !strings.HasPrefix(err.Error(), "evaluating {{ ticket.subjekt }}: ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("err = %q", err)
	}
	tp = mustCompile(t, "Dear ${{ secrets.TOKEN }} {{ ticket.subjekt }}")
	_, err = tp.Render(testScope())
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"evaluating {{ ticket.subjekt }}", "${{ secrets.TOKEN }}"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), testSecrets["TOKEN"]) {
		t.Errorf("err leaks the secret: %q", err)
	}
}

func TestSecrets(t *testing.T) {
	tp := mustCompile(t, "${{ secrets.PIN }}")
	got, err := tp.Eval(nil)
	if err != nil || got != "1234" {
		t.Fatalf("numeric secret: Eval = %#v (%T), %v; want string 1234", got, got, err)
	}
	if !tp.Static() || !tp.Sensitive() || tp.Source() != "${{ secrets.PIN }}" {
		t.Errorf("Static=%v Sensitive=%v Source=%q", tp.Static(), tp.Sensitive(), tp.Source())
	}

	tp = mustCompile(t, "${{secrets.BRACES}}")
	if got, _ := tp.Eval(nil); got != "pa{{ss}}word" {
		t.Errorf("secret with braces: %#v", got)
	}

	tp = mustCompile(t, "Token ${{  secrets . ZAMMAD_T  }} for {{ ticket.id }}")
	if tp.Static() || !tp.Sensitive() {
		t.Errorf("Static=%v Sensitive=%v", tp.Static(), tp.Sensitive())
	}
	if s, err := tp.Render(testScope()); err != nil || s != "Token zammad-token-xyz for 42" {
		t.Errorf("Render = %q, %v", s, err)
	}
	if strings.Contains(tp.Source(), "zammad-token-xyz") {
		t.Errorf("Source leaks the secret")
	}

	tp = mustCompile(t, "no markup")
	if !tp.Static() || tp.Sensitive() {
		t.Errorf("plain: Static=%v Sensitive=%v", tp.Static(), tp.Sensitive())
	}
}

func TestSecretErrors(t *testing.T) {
	src := "${{ secrets.TOKEN }} ${{ secrets.PIN }} ${{ secrets.MISSING }}"
	_, err := Compile(src, testOpts)
	if !errors.Is(err, secret.ErrMissing) {
		t.Fatalf("err = %v, want it to wrap secret.ErrMissing", err)
	}
	var e *Error
	if !errors.As(err, &e) || e.Offset != strings.Index(src, "${{ secrets.MISSING") {
		t.Fatalf("err = %#v", err)
	}
	for _, v := range testSecrets {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error %q contains secret value %q", err, v)
		}
	}

	// With the real resolver.
	r := secret.Resolver{
		LookupEnv: func(string) (string, bool) { return "", false },
		ReadFile:  func(string) ([]byte, error) { return nil, errors.New("no file") },
	}
	_, err = Compile("${{ secrets.NOPE }}", Options{Secrets: r.Lookup})
	if !errors.Is(err, secret.ErrMissing) || !strings.Contains(err.Error(), "NOPE") {
		t.Fatalf("err = %v", err)
	}

	_, err = Compile("${{ secrets.PIN }}", Options{})
	if !errors.Is(err, ErrNoSecrets) {
		t.Fatalf("nil resolver: err = %v", err)
	}
}

func TestFunctions(t *testing.T) {
	tests := []struct {
		src  string
		want any
	}{
		{"{{ percent(0.871) }}", "87%"},
		{"{{ percent(0.875) }}", "88%"},
		{"{{ percent(1) }}", "100%"},
		{"{{ percent(pipes.classify.confidence) }}", "87%"},
		{`{{ truncate("hello world", 5) }}`, "hell…"},
		{`{{ truncate("hello world", 6) }}`, "hello…"},
		{`{{ truncate("hello", 5) }}`, "hello"},
		{`{{ truncate("Größenänderung", 4) }}`, "Grö…"},
		{`{{ truncate("abc", 0) }}`, ""},
		{`{{ default(nil, "x") }}`, "x"},
		{`{{ default("", "x") }}`, "x"},
		{`{{ default("y", "x") }}`, "y"},
		{`{{ default(0, 7) }}`, 0},
		{`{{ default(context.nope, "n/a") }}`, "n/a"},
		{`{{ lines(["a", 1, 0.5]) }}`, "a\n1\n0.5"},
		{`{{ lines(ticket.tags) }}`, "vip\nbilling"},
		{`{{ lines(nil) }}`, ""},
		{`{{ topk(pipes.classify.predictions) }}`, "Billing 87%, Sales 9%"},
		{`{{ topk(pipes.classify.predictions, 1) }}`, "Billing 87%"},
		{`{{ topk([{"label": "A", "confidence": 0.5}, {"label": "B", "confidence": 1}]) }}`, "B 100%, A 50%"},
		{`{{ topk([]) }}`, ""},
		{`{{ lower("ABC") + trim("  x ") }}`, "abcx"},
		{`{{ toJSON([1]) }}`, "[\n  1\n]"},
	}
	scope := testScope()
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			got, err := mustCompile(t, tt.src).Eval(scope)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %#v, want %#v", got, tt.want)
			}
		})
	}
	for _, src := range []string{`{{ percent("x") }}`, `{{ truncate("x") }}`, `{{ topk(5) }}`, `{{ topk([1]) }}`, `{{ lines(5) }}`, `{{ percent(1/0) }}`} {
		if _, err := mustCompile(t, src).Eval(scope); err == nil {
			t.Errorf("%s: no error", src)
		}
	}
}

func TestExpr(t *testing.T) {
	scope := testScope()
	tests := []struct {
		code string
		want bool
	}{
		{"pipes.classify.confidence >= 0.8", true},
		{"pipes.classify.confidence >= 0.9", false},
		{"ticket.subject", true},
		{"ticket.number", false},
		{"pipes.a.n", false},
		{"pipes.a.list", true},
		{"[]", false},
		{"{}", false},
		{"nil", false},
		{"context.missing", false},
		{"'vip' in ticket.tags", true},
		{"1.5", true},
	}
	for _, tt := range tests {
		e, err := CompileExpr(tt.code, Options{})
		if err != nil {
			t.Fatalf("CompileExpr(%q): %v", tt.code, err)
		}
		if e.Source() != tt.code {
			t.Errorf("Source = %q", e.Source())
		}
		got, err := e.Bool(scope)
		if err != nil || got != tt.want {
			t.Errorf("Bool(%q) = %v, %v; want %v", tt.code, got, err, tt.want)
		}
	}
	if v, err := mustExpr(t, "1 + 2").Eval(nil); err != nil || v != 3 {
		t.Errorf("Eval = %#v, %v", v, err)
	}
	for _, bad := range []string{"", "  ", "tiket.x", "1 +", "${{ secrets.PIN }}"} {
		_, err := CompileExpr(bad, testOpts)
		var e *Error
		if !errors.As(err, &e) || e.Offset != 0 {
			t.Errorf("CompileExpr(%q) = %v, want *Error at 0", bad, err)
		}
	}
	_, err := mustExpr(t, "ticket.nope").Bool(scope)
	if err == nil || !strings.Contains(err.Error(), `evaluating "ticket.nope"`) {
		t.Errorf("runtime error = %v", err)
	}
}

func mustExpr(t *testing.T, code string) *Expr {
	t.Helper()
	e, err := CompileExpr(code, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestHasMarkup(t *testing.T) {
	for s, want := range map[string]bool{"x": false, "{{ x }}": true, "${{ secrets.A }}": true, "{ {": false} {
		if HasMarkup(s) != want {
			t.Errorf("HasMarkup(%q) = %v", s, !want)
		}
	}
}

func TestConcurrentEval(t *testing.T) {
	tp := mustCompile(t, "{{ ticket.subject }} {{ percent(pipes.classify.confidence) }} {{ topk(pipes.classify.predictions) }}")
	single := mustCompile(t, "{{ pipes.a.list }}")
	cond := mustExpr(t, "len(ticket.tags) > 1")
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := range 16 {
		wg.Go(func() {
			scope := testScope()
			scope["ticket"].(*ticket.Ticket).Subject = fmt.Sprint("s", g)
			for range 50 {
				s, err := tp.Render(scope)
				if err != nil || s != fmt.Sprintf("s%d 87%% Billing 87%%, Sales 9%%", g) {
					errs <- fmt.Errorf("goroutine %d: %q, %v", g, s, err)
					return
				}
				if v, err := single.Eval(scope); err != nil || len(v.([]any)) != 3 {
					errs <- fmt.Errorf("single: %v, %v", v, err)
					return
				}
				if ok, err := cond.Bool(scope); err != nil || !ok {
					errs <- fmt.Errorf("cond: %v, %v", ok, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", "plain", "{{ 5 }}", "n={{ 5 }}", "{{ ticket.subject }}", "${{ secrets.PIN }}",
		"${{ secrets.MISSING }}", `\{{ x \}}`, "{{ }}", "}}", "{{", `{{ "}}" }}`,
		`{{ {"a": 1} }}`, "{{ truncate(ticket.body, 3) }}", "{{ topk(pipes.classify.predictions) }}",
		"{{ pipes.a.list[7] }}", "{{ 1..3 }}", "${{ ticket.id }}", "{{ 'a' + `b` }}",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tp, err := Compile(src, testOpts)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, not *Error", err)
			}
			if e.Offset < 0 || e.Offset > len(src) {
				t.Fatalf("offset %d out of range for %q", e.Offset, src)
			}
			return
		}
		if tp.Source() != src {
			t.Fatalf("Source = %q", tp.Source())
		}
		_, _ = tp.Eval(testScope())
		_, _ = tp.Render(nil)
		if e, err := CompileExpr(src, testOpts); err == nil {
			_, _ = e.Bool(testScope())
		}
	})
}
