package local

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/otai-dev/otai/ticket"
)

// ticketSelect reads a ticket row with its entities' names and its tags.
const ticketSelect = `SELECT t.id, t.number, t.subject, t.body,
	t.queue_id, q.name, t.priority_id, p.name, t.state_id, s.name,
	t.type_id, ty.name, t.owner_id, o.name, t.customer_id, c.name,
	t.custom_fields, t.created_at, t.updated_at,
	(SELECT json_group_array(tag) FROM
		(SELECT tag FROM ticket_tags WHERE ticket_id = t.id ORDER BY tag COLLATE NOCASE))
FROM tickets t
JOIN queues q ON q.id = t.queue_id
JOIN priorities p ON p.id = t.priority_id
JOIN states s ON s.id = t.state_id
LEFT JOIN types ty ON ty.id = t.type_id
LEFT JOIN users o ON o.id = t.owner_id
LEFT JOIN users c ON c.id = t.customer_id`

// mapErr gives err its operation context and turns "database busy" into
// ticket.ErrUnavailable so callers know a retry may help.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var te *ticket.Error
	if errors.As(err, &te) {
		return err
	}
	switch sqliteCode(err) {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		return &ticket.Error{Op: op, Kind: ticket.ErrUnavailable, Message: "the database is busy (another process holds a long write)", Err: err}
	}
	if op == "" {
		return err
	}
	return fmt.Errorf("%s: %w", op, err)
}

func notFound(op, id string) error {
	return &ticket.Error{Op: op, Kind: ticket.ErrNotFound, Message: fmt.Sprintf("no ticket with id %q", id)}
}

// parseID turns a ticket id into its integer; false if it cannot exist.
func parseID(id string) (int64, bool) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	return n, err == nil && n > 0
}

func entity(id sql.NullInt64, name sql.NullString) ticket.Entity {
	if !id.Valid {
		return ticket.Entity{}
	}
	return ticket.Entity{ID: strconv.FormatInt(id.Int64, 10), Name: name.String}
}

func scanTicket(sc interface{ Scan(...any) error }) (ticket.Ticket, error) {
	var (
		t                              ticket.Ticket
		id                             int64
		qid, pid, sid, tyid, oid, cid  sql.NullInt64
		qn, pn, sn, tyn, on, cn        sql.NullString
		custom, created, updated, tags string
	)
	if err := sc.Scan(&id, &t.Number, &t.Subject, &t.Body, &qid, &qn, &pid, &pn, &sid, &sn,
		&tyid, &tyn, &oid, &on, &cid, &cn, &custom, &created, &updated, &tags); err != nil {
		return t, err
	}
	t.ID = strconv.FormatInt(id, 10)
	t.Queue, t.Priority, t.State = entity(qid, qn), entity(pid, pn), entity(sid, sn)
	t.Type, t.Owner, t.Customer = entity(tyid, tyn), entity(oid, on), entity(cid, cn)
	t.CreatedAt, t.UpdatedAt = parseTime(created), parseTime(updated)
	if custom != "" && custom != "{}" {
		if err := json.Unmarshal([]byte(custom), &t.CustomFields); err != nil {
			return t, fmt.Errorf("decoding custom fields of ticket %s: %w", t.ID, err)
		}
	}
	if tags != "" && tags != "[]" {
		if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil {
			return t, fmt.Errorf("decoding tags of ticket %s: %w", t.ID, err)
		}
	}
	return t, nil
}

// entityCond adds a condition matching column col (a foreign key into
// k.table) against e, by id if set, else by name.
func entityCond(where []string, args []any, col string, k kind, e *ticket.Entity) ([]string, []any) {
	if e == nil || e.IsZero() {
		return where, args
	}
	if e.ID != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(e.ID), 10, 64)
		if err != nil {
			return append(where, "0"), args // an id that cannot exist matches nothing
		}
		return append(where, col+" = ?"), append(args, n)
	}
	return append(where, col+" IN (SELECT id FROM "+k.table+" WHERE name = ?)"), append(args, strings.TrimSpace(e.Name))
}

