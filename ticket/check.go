package ticket

import (
	"fmt"
	"strconv"
	"strings"
)

// NumericID parses the id of a help desk whose ticket ids are positive
// integers. Anything else cannot exist there: an *Error of kind
// ErrNotFound, for the operation op, naming the help desk.
func NumericID(op, id, helpdesk string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
	if err != nil || n <= 0 {
		return 0, &Error{Op: op, Kind: ErrNotFound, Message: fmt.Sprintf("%q is not a %s ticket id", id, helpdesk)}
	}
	return n, nil
}

// Validate checks what every help desk requires of a note: a body. It
// returns an *Error of kind ErrValidation for the operation op.
func (n *Note) Validate(op string) error {
	if strings.TrimSpace(n.Body) == "" {
		return &Error{Op: op, Kind: ErrValidation, Field: "body", Message: "a note needs a body"}
	}
	return nil
}
