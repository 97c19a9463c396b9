package ticket

import (
	"slices"
	"strings"
	"time"
)

// Entity names a help-desk object (queue, priority, state, type, user)
// by id, by name, or both. Adapters fill whichever the help desk returns;
// when writing, an adapter uses the id if set and resolves the name otherwise.
type Entity struct {
	ID   string `json:"id,omitempty" yaml:"id,omitempty" expr:"id"`
	Name string `json:"name,omitempty" yaml:"name,omitempty" expr:"name"`
}

// IsZero reports whether neither id nor name is set.
func (e Entity) IsZero() bool { return e.ID == "" && e.Name == "" }

// Matches reports whether e and o name the same object: equal ids when both
// have one, otherwise equal names (case-insensitive).
func (e Entity) Matches(o Entity) bool {
	if e.ID != "" && o.ID != "" {
		return e.ID == o.ID
	}
	return e.Name != "" && strings.EqualFold(e.Name, o.Name)
}

// String returns the name, or the id when there is no name.
func (e Entity) String() string {
	if e.Name != "" {
		return e.Name
	}
	return e.ID
}

// Ticket is the unified ticket. ID is the help desk's native id as a string;
// Number is the human-facing ticket number where the help desk has one.
type Ticket struct {
	ID           string         `json:"id" expr:"id"`
	Number       string         `json:"number,omitempty" expr:"number"`
	Subject      string         `json:"subject" expr:"subject"`
	Body         string         `json:"body" expr:"body"`
	Queue        Entity         `json:"queue" expr:"queue"`
	Priority     Entity         `json:"priority" expr:"priority"`
	State        Entity         `json:"state" expr:"state"`
	Type         Entity         `json:"type" expr:"type"`
	Owner        Entity         `json:"owner" expr:"owner"`
	Customer     Entity         `json:"customer" expr:"customer"`
	Tags         []string       `json:"tags,omitempty" expr:"tags"`
	CreatedAt    time.Time      `json:"created_at" expr:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at" expr:"updated_at"`
	CustomFields map[string]any `json:"custom_fields,omitempty" expr:"custom_fields"`
	Notes        []Note         `json:"notes,omitempty" expr:"notes"`
}

// Text is the subject and body joined by a blank line: what classifiers read
// by default.
func (t *Ticket) Text() string {
	switch {
	case t.Subject == "":
		return t.Body
	case t.Body == "":
		return t.Subject
	}
	return t.Subject + "\n\n" + t.Body
}

// HasTag reports whether the ticket carries tag (case-insensitive).
func (t *Ticket) HasTag(tag string) bool {
	for _, x := range t.Tags {
		if strings.EqualFold(x, tag) {
			return true
		}
	}
	return false
}

// Note is an article, conversation entry or comment on a ticket.
// Internal notes are visible to agents only; otai writes internal notes
// unless a config says otherwise.
type Note struct {
	ID          string    `json:"id,omitempty" expr:"id"`
	Subject     string    `json:"subject,omitempty" expr:"subject"`
	Body        string    `json:"body" expr:"body"`
	ContentType string    `json:"content_type,omitempty" expr:"content_type"` // "text/plain" (default) or "text/html"
	Internal    bool      `json:"internal" expr:"internal"`
	Author      string    `json:"author,omitempty" expr:"author"`
	CreatedAt   time.Time `json:"created_at,omitzero" expr:"created_at"`
}

// Content types for notes.
const (
	ContentTypePlain = "text/plain"
	ContentTypeHTML  = "text/html"
)

// NewTicket is what CreateTicket takes: the ticket's fields and its first
// message as Body.
type NewTicket struct {
	Subject      string         `json:"subject" yaml:"subject"`
	Body         string         `json:"body" yaml:"body"`
	ContentType  string         `json:"content_type,omitempty" yaml:"content_type"`
	Queue        Entity         `json:"queue" yaml:"queue"`
	Priority     Entity         `json:"priority" yaml:"priority"`
	State        Entity         `json:"state" yaml:"state"`
	Type         Entity         `json:"type" yaml:"type"`
	Owner        Entity         `json:"owner" yaml:"owner"`
	Customer     Entity         `json:"customer" yaml:"customer"`
	Tags         []string       `json:"tags,omitempty" yaml:"tags"`
	CustomFields map[string]any `json:"custom_fields,omitempty" yaml:"custom_fields"`
}

