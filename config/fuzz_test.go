package config_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/otai-dev/otai/config"
)

// FuzzParse feeds arbitrary bytes to the loader: it may reject them, but it
// must never panic, and what it accepts must decode at run time without
// panicking either.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/errors/*.yaml")
	for _, fn := range files {
		if b, err := os.ReadFile(fn); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("services:\n  - id: h\n    use: test:TicketSystem\n    params: {base_url: '{{ env.X }}', retries: '{{ context.n }}'}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("<<: {a: 1}\n"))
	f.Add([]byte("pipes:\n  - id: a\n    use: ''\n"))
	sec := secrets(map[string]string{"GOOD": "fuzz-secret"})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := config.Parse("fuzz.yaml", data, config.Options{Secrets: sec})
		if err != nil || file == nil {
			return
		}
		scope := map[string]any{"ticket": nil, "pipes": map[string]any{}, "context": map[string]any{"n": "x"}, "env": map[string]any{}}
		for _, s := range file.Services {
			_ = config.Decode(s.Params, scope, s.Spec.NewParams())
		}
		for _, p := range file.Pipes {
			_ = config.Decode(p.Params, scope, p.Spec.NewParams())
		}
	})
}
