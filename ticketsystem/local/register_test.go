package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

func TestRegistered(t *testing.T) {
	for _, id := range []string{"local:TicketSystem", "local:LocalTicketSystem", "local:SQLiteTicketSystem", "LOCAL:ticketsystem"} {
		spec, ok := registry.Lookup(id)
		if !ok {
			t.Fatalf("%s not registered", id)
		}
		if spec.ID != "local:TicketSystem" || spec.Kind != registry.KindTicketSystem || spec.Summary == "" {
			t.Errorf("%s resolves to %+v", id, spec.Info)
		}
	}
	spec, _ := registry.Lookup("local:TicketSystem")
	fields := map[string]registry.Field{}
	for _, f := range spec.Fields {
		fields[f.Name] = f
	}
	if f := fields["path"]; f.Default != "tickets.db" || f.Type != "string" || f.Description == "" {
		t.Errorf("path field = %+v", f)
	}
	if f := fields["demo"]; f.Default != "false" || f.Type != "boolean" {
		t.Errorf("demo field = %+v", f)
	}
	if f := fields["queues"]; f.Type != "array" {
		t.Errorf("queues field = %+v", f)
	}
}

func newService(t *testing.T, p Params, env registry.Env) (*Store, error) {
	t.Helper()
	spec, _ := registry.Lookup("local:TicketSystem")
	params := spec.NewParams().(*Params)
	*params = p
	svc, err := spec.NewService(context.Background(), params, env)
	if err != nil {
		return nil, err
	}
	s, ok := svc.(*Store)
	if !ok {
		t.Fatalf("service is %T", svc)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, nil
}

func TestNewRelativePath(t *testing.T) {
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "data")
	s, err := newService(t, Params{Path: "stores/tickets.db", Queues: []string{"Billing", "Sales", "billing"}}, registry.Env{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dataDir, "stores", "tickets.db")
	if s.Path() != want {
		t.Errorf("path = %s, want %s", s.Path(), want)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("database file: %v", err)
	}
	qs, _ := s.Queues(ctx)
	if len(qs) != 3 || qs[1].Name != "Billing" || qs[2].Name != "Sales" {
		t.Errorf("queues = %v", qs)
	}
	var sys ticket.System = s
	if _, err := sys.CreateTicket(ctx, ticket.NewTicket{Subject: "via registry", Queue: ticket.Entity{Name: "Sales"}}); err != nil {
		t.Fatal(err)
	}
}

func TestNewDefaultsAndDemo(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	s, err := newService(t, Params{Demo: true}, registry.Env{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != filepath.Join(dataDir, "tickets.db") {
		t.Errorf("default path = %s", s.Path())
	}
	n, _ := s.Count(ctx, ticket.SearchCriteria{})
	if n != DemoHistoryPerQueue*len(DemoQueues)+len(DemoInbox()) {
		t.Errorf("demo tickets = %d", n)
	}
	_ = s.Close()
	// Reopening with demo: true adds nothing.
	s, err = newService(t, Params{Demo: true}, registry.Env{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	if m, _ := s.Count(ctx, ticket.SearchCriteria{}); m != n {
		t.Errorf("after reopen: %d tickets, want %d", m, n)
	}
}

func TestNewAbsolutePathIgnoresDataDir(t *testing.T) {
	abs := filepath.Join(t.TempDir(), "abs.db")
	s, err := newService(t, Params{Path: abs}, registry.Env{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Path() != abs {
		t.Errorf("path = %s", s.Path())
	}
}

func TestNewValidateCreatesNothing(t *testing.T) {
	ctx := context.Background()
	dataDir := filepath.Join(t.TempDir(), "not-yet")
	s, err := newService(t, Params{Path: "sub/tickets.db", Demo: true, Queues: []string{"Billing"}}, registry.Env{DataDir: dataDir, Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dataDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("validate created %s (%v)", dataDir, err)
	}
	if s.Path() != MemoryPath {
		t.Errorf("validate store path = %s, want memory", s.Path())
	}
	// The store works, in memory, with the configured queues.
	if res := s.Check(ctx, ticket.CheckOptions{Queues: []string{"Billing"}}); !res[len(res)-1].OK {
		t.Errorf("check = %+v", res)
	}
	if n, _ := s.Count(ctx, ticket.SearchCriteria{}); n != 0 {
		t.Errorf("validate seeded %d demo tickets", n)
	}
}

func TestNewValidateExistingFile(t *testing.T) {
	dataDir := t.TempDir()
	// A good database validates and is left untouched.
	s, err := newService(t, Params{}, registry.Env{DataDir: dataDir})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, ticket.NewTicket{Subject: "keep"})
	_ = s.Close()
	before, _ := os.Stat(filepath.Join(dataDir, "tickets.db"))
	if _, err := newService(t, Params{}, registry.Env{DataDir: dataDir, Validate: true}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(filepath.Join(dataDir, "tickets.db"))
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Errorf("validate touched the database")
	}

	// A garbage file fails validation.
	bad := filepath.Join(dataDir, "bad.db")
	if err := os.WriteFile(bad, []byte("this is not a database at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = newService(t, Params{Path: "bad.db"}, registry.Env{DataDir: dataDir, Validate: true})
	wantErr(t, err, ErrCorrupt, bad, "move it away")

	// A parent that is a file fails validation.
	_, err = newService(t, Params{Path: "bad.db/tickets.db"}, registry.Env{DataDir: dataDir, Validate: true})
	if err == nil {
		t.Error("validate accepted a path under a file")
	}
}

func TestNewNotWritable(t *testing.T) {
	dir := unwritableDir(t)
	_, err := newService(t, Params{}, registry.Env{DataDir: dir})
	wantErr(t, err, ErrNotWritable, dir, "not writable")
	if accessWritable(dir) == nil {
		t.Skipf("access(2) says %s is writable for this user; cannot test validate mode", dir)
	}
	_, err = newService(t, Params{}, registry.Env{DataDir: dir, Validate: true})
	wantErr(t, err, ErrNotWritable, dir, "not writable")
}
