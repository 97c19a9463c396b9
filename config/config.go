// Package config loads otai's YAML config: services, pipes and the
// orchestrator's runners and triggers. Loading never stops at the first
// problem: every unknown key, wrong type, missing required field, unknown
// use: id, duplicate id, dangling service reference, template error and
// missing secret is collected and reported as file:line:col: field: message.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	goccy "github.com/goccy/go-yaml"
	goccyparser "github.com/goccy/go-yaml/parser"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/tmpl"
	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// File is a loaded config.
type File struct {
	Path       string
	APIVersion string
	Plugins    []string
	Vars       map[string]any
	Services   []*Service
	Pipes      []*Pipe   // top-level pipe definitions
	Runners    []*Runner // from orchestrator.runners, or one default runner
}

// Service is a configured ticket system or classifier.
type Service struct {
	ID     string
	Use    string
	Spec   *registry.Spec
	Params *Node
	Pos    Pos
}

// Pipe is a configured pipe, possibly with child steps.
type Pipe struct {
	ID     string
	Use    string
	Spec   *registry.Spec
	Params *Node
	If     *Cond
	Steps  []*Pipe
	Pos    Pos
}

// Runner is a named list of pipes with its triggers.
type Runner struct {
	ID       string
	Pipes    []*Pipe
	Triggers []Trigger
	Vars     map[string]any
	DryRun   bool
	Pos      Pos
}

// Trigger says when a runner runs. Exactly one of its fields is set.
type Trigger struct {
	Interval time.Duration
	Cron     string
	Schedule cron.Schedule
	Once     bool
	Pos      Pos
}

func (t Trigger) String() string {
	switch {
	case t.Interval > 0:
		return "every " + t.Interval.String()
	case t.Cron != "":
		return "cron " + t.Cron
	}
	return "once"
}

// Cond is an if: condition: a template ("{{ x > 1 }}") or a bare
// expression ("x > 1").
type Cond struct {
	Source string
	t      *tmpl.Template
	e      *tmpl.Expr
}

// Eval reports whether the condition holds in scope.
func (c *Cond) Eval(scope map[string]any) (bool, error) {
	if c.e != nil {
		return c.e.Bool(scope)
	}
	v, err := c.t.Eval(scope)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		s := strings.TrimSpace(strings.ToLower(x))
		return s != "" && s != "false" && s != "0" && s != "no"
	case int:
		return x != 0
	case int64:
		return x != 0
	case float64:
		return x != 0
	}
	return true
}

// Options tune loading.
type Options struct {
	// Secrets resolves ${{ secrets.NAME }}; nil reports every secret as missing.
	Secrets func(name string) (string, error)
}

// Load reads and checks the config at path.
func Load(path string, opts Options) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, b, opts)
}

// Parse checks a config given as bytes; name is used in messages.
func Parse(name string, data []byte, opts Options) (*File, error) {
	l := &loader{file: name, secrets: opts.Secrets}
	if l.secrets == nil {
		l.secrets = func(n string) (string, error) { return "", fmt.Errorf("secret %s: no secrets available", n) }
	}
	f := l.parse(data)
	if len(l.errs.errs) > 0 {
		return f, l.errs.errs.sorted()
	}
	return f, nil
}

type loader struct {
	file    string
	secrets func(string) (string, error)
	errs    collector
	refs    []ref
	pipeIDs map[string]Pos
	nodes   int  // converted so far, against alias bombs
	tooBig  bool // reported once
}

