package ticket

import "context"

// System is a help desk: the six operations otai needs. Implementations
// return the typed errors of this package (wrapped in *Error) so callers can
// tell "not found" from "rate limited" from "down" without knowing the
// help desk.
type System interface {
	// FindTickets returns the tickets matching c, with Body set to the
	// first message. Notes may be empty; GetTicket returns them.
	FindTickets(ctx context.Context, c SearchCriteria) ([]Ticket, error)
	// FindFirstTicket returns the first ticket matching c, or ErrNotFound.
	FindFirstTicket(ctx context.Context, c SearchCriteria) (*Ticket, error)
	// GetTicket returns one ticket with its notes, or ErrNotFound.
	GetTicket(ctx context.Context, id string) (*Ticket, error)
	// CreateTicket creates a ticket with its first message and returns it.
	CreateTicket(ctx context.Context, t NewTicket) (*Ticket, error)
	// UpdateTicket applies u to ticket id.
	UpdateTicket(ctx context.Context, id string, u Update) error
	// AddNote adds a note to ticket id and returns it with its id set.
	AddNote(ctx context.Context, id string, n Note) (*Note, error)
}

// FindFirst implements FindFirstTicket on top of FindTickets for adapters
// that have no cheaper way.
func FindFirst(ctx context.Context, s System, c SearchCriteria) (*Ticket, error) {
	c.Limit = 1
	ts, err := s.FindTickets(ctx, c)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, &Error{Op: "find first ticket", Kind: ErrNotFound, Message: "no ticket matches"}
	}
	return &ts[0], nil
}

// Closer is implemented by systems that hold resources (connections,
// sessions, files) to release when otai stops.
type Closer interface {
	Close() error
}

// Checker is implemented by systems that can test a connection for
// `otai check`: authentication, search, reading a ticket, and whether the
// account may write to the given queues.
type Checker interface {
	Check(ctx context.Context, opts CheckOptions) []CheckResult
}

// CheckOptions says what to check beyond the basics.
type CheckOptions struct {
	Queues       []string // queues otai will move tickets into (targets)
	SourceQueues []string // queues otai fetches tickets from (and moves them out of)
}

// CheckResult is one line of `otai check`: Message says, when !OK, what an
// admin should do about it.
type CheckResult struct {
	Name    string `json:"name"` // "auth", "search", "get", "update permission on Billing"
	OK      bool   `json:"ok"`
	Message string `json:"message"`
	// Warn marks an OK line that could not be verified and deserves a
	// look (a queue that may not exist, say). It is not a failure.
	Warn bool `json:"warn,omitempty"`
}
