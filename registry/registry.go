// Package registry is where components announce themselves. Every ticket
// system, classifier and pipe registers in an init() function with an id
// ("plugin:Name"), aliases, a typed params struct and a constructor; the
// config's use: field resolves through it.
//
// A third party adds a component by importing this package, calling one of
// the Register functions in init(), and building otai with one more import.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"sort"
	"strings"
	"sync"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/pipe"
	"github.com/otai-dev/otai/ticket"
)

// Kind is what a component is.
type Kind string

const (
	KindTicketSystem Kind = "ticket_system"
	KindClassifier   Kind = "classifier"
	KindPipe         Kind = "pipe"
)

// Info describes a component for users: in errors, `otai schema`, docs.
type Info struct {
	ID          string   // "plugin:Name", e.g. "base:FetchTicketsPipe"
	Aliases     []string // other ids that resolve to this one
	Summary     string   // one line
	Description string   // longer, optional
	// Container pipes take child pipes under steps: (for-each, composite).
	Container bool
}

// Env is what service constructors get besides their params.
type Env struct {
	DataDir string       // otai's data directory; resolve relative paths against it
	Logger  *slog.Logger // already tagged with the service id
	// Validate is set by `otai validate`: build and check everything, but
	// create no files and contact nothing.
	Validate bool
	// Services resolves services declared before this one.
	Services pipe.Services
	// HTTPMetrics observes every HTTP attempt of REST adapters (nil: none).
	HTTPMetrics httpx.Hook
	// Version is otai's version, recorded in what services write (models).
	Version string
}

// Build is what pipe constructors get.
type Build[P any] struct {
	ID       string
	Params   pipe.Params[P] // renders templates per run
	Steps    []*pipe.Step   // children of a container pipe
	Services pipe.Services
	Logger   *slog.Logger
	DataDir  string
	Validate bool
}

// Spec is a registered component, type-erased.
type Spec struct {
	Info
	Kind       Kind
	ParamsType reflect.Type // a struct type
	Fields     []Field

	newService func(ctx context.Context, params any, env Env) (any, error)
	newPipe    func(b Build[any], decode func(map[string]any, any) error) (pipe.Pipe, error)
}

// NewParams returns a pointer to a fresh params struct of the spec's type.
func (s *Spec) NewParams() any { return reflect.New(s.ParamsType).Interface() }

// NewService constructs a ticket system or classifier from decoded params
// (a pointer returned by NewParams).
func (s *Spec) NewService(ctx context.Context, params any, env Env) (any, error) {
	if s.newService == nil {
		return nil, fmt.Errorf("%s is a %s, not a service", s.ID, s.Kind)
	}
	return s.newService(ctx, params, env)
}

// NewPipe constructs a pipe. decode renders and decodes its params per run.
func (s *Spec) NewPipe(b Build[any], decode func(scope map[string]any, out any) error) (pipe.Pipe, error) {
	if s.newPipe == nil {
		return nil, fmt.Errorf("%s is a %s, not a pipe", s.ID, s.Kind)
	}
	return s.newPipe(b, decode)
}

var (
	mu      sync.RWMutex
	specs   = map[string]*Spec{} // by id and alias, lower-cased
	ordered []*Spec
)

func register(s *Spec) {
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(s.ID, ":") {
		panic(fmt.Sprintf("registry: id %q must be plugin:Name", s.ID))
	}
	for _, id := range append([]string{s.ID}, s.Aliases...) {
		k := strings.ToLower(id)
		if old, ok := specs[k]; ok {
			panic(fmt.Sprintf("registry: %q registered twice (%s and %s)", id, old.ID, s.ID))
		}
		specs[k] = s
	}
	ordered = append(ordered, s)
}

func fieldsFor[P any]() reflect.Type {
	t := reflect.TypeFor[P]()
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("registry: params type %s must be a struct", t))
	}
	return t
}

// RegisterTicketSystem registers a ticket system whose params decode into P.
func RegisterTicketSystem[P any](info Info, newFn func(ctx context.Context, p *P, env Env) (ticket.System, error)) {
	t := fieldsFor[P]()
	register(&Spec{Info: info, Kind: KindTicketSystem, ParamsType: t, Fields: FieldsOf(t),
		newService: func(ctx context.Context, params any, env Env) (any, error) {
			return newFn(ctx, params.(*P), env)
		}})
}

// RegisterClassifier registers a classifier whose params decode into P.
func RegisterClassifier[P any](info Info, newFn func(ctx context.Context, p *P, env Env) (classify.Classifier, error)) {
	t := fieldsFor[P]()
	register(&Spec{Info: info, Kind: KindClassifier, ParamsType: t, Fields: FieldsOf(t),
		newService: func(ctx context.Context, params any, env Env) (any, error) {
			return newFn(ctx, params.(*P), env)
		}})
}

// RegisterPipe registers a pipe whose params decode into P on every run.
func RegisterPipe[P any](info Info, newFn func(b Build[P]) (pipe.Pipe, error)) {
	t := fieldsFor[P]()
	register(&Spec{Info: info, Kind: KindPipe, ParamsType: t, Fields: FieldsOf(t),
		newPipe: func(b Build[any], decode func(map[string]any, any) error) (pipe.Pipe, error) {
			return newFn(Build[P]{ID: b.ID, Params: pipe.NewParams[P](decode), Steps: b.Steps,
				Services: b.Services, Logger: b.Logger, DataDir: b.DataDir, Validate: b.Validate})
		}})
}

// Lookup finds a spec by id or alias (case-insensitive).
func Lookup(id string) (*Spec, bool) {
	mu.RLock()
	defer mu.RUnlock()
	s, ok := specs[strings.ToLower(strings.TrimSpace(id))]
	return s, ok
}

// All returns every registered spec in id order.
func All() []*Spec {
	mu.RLock()
	out := append([]*Spec(nil), ordered...)
	mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Suggest returns up to three known ids closest to id, preferring ids of
// the wanted kind ("" for any). The Name part is compared on its own too,
// so "FetchTicket" finds "base:FetchTicketsPipe"; a different plugin
// prefix costs extra, so "local:TicketSystm" suggests local:TicketSystem
// and not otobo:TicketSystem.
func Suggest(id string, kind Kind) []string {
	mu.RLock()
	defer mu.RUnlock()
	split := func(s string) (string, string) {
		s = strings.ToLower(strings.TrimSpace(s))
		if i := strings.LastIndexAny(s, ":."); i >= 0 {
			p, _, _ := strings.Cut(s, ":")
			return p, s[i+1:]
		}
		return "", s
	}
	wantPlugin, wantName := split(id)
	best := map[string]int{}
	for k, s := range specs {
		if kind != "" && s.Kind != kind {
			continue
		}
		plugin, name := split(k)
		d := levenshtein(strings.ToLower(id), k)
		nd := levenshtein(wantName, name)
		if strings.Contains(name, wantName) || strings.Contains(wantName, name) {
			nd = min(nd, 2)
		}
		if wantPlugin != "" && plugin != wantPlugin {
			nd += 2
		}
		d = min(d, nd)
		if old, ok := best[s.ID]; !ok || d < old {
			best[s.ID] = d
		}
	}
	type cand struct {
		id string
		d  int
	}
	var cs []cand
	for id, d := range best {
		if d <= max(3, len(wantName)/2) {
			cs = append(cs, cand{id, d})
		}
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		return cs[i].id < cs[j].id
	})
	var out []string
	for i := 0; i < len(cs) && i < 3 && cs[i].d <= cs[0].d+1; i++ {
		out = append(out, cs[i].id)
	}
	return out
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