func (l *loader) parse(data []byte) *File {
	f := &File{Path: l.file}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			l.errs.add(Pos{File: l.file, Line: 1, Col: 1}, "", "the file is empty")
			return f
		}
		l.errs.errs = append(l.errs.errs, yamlError(l.file, data, err))
		return f
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		l.errs.add(Pos{File: l.file, Line: extra.Line, Col: extra.Column}, "", "only one YAML document is allowed (found ---)")
	}
	root := l.convert(&doc, "", 0)
	if root.Kind == Null {
		l.errs.add(Pos{File: l.file, Line: 1, Col: 1}, "", "the file is empty")
		return f
	}
	if root.Kind != Map {
		l.errs.add(root.Pos, "", "the top level must be a mapping with services:, pipes: and orchestrator:")
		return f
	}
	// Configs written for the Python Open Ticket AI wrap everything in open_ticket_ai:.
	if w := root.Get("open_ticket_ai"); w != nil && len(root.Pairs) == 1 {
		if w.Kind != Map {
			l.errs.add(w.Pos, "open_ticket_ai", "expected a mapping")
			return f
		}
		root = w
	}
	l.keys(root, "", "api_version", "plugins", "vars", "services", "pipes", "orchestrator", "infrastructure")
	if n := root.Get("api_version"); n != nil {
		f.APIVersion = n.Value
	}
	if n := root.Get("plugins"); n != nil {
		for i, it := range l.seq(n, "plugins") {
			if it.Kind != Scalar {
				l.errs.add(it.Pos, fmt.Sprintf("plugins[%d]", i), "expected a plugin name")
				continue
			}
			f.Plugins = append(f.Plugins, it.Value)
			if !pluginKnown(it.Value) {
				l.errs.add(it.Pos, fmt.Sprintf("plugins[%d]", i), "plugin %q is not built into this otai (known: %s)", it.Value, strings.Join(knownPlugins(), ", "))
			}
		}
	}
	f.Vars = l.vars(root.Get("vars"), "vars")

	services := map[string]*Service{}
	for i, n := range l.seq(root.Get("services"), "services") {
		field := fmt.Sprintf("services[%d]", i)
		s := l.service(n, field)
		if s == nil {
			continue
		}
		if old, dup := services[s.ID]; dup {
			l.errs.add(n.Get("id").Pos, field+".id", "duplicate service id %q (first at line %d)", s.ID, old.Pos.Line)
			continue
		}
		services[s.ID] = s
		f.Services = append(f.Services, s)
	}

	l.pipeIDs = map[string]Pos{}
	top := map[string]*Pipe{}
	for i, n := range l.seq(root.Get("pipes"), "pipes") {
		p := l.pipe(n, fmt.Sprintf("pipes[%d]", i), 0)
		if p != nil {
			top[p.ID] = p
			f.Pipes = append(f.Pipes, p)
		}
	}
	f.Runners = l.orchestrator(root.Get("orchestrator"), f, top)

	for _, r := range l.refs {
		if r.id == "" { // left out: fine when exactly one service of the kind exists
			var ids []string
			for _, s := range f.Services {
				if s.Spec != nil && s.Spec.Kind == r.kind {
					ids = append(ids, s.ID)
				}
			}
			switch len(ids) {
			case 0:
				l.errs.add(r.pos, r.fld, "required: no %s is configured under services:", kindName(r.kind))
			case 1:
			default:
				l.errs.add(r.pos, r.fld, "required when several %ss are configured (%s)", kindName(r.kind), strings.Join(ids, ", "))
			}
			continue
		}
		s, ok := services[r.id]
		switch {
		case !ok:
			l.errs.add(r.pos, r.fld, "no service with id %q%s", r.id, suggestService(r.id, r.kind, f.Services))
		case s.Spec != nil && s.Spec.Kind != r.kind:
			l.errs.add(r.pos, r.fld, "service %q is a %s, not a %s", r.id, kindName(s.Spec.Kind), kindName(r.kind))
		}
	}
	return f
}

func kindName(k registry.Kind) string { return strings.ReplaceAll(string(k), "_", " ") }

func suggestService(id string, kind registry.Kind, ss []*Service) string {
	var ids []string
	for _, s := range ss {
		if s.Spec != nil && s.Spec.Kind == kind {
			ids = append(ids, s.ID)
		}
	}
	if len(ids) == 0 {
		return fmt.Sprintf(" (no %s is configured under services:)", kindName(kind))
	}
	return " (configured: " + strings.Join(ids, ", ") + ")"
}