// filter renders c's conditions as a WHERE clause ("" for none); ok is
// false when c can match nothing (an id that is not a number).
func filter(c ticket.SearchCriteria) (clause string, args []any, ok bool) {
	var where []string
	if c.ID != "" {
		n, valid := parseID(c.ID)
		if !valid {
			return "", nil, false
		}
		where, args = append(where, "t.id = ?"), append(args, n)
	}
	if c.Subject != "" {
		where = append(where, "otai_contains(t.subject, ?)")
		args = append(args, c.Subject)
	}
	where, args = entityCond(where, args, "t.queue_id", kindQueue, c.Queue)
	where, args = entityCond(where, args, "t.state_id", kindState, c.State)
	where, args = entityCond(where, args, "t.priority_id", kindPriority, c.Priority)
	where, args = entityCond(where, args, "t.owner_id", kindCustomer, c.Owner)
	for _, tc := range []struct {
		cond string
		at   time.Time
	}{
		{"t.updated_at >= ?", c.UpdatedSince}, {"t.updated_at < ?", c.UpdatedBefore},
		{"t.created_at >= ?", c.CreatedSince}, {"t.created_at < ?", c.CreatedBefore},
	} {
		if !tc.at.IsZero() {
			where, args = append(where, tc.cond), append(args, fmtTime(tc.at))
		}
	}
	// A custom field matches when its value, as text, equals the filter:
	// strings as they are, numbers as JSON writes them, booleans as
	// true/false, and a list when one of its elements does (multi-select).
	for _, k := range c.SortedCustomFields() {
		where = append(where, `EXISTS (SELECT 1 FROM json_each(t.custom_fields) f WHERE f.key = ? AND (
			`+cfText("f")+` = ? OR (f.type = 'array' AND EXISTS (
				SELECT 1 FROM json_each(f.value) e WHERE `+cfText("e")+` = ?))))`)
		args = append(args, k, c.CustomFields[k], c.CustomFields[k])
	}
	if len(where) == 0 {
		return "", nil, true
	}
	return "\nWHERE " + strings.Join(where, " AND "), args, true
}

// cfText renders a json_each row's scalar value as the text a custom-field
// filter compares with ("" for objects, arrays and null, which never match).
func cfText(alias string) string {
	return `(CASE ` + alias + `.type WHEN 'true' THEN 'true' WHEN 'false' THEN 'false'
		WHEN 'text' THEN ` + alias + `.value WHEN 'integer' THEN CAST(` + alias + `.value AS TEXT)
		WHEN 'real' THEN CAST(` + alias + `.value AS TEXT) ELSE NULL END)`
}

// FindTickets returns the tickets matching c, oldest first, with their
// first message as Body and without notes.
func (s *Store) FindTickets(ctx context.Context, c ticket.SearchCriteria) ([]ticket.Ticket, error) {
	const op = "finding tickets"
	if err := c.CheckCustomFields(op); err != nil {
		return nil, err
	}
	where, args, ok := filter(c)
	if !ok {
		return nil, nil
	}
	limit := c.Limit
	if limit <= 0 {
		limit = -1
	}
	q := ticketSelect + where + "\nORDER BY t.created_at, t.id LIMIT ? OFFSET ?"
	args = append(args, limit, max(c.Offset, 0))

	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, mapErr(op, err)
	}
	defer rows.Close()
	var out []ticket.Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, mapErr(op, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, mapErr(op, err)
	}
	return out, nil
}

// FindFirstTicket returns the oldest ticket matching c, or a
// ticket.ErrNotFound error.
func (s *Store) FindFirstTicket(ctx context.Context, c ticket.SearchCriteria) (*ticket.Ticket, error) {
	c.Limit = 1
	ts, err := s.FindTickets(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, &ticket.Error{Op: "finding first ticket", Kind: ticket.ErrNotFound, Message: "no ticket matches"}
	}
	return &ts[0], nil
}

// GetTicket returns ticket id with its notes, oldest note first.
func (s *Store) GetTicket(ctx context.Context, id string) (*ticket.Ticket, error) {
	op := "getting ticket " + id
	n, ok := parseID(id)
	if !ok {
		return nil, notFound(op, id)
	}
	t, err := getTicket(ctx, s.db, n)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, id)
	}
	if err != nil {
		return nil, mapErr(op, err)
	}
	return t, nil
}

