package otobo_test

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/ticketsystem/otobo"
)

// TestExampleConfig loads examples/otobo.yml and checks that its otobo
// service uses a registered id and only params the adapter knows.
func TestExampleConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "examples", "otobo.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Services []struct {
			ID     string         `yaml:"id"`
			Use    string         `yaml:"use"`
			Params map[string]any `yaml:"params"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	spec, ok := registry.Lookup(otobo.ID)
	if !ok {
		t.Fatal("not registered")
	}
	known := map[string]bool{}
	for _, f := range spec.Fields {
		known[f.Name] = true
		for _, a := range f.Aliases {
			known[a] = true
		}
	}
	found := false
	for _, s := range cfg.Services {
		if sp, ok := registry.Lookup(s.Use); !ok || sp != spec {
			continue
		}
		found = true
		for k := range s.Params {
			if !known[k] {
				t.Errorf("service %s: unknown param %s", s.ID, k)
			}
		}
		for _, f := range spec.Fields {
			if _, ok := s.Params[f.Name]; f.Required && !ok {
				t.Errorf("service %s: required param %s missing", s.ID, f.Name)
			}
		}
		if pw, _ := s.Params["password"].(string); pw != "${{ secrets.OTOBO_PASSWORD }}" {
			t.Errorf("password must come from a secret, got %q", pw)
		}
	}
	if !found {
		t.Fatal("no otobo service in examples/otobo.yml")
	}
}
