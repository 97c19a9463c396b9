// Package tmpl compiles the templates of otai's config once, at load time,
// and evaluates them per run.
//
// # Syntax
//
// A template is text with two kinds of markup:
//
//	{{ expr }}              an expression, evaluated per run
//	${{ secrets.NAME }}     a secret reference, resolved once at Compile
//
// Expressions use the expr language (github.com/expr-lang/expr). At the top
// level they may name only the roots given in Options.Roots (DefaultRoots:
// ticket, pipes, context, env); any other name is a compile-time error.
// Roots are dynamic at run time, so member access is checked when the
// template is evaluated:
//
//	{{ ticket.subject }}  {{ ticket.queue.name }}  {{ ticket.tags }}
//	{{ pipes["fetch-open"].tickets }}  {{ pipes.classify.confidence >= 0.8 }}
//	{{ context.x }}  {{ env.HOME }}  {{ ticket?.subject }} (nil-safe)
//
// Fields of *ticket.Ticket are reached by their expr tags (subject, body,
// queue, custom_fields, ...).
//
// A secret reference is replaced by the secret's value at Compile, through
// Options.Secrets. The value is kept as literal text: it is never parsed as
// a template, even when it contains "{{". Whitespace inside the braces is
// free (${{secrets.NAME}} works too). A "$" before "{{" that is not
// followed by "secrets." is plain text: "${{ ticket.number }}" renders "$"
// and the number.
//
// # Literal braces
//
// A backslash escapes braces: \{{ renders as {{ and \}} as }}. A "}}"
// outside an expression without the backslash is an error, as are an
// unclosed "{{" and an empty "{{ }}". (Since an expression may be a string
// literal, {{ "{{" }} also renders {{, but \{{ keeps the template static.)
// Other backslashes are plain text.
//
// # Typing
//
// Template.Eval returns the expression's native value (int, float64, bool,
// slice, map, *ticket.Ticket, nil, ...) when the template is exactly one
// {{ }} with at most whitespace around it, and the rendered string
// otherwise. Template.Render always returns a string: integers without
// decimals, floats in their shortest form, nil as "", booleans as
// true/false, times as RFC 3339, values with a String method through it,
// other slices, maps and structs as JSON.
//
// # Functions
//
// Besides expr's builtins (lower, upper, trim, join, split, len, now,
// toJSON, filter, map, ...), expressions may call:
//
//	percent(x)          x in [0,1] as a rounded percentage: percent(0.871) == "87%"
//	truncate(s, n)      s cut to at most n runes; a cut string ends in "…"
//	                    (the ellipsis counts toward n)
//	default(v, fallback) fallback when v is nil or "", else v
//	lines(list)         the list's elements, formatted as Render does, one per line
//	topk(preds)         predictions ([]classify.Prediction, or a list of maps
//	                    with label and confidence) as "Billing 87%, Sales 9%",
//	                    highest confidence first; topk(preds, k) keeps the first k
//
// # Concurrency
//
// A compiled Template or Expr is immutable: Eval, Render and Bool are safe
// for concurrent use.
package tmpl

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/types"
	"github.com/expr-lang/expr/vm"

	"github.com/otai-dev/otai/secret"
)

// Options configure Compile and CompileExpr.
type Options struct {
	// Secrets resolves ${{ secrets.NAME }}; nil means secret references are an error.
	Secrets func(name string) (string, error)
	// Roots are the names an expression may use at top level; nil means DefaultRoots.
	Roots []string
}

// DefaultRoots are the top-level names of the pipe scope (see pipe.Context.Scope).
var DefaultRoots = []string{"ticket", "pipes", "context", "env"}

// ErrNoSecrets is wrapped by the error for a secret reference when
// Options.Secrets is nil.
var ErrNoSecrets = errors.New("secret references are not allowed here")

// Error is a compile error. Offset is the byte offset into the source where
// the problem starts: the start of the offending "{{" (or "${{" or "}}") in
// a template, 0 for a bare expression.
type Error struct {
	Offset int
	Msg    string
	Err    error
}

// Error returns Msg.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns the underlying error, if any (e.g. a wrapped
// secret.ErrMissing, or expr's *file.Error).
func (e *Error) Unwrap() error { return e.Err }

// HasMarkup reports whether s contains "{{": a template or a secret
// reference.
func HasMarkup(s string) bool { return strings.Contains(s, "{{") }

type partKind uint8

const (
	partText   partKind = iota // literal text
	partSecret                 // a resolved secret, literal text
	partExpr                   // a {{ }} expression
)

type part struct {
	kind partKind
	text string      // partText, partSecret: the text to write
	src  string      // partExpr: "{{ code }}" as written
	prog *vm.Program // partExpr
}

// Template is a compiled template. It is immutable and safe for concurrent
// use.
type Template struct {
	src       string
	parts     []part
	single    int // index of the only expression when Eval returns native values, else -1
	static    bool
	sensitive bool
}

