package registry_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/otai-dev/otai/classify/rules"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/internal/testsys"
	"github.com/otai-dev/otai/pipe"
	_ "github.com/otai-dev/otai/pipes"
	"github.com/otai-dev/otai/registry"
)

type server struct {
	Host string `yaml:"host" otai:"required"`
	Port int    `yaml:"port" default:"443"`
}

type Shared struct {
	Timeout time.Duration `yaml:"timeout" default:"30s" desc:"Per request."`
}

type common struct {
	Retries int `yaml:"retries" default:"3"`
}

type tagged struct {
	Shared
	common
	Limit     int                `yaml:"limit" default:"50" desc:"How many tickets to fetch at most."`
	Password  string             `yaml:"password" otai:"required, secret" desc:"Agent password."`
	Domain    string             `yaml:"domain" aliases:"freshdesk_domain,fd_domain"`
	System    string             `yaml:"ticket_system" otai:"required" ref:"ticket_system"`
	Model     string             `yaml:"model,omitempty" ref:"classifier" enum:"fast,slow"`
	Hidden    string             `yaml:"-"`
	internal  string             //nolint:unused // unexported: not a param
	MaxChars  int                // no yaml tag: snake_case of the Go name
	HTTPProxy string             // initialisms stay together
	Since     time.Time          `yaml:"since"`
	Server    server             `yaml:"server"`
	Servers   []server           `yaml:"servers"`
	Labels    []string           `yaml:"labels"`
	Weights   map[string]float64 `yaml:"weights"`
	Ratio     *float64           `yaml:"ratio"`
	Verify    bool               `yaml:"verify" default:"true"`
	Anything  any                `yaml:"anything"`
}

func TestFieldsOf(t *testing.T) {
	type want struct {
		typ, elem, def string
		hasDef         bool
		required       bool
		secret         bool
		aliases, enum  []string
		ref            registry.Kind
		desc           string
		index          []int
		sub            int // number of nested fields
	}
	wants := map[string]want{
		"timeout":       {typ: "duration", def: "30s", hasDef: true, desc: "Per request.", index: []int{0, 0}},
		"retries":       {typ: "integer", def: "3", hasDef: true, index: []int{1, 0}},
		"limit":         {typ: "integer", def: "50", hasDef: true, desc: "How many tickets to fetch at most.", index: []int{2}},
		"password":      {typ: "string", required: true, secret: true, desc: "Agent password.", index: []int{3}},
		"domain":        {typ: "string", aliases: []string{"freshdesk_domain", "fd_domain"}, index: []int{4}},
		"ticket_system": {typ: "string", required: true, ref: registry.KindTicketSystem, index: []int{5}},
		"model":         {typ: "string", enum: []string{"fast", "slow"}, ref: registry.KindClassifier, index: []int{6}},
		"max_chars":     {typ: "integer", index: []int{9}},
		"http_proxy":    {typ: "string", index: []int{10}},
		"since":         {typ: "time", index: []int{11}},
		"server":        {typ: "object", index: []int{12}, sub: 2},
		"servers":       {typ: "array", elem: "object", index: []int{13}, sub: 2},
		"labels":        {typ: "array", elem: "string", index: []int{14}},
		"weights":       {typ: "map", elem: "number", index: []int{15}},
		"ratio":         {typ: "number", index: []int{16}},
		"verify":        {typ: "boolean", def: "true", hasDef: true, index: []int{17}},
		"anything":      {typ: "any", index: []int{18}},
	}
	fields := registry.FieldsOf(reflect.TypeFor[*tagged]()) // pointers are followed
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
	}
	var wantNames []string
	for n := range wants {
		wantNames = append(wantNames, n)
	}
	slices.Sort(wantNames)
	if got := slices.Sorted(slices.Values(names)); !slices.Equal(got, wantNames) {
		t.Fatalf("fields %v, want %v", got, wantNames)
	}
	for _, f := range fields {
		w := wants[f.Name]
		t.Run(f.Name, func(t *testing.T) {
			got := want{typ: f.Type, elem: f.Elem, def: f.Default, hasDef: f.HasDefault, required: f.Required, secret: f.Secret,
				aliases: f.Aliases, enum: f.Enum, ref: f.Ref, desc: f.Description, index: f.Index, sub: len(f.Fields)}
			if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", w) {
				t.Errorf("got  %#v\nwant %#v", got, w)
			}
			// Index reaches the field it describes.
			sf := reflect.TypeFor[tagged]().FieldByIndex(f.Index)
			if sf.Type != f.GoType {
				t.Errorf("Index %v is %s %s, GoType %s", f.Index, sf.Name, sf.Type, f.GoType)
			}
		})
	}
	if sub := fields[slices.Index(names, "server")].Fields; sub[0].Name != "host" || !sub[0].Required || sub[1].Default != "443" {
		t.Errorf("server's fields %+v", sub)
	}
	if registry.FieldsOf(reflect.TypeFor[int]()) != nil {
		t.Error("FieldsOf(int) is not nil")
	}
}