func yamlError(file string, data []byte, err error) *Error {
	// yaml.v3 often names the line where the enclosing block starts, not
	// the line of the mistake; goccy/go-yaml's parser points at the token.
	if _, gerr := goccyparser.ParseBytes(data, 0); gerr != nil {
		var se *goccy.SyntaxError
		if errors.As(gerr, &se) && se.Token != nil && se.Token.Position != nil {
			return &Error{Pos: Pos{File: file, Line: se.Token.Position.Line, Col: se.Token.Position.Column},
				Msg: "invalid YAML: " + se.Message, Err: err}
		}
	}
	// yaml.v3 says "yaml: line 3: mapping values are not allowed in this context"
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if _, e := fmt.Sscanf(msg, "line %d:", &line); e == nil {
		if i := strings.Index(msg, ":"); i >= 0 {
			msg = strings.TrimSpace(msg[i+1:])
		}
	}
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = strings.Join(te.Errors, "; ")
	}
	return &Error{Pos: Pos{File: file, Line: line}, Msg: "invalid YAML: " + msg, Err: err}
}

// keys reports keys of map node n that are not allowed.
func (l *loader) keys(n *Node, field string, allowed ...string) {
	for _, p := range n.Pairs {
		if !contains(allowed, p.Key) {
			hint := ""
			best, bd := "", 1<<30
			for _, a := range allowed {
				if d := editDistance(p.Key, a); d < bd {
					best, bd = a, d
				}
			}
			if bd <= max(2, len(p.Key)/3) {
				hint = fmt.Sprintf(" (did you mean %q?)", best)
			} else {
				hint = " (known: " + strings.Join(allowed, ", ") + ")"
			}
			l.errs.add(p.KeyPos, joinField(field, p.Key), "unknown field%s", hint)
		}
	}
}

func (l *loader) seq(n *Node, field string) []*Node {
	if n == nil || n.Kind == Null {
		return nil
	}
	if n.Kind != Seq {
		l.errs.add(n.Pos, field, "expected a list (items start with -)")
		return nil
	}
	return n.Items
}

func (l *loader) str(n *Node, field string, required bool, parent *Node) string {
	if n == nil || n.Kind == Null {
		if required {
			pos := Pos{File: l.file}
			if parent != nil {
				pos = parent.Pos
			}
			l.errs.add(pos, field, "required field is missing")
		}
		return ""
	}
	if n.Kind != Scalar {
		l.errs.add(n.Pos, field, "expected a string")
		return ""
	}
	if n.IsTemplate() {
		l.errs.add(n.Pos, field, "must be a literal, not a template")
		return ""
	}
	if required && strings.TrimSpace(n.Value) == "" {
		l.errs.add(n.Pos, field, "must not be empty")
		return ""
	}
	return n.Value
}

func (l *loader) vars(n *Node, field string) map[string]any {
	if n == nil || n.Kind == Null {
		return nil
	}
	if n.Kind != Map {
		l.errs.add(n.Pos, field, "expected a mapping of names to values")
		return nil
	}
	d := &decoder{check: false, scope: map[string]any{}}
	v, _ := d.plain(n, field)
	l.errs.errs = append(l.errs.errs, d.errs.errs...)
	m, _ := v.(map[string]any)
	return m
}

func (l *loader) lookup(use string, n *Node, field string, want ...registry.Kind) *registry.Spec {
	spec, ok := registry.Lookup(use)
	if !ok {
		hint := ""
		var sugg []string
		for _, k := range want {
			sugg = append(sugg, registry.Suggest(use, k)...)
		}
		if len(sugg) > 0 {
			hint = " (did you mean " + strings.Join(quoteAll(dedupe(sugg)), " or ") + "?)"
		} else {
			hint = " (run 'otai schema' to list every component)"
		}
		l.errs.add(n.Pos, field, "unknown component %q%s", use, hint)
		return nil
	}
	if !contains(kindsToStrings(want), string(spec.Kind)) {
		l.errs.add(n.Pos, field, "%s is a %s and cannot be used here", spec.ID, kindName(spec.Kind))
		return nil
	}
	return spec
}