func getTicket(ctx context.Context, q querier, id int64) (*ticket.Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, ticketSelect+"\nWHERE t.id = ?", id))
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT id, subject, body, content_type, internal, author, created_at
		FROM notes WHERE ticket_id = ? ORDER BY created_at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var nid int64
		var created string
		var n ticket.Note
		if err := rows.Scan(&nid, &n.Subject, &n.Body, &n.ContentType, &n.Internal, &n.Author, &created); err != nil {
			return nil, err
		}
		n.ID = strconv.FormatInt(nid, 10)
		n.CreatedAt = parseTime(created)
		t.Notes = append(t.Notes, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &t, nil
}

// contentType validates and defaults a content type.
func contentType(op, ct string) (string, error) {
	if strings.TrimSpace(ct) == "" {
		return ticket.ContentTypePlain, nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && (mt == ticket.ContentTypePlain || mt == ticket.ContentTypeHTML) {
		return mt, nil
	}
	return "", &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "content_type",
		Message: fmt.Sprintf("unsupported content type %q; valid: text/plain, text/html", ct)}
}

// normTags trims tags, drops empty ones and duplicates (case-insensitive).
func normTags(tags []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range tags {
		t = strings.TrimSpace(t)
		k := strings.ToLower(t)
		if t == "" || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
	}
	return out
}

func encodeCustom(op string, m map[string]any) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "custom_fields", Message: "cannot be stored as JSON", Err: err}
	}
	return string(b), nil
}

// record is a ticket to insert, from CreateTicket or Import.
type record struct {
	subject, body, contentType                   string
	queue, priority, state, typ, owner, customer ticket.Entity
	tags                                         []string
	custom                                       map[string]any
	number                                       string
	created, updated                             time.Time
	notes                                        []ticket.Note
	createOwner                                  bool // Import: create the owner agent if missing
}

// defaults for entities a new ticket does not name.
const (
	defaultQueueSQL    = "SELECT id FROM queues ORDER BY id LIMIT 1"
	defaultPrioritySQL = "SELECT id FROM priorities ORDER BY name = 'normal' COLLATE NOCASE DESC, rank, id LIMIT 1"
	defaultStateSQL    = "SELECT id FROM states ORDER BY type = 'new' DESC, id LIMIT 1"
)

