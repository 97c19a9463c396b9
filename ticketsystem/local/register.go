package local

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticket"
)

// Params configure the local ticket system.
type Params struct {
	Path        string        `yaml:"path" default:"tickets.db" desc:"SQLite database file. A relative path is relative to the data directory; \":memory:\" keeps everything in memory."`
	Demo        bool          `yaml:"demo" default:"false" desc:"Seed bilingual (English/German) demo tickets when the database is empty: a closed history to train on and an inbox of new tickets."`
	Queues      []string      `yaml:"queues" desc:"Queues to create if they do not exist yet."`
	BusyTimeout time.Duration `yaml:"busy_timeout" default:"10s" desc:"How long a write waits for another process's write before giving up."`
}

func init() {
	registry.RegisterTicketSystem[Params](registry.Info{
		ID:      "local:TicketSystem",
		Aliases: []string{"local:LocalTicketSystem", "local:SQLiteTicketSystem"},
		Summary: "Embedded ticket store in a SQLite file, with optional bilingual demo data",
		Description: "A complete ticket system inside otai: queues, priorities, states, tags, custom fields and notes " +
			"in one SQLite file under the data directory. Use it to try otai without a help desk (demo: true), " +
			"as a staging area, or in tests.",
	}, New)
}

// New builds the local ticket system from its params: it opens (creating
// if needed) the database, ensures p.Queues exist and, with p.Demo, seeds
// the demo data into an empty store. With env.Validate it creates nothing:
// it checks that the database could be opened and returns an in-memory
// store.
func New(ctx context.Context, p *Params, env registry.Env) (ticket.System, error) {
	s, err := open(ctx, p, env)
	if err != nil {
		return nil, err
	}
	return s, nil
}

func open(ctx context.Context, p *Params, env registry.Env) (*Store, error) {
	path := p.Path
	if path == "" {
		path = "tickets.db"
	}
	if path != MemoryPath && !filepath.IsAbs(path) && env.DataDir != "" {
		path = filepath.Join(env.DataDir, path)
	}
	if env.Validate && path != MemoryPath {
		if err := validatePath(path); err != nil {
			return nil, err
		}
		path = MemoryPath
	}
	s, err := Open(ctx, path, Options{BusyTimeout: p.BusyTimeout, Logger: env.Logger})
	if err != nil {
		return nil, err
	}
	for _, q := range p.Queues {
		if _, err := s.EnsureQueue(ctx, q); err != nil {
			_ = s.Close()
			return nil, fmt.Errorf("creating queue %q in ticket store %s: %w", q, s.path, err)
		}
	}
	if p.Demo && !env.Validate {
		if err := SeedDemo(ctx, s); err != nil {
			_ = s.Close()
			return nil, err
		}
	}
	return s, nil
}

// validatePath checks, without creating anything, that a store could be
// opened at path: its directory exists or could be created and is
// writable, and an existing file looks like a SQLite database.
func validatePath(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("checking ticket store %s: %w", path, err)
	}
	dir := filepath.Dir(abs)
	// The nearest existing ancestor must be a writable directory.
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("checking ticket store %s: %s is not a directory: set path to a location under a directory", abs, d)
			}
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("checking ticket store %s: %w", abs, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if err := accessWritable(d); err != nil {
		return fmt.Errorf("checking ticket store %s: directory %s is %w (%v): give the user running otai write access to it, or set path to a writable location",
			abs, d, ErrNotWritable, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("checking ticket store %s: %w", abs, err)
	case fi.IsDir():
		return fmt.Errorf("checking ticket store %s: it is a directory, not a database file: set path to a file name", abs)
	case fi.Size() == 0:
		return nil
	}
	f, err := os.Open(abs)
	if err != nil {
		return fmt.Errorf("checking ticket store %s: %w", abs, err)
	}
	defer f.Close()
	head := make([]byte, 16)
	if n, _ := io.ReadFull(f, head); n < 16 || string(head) != "SQLite format 3\x00" {
		return corruptError(abs, "the file has no SQLite header")
	}
	return nil
}