func kindsToStrings(ks []registry.Kind) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func (l *loader) service(n *Node, field string) *Service {
	if n.Kind != Map {
		l.errs.add(n.Pos, field, "expected a mapping with id, use and params")
		return nil
	}
	l.keys(n, field, "id", "use", "params")
	s := &Service{Pos: n.Pos, Params: n.Get("params")}
	s.ID = l.str(n.Get("id"), field+".id", true, n)
	s.Use = l.str(n.Get("use"), field+".use", true, n)
	if s.Use != "" {
		s.Spec = l.lookup(s.Use, n.Get("use"), field+".use", registry.KindTicketSystem, registry.KindClassifier)
	}
	if s.Spec != nil {
		l.checkParams(s.Spec, s.Params, field+".params", n)
	}
	if s.ID == "" {
		return nil
	}
	return s
}

func (l *loader) checkParams(spec *registry.Spec, params *Node, field string, parent *Node) {
	if params == nil {
		params = &Node{Kind: Map, Pos: parent.Pos}
	}
	if params.Kind != Map && params.Kind != Null {
		l.errs.add(params.Pos, field, "expected a mapping of params")
		return
	}
	d := &decoder{check: true}
	d.value(params, reflectNew(spec), field)
	l.errs.errs = append(l.errs.errs, d.errs.errs...)
	l.refs = append(l.refs, d.refs...)
}

func (l *loader) pipe(n *Node, field string, depth int) *Pipe {
	if n.Kind != Map {
		l.errs.add(n.Pos, field, "expected a mapping with id, use and params")
		return nil
	}
	if depth > 16 {
		l.errs.add(n.Pos, field, "pipes nested too deeply")
		return nil
	}
	l.keys(n, field, "id", "use", "params", "if", "_if", "steps", "injects", "description")
	p := &Pipe{Pos: n.Pos, Params: n.Get("params")}
	p.ID = l.str(n.Get("id"), field+".id", true, n)
	p.Use = l.str(n.Get("use"), field+".use", true, n)
	if p.ID != "" {
		if first, dup := l.pipeIDs[p.ID]; dup {
			l.errs.add(n.Get("id").Pos, field+".id", "duplicate pipe id %q (first at line %d); results are looked up by id, so ids must be unique", p.ID, first.Line)
		} else {
			l.pipeIDs[p.ID] = n.Get("id").Pos
		}
	}
	if p.Use != "" {
		p.Spec = l.lookup(p.Use, n.Get("use"), field+".use", registry.KindPipe)
	}
	// injects: (Python OTAI) name services for the pipe: merge into params.
	if inj := n.Get("injects"); inj != nil {
		if inj.Kind != Map {
			l.errs.add(inj.Pos, field+".injects", "expected a mapping like {ticket_system: my-helpdesk}")
		} else {
			if p.Params == nil || p.Params.Kind == Null {
				p.Params = &Node{Kind: Map, Pos: inj.Pos}
			}
			merged := *p.Params
			merged.Pairs = append([]Pair(nil), p.Params.Pairs...)
			for _, pr := range inj.Pairs {
				if merged.Get(pr.Key) == nil {
					merged.Pairs = append(merged.Pairs, pr)
				}
			}
			p.Params = &merged
		}
	}
	cond := n.Get("if")
	if cond == nil {
		cond = n.Get("_if")
	}
	if cond != nil {
		p.If = l.cond(cond, field+".if")
	}
	steps := n.Get("steps")
	stepsField := field + ".steps"
	// Python OTAI puts a composite's steps under params.
	if p.Spec != nil && p.Spec.Container && p.Params != nil && p.Params.Get("steps") != nil {
		if steps != nil {
			l.errs.add(p.Params.Get("steps").Pos, field+".params.steps", "steps are given twice (here and under the pipe)")
		}
		steps = p.Params.Get("steps")
		stepsField = field + ".params.steps"
		rest := *p.Params
		rest.Pairs = nil
		for _, pr := range p.Params.Pairs {
			if pr.Key != "steps" {
				rest.Pairs = append(rest.Pairs, pr)
			}
		}
		p.Params = &rest
	}
	if steps != nil {
		if p.Spec != nil && !p.Spec.Container {
			l.errs.add(steps.Pos, stepsField, "%s takes no steps (containers: %s)", p.Spec.ID, strings.Join(containers(), ", "))
		}
		for i, c := range l.seq(steps, stepsField) {
			if cp := l.pipe(c, fmt.Sprintf("%s[%d]", stepsField, i), depth+1); cp != nil {
				p.Steps = append(p.Steps, cp)
			}
		}
	} else if p.Spec != nil && p.Spec.Container {
		l.errs.add(n.Pos, stepsField, "%s needs steps: a list of pipes to run", p.Spec.ID)
	}
	if p.Spec != nil {
		l.checkParams(p.Spec, p.Params, field+".params", n)
	}
	if p.ID == "" {
		return nil
	}
	return p
}

