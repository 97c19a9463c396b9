package config_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/pipe"
	_ "github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/ticket"
)

var update = flag.Bool("update", false, "rewrite golden files")

type testSysParams struct {
	BaseURL   string        `yaml:"base_url" otai:"required"`
	Username  string        `yaml:"username"`
	Password  string        `yaml:"password" otai:"secret"`
	Token     string        `yaml:"token" otai:"secret"`
	Timeout   time.Duration `yaml:"timeout" default:"30s"`
	Retries   int           `yaml:"retries" default:"3"`
	VerifyTLS bool          `yaml:"verify_tls" default:"true"`
}

type testClsParams struct {
	Labels []string `yaml:"labels"`
}

// The seed's ids: a stand-in for the OTOBO adapter and the seed's plugin pipe.
type otoboStandIn struct {
	BaseURL        string `yaml:"base_url" otai:"required"`
	WebserviceName string `yaml:"webservice_name"`
	Username       string `yaml:"username" otai:"required"`
	Password       string `yaml:"password" otai:"required,secret"`
}

type createParams struct {
	TicketPayload map[string]any `yaml:"ticket_payload" otai:"required"`
}

type nopSystem struct{ ticket.System }

func init() {
	registry.RegisterTicketSystem(registry.Info{ID: "test:TicketSystem"}, func(ctx context.Context, p *testSysParams, env registry.Env) (ticket.System, error) {
		return nopSystem{}, nil
	})
	registry.RegisterClassifier(registry.Info{ID: "test:Classifier"}, func(ctx context.Context, p *testClsParams, env registry.Env) (classify.Classifier, error) {
		return nil, nil
	})
	registry.RegisterTicketSystem(registry.Info{ID: "otobo-znuny:OTOBOZnunyTicketSystemService"}, func(ctx context.Context, p *otoboStandIn, env registry.Env) (ticket.System, error) {
		return nopSystem{}, nil
	})
	registry.RegisterPipe(registry.Info{ID: "my_plugin:CreateTicketPipe"}, func(b registry.Build[createParams]) (pipe.Pipe, error) {
		return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result { return pipe.Succeeded(nil) }), nil
	})
}

func secrets(m map[string]string) func(string) (string, error) {
	return secret.Resolver{
		LookupEnv: func(k string) (string, bool) { v, ok := m[k]; return v, ok },
		ReadFile:  func(string) ([]byte, error) { return nil, os.ErrNotExist },
		Dir:       "/nonexistent-secrets",
	}.Lookup
}

// TestGoldenErrors loads every testdata/errors/*.yaml and compares the
// reported problems with the .golden file next to it.
func TestGoldenErrors(t *testing.T) {
	files, _ := filepath.Glob("testdata/errors/*.yaml")
	if len(files) < 10 {
		t.Fatalf("expected the error corpus in testdata/errors, found %d files", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = config.Parse(filepath.Base(f), b, config.Options{Secrets: secrets(map[string]string{"GOOD": "s3cret-value"})})
			if err == nil {
				t.Fatal("expected errors, got none")
			}
			var ce config.Errors
			if !errors.As(err, &ce) {
				t.Fatalf("want config.Errors, got %T: %v", err, err)
			}
			for _, e := range ce {
				if e.Pos.Line == 0 {
					t.Errorf("error without a line: %v", e)
				}
			}
			got := err.Error() + "\n"
			if strings.Contains(got, "s3cret-value") {
				t.Fatalf("a secret value leaked into an error:\n%s", got)
			}
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				os.WriteFile(golden, []byte(got), 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run go test ./config -update): %v", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// TestSeedYAML loads the config shape of the seed documents as written in
// the shared design notes.
func TestSeedYAML(t *testing.T) {
	doc := sharedFile(t, "design/ARCHITECTURE.md")
	m := regexp.MustCompile("(?s)## Config shape.*?```yaml\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatal("no yaml block under '## Config shape' in ARCHITECTURE.md")
	}
	f, err := config.Parse("seed.yaml", m[1], config.Options{Secrets: secrets(map[string]string{"OTAI_SECRET_OTOBO_PASSWORD": "1234"})})
	if err != nil {
		t.Fatalf("seed YAML does not load:\n%v", err)
	}
	if len(f.Services) != 1 || f.Services[0].Spec.ID != "otobo-znuny:OTOBOZnunyTicketSystemService" {
		t.Fatalf("services: %+v", f.Services)
	}
	if got := f.Pipes[0].Spec.ID; got != "base:FetchTicketsPipe" {
		t.Errorf("the long Python id resolved to %q, want base:FetchTicketsPipe", got)
	}
	// A numeric password stays a string.
	var p otoboStandIn
	if err := config.Decode(f.Services[0].Params, map[string]any{}, &p); err != nil {
		t.Fatal(err)
	}
	if p.Password != "1234" {
		t.Errorf("password = %q, want \"1234\"", p.Password)
	}
	// The fetch pipe's criteria decode into the typed struct.
	var fp struct {
		TicketSystem string                `yaml:"ticket_system"`
		Criteria     ticket.SearchCriteria `yaml:"ticket_search_criteria"`
	}
	if err := config.Decode(f.Pipes[0].Params, map[string]any{}, &fp); err != nil {
		t.Fatal(err)
	}
	if fp.Criteria.Queue == nil || fp.Criteria.Queue.ID != "5" || fp.Criteria.Limit != 20 {
		t.Errorf("criteria = %+v", fp.Criteria)
	}
	// With no orchestrator, one default runner runs the pipes once.
	if len(f.Runners) != 1 || f.Runners[0].ID != "default" || !f.Runners[0].Triggers[0].Once {
		t.Errorf("runners = %+v", f.Runners)
	}
	// The create pipe's template renders per run from the context.
	var cp createParams
	scope := map[string]any{"context": map[string]any{"subject": "Printer on fire", "body": 42}}
	if err := config.Decode(f.Pipes[1].Params, scope, &cp); err != nil {
		t.Fatal(err)
	}
	if cp.TicketPayload["subject"] != "Printer on fire" || cp.TicketPayload["body"] != 42 {
		t.Errorf("payload = %#v", cp.TicketPayload)
	}
}

// sharedFile reads a file from the project's shared material beside the
// repository. It is there in CI; elsewhere the test is skipped.
func sharedFile(t *testing.T, rel string) []byte {
	t.Helper()
	dir, _ := os.Getwd()
	for ; dir != filepath.Dir(dir); dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), "shared", rel))
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared material missing in CI: %v", err)
		}
		t.Skipf("shared material not available: %v", err)
	}
	return b
}

