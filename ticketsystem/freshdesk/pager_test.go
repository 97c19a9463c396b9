package freshdesk

import (
	"errors"
	"net/http"
	"testing"

	"github.com/otai-dev/otai/ticket"
)

func TestPagerStopsALoopingServer(t *testing.T) {
	h := func(link string) http.Header {
		return http.Header{"Link": {`<` + link + `>; rel="next"`}}
	}
	var p pager
	if next, err := p.next("listing", h("https://x.freshdesk.com/api/v2/tickets?page=2"), 100); err != nil || next == "" {
		t.Fatalf("first page: %q %v", next, err)
	}
	if next, err := p.next("listing", h("https://x.freshdesk.com/api/v2/tickets?page=3"), 100); err != nil || next == "" {
		t.Fatalf("second page: %q %v", next, err)
	}
	_, err := p.next("listing", h("https://x.freshdesk.com/api/v2/tickets?page=2"), 100)
	if !errors.Is(err, ticket.ErrUnavailable) {
		t.Fatalf("a link read before must stop paging with ErrUnavailable, got %v", err)
	}
	var q pager
	if next, err := q.next("listing", h("https://x/next"), 0); next != "" || err != nil {
		t.Errorf("an empty page ends the listing: %q %v", next, err)
	}
	if next, err := q.next("listing", http.Header{}, 100); next != "" || err != nil {
		t.Errorf("no link ends the listing: %q %v", next, err)
	}
}
