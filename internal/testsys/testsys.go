// Package testsys is an in-memory ticket.System for tests: a
// mutex-protected map of tickets with the search semantics of
// ticket.SearchCriteria, counters of calls per operation, a record of every
// update, and hooks that inject errors (before or after an operation takes
// effect) or run arbitrary code (to block, to count concurrency).
//
// Register makes it available to configs as testsys:Memory, and registers
// testsys:Broken, a ticket system whose constructor always fails:
//
//	services:
//	  - id: desk
//	    use: testsys:Memory
//	    params: { instance: <name from Provide> }   # optional
//
// Without instance, every Build gets a fresh, empty System; tests reach it
// with engine.Service("desk").(*testsys.System) and seed it with Add.
package testsys

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// Op names an operation of ticket.System.
type Op string

// The operations of ticket.System.
const (
	OpFind    Op = "FindTickets"
	OpGet     Op = "GetTicket"
	OpCreate  Op = "CreateTicket"
	OpUpdate  Op = "UpdateTicket"
	OpAddNote Op = "AddNote"
)

// Hook runs before every operation, outside the lock, so it may block.
// id is the ticket id ("" for searches and creation). A non-nil error is
// returned by the operation, which then has no effect.
type Hook func(ctx context.Context, op Op, id string) error

type fault struct {
	op    Op
	id    string // "" matches every ticket
	err   error
	after bool // the operation takes effect, then fails (a timeout after the write)
	times int  // how many more times; < 0: always
}

// System is the in-memory ticket system. The zero value is not usable; call New.
type System struct {
	mu       sync.Mutex
	tickets  map[string]*ticket.Ticket
	nextID   int
	nextNote int
	calls    map[Op]int
	updates  map[string][]ticket.Update
	faults   []*fault
	hook     Hook
	now      func() time.Time
	closed   atomic.Int32
	onClose  func()
}

var _ ticket.System = (*System)(nil)

// New returns a System holding copies of ts. Tickets without an id get one;
// tickets without CreatedAt are created in the given order, a second apart.
func New(ts ...ticket.Ticket) *System {
	s := &System{tickets: map[string]*ticket.Ticket{}, calls: map[Op]int{},
		updates: map[string][]ticket.Update{}, now: time.Now}
	s.Add(ts...)
	return s
}

// Add stores copies of ts (replacing tickets with the same id).
func (s *System) Add(ts ...ticket.Ticket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	base := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	for _, t := range ts {
		c := clone(t)
		if c.ID == "" {
			s.nextID++
			c.ID = strconv.Itoa(s.nextID)
		} else if n, err := strconv.Atoi(c.ID); err == nil && n > s.nextID {
			s.nextID = n
		}
		if c.CreatedAt.IsZero() {
			c.CreatedAt = base.Add(time.Duration(len(s.tickets)) * time.Second)
		}
		if c.UpdatedAt.IsZero() {
			c.UpdatedAt = c.CreatedAt
		}
		s.tickets[c.ID] = &c
	}
}

// SetClock replaces time.Now for UpdatedAt and note times.
func (s *System) SetClock(now func() time.Time) {
	s.mu.Lock()
	s.now = now
	s.mu.Unlock()
}

// SetHook installs h (nil removes it).
func (s *System) SetHook(h Hook) {
	s.mu.Lock()
	s.hook = h
	s.mu.Unlock()
}

// Fail makes op on ticket id (every ticket when id is "") return err
// without effect, times times (times < 0: until ClearFaults).
func (s *System) Fail(op Op, id string, err error, times int) {
	s.mu.Lock()
	s.faults = append(s.faults, &fault{op: op, id: id, err: err, times: times})
	s.mu.Unlock()
}

// FailAfter makes op on ticket id take effect and then return err, as when
// a help desk times out after it has written.
func (s *System) FailAfter(op Op, id string, err error, times int) {
	s.mu.Lock()
	s.faults = append(s.faults, &fault{op: op, id: id, err: err, after: true, times: times})
	s.mu.Unlock()
}