func TestDecodeTyping(t *testing.T) {
	src := `
services:
  - id: h
    use: test:TicketSystem
    params:
      base_url: "{{ env.BASE }}"
      username: 0042
      password: 1234
      timeout: 90
      retries: "{{ context.n }}"
`
	f, err := config.Parse("t.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var p testSysParams
	scope := map[string]any{"env": map[string]any{"BASE": "https://x"}, "context": map[string]any{"n": 7}}
	if err := config.Decode(f.Services[0].Params, scope, &p); err != nil {
		t.Fatal(err)
	}
	want := testSysParams{BaseURL: "https://x", Username: "0042", Password: "1234", Timeout: 90 * time.Second, Retries: 7, VerifyTLS: true}
	if p != want {
		t.Errorf("got %+v\nwant %+v", p, want)
	}
	if !secret.Contains("xx1234xx") {
		t.Errorf("a literal secret param was not registered for redaction")
	}
}

func TestDecodeTemplateTypeError(t *testing.T) {
	src := `
services:
  - id: h
    use: test:TicketSystem
    params:
      base_url: x
      retries: "{{ context.n }}"
`
	f, err := config.Parse("t.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var p testSysParams
	err = config.Decode(f.Services[0].Params, map[string]any{"context": map[string]any{"n": "lots"}}, &p)
	if err == nil || !strings.Contains(err.Error(), `t.yaml:7:16: retries: expected an integer, got "lots"`) {
		t.Fatalf("err = %v", err)
	}
}

func TestPythonStyleConfig(t *testing.T) {
	src := `
open_ticket_ai:
  api_version: ">=1.0.0"
  services:
    - id: h
      use: test:TicketSystem
      params: { base_url: x }
  orchestrator:
    runners:
      - id: r
        on: { interval: 10s }
        run:
          id: main
          use: base:CompositePipe
          params:
            steps:
              - id: fetch
                use: otai_base:pipes.ticket_system_pipes.FetchTicketsPipe
                injects: { ticket_system: h }
`
	f, err := config.Parse("py.yaml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := f.Runners[0]
	if r.Triggers[0].Interval != 10*time.Second || r.Pipes[0].Steps[0].Spec.ID != "base:FetchTicketsPipe" {
		t.Fatalf("runner = %+v", r)
	}
}

func ExampleErrors() {
	_, err := config.Parse("config.yml", []byte("services:\n  - id: x\n    use: test:TicketSystem\n    params: {base_url: y, retries: many}\n"), config.Options{})
	fmt.Println(err)
	// Output: config.yml:4:36: services[0].params.retries: expected an integer, got "many"
}

func TestAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nvars: {x: *g}\n"
	done := make(chan error, 1)
	go func() { _, err := config.Parse("bomb.yaml", []byte(src), config.Options{}); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "expands to more than") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("an alias bomb hangs the loader")
	}
}