func resolveOr(ctx context.Context, tx *sql.Tx, k kind, e ticket.Entity, def, op string) (int64, error) {
	if e.IsZero() {
		var id int64
		err := tx.QueryRowContext(ctx, def).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: k.field,
				Message: fmt.Sprintf("no %s given and there are no %s to default to", k.field, k.plural)}
		}
		return id, err
	}
	return resolve(ctx, tx, k, e, op)
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// insert writes r and returns its id.
func insert(ctx context.Context, tx *sql.Tx, r *record, op string) (int64, error) {
	if strings.TrimSpace(r.subject) == "" {
		return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "subject", Message: "a ticket needs a subject"}
	}
	ct, err := contentType(op, r.contentType)
	if err != nil {
		return 0, err
	}
	custom, err := encodeCustom(op, r.custom)
	if err != nil {
		return 0, err
	}
	var qid, pid, sid, tyid, oid, cid int64
	if qid, err = resolveOr(ctx, tx, kindQueue, r.queue, defaultQueueSQL, op); err != nil {
		return 0, err
	}
	if pid, err = resolveOr(ctx, tx, kindPriority, r.priority, defaultPrioritySQL, op); err != nil {
		return 0, err
	}
	if sid, err = resolveOr(ctx, tx, kindState, r.state, defaultStateSQL, op); err != nil {
		return 0, err
	}
	if !r.typ.IsZero() {
		if tyid, err = resolve(ctx, tx, kindType, r.typ, op); err != nil {
			return 0, err
		}
	}
	if !r.owner.IsZero() {
		if r.createOwner && r.owner.ID == "" {
			e, err := ensureAgent(ctx, tx, r.owner.Name)
			if err != nil {
				return 0, err
			}
			oid, _ = strconv.ParseInt(e.ID, 10, 64)
		} else if oid, err = resolve(ctx, tx, kindOwner, r.owner, op); err != nil {
			return 0, err
		}
	}
	if !r.customer.IsZero() {
		if r.customer.ID != "" {
			if cid, err = resolve(ctx, tx, kindCustomer, r.customer, op); err != nil {
				return 0, err
			}
		} else {
			e, err := ensure(ctx, tx, kindCustomer, r.customer.Name, "")
			if err != nil {
				return 0, err
			}
			cid, _ = strconv.ParseInt(e.ID, 10, 64)
		}
	}
	var id int64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) + 1 FROM tickets").Scan(&id); err != nil {
		return 0, err
	}
	number := r.number
	if number == "" {
		number = r.created.UTC().Format("20060102") + fmt.Sprintf("%05d", id)
	}
	updated := r.updated
	if updated.Before(r.created) {
		updated = r.created
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO tickets (id, number, subject, body, content_type,
		queue_id, priority_id, state_id, type_id, owner_id, customer_id, custom_fields, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, number, r.subject, r.body, ct, qid, pid, sid, nullID(tyid), nullID(oid), nullID(cid), custom,
		fmtTime(r.created), fmtTime(updated)); err != nil {
		if sqliteCode(err) == sqlite3.SQLITE_CONSTRAINT {
			return 0, &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "number", Message: fmt.Sprintf("ticket number %q is taken", number), Err: err}
		}
		return 0, err
	}
	for _, tag := range normTags(r.tags) {
		if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?, ?)", id, tag); err != nil {
			return 0, err
		}
	}
	for _, n := range r.notes {
		if n.CreatedAt.IsZero() {
			n.CreatedAt = updated
		}
		if _, err := insertNote(ctx, tx, id, &n, op); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// CreateTicket creates a ticket. Queue, priority and state default to the
// first queue, the "normal" priority and the first state of type new;
// a customer given by name is created if missing; everything else named
// must exist (else a ticket.ErrValidation error listing the valid values).
func (s *Store) CreateTicket(ctx context.Context, nt ticket.NewTicket) (*ticket.Ticket, error) {
	const op = "creating ticket"
	now := s.nowUTC()
	r := &record{subject: nt.Subject, body: nt.Body, contentType: nt.ContentType,
		queue: nt.Queue, priority: nt.Priority, state: nt.State, typ: nt.Type, owner: nt.Owner, customer: nt.Customer,
		tags: nt.Tags, custom: nt.CustomFields, created: now, updated: now}
	var t *ticket.Ticket
	err := s.write(ctx, func(tx *sql.Tx) error {
		id, err := insert(ctx, tx, r, op)
		if err != nil {
			return err
		}
		t, err = getTicket(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return t, nil
}

// Import writes whole tickets as they are — created and updated times,
// number (generated when empty), tags, custom fields and notes — in one
// transaction, and returns their new ids. It is how demo data, benchmarks
// and migrations from other help desks fill a store. Queue, priority, state
// and type must exist (defaults as in CreateTicket); owners and customers
// given by name are created.
func (s *Store) Import(ctx context.Context, ts []ticket.Ticket) ([]string, error) {
	const op = "importing tickets"
	now := s.nowUTC()
	ids := make([]string, 0, len(ts))
	err := s.write(ctx, func(tx *sql.Tx) error {
		for i := range ts {
			t := &ts[i]
			r := &record{subject: t.Subject, body: t.Body,
				queue: t.Queue, priority: t.Priority, state: t.State, typ: t.Type, owner: t.Owner, customer: t.Customer,
				tags: t.Tags, custom: t.CustomFields, number: t.Number, created: t.CreatedAt, updated: t.UpdatedAt,
				notes: t.Notes, createOwner: true}
			if r.created.IsZero() {
				r.created = now
			}
			if r.updated.IsZero() {
				r.updated = r.created
			}
			id, err := insert(ctx, tx, r, fmt.Sprintf("%s: ticket %d (%q)", op, i, t.Subject))
			if err != nil {
				return err
			}
			ids = append(ids, strconv.FormatInt(id, 10))
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return ids, nil
}

// UpdateTicket applies u to ticket id and bumps its updated time. Queue,
// priority, state, type and owner must exist (by id or name); an empty
// Type or Owner clears it. Custom fields are merged: a nil value deletes
// the key.
func (s *Store) UpdateTicket(ctx context.Context, id string, u ticket.Update) error {
	op := "updating ticket " + id
	n, ok := parseID(id)
	if !ok {
		return notFound(op, id)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var custom string
		err := tx.QueryRowContext(ctx, "SELECT custom_fields FROM tickets WHERE id = ?", n).Scan(&custom)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, id)
		}
		if err != nil {
			return err
		}
		if u.IsEmpty() {
			return nil
		}
		var sets []string
		var args []any
		if u.Subject != nil {
			if strings.TrimSpace(*u.Subject) == "" {
				return &ticket.Error{Op: op, Kind: ticket.ErrValidation, Field: "subject", Message: "a ticket needs a subject"}
			}
			sets, args = append(sets, "subject = ?"), append(args, *u.Subject)
		}
		for _, f := range []struct {
			col      string
			k        kind
			e        *ticket.Entity
			nullable bool
		}{
			{"queue_id", kindQueue, u.Queue, false},
			{"priority_id", kindPriority, u.Priority, false},
			{"state_id", kindState, u.State, false},
			{"type_id", kindType, u.Type, true},
			{"owner_id", kindOwner, u.Owner, true},
		} {
			if f.e == nil {
				continue
			}
			if f.nullable && f.e.IsZero() {
				sets = append(sets, f.col+" = NULL")
				continue
			}
			eid, err := resolve(ctx, tx, f.k, *f.e, op)
			if err != nil {
				return err
			}
			sets, args = append(sets, f.col+" = ?"), append(args, eid)
		}
		if len(u.CustomFields) > 0 {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(custom), &m); err != nil || m == nil {
				m = map[string]any{}
			}
			for k, v := range u.CustomFields {
				if v == nil {
					delete(m, k)
				} else {
					m[k] = v
				}
			}
			enc, err := encodeCustom(op, m)
			if err != nil {
				return err
			}
			sets, args = append(sets, "custom_fields = ?"), append(args, enc)
		}
		sets, args = append(sets, "updated_at = ?"), append(args, fmtTime(s.nowUTC()))
		if _, err := tx.ExecContext(ctx, "UPDATE tickets SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, n)...); err != nil {
			return err
		}
		for _, tag := range normTags(u.RemoveTags) {
			if _, err := tx.ExecContext(ctx, "DELETE FROM ticket_tags WHERE ticket_id = ? AND tag = ?", n, tag); err != nil {
				return err
			}
		}
		for _, tag := range normTags(u.AddTags) {
			if _, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO ticket_tags (ticket_id, tag) VALUES (?, ?)", n, tag); err != nil {
				return err
			}
		}
		return nil
	})
	return mapErr(op, err)
}

func insertNote(ctx context.Context, tx *sql.Tx, ticketID int64, n *ticket.Note, op string) (int64, error) {
	ct, err := contentType(op, n.ContentType)
	if err != nil {
		return 0, err
	}
	n.ContentType = ct
	res, err := tx.ExecContext(ctx, `INSERT INTO notes (ticket_id, subject, body, content_type, internal, author, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, ticketID, n.Subject, n.Body, ct, n.Internal, n.Author, fmtTime(n.CreatedAt))
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// AddNote adds a note to ticket id (content type text/plain unless set),
// bumps the ticket's updated time and returns the note with its id and
// created time.
func (s *Store) AddNote(ctx context.Context, id string, n ticket.Note) (*ticket.Note, error) {
	op := "adding note to ticket " + id
	tid, ok := parseID(id)
	if !ok {
		return nil, notFound(op, id)
	}
	err := s.write(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM tickets WHERE id = ?", tid).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(op, id)
		}
		if err != nil {
			return err
		}
		n.CreatedAt = s.nowUTC()
		nid, err := insertNote(ctx, tx, tid, &n, op)
		if err != nil {
			return err
		}
		n.ID = strconv.FormatInt(nid, 10)
		_, err = tx.ExecContext(ctx, "UPDATE tickets SET updated_at = ? WHERE id = ?", fmtTime(n.CreatedAt), tid)
		return err
	})
	if err != nil {
		return nil, mapErr(op, err)
	}
	return &n, nil
}

// Count returns how many tickets match c (Limit and Offset ignored).
func (s *Store) Count(ctx context.Context, c ticket.SearchCriteria) (int, error) {
	if err := c.CheckCustomFields("counting tickets"); err != nil {
		return 0, err
	}
	where, args, ok := filter(c)
	if !ok {
		return 0, nil
	}
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM tickets t"+where, args...).Scan(&n); err != nil {
		return 0, mapErr("counting tickets", err)
	}
	return n, nil
}