// ClearFaults removes every injected error.
func (s *System) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Calls returns how many times op was called (including failed calls).
func (s *System) Calls(op Op) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// ResetCalls sets every counter and the update record to zero.
func (s *System) ResetCalls() {
	s.mu.Lock()
	s.calls = map[Op]int{}
	s.updates = map[string][]ticket.Update{}
	s.mu.Unlock()
}

// Updates returns every update applied to ticket id, in order.
func (s *System) Updates(id string) []ticket.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.updates[id])
}

// Ticket returns a copy of ticket id with its notes.
func (s *System) Ticket(id string) (ticket.Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return ticket.Ticket{}, false
	}
	return clone(*t), true
}

// Notes returns copies of the notes of ticket id.
func (s *System) Notes(id string) []ticket.Note {
	t, _ := s.Ticket(id)
	return t.Notes
}

// Touch sets ticket id's UpdatedAt, as an agent's reply would.
func (s *System) Touch(id string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		t.UpdatedAt = at
	}
}

// Edit changes ticket id in place, as a person in the help desk would: no
// call is counted, and UpdatedAt is set to at.
func (s *System) Edit(id string, at time.Time, f func(*ticket.Ticket)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tickets[id]; ok {
		f(t)
		t.UpdatedAt = at
	}
}

// OnClose makes Close call f (to record the order in which services close).
func (s *System) OnClose(f func()) {
	s.mu.Lock()
	s.onClose = f
	s.mu.Unlock()
}

// Close counts how often it was called and calls the OnClose function.
func (s *System) Close() error {
	s.closed.Add(1)
	s.mu.Lock()
	f := s.onClose
	s.mu.Unlock()
	if f != nil {
		f()
	}
	return nil
}

// Closed returns how many times Close was called.
func (s *System) Closed() int { return int(s.closed.Load()) }