func containers() []string {
	var out []string
	for _, s := range registry.All() {
		if s.Container {
			out = append(out, s.ID)
		}
	}
	return out
}

func (l *loader) cond(n *Node, field string) *Cond {
	switch {
	case n.Kind == Scalar && n.Tag == "!!bool":
		e, err := tmpl.CompileExpr(n.Value, tmpl.Options{})
		if err != nil {
			l.errs.addErr(n.Pos, field, err)
			return nil
		}
		return &Cond{Source: n.Value, e: e}
	case n.Kind != Scalar:
		l.errs.add(n.Pos, field, "expected an expression like \"{{ pipes.classify.confidence >= 0.8 }}\"")
		return nil
	case n.Tmpl != nil:
		return &Cond{Source: n.Value, t: n.Tmpl}
	case n.Bad:
		return nil // already reported
	}
	e, err := tmpl.CompileExpr(n.Value, tmpl.Options{})
	if err != nil {
		var te *tmpl.Error
		pos := n.Pos
		if errors.As(err, &te) {
			pos.Col += te.Offset
		}
		l.errs.addErr(pos, field, err)
		return nil
	}
	return &Cond{Source: n.Value, e: e}
}

func (l *loader) orchestrator(n *Node, f *File, top map[string]*Pipe) []*Runner {
	if n == nil || n.Kind == Null {
		if len(f.Pipes) == 0 {
			return nil
		}
		return []*Runner{{ID: "default", Pipes: f.Pipes, Triggers: []Trigger{{Once: true}}, Pos: f.Pipes[0].Pos}}
	}
	if n.Kind != Map {
		l.errs.add(n.Pos, "orchestrator", "expected a mapping with runners:")
		return nil
	}
	l.keys(n, "orchestrator", "runners")
	var out []*Runner
	ids := map[string]Pos{}
	for i, rn := range l.seq(n.Get("runners"), "orchestrator.runners") {
		field := fmt.Sprintf("orchestrator.runners[%d]", i)
		if rn.Kind != Map {
			l.errs.add(rn.Pos, field, "expected a mapping with id, pipes and triggers")
			continue
		}
		l.keys(rn, field, "id", "pipes", "run", "triggers", "on", "vars", "dry_run", "description")
		r := &Runner{Pos: rn.Pos}
		r.ID = l.str(rn.Get("id"), field+".id", true, rn)
		if first, dup := ids[r.ID]; dup && r.ID != "" {
			l.errs.add(rn.Get("id").Pos, field+".id", "duplicate runner id %q (first at line %d)", r.ID, first.Line)
		}
		ids[r.ID] = rn.Pos
		pipes := rn.Get("pipes")
		pf := field + ".pipes"
		if pipes == nil {
			pipes, pf = rn.Get("run"), field+".run"
		}
		if pipes == nil {
			l.errs.add(rn.Pos, field+".pipes", "required field is missing: list the ids of the pipes this runner runs")
		}
		if pipes != nil && pipes.Kind == Map { // run: {id, use, ...} (Python style: one pipe)
			pipes = &Node{Kind: Seq, Pos: pipes.Pos, Items: []*Node{pipes}}
		}
		for j, pn := range l.seq(pipes, pf) {
			jf := fmt.Sprintf("%s[%d]", pf, j)
			switch pn.Kind {
			case Scalar:
				p, ok := top[pn.Value]
				if !ok {
					var known []string
					for _, tp := range f.Pipes {
						known = append(known, tp.ID)
					}
					l.errs.add(pn.Pos, jf, "no pipe with id %q under pipes: (defined: %s)", pn.Value, strings.Join(known, ", "))
					continue
				}
				r.Pipes = append(r.Pipes, p)
			case Map:
				if p := l.pipe(pn, jf, 0); p != nil {
					r.Pipes = append(r.Pipes, p)
				}
			default:
				l.errs.add(pn.Pos, jf, "expected a pipe id or a pipe definition")
			}
		}
		tn := rn.Get("triggers")
		tf := field + ".triggers"
		if tn == nil {
			tn, tf = rn.Get("on"), field+".on"
		}
		if tn != nil && tn.Kind == Map {
			tn = &Node{Kind: Seq, Pos: tn.Pos, Items: []*Node{tn}}
		}
		for j, t := range l.seq(tn, tf) {
			if tr, ok := l.trigger(t, fmt.Sprintf("%s[%d]", tf, j)); ok {
				r.Triggers = append(r.Triggers, tr)
			}
		}
		if tn == nil {
			r.Triggers = []Trigger{{Once: true, Pos: rn.Pos}}
		}
		r.Vars = l.vars(rn.Get("vars"), field+".vars")
		if dr := rn.Get("dry_run"); dr != nil {
			d := &decoder{check: true}
			var b bool
			d.value(dr, reflectValue(&b), field+".dry_run")
			l.errs.errs = append(l.errs.errs, d.errs.errs...)
			r.DryRun = b
		}
		out = append(out, r)
	}
	return out
}