// Params with an unexported embedded struct work through the config loader
// like any other params (its exported fields are promoted, as in
// encoding/json).
type embeddedParams struct {
	common
	Name string `yaml:"name"`
}

func init() {
	testsys.Register()
	registry.RegisterPipe(registry.Info{ID: "regtest:Embedded", Aliases: []string{"regtest:Alias"}, Summary: "Params with an embedded struct."},
		func(b registry.Build[embeddedParams]) (pipe.Pipe, error) {
			return pipe.Func(func(ctx context.Context, rc *pipe.Context) pipe.Result {
				p, err := b.Params.Get(rc)
				if err != nil {
					return pipe.Failed(err)
				}
				return pipe.Succeeded(map[string]any{"retries": p.Retries, "name": p.Name})
			}), nil
		})
}

func TestEmbeddedParamsDecode(t *testing.T) {
	tests := []struct {
		params  string
		retries int
	}{
		{"{name: x, retries: 7}", 7},
		{"{name: x}", 3}, // the default of the embedded field
	}
	for _, tc := range tests {
		t.Run(tc.params, func(t *testing.T) {
			src := "pipes:\n  - {id: e, use: regtest:Embedded, params: " + tc.params + "}\n"
			f, err := config.Parse("embedded.yml", []byte(src), config.Options{})
			if err != nil {
				t.Fatalf("config.Parse: %v", err)
			}
			var p embeddedParams
			if err := config.Decode(f.Pipes[0].Params, map[string]any{}, &p); err != nil {
				t.Fatal(err)
			}
			if p.Retries != tc.retries || p.Name != "x" {
				t.Errorf("decoded %+v, want retries %d", p, tc.retries)
			}
		})
	}
}

func TestLookup(t *testing.T) {
	tests := []struct {
		id, want string
		kind     registry.Kind
	}{
		{"base:FetchTicketsPipe", "base:FetchTicketsPipe", registry.KindPipe},
		{"  BASE:fetchticketspipe ", "base:FetchTicketsPipe", registry.KindPipe},
		{"otai_base:pipes.ticket_system_pipes.FetchTicketsPipe", "base:FetchTicketsPipe", registry.KindPipe},
		{"base:Note", "base:AddNotePipe", registry.KindPipe},
		{"base:RuleClassifier", "base:RuleClassifier", registry.KindClassifier},
		{"testsys:Memory", "testsys:Memory", registry.KindTicketSystem},
		{"regtest:alias", "regtest:Embedded", registry.KindPipe},
	}
	for _, tc := range tests {
		s, ok := registry.Lookup(tc.id)
		if !ok || s.ID != tc.want || s.Kind != tc.kind {
			t.Errorf("Lookup(%q) = %v, %v; want %s (%s)", tc.id, s, ok, tc.want, tc.kind)
		}
	}
	if _, ok := registry.Lookup("base:Nope"); ok {
		t.Error("Lookup(base:Nope) found something")
	}
}

func TestSuggest(t *testing.T) {
	tests := []struct {
		id    string
		kind  registry.Kind
		first string // "" : no suggestion
		not   string // must not be suggested
	}{
		{"base:FetchTicket", registry.KindPipe, "base:FetchTicketsPipe", ""},
		{"base:FetchTicket", "", "base:FetchTicketsPipe", ""},
		{"FetchTicket", registry.KindPipe, "base:FetchTicketsPipe", ""},
		{"base:fetchticketpipe", registry.KindPipe, "base:FetchTicketsPipe", ""},
		{"otai_base:pipes.ticket_system_pipes.FetchTicketPipe", registry.KindPipe, "base:FetchTicketsPipe", ""}, // typo in the name
		{"otai_base:pipes.ticket_sytem_pipes.FetchTicketsPipe", registry.KindPipe, "base:FetchTicketsPipe", ""}, // typo in the path
		{"otai_base:pipes.ticket_system_pipes.UpdateTicketPip", registry.KindPipe, "base:UpdateTicketPipe", ""}, // another one
		{"otai_base:pipes.classification_pipes.ClasificationPipe", registry.KindPipe, "base:ClassifyPipe", ""},  // and a classifier pipe
		{"base:RulesClassifier", registry.KindClassifier, "base:RuleClassifier", "base:ClassifyPipe"},           // kind filters
		{"base:FetchTicket", registry.KindClassifier, "", "base:FetchTicketsPipe"},                              // wrong kind: nothing
		{"testsys:Memroy", registry.KindTicketSystem, "testsys:Memory", ""},
		{"base:Expr", registry.KindPipe, "base:ExpressionPipe", ""}, // only a part of the name
		{"zzz:Qwertyuiop", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.id+"/"+string(tc.kind), func(t *testing.T) {
			got := registry.Suggest(tc.id, tc.kind)
			if len(got) > 3 {
				t.Errorf("%d suggestions, want at most 3", len(got))
			}
			if tc.first == "" && tc.not == "" && len(got) != 0 {
				t.Errorf("Suggest = %v, want none", got)
			}
			if tc.first != "" && (len(got) == 0 || got[0] != tc.first) {
				t.Errorf("Suggest = %v, want %s first", got, tc.first)
			}
			if tc.not != "" && slices.Contains(got, tc.not) {
				t.Errorf("Suggest = %v, must not contain %s", got, tc.not)
			}
			for _, id := range got {
				s, ok := registry.Lookup(id)
				if !ok || s.ID != id {
					t.Errorf("suggested %q is not a registered id", id)
				}
				if tc.kind != "" && s.Kind != tc.kind {
					t.Errorf("suggested %s is a %s", id, s.Kind)
				}
			}
		})
	}
}

