package local

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/otai-dev/otai/ticket"
)

// StateType is what a state means, whatever it is called.
type StateType string

// State types.
const (
	StateTypeNew     StateType = "new"
	StateTypeOpen    StateType = "open"
	StateTypePending StateType = "pending"
	StateTypeClosed  StateType = "closed"
)

// State is a ticket state with its type.
type State struct {
	ticket.Entity
	Type StateType `json:"type"`
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// kind describes one lookup table.
type kind struct {
	table  string // SQL table
	field  string // field name in errors: "queue"
	plural string // "queues"
	filter string // extra SQL condition on rows that count, or ""
	order  string // ORDER BY for listing
}

var (
	kindQueue    = kind{table: "queues", field: "queue", plural: "queues", order: "id"}
	kindPriority = kind{table: "priorities", field: "priority", plural: "priorities", order: "rank, id"}
	kindState    = kind{table: "states", field: "state", plural: "states", order: "id"}
	kindType     = kind{table: "types", field: "type", plural: "types", order: "id"}
	kindOwner    = kind{table: "users", field: "owner", plural: "agents", filter: "agent = 1", order: "id"}
	kindCustomer = kind{table: "users", field: "customer", plural: "users", order: "id"}
)

func (k kind) where(cond string) string {
	if k.filter == "" {
		return cond
	}
	return cond + " AND " + k.filter
}

// list returns the entities of kind k.
func list(ctx context.Context, q querier, k kind) ([]ticket.Entity, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, name FROM "+k.table+" WHERE "+k.where("1")+" ORDER BY "+k.order)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ticket.Entity
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return nil, err
		}
		out = append(out, ticket.Entity{ID: strconv.FormatInt(id, 10), Name: name})
	}
	return out, rows.Err()
}

// resolve finds the id of e (by id if set, else by name). An unknown
// entity is a *ticket.Error of kind ErrValidation naming the field and the
// valid values.
func resolve(ctx context.Context, q querier, k kind, e ticket.Entity, op string) (int64, error) {
	var id int64
	var err error
	switch {
	case e.ID != "":
		n, perr := strconv.ParseInt(strings.TrimSpace(e.ID), 10, 64)
		if perr != nil {
			err = sql.ErrNoRows
			break
		}
		err = q.QueryRowContext(ctx, "SELECT id FROM "+k.table+" WHERE "+k.where("id = ?"), n).Scan(&id)
	case strings.TrimSpace(e.Name) != "":
		err = q.QueryRowContext(ctx, "SELECT id FROM "+k.table+" WHERE "+k.where("name = ?"), strings.TrimSpace(e.Name)).Scan(&id)
	default:
		return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: k.field,
			Message: fmt.Sprintf("empty %s: give its name or id%s", k.field, validList(ctx, q, k))}
	}
	if errors.Is(err, sql.ErrNoRows) {
		what := e.Name
		if e.ID != "" {
			what = "id " + e.ID
		}
		return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: k.field,
			Message: fmt.Sprintf("unknown %s %q%s", k.field, what, validList(ctx, q, k))}
	}
	if err != nil {
		return 0, fmt.Errorf("%s: looking up %s: %w", op, k.field, err)
	}
	return id, nil
}

// validList renders "; valid queues: Inbox (1), Billing (2)" for errors.
func validList(ctx context.Context, q querier, k kind) string {
	if k.table == "users" && k.filter == "" {
		return ""
	}
	es, err := list(ctx, q, k)
	if err != nil {
		return ""
	}
	if len(es) == 0 {
		return fmt.Sprintf("; there are no %s yet", k.plural)
	}
	const maxShown = 30
	parts := make([]string, 0, min(len(es), maxShown))
	for i, e := range es {
		if i == maxShown {
			parts = append(parts, fmt.Sprintf("and %d more", len(es)-maxShown))
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", e.Name, e.ID))
	}
	return fmt.Sprintf("; valid %s: %s", k.plural, strings.Join(parts, ", "))
}

// Queues lists the queues in creation order.
func (s *Store) Queues(ctx context.Context) ([]ticket.Entity, error) {
	es, err := list(ctx, s.db, kindQueue)
	if err != nil {
		return nil, fmt.Errorf("listing queues: %w", err)
	}
	return es, nil
}

// Priorities lists the priorities from lowest to highest.
func (s *Store) Priorities(ctx context.Context) ([]ticket.Entity, error) {
	es, err := list(ctx, s.db, kindPriority)
	if err != nil {
		return nil, fmt.Errorf("listing priorities: %w", err)
	}
	return es, nil
}

// States lists the states with their types.
func (s *Store) States(ctx context.Context) ([]State, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT id, name, type FROM states ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("listing states: %w", err)
	}
	defer rows.Close()
	var out []State
	for rows.Next() {
		var id int64
		var st State
		if err := rows.Scan(&id, &st.Name, &st.Type); err != nil {
			return nil, fmt.Errorf("listing states: %w", err)
		}
		st.ID = strconv.FormatInt(id, 10)
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing states: %w", err)
	}
	return out, nil
}