func (l *loader) trigger(n *Node, field string) (Trigger, bool) {
	t := Trigger{Pos: n.Pos}
	if n.Kind == Scalar && n.Value == "once" {
		t.Once = true
		return t, true
	}
	if n.Kind != Map || len(n.Pairs) != 1 {
		l.errs.add(n.Pos, field, "expected one of {interval: 5m}, {cron: \"*/5 * * * *\"} or {once: true}")
		return t, false
	}
	l.keys(n, field, "interval", "cron", "once")
	p := n.Pairs[0]
	sub := joinField(field, p.Key)
	switch p.Key {
	case "interval":
		d := &decoder{check: true}
		d.value(p.Value, reflectValue(&t.Interval), sub)
		l.errs.errs = append(l.errs.errs, d.errs.errs...)
		if len(d.errs.errs) == 0 && t.Interval < time.Second {
			l.errs.add(p.Value.Pos, sub, "interval must be at least 1s")
			return t, false
		}
		return t, len(d.errs.errs) == 0
	case "cron":
		t.Cron = l.str(p.Value, sub, true, n)
		sched, err := cron.ParseStandard(t.Cron)
		if err != nil {
			l.errs.add(p.Value.Pos, sub, "invalid cron expression %q: %v (five fields: minute hour day-of-month month day-of-week, or @hourly, @every 10m)", t.Cron, err)
			return t, false
		}
		t.Schedule = sched
		return t, true
	case "once":
		var b bool
		d := &decoder{check: true}
		d.value(p.Value, reflectValue(&b), sub)
		l.errs.errs = append(l.errs.errs, d.errs.errs...)
		t.Once = b
		return t, b
	}
	return t, false
}

func pluginKnown(name string) bool {
	name = strings.ToLower(strings.TrimPrefix(strings.TrimPrefix(name, "otai-"), "otai_"))
	for _, p := range knownPlugins() {
		if strings.ToLower(p) == name {
			return true
		}
	}
	return false
}

func knownPlugins() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range registry.All() {
		for _, id := range append([]string{s.ID}, s.Aliases...) {
			p, _, _ := strings.Cut(id, ":")
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}