func TestRegisterRejectsDuplicatesAndBadIDs(t *testing.T) {
	tests := []struct {
		name string
		info registry.Info
		want string
	}{
		{"duplicate id", registry.Info{ID: "base:FetchTicketsPipe"}, `"base:FetchTicketsPipe" registered twice`},
		// (a fresh id each time: a rejected registration may leave its id behind, and -count may run this again)
		{"duplicate alias, other case", registry.Info{ID: fmt.Sprintf("regtest:Other%d", time.Now().UnixNano()), Aliases: []string{"BASE:FETCH"}}, `"BASE:FETCH" registered twice`},
		{"no plugin prefix", registry.Info{ID: "NoPrefix"}, `must be plugin:Name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil || !strings.Contains(fmt.Sprint(p), tc.want) {
					t.Errorf("panic %v, want one containing %q", p, tc.want)
				}
			}()
			registry.RegisterPipe(tc.info, func(b registry.Build[embeddedParams]) (pipe.Pipe, error) { return nil, nil })
		})
	}
}

func TestSchema(t *testing.T) {
	b, err := json.Marshal(registry.Schema())
	if err != nil {
		t.Fatalf("Schema() is not JSON-encodable: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("Schema() JSON does not parse back: %v", err)
	}
	if doc["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", doc["$schema"])
	}
	text := string(b)
	all := registry.All()
	if len(all) < 10 {
		t.Fatalf("only %d components registered", len(all))
	}
	for _, s := range all {
		for _, id := range append([]string{s.ID}, s.Aliases...) {
			q, _ := json.Marshal(id)
			if !strings.Contains(text, string(q)) {
				t.Errorf("the schema does not mention %s", id)
			}
		}
	}
	// Every branch is an object with id and use; its use enum lists the id
	// and aliases; pipes and services are in their places.
	branches := map[string]map[string]any{}
	collect := func(list any, where string) {
		for _, b := range list.([]any) {
			m := b.(map[string]any)
			branches[m["title"].(string)] = m
			props := m["properties"].(map[string]any)
			if _, ok := props["id"]; !ok {
				t.Errorf("%s in %s has no id property", m["title"], where)
			}
		}
	}
	collect(doc["$defs"].(map[string]any)["pipe"].(map[string]any)["oneOf"], "pipes")
	collect(doc["properties"].(map[string]any)["services"].(map[string]any)["items"].(map[string]any)["oneOf"], "services")
	for _, s := range all {
		br, ok := branches[s.ID]
		if !ok {
			t.Errorf("no schema branch for %s", s.ID)
			continue
		}
		props := br["properties"].(map[string]any)
		var enum []string
		for _, e := range props["use"].(map[string]any)["enum"].([]any) {
			enum = append(enum, e.(string))
		}
		if !slices.Equal(enum, append([]string{s.ID}, s.Aliases...)) {
			t.Errorf("%s: use enum %v", s.ID, enum)
		}
		_, hasSteps := props["steps"]
		if hasSteps != s.Container {
			t.Errorf("%s: steps in schema %v, container %v", s.ID, hasSteps, s.Container)
		}
	}
	// Field details survive: defaults typed, enums, secrets write-only.
	note := branches["base:AddNotePipe"]["properties"].(map[string]any)["params"].(map[string]any)["properties"].(map[string]any)
	noteIn := note["note"].(map[string]any)["properties"].(map[string]any)
	if ct := noteIn["content_type"].(map[string]any); fmt.Sprint(ct["enum"]) != "[text/plain text/html]" || ct["default"] != "text/plain" {
		t.Errorf("note.content_type: %v", ct)
	}
	if in := noteIn["internal"].(map[string]any); in["default"] != true {
		t.Errorf("note.internal default %v (%T), want true", in["default"], in["default"])
	}
	fe := branches["base:ForEachTicketPipe"]["properties"].(map[string]any)["params"].(map[string]any)["properties"].(map[string]any)
	if c := fe["concurrency"].(map[string]any); c["default"] != float64(4) {
		t.Errorf("concurrency default %v (%T), want 4", c["default"], c["default"])
	}
	if req := branches["base:ForEachTicketPipe"]["properties"].(map[string]any)["params"].(map[string]any)["required"]; fmt.Sprint(req) != "[tickets]" {
		t.Errorf("for-each required %v", req)
	}
}
