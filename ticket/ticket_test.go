package ticket

import (
	"errors"
	"strings"
	"testing"
)

func TestNumericID(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want int64
		ok   bool
	}{{"42", 42, true}, {" 7 ", 7, true}, {"0", 0, false}, {"-3", 0, false}, {"abc", 0, false}, {"", 0, false}} {
		n, err := NumericID("getting ticket "+tt.id, tt.id, "Zammad")
		if tt.ok != (err == nil) || n != tt.want {
			t.Errorf("NumericID(%q) = %d, %v", tt.id, n, err)
		}
		if err != nil && (!errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "not a Zammad ticket id")) {
			t.Errorf("NumericID(%q): %v", tt.id, err)
		}
	}
}

func TestNoteValidate(t *testing.T) {
	if err := (&Note{Body: " \n\t"}).Validate("adding note to ticket 1"); !errors.Is(err, ErrValidation) {
		t.Errorf("blank body: %v", err)
	}
	var te *Error
	if err := (&Note{}).Validate("op"); !errors.As(err, &te) || te.Field != "body" {
		t.Errorf("want an *Error naming the field, got %v", err)
	}
	if err := (&Note{Body: "ok"}).Validate("op"); err != nil {
		t.Errorf("a body: %v", err)
	}
}

func TestErrorIsAndText(t *testing.T) {
	cause := errors.New("connection refused")
	err := error(&Error{Op: "updating ticket 42", Kind: ErrUnavailable, Status: 503, Code: "X.Down", Message: "maintenance", Err: cause})
	if !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNotFound) || !errors.Is(err, cause) || !Temporary(err) {
		t.Errorf("errors.Is through *Error is wrong for %v", err)
	}
	want := "updating ticket 42: unavailable (HTTP 503) X.Down: maintenance: connection refused"
	if err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
}