// Types lists the ticket types.
func (s *Store) Types(ctx context.Context) ([]ticket.Entity, error) {
	es, err := list(ctx, s.db, kindType)
	if err != nil {
		return nil, fmt.Errorf("listing types: %w", err)
	}
	return es, nil
}

// Agents lists the users who may own tickets.
func (s *Store) Agents(ctx context.Context) ([]ticket.Entity, error) {
	es, err := list(ctx, s.db, kindOwner)
	if err != nil {
		return nil, fmt.Errorf("listing agents: %w", err)
	}
	return es, nil
}

// ensure returns the entity named name, creating it with extra columns if
// missing.
func ensure(ctx context.Context, q querier, k kind, name string, cols string, vals ...any) (ticket.Entity, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return ticket.Entity{}, &ticket.Error{Op: "ensuring " + k.field, Kind: ticket.ErrValidation, Field: k.field, Message: "empty name"}
	}
	var id int64
	var stored string
	err := q.QueryRowContext(ctx, "SELECT id, name FROM "+k.table+" WHERE name = ?", name).Scan(&id, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		args := append([]any{name}, vals...)
		ph := strings.Repeat(", ?", len(vals))
		res, ierr := q.ExecContext(ctx, "INSERT INTO "+k.table+" (name"+cols+") VALUES (?"+ph+")", args...)
		if ierr != nil {
			return ticket.Entity{}, fmt.Errorf("creating %s %q: %w", k.field, name, ierr)
		}
		id, ierr = res.LastInsertId()
		if ierr != nil {
			return ticket.Entity{}, fmt.Errorf("creating %s %q: %w", k.field, name, ierr)
		}
		stored = name
	} else if err != nil {
		return ticket.Entity{}, fmt.Errorf("looking up %s %q: %w", k.field, name, err)
	}
	return ticket.Entity{ID: strconv.FormatInt(id, 10), Name: stored}, nil
}

func (s *Store) ensureWrite(ctx context.Context, fn func(tx *sql.Tx) (ticket.Entity, error)) (ticket.Entity, error) {
	var e ticket.Entity
	err := s.write(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = fn(tx)
		return err
	})
	return e, mapErr("", err)
}

// EnsureQueue returns the queue called name, creating it if missing.
func (s *Store) EnsureQueue(ctx context.Context, name string) (ticket.Entity, error) {
	return s.ensureWrite(ctx, func(tx *sql.Tx) (ticket.Entity, error) {
		return ensure(ctx, tx, kindQueue, name, "")
	})
}

// EnsurePriority returns the priority called name, creating it if missing
// with rank (higher is more urgent; an existing priority keeps its rank).
func (s *Store) EnsurePriority(ctx context.Context, name string, rank int) (ticket.Entity, error) {
	return s.ensureWrite(ctx, func(tx *sql.Tx) (ticket.Entity, error) {
		return ensure(ctx, tx, kindPriority, name, ", rank", rank)
	})
}

// EnsureState returns the state called name, creating it if missing with
// type typ (an existing state keeps its type).
func (s *Store) EnsureState(ctx context.Context, name string, typ StateType) (ticket.Entity, error) {
	switch typ {
	case StateTypeNew, StateTypeOpen, StateTypePending, StateTypeClosed:
	default:
		return ticket.Entity{}, &ticket.Error{Op: "ensuring state " + name, Kind: ticket.ErrValidation, Field: "type",
			Message: fmt.Sprintf("unknown state type %q; valid types: new, open, pending, closed", typ)}
	}
	return s.ensureWrite(ctx, func(tx *sql.Tx) (ticket.Entity, error) {
		return ensure(ctx, tx, kindState, name, ", type", string(typ))
	})
}

// EnsureType returns the ticket type called name, creating it if missing.
func (s *Store) EnsureType(ctx context.Context, name string) (ticket.Entity, error) {
	return s.ensureWrite(ctx, func(tx *sql.Tx) (ticket.Entity, error) {
		return ensure(ctx, tx, kindType, name, "")
	})
}

// EnsureAgent returns the user called name, creating it if missing, and
// makes sure it is an agent (may own tickets).
func (s *Store) EnsureAgent(ctx context.Context, name string) (ticket.Entity, error) {
	return s.ensureWrite(ctx, func(tx *sql.Tx) (ticket.Entity, error) {
		return ensureAgent(ctx, tx, name)
	})
}

func ensureAgent(ctx context.Context, tx *sql.Tx, name string) (ticket.Entity, error) {
	e, err := ensure(ctx, tx, kindCustomer, name, ", agent", 1)
	if err != nil {
		return e, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE users SET agent = 1 WHERE id = ?", e.ID); err != nil {
		return e, fmt.Errorf("making %q an agent: %w", name, err)
	}
	return e, nil
}