// Static reports whether the template has no {{ }} expression: it is literal
// text and resolved secrets only, and renders the same every time.
func (t *Template) Static() bool { return t.static }

// Sensitive reports whether the template contains at least one resolved
// secret: its rendered value must not be logged or printed.
func (t *Template) Sensitive() bool { return t.sensitive }

// Source returns the original text, secret references unresolved: it is
// safe to print.
func (t *Template) Source() string { return t.src }

var secretRef = regexp.MustCompile(`^\$\{\{\s*secrets\s*\.\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)
var secretStart = regexp.MustCompile(`^\$\{\{\s*secrets\s*\.`)

// Compile parses src, resolves its secret references and compiles its
// expressions. Errors are *Error.
func Compile(src string, opts Options) (*Template, error) {
	t := &Template{src: src, single: -1, static: true}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, part{kind: partText, text: lit.String()})
			lit.Reset()
		}
	}
	cfg := newConfig(opts)
	for i := 0; i < len(src); {
		rest := src[i:]
		switch {
		case strings.HasPrefix(rest, `\{{`), strings.HasPrefix(rest, `\}}`):
			lit.WriteString(rest[1:3])
			i += 3
		case strings.HasPrefix(rest, "}}"):
			return nil, &Error{Offset: i, Msg: `unexpected "}}" (write \}} for literal braces)`}
		case strings.HasPrefix(rest, "${{") && secretStart.MatchString(rest):
			m := secretRef.FindStringSubmatch(rest)
			if m == nil {
				return nil, &Error{Offset: i, Msg: "malformed secret reference: write ${{ secrets.NAME }} with NAME of letters, digits and _"}
			}
			v, err := resolveSecret(m[1], opts)
			if err != nil {
				return nil, &Error{Offset: i, Msg: secret.Redact(err.Error()), Err: err}
			}
			flush()
			t.parts = append(t.parts, part{kind: partSecret, text: v})
			t.sensitive = true
			i += len(m[0])
		case strings.HasPrefix(rest, "{{"):
			end, err := scanExpr(src, i)
			if err != nil {
				return nil, err
			}
			p := part{kind: partExpr, src: src[i:end]}
			code := src[i+2 : end-2]
			if strings.TrimSpace(code) == "" {
				return nil, &Error{Offset: i, Msg: "empty {{ }}"}
			}
			prog, cerr := cfg.compile(code)
			if cerr != nil {
				cerr.Offset = i
				cerr.Msg += " in " + p.src
				return nil, cerr
			}
			p.prog = prog
			flush()
			t.parts = append(t.parts, p)
			t.static = false
			i = end
		default:
			_, n := utf8.DecodeRuneInString(rest)
			lit.WriteString(rest[:n])
			i += n
		}
	}
	flush()
	t.single = singleExpr(t.parts)
	return t, nil
}

// singleExpr returns the index of the only expression part when all other
// parts are whitespace-only literal text, else -1.
func singleExpr(parts []part) int {
	idx := -1
	for i, p := range parts {
		switch p.kind {
		case partExpr:
			if idx >= 0 {
				return -1
			}
			idx = i
		case partSecret:
			return -1
		case partText:
			if strings.TrimSpace(p.text) != "" {
				return -1
			}
		}
	}
	return idx
}

func resolveSecret(name string, opts Options) (string, error) {
	if opts.Secrets == nil {
		return "", fmt.Errorf("secret %s: %w", name, ErrNoSecrets)
	}
	v, err := opts.Secrets(name)
	if err != nil {
		if !strings.Contains(err.Error(), name) {
			err = fmt.Errorf("secret %s: %w", name, err)
		}
		return "", err
	}
	secret.Register(v)
	return v, nil
}

// scanExpr finds the end (just past "}}") of the expression starting with
// "{{" at src[start:]. It skips string literals and balanced braces, so
// {{ "}}" }} and {{ {"a": 1} }} work.
func scanExpr(src string, start int) (int, error) {
	depth := 0
	for i := start + 2; i < len(src); i++ {
		switch c := src[i]; c {
		case '"', '\'', '`':
			j := i + 1
			for ; j < len(src) && src[j] != c; j++ {
				if src[j] == '\\' && c != '`' {
					j++
				}
			}
			if j >= len(src) {
				return 0, &Error{Offset: start, Msg: "unterminated string in {{ (missing closing quote or }})"}
			}
			i = j
		case '{':
			depth++
		case '}':
			if depth > 0 {
				depth--
				continue
			}
			if i+1 < len(src) && src[i+1] == '}' {
				return i + 2, nil
			}
		}
	}
	return 0, &Error{Offset: start, Msg: `unclosed "{{" (missing "}}")`}
}