// Update is a partial change to a ticket: nil fields stay as they are.
// AddTags and RemoveTags change the tag set without replacing it.
type Update struct {
	Subject      *string        `json:"subject,omitempty" yaml:"subject"`
	Queue        *Entity        `json:"queue,omitempty" yaml:"queue"`
	Priority     *Entity        `json:"priority,omitempty" yaml:"priority"`
	State        *Entity        `json:"state,omitempty" yaml:"state"`
	Type         *Entity        `json:"type,omitempty" yaml:"type"`
	Owner        *Entity        `json:"owner,omitempty" yaml:"owner"`
	AddTags      []string       `json:"add_tags,omitempty" yaml:"add_tags"`
	RemoveTags   []string       `json:"remove_tags,omitempty" yaml:"remove_tags"`
	CustomFields map[string]any `json:"custom_fields,omitempty" yaml:"custom_fields"`
}

// IsEmpty reports whether the update changes nothing.
func (u *Update) IsEmpty() bool {
	return u.Subject == nil && u.Queue == nil && u.Priority == nil && u.State == nil &&
		u.Type == nil && u.Owner == nil && len(u.AddTags) == 0 && len(u.RemoveTags) == 0 &&
		len(u.CustomFields) == 0
}

// SearchCriteria selects tickets. Zero fields do not filter. Queue, State,
// Priority and Owner match by id or by name. UpdatedSince and CreatedSince keep tickets
// changed or created at or after that time; UpdatedBefore and CreatedBefore
// keep those changed or created strictly before it. CustomFields keeps
// tickets whose custom (dynamic) field of each name equals the value
// exactly; an empty value is refused, and a help desk whose search cannot
// filter on custom fields refuses the criteria with ErrValidation rather
// than ignoring it. Results are ordered oldest first (by creation), so that
// a backlog is worked in arrival order, and paged by Limit and Offset.
type SearchCriteria struct {
	ID            string            `json:"id,omitempty" yaml:"id"`
	Subject       string            `json:"subject,omitempty" yaml:"subject"` // substring, case-insensitive
	Queue         *Entity           `json:"queue,omitempty" yaml:"queue"`
	State         *Entity           `json:"state,omitempty" yaml:"state"`
	Priority      *Entity           `json:"priority,omitempty" yaml:"priority"`
	Owner         *Entity           `json:"owner,omitempty" yaml:"owner"`
	UpdatedSince  time.Time         `json:"updated_since,omitzero" yaml:"updated_since"`
	UpdatedBefore time.Time         `json:"updated_before,omitzero" yaml:"updated_before"`
	CreatedSince  time.Time         `json:"created_since,omitzero" yaml:"created_since"`
	CreatedBefore time.Time         `json:"created_before,omitzero" yaml:"created_before"`
	CustomFields  map[string]string `json:"custom_fields,omitempty" yaml:"custom_fields"`
	Limit         int               `json:"limit,omitempty" yaml:"limit"`
	Offset        int               `json:"offset,omitempty" yaml:"offset"`
}

// CheckCustomFields reports the first custom-field filter that cannot be
// sent: an empty name or an empty value. Adapters call it before searching.
func (c *SearchCriteria) CheckCustomFields(op string) error {
	for _, k := range sortedKeys(c.CustomFields) {
		switch {
		case strings.TrimSpace(k) == "":
			return &Error{Op: op, Kind: ErrValidation, Field: "custom_fields", Message: "a custom field filter needs a field name"}
		case c.CustomFields[k] == "":
			return &Error{Op: op, Kind: ErrValidation, Field: "custom_fields." + k,
				Message: "an empty value is not a filter (custom_fields matches a value exactly); remove the entry"}
		}
	}
	return nil
}

// SortedCustomFields returns the custom-field filter names in order, so
// adapters build the same query every time.
func (c *SearchCriteria) SortedCustomFields() []string { return sortedKeys(c.CustomFields) }

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// UnmarshalText lets a config write `queue: Billing` for {name: Billing}.
func (e *Entity) UnmarshalText(b []byte) error {
	*e = Entity{Name: string(b)}
	return nil
}
