// Package examples holds configs a user can copy. The test loads every one
// of them, builds it the way `otai validate` does, and fails on any problem.
package examples

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/otai-dev/otai/config"
	_ "github.com/otai-dev/otai/internal/components"
	"github.com/otai-dev/otai/orchestrator"
)

func TestExamplesLoad(t *testing.T) {
	files, _ := filepath.Glob("*.yml")
	if len(files) == 0 {
		t.Fatal("no examples found")
	}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			// Every secret resolves to a placeholder: the examples name
			// secrets the reader sets, not values.
			file, err := config.Load(f, config.Options{Secrets: func(string) (string, error) { return "placeholder-secret", nil }})
			if err != nil {
				t.Fatalf("loading %s:\n%v", f, err)
			}
			if len(file.Runners) == 0 {
				t.Errorf("%s has no runners", f)
			}
			eng, err := orchestrator.Build(context.Background(), file, orchestrator.Options{DataDir: t.TempDir(), Validate: true})
			if err != nil {
				t.Fatalf("building %s: %v", f, err)
			}
			eng.Close()
		})
	}
}