// begin counts the call, runs the hook and returns an injected error that
// applies before the operation, and the one that applies after it.
func (s *System) begin(ctx context.Context, op Op, id string) (before, after error) {
	s.mu.Lock()
	s.calls[op]++
	h := s.hook
	s.mu.Unlock()
	if h != nil {
		if err := h(ctx, op, id); err != nil {
			return err, nil
		}
	}
	if err := ctx.Err(); err != nil {
		return err, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.faults {
		if f.op != op || (f.id != "" && f.id != id) || f.times == 0 {
			continue
		}
		if f.times > 0 {
			f.times--
		}
		if f.after {
			return nil, f.err
		}
		return f.err, nil
	}
	return nil, nil
}

func notFound(op, id string) error {
	return &ticket.Error{Op: op + " " + id, Kind: ticket.ErrNotFound, Message: "no ticket with id " + id}
}

// FindTickets implements ticket.System: it filters by id, subject
// (substring, case-insensitive), queue, state, owner (id or name) and
// UpdatedSince, orders by CreatedAt (then id) and pages by Offset and Limit.
// Notes are left out, as many help desks do; GetTicket returns them.
func (s *System) FindTickets(ctx context.Context, c ticket.SearchCriteria) ([]ticket.Ticket, error) {
	before, after := s.begin(ctx, OpFind, "")
	if before != nil {
		return nil, before
	}
	s.mu.Lock()
	var out []ticket.Ticket
	for _, t := range s.tickets {
		if matches(t, c) {
			cp := clone(*t)
			cp.Notes = nil
			out = append(out, cp)
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return lessID(out[i].ID, out[j].ID)
	})
	if c.Offset > 0 {
		out = out[min(c.Offset, len(out)):]
	}
	if c.Limit > 0 && len(out) > c.Limit {
		out = out[:c.Limit]
	}
	if after != nil {
		return nil, after
	}
	return out, nil
}

func lessID(a, b string) bool {
	x, e1 := strconv.Atoi(a)
	y, e2 := strconv.Atoi(b)
	if e1 == nil && e2 == nil {
		return x < y
	}
	return a < b
}

func matches(t *ticket.Ticket, c ticket.SearchCriteria) bool {
	ent := func(want *ticket.Entity, have ticket.Entity) bool {
		return want == nil || want.IsZero() || want.Matches(have)
	}
	return (c.ID == "" || c.ID == t.ID) &&
		(c.Subject == "" || strings.Contains(strings.ToLower(t.Subject), strings.ToLower(c.Subject))) &&
		ent(c.Queue, t.Queue) && ent(c.State, t.State) && ent(c.Priority, t.Priority) && ent(c.Owner, t.Owner) &&
		(c.UpdatedSince.IsZero() || !t.UpdatedAt.Before(c.UpdatedSince)) &&
		(c.UpdatedBefore.IsZero() || t.UpdatedAt.Before(c.UpdatedBefore)) &&
		(c.CreatedSince.IsZero() || !t.CreatedAt.Before(c.CreatedSince)) &&
		(c.CreatedBefore.IsZero() || t.CreatedAt.Before(c.CreatedBefore)) &&
		customMatch(t.CustomFields, c.CustomFields)
}

// customMatch: every filter field is present with exactly that value.
func customMatch(have map[string]any, want map[string]string) bool {
	for k, v := range want {
		x, ok := have[k]
		if !ok || x == nil || fmt.Sprint(x) != v {
			return false
		}
	}
	return true
}

// FindFirstTicket implements ticket.System.
func (s *System) FindFirstTicket(ctx context.Context, c ticket.SearchCriteria) (*ticket.Ticket, error) {
	return ticket.FindFirst(ctx, s, c)
}

// GetTicket implements ticket.System: a copy with notes, or ErrNotFound.
func (s *System) GetTicket(ctx context.Context, id string) (*ticket.Ticket, error) {
	before, after := s.begin(ctx, OpGet, id)
	if before != nil {
		return nil, before
	}
	t, ok := s.Ticket(id)
	if !ok {
		return nil, notFound("getting ticket", id)
	}
	if after != nil {
		return nil, after
	}
	return &t, nil
}

// CreateTicket implements ticket.System.
func (s *System) CreateTicket(ctx context.Context, nt ticket.NewTicket) (*ticket.Ticket, error) {
	before, after := s.begin(ctx, OpCreate, "")
	if before != nil {
		return nil, before
	}
	if strings.TrimSpace(nt.Subject) == "" {
		return nil, &ticket.Error{Op: "creating ticket", Kind: ticket.ErrValidation, Field: "subject", Message: "subject is required"}
	}
	s.mu.Lock()
	s.nextID++
	now := s.now()
	t := ticket.Ticket{ID: strconv.Itoa(s.nextID), Subject: nt.Subject, Body: nt.Body, Queue: nt.Queue,
		Priority: nt.Priority, State: nt.State, Type: nt.Type, Owner: nt.Owner, Customer: nt.Customer,
		Tags: slices.Clone(nt.Tags), CustomFields: maps.Clone(nt.CustomFields), CreatedAt: now, UpdatedAt: now}
	s.tickets[t.ID] = &t
	out := clone(t)
	s.mu.Unlock()
	if after != nil {
		return nil, after
	}
	return &out, nil
}

// UpdateTicket implements ticket.System and records u.
func (s *System) UpdateTicket(ctx context.Context, id string, u ticket.Update) error {
	before, after := s.begin(ctx, OpUpdate, id)
	if before != nil {
		return before
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return notFound("updating ticket", id)
	}
	s.updates[id] = append(s.updates[id], cloneUpdate(u))
	set := func(dst *ticket.Entity, e *ticket.Entity) {
		if e != nil {
			*dst = *e
		}
	}
	set(&t.Queue, u.Queue)
	set(&t.Priority, u.Priority)
	set(&t.State, u.State)
	set(&t.Type, u.Type)
	set(&t.Owner, u.Owner)
	if u.Subject != nil {
		t.Subject = *u.Subject
	}
	for _, tag := range u.AddTags {
		if !t.HasTag(tag) {
			t.Tags = append(t.Tags, tag)
		}
	}
	for _, tag := range u.RemoveTags {
		t.Tags = slices.DeleteFunc(t.Tags, func(x string) bool { return strings.EqualFold(x, tag) })
	}
	if len(u.CustomFields) > 0 && t.CustomFields == nil {
		t.CustomFields = map[string]any{}
	}
	maps.Copy(t.CustomFields, u.CustomFields)
	t.UpdatedAt = s.now()
	return after
}

// AddNote implements ticket.System.
func (s *System) AddNote(ctx context.Context, id string, n ticket.Note) (*ticket.Note, error) {
	before, after := s.begin(ctx, OpAddNote, id)
	if before != nil {
		return nil, before
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return nil, notFound("adding a note to ticket", id)
	}
	s.nextNote++
	n.ID = "n" + strconv.Itoa(s.nextNote)
	n.CreatedAt = s.now()
	t.Notes = append(t.Notes, n)
	t.UpdatedAt = n.CreatedAt
	if after != nil {
		return nil, after
	}
	return &n, nil
}

func clone(t ticket.Ticket) ticket.Ticket {
	t.Tags = slices.Clone(t.Tags)
	t.CustomFields = maps.Clone(t.CustomFields)
	t.Notes = slices.Clone(t.Notes)
	return t
}

func cloneUpdate(u ticket.Update) ticket.Update {
	cp := func(e *ticket.Entity) *ticket.Entity {
		if e == nil {
			return nil
		}
		c := *e
		return &c
	}
	u.Queue, u.Priority, u.State, u.Type, u.Owner = cp(u.Queue), cp(u.Priority), cp(u.State), cp(u.Type), cp(u.Owner)
	if u.Subject != nil {
		s := *u.Subject
		u.Subject = &s
	}
	u.AddTags = slices.Clone(u.AddTags)
	u.RemoveTags = slices.Clone(u.RemoveTags)
	u.CustomFields = maps.Clone(u.CustomFields)
	return u
}

// Params are the params of testsys:Memory and testsys:Broken.
type Params struct {
	Instance string `yaml:"instance" desc:"Name of a System given to Provide; empty: a fresh System."`
	Error    string `yaml:"error" default:"cannot reach the help desk" desc:"testsys:Broken's constructor error."`
}

var (
	registerOnce sync.Once
	instMu       sync.Mutex
	instances    = map[string]*System{}
	instSeq      atomic.Int64
)

// ErrBroken is wrapped by testsys:Broken's constructor error.
var ErrBroken = errors.New("testsys: broken on purpose")

// Register registers testsys:Memory and testsys:Broken, once per binary.
func Register() {
	registerOnce.Do(func() {
		registry.RegisterTicketSystem(registry.Info{ID: "testsys:Memory", Summary: "In-memory ticket system for tests."},
			func(ctx context.Context, p *Params, env registry.Env) (ticket.System, error) {
				if p.Instance == "" {
					return New(), nil
				}
				instMu.Lock()
				defer instMu.Unlock()
				s, ok := instances[p.Instance]
				if !ok {
					return nil, fmt.Errorf("testsys: no instance %q (call Provide)", p.Instance)
				}
				return s, nil
			})
		registry.RegisterTicketSystem(registry.Info{ID: "testsys:Broken", Summary: "A ticket system that never starts."},
			func(ctx context.Context, p *Params, env registry.Env) (ticket.System, error) {
				return nil, fmt.Errorf("%s: %w", p.Error, ErrBroken)
			})
	})
}

// Provide makes s available to configs as `instance: <returned name>` until
// the test ends.
func Provide(tb testing.TB, s *System) string {
	tb.Helper()
	name := fmt.Sprintf("%s#%d", tb.Name(), instSeq.Add(1))
	instMu.Lock()
	instances[name] = s
	instMu.Unlock()
	tb.Cleanup(func() {
		instMu.Lock()
		delete(instances, name)
		instMu.Unlock()
	})
	return name
}