// Eval evaluates the template in scope. A template that is exactly one
// {{ }} (whitespace around it allowed) returns the expression's native
// value; any other template returns its rendered string.
func (t *Template) Eval(scope map[string]any) (any, error) {
	if t.single >= 0 {
		return t.run(&t.parts[t.single], scope)
	}
	return t.Render(scope)
}

// Render evaluates the template in scope and returns it as a string (see
// the package doc for how values are formatted).
func (t *Template) Render(scope map[string]any) (string, error) {
	if len(t.parts) == 1 && t.parts[0].kind != partExpr {
		return t.parts[0].text, nil
	}
	var b strings.Builder
	for i := range t.parts {
		p := &t.parts[i]
		if p.kind != partExpr {
			b.WriteString(p.text)
			continue
		}
		v, err := t.run(p, scope)
		if err != nil {
			return "", err
		}
		b.WriteString(format(v))
	}
	return b.String(), nil
}

func (t *Template) run(p *part, scope map[string]any) (any, error) {
	v, err := run(p.prog, scope)
	if err != nil {
		what := p.src
		if t.single < 0 {
			what += " in " + quoteShort(t.src)
		}
		return nil, &evalError{msg: "evaluating " + what + ": " + message(err), err: err}
	}
	return v, nil
}

func run(prog *vm.Program, scope map[string]any) (any, error) {
	if scope == nil {
		scope = map[string]any{}
	}
	return expr.Run(prog, scope)
}

// evalError is a run-time error: a one-line message naming the template
// and expression, wrapping expr's error.
type evalError struct {
	msg string
	err error
}

func (e *evalError) Error() string { return e.msg }
func (e *evalError) Unwrap() error { return e.err }

// message returns expr's error message without its multi-line snippet.
func message(err error) string {
	var fe *file.Error
	if errors.As(err, &fe) {
		return fe.Message
	}
	return err.Error()
}

func quoteShort(s string) string {
	const max = 120
	if utf8.RuneCountInString(s) > max {
		s = string([]rune(s)[:max-1]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

// Expr is a compiled bare expression (an `if:` condition written without
// braces). It is immutable and safe for concurrent use.
type Expr struct {
	src  string
	prog *vm.Program
}

// CompileExpr compiles a bare expression. Secret references are not
// allowed in it. Errors are *Error with Offset 0.
func CompileExpr(code string, opts Options) (*Expr, error) {
	if strings.TrimSpace(code) == "" {
		return nil, &Error{Msg: "empty expression"}
	}
	if strings.Contains(code, "${{") {
		return nil, &Error{Msg: "secret references are not allowed in expressions", Err: ErrNoSecrets}
	}
	prog, cerr := newConfig(opts).compile(code)
	if cerr != nil {
		return nil, cerr
	}
	return &Expr{src: code, prog: prog}, nil
}

// Source returns the expression as written.
func (e *Expr) Source() string { return e.src }

// Eval evaluates the expression in scope and returns its native value.
func (e *Expr) Eval(scope map[string]any) (any, error) {
	v, err := run(e.prog, scope)
	if err != nil {
		return nil, &evalError{msg: "evaluating " + quoteShort(e.src) + ": " + message(err), err: err}
	}
	return v, nil
}

// Bool evaluates the expression and reports its truthiness: false, nil, 0,
// "", and empty slices and maps are false; everything else is true.
func (e *Expr) Bool(scope map[string]any) (bool, error) {
	v, err := e.Eval(scope)
	if err != nil {
		return false, err
	}
	return Truthy(v), nil
}

// config is what compiling an expression needs for one set of roots.
type config struct {
	roots []string
	ops   []expr.Option
}

var defaultConfig = buildConfig(DefaultRoots)

func newConfig(opts Options) *config {
	if opts.Roots == nil {
		return defaultConfig
	}
	return buildConfig(opts.Roots)
}

func buildConfig(roots []string) *config {
	env := types.Map{}
	for _, r := range roots {
		env[r] = types.Any
	}
	ops := append([]expr.Option{expr.Env(env)}, functions...)
	return &config{roots: roots, ops: ops}
}

// compile compiles code, turning expr's errors (and any panic) into *Error.
func (c *config) compile(code string) (prog *vm.Program, cerr *Error) {
	defer func() {
		if r := recover(); r != nil {
			prog, cerr = nil, &Error{Msg: fmt.Sprintf("invalid expression: %v", r)}
		}
	}()
	prog, err := expr.Compile(code, c.ops...)
	if err == nil {
		return prog, nil
	}
	msg := message(err)
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		hint := ""
		if name == "secrets" {
			hint = "; a secret is written ${{ secrets.NAME }}, outside {{ }}"
		}
		msg = fmt.Sprintf("unknown name %q (known: %s%s)", name, strings.Join(c.roots, ", "), hint)
	}
	return nil, &Error{Msg: msg, Err: err}
}
