package otobo_test

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/otai-dev/otai/internal/httpx"
	"github.com/otai-dev/otai/ticket"
	"github.com/otai-dev/otai/ticketsystem/otobo"
	"github.com/otai-dev/otai/ticketsystem/otobo/otobofake"
)

// TestTLS puts a TLS server with a self-signed certificate in front of the
// fake: by default the certificate is refused once (no retries) with advice
// naming tls_ca_file; with tls_ca_file holding the certificate it works.
func TestTLS(t *testing.T) {
	ctx := context.Background()
	srv := newFake(t, otobofake.Options{})
	srv.AddTicket(otobofake.Ticket{Title: "printer", Queue: "Inbox"})
	target, _ := url.Parse(srv.BaseURL)
	target.Path = ""
	front := httptest.NewUnstartedServer(httputil.NewSingleHostReverseProxy(target))
	front.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	front.StartTLS()
	t.Cleanup(front.Close)
	base := front.URL + "/otobo/nph-genericinterface.pl"

	var attempts atomic.Int32
	count := httpx.HookFunc(func(httpx.Observation) { attempts.Add(1) })
	c := newClient(t, srv, func(p *otobo.Params) { p.BaseURL = base; p.Metrics = count })
	_, err := c.FindTickets(ctx, ticket.SearchCriteria{})
	if kindOf(err) != ticket.ErrUnavailable || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	if n := attempts.Load(); n != 1 {
		t.Errorf("%d attempts for a certificate error, want 1 (no retries)", n)
	}
	res := c.Check(ctx, ticket.CheckOptions{})
	if len(res) != 1 || res[0].OK || !strings.Contains(res[0].Message, "tls_ca_file") {
		t.Errorf("check: %+v", res)
	}
	if srv.Calls("") != 0 {
		t.Errorf("%d requests reached the help desk", srv.Calls(""))
	}

	ca := filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: front.Certificate().Raw})
	if err := os.WriteFile(ca, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	trusted := newClient(t, srv, func(p *otobo.Params) { p.BaseURL = base; p.TLSCAFile = ca })
	ts, err := trusted.FindTickets(ctx, ticket.SearchCriteria{Queue: &ticket.Entity{Name: "Inbox"}})
	if err != nil || len(ts) != 1 || ts[0].Subject != "printer" {
		t.Fatalf("with tls_ca_file: %v, %v", ts, err)
	}
}
