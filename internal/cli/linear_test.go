package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otai-dev/otai/classify/linear"
	"github.com/otai-dev/otai/config"
	"github.com/otai-dev/otai/orchestrator"
)

// labelledCSV writes a small EN/DE data set with three queues.
func labelledCSV(t *testing.T, dir string, n int, seed uint64) string {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	words := map[string][]string{
		"Billing":   {"invoice", "refund", "charged", "Rechnung", "Zahlung", "Gutschrift"},
		"Technical": {"error", "crash", "login", "Fehler", "Absturz", "Passwort"},
		"Sales":     {"quote", "pricing", "licence", "Angebot", "Preis", "Lizenz"},
	}
	labels := []string{"Billing", "Technical", "Sales"}
	var b strings.Builder
	b.WriteString("subject,body,queue\n")
	for i := 0; i < n; i++ {
		l := labels[r.IntN(3)]
		w := words[l]
		fmt.Fprintf(&b, "%s %d,\"Hello team,\\n%s and %s, %s please\",%s\n", w[r.IntN(6)], i, w[r.IntN(6)], w[r.IntN(6)], "thanks", l)
	}
	path := filepath.Join(dir, fmt.Sprintf("data%d.csv", seed))
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTrainEvalClassify(t *testing.T) {
	dir := t.TempDir()
	train := labelledCSV(t, dir, 300, 1)
	test := labelledCSV(t, dir, 100, 2)
	model := filepath.Join(dir, "queue.model")

	code, out, errs := otai(t, "train", "--data", train, "--text", "subject,body", "--label", "queue", "-o", model)
	if code != ExitOK || !strings.Contains(out, "wrote") || !strings.Contains(out, "3 labels") {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = otai(t, "eval", "--model", model, "--data", test, "--report", filepath.Join(dir, "r.html"))
	if code != ExitOK || !strings.Contains(out, "macro-F1") || !strings.Contains(out, "confusion matrix") {
		t.Fatalf("eval: exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("eval on new data warns about training data:\n%s", out)
	}
	var acc float64
	fmt.Sscanf(out[strings.Index(out, "accuracy:")+len("accuracy:"):], "%f", &acc)
	if acc < 0.9 {
		t.Errorf("accuracy %.3f on held-out synthetic data\n%s", acc, out)
	}
	html, err := os.ReadFile(filepath.Join(dir, "r.html"))
	if err != nil || !bytes.Contains(html, []byte("<svg")) || bytes.Contains(html, []byte("http://")) && !bytes.Contains(html, []byte("http://www.w3.org/2000/svg")) {
		t.Errorf("report missing or not self-contained (%v)", err)
	}
	// Scored on its own training data (and some new rows), eval says so
	// and scores the new rows apart.
	mixed := filepath.Join(dir, "mixed.csv")
	tr, _ := os.ReadFile(train)
	te, _ := os.ReadFile(test)
	os.WriteFile(mixed, append(tr, te[bytes.IndexByte(te, '\n')+1:]...), 0o644)
	code, out, errs = otai(t, "eval", "--model", model, "--data", mixed, "--report", filepath.Join(dir, "m.html"))
	if code != ExitOK || !strings.Contains(out, "warning:   300 of 400 rows (75%) were among the model's training examples, so these scores are optimistic; on the other 100 rows: accuracy") {
		t.Errorf("eval on training data: exit %d\n%s\n%s", code, out, errs)
	}
	if html, _ := os.ReadFile(filepath.Join(dir, "m.html")); !bytes.Contains(html, []byte(`id="seen-warning"`)) {
		t.Errorf("the HTML report does not carry the warning")
	}
	code, out, errs = otai(t, "eval", "--model", model, "--data", train, "--json")
	if code != ExitOK || !strings.Contains(errs, "warning: 300 of 300 rows (100%)") || !strings.Contains(errs, "score the model on tickets it was not trained on (training held out") || !strings.Contains(out, `"seen_in_training"`) {
		t.Errorf("eval --json on training data: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, _ = otai(t, "eval", "--model", model, "--data", test, "--json")
	var rep struct {
		Accuracy  float64 `json:"accuracy"`
		Confusion [][]int `json:"confusion"`
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Confusion) != 3 {
		t.Errorf("eval --json: exit %d %s", code, out)
	}

	code, out, _ = otai(t, "classify", "--model", model, "Die Rechnung ist falsch, bitte Gutschrift")
	if code != ExitOK || !strings.HasPrefix(out, "Billing") || len(strings.Split(strings.TrimSpace(out), "\n")) != 3 {
		t.Errorf("classify: exit %d\n%s", code, out)
	}
	var sout, serr bytes.Buffer
	stdin := "server crash error\n\n{\"subject\":\"Angebot\",\"body\":\"Preis für Lizenz\"}\n"
	code = MainContext(context.Background(), []string{"classify", "--model", model, "--json", "-k", "2"}, strings.NewReader(stdin), &sout, &serr)
	lines := strings.Split(strings.TrimSpace(sout.String()), "\n")
	if code != ExitOK || len(lines) != 2 || !strings.Contains(lines[0], `"label":"Technical"`) || !strings.Contains(lines[1], `"label":"Sales"`) {
		t.Errorf("classify stdin: exit %d\n%s\n%s", code, sout.String(), serr.String())
	}
}

func TestLinearExitCodes(t *testing.T) {
	dir := t.TempDir()
	data := labelledCSV(t, dir, 50, 3)
	bad := filepath.Join(dir, "bad.model")
	os.WriteFile(bad, []byte("OTAILIN\x00\x07\x00garbage"), 0o644)
	oneLabel := filepath.Join(dir, "one.csv")
	os.WriteFile(oneLabel, []byte("subject,body,queue\na,b,X\nc,d,X\ne,f,X\ng,h,X\ni,j,X\n"), 0o644)
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"train", "--data", data}, ExitUsage, "-o"},
		{[]string{"train", "-o", filepath.Join(dir, "m")}, ExitUsage, "--data"},
		{[]string{"train", "--data", data, "--label", "nope", "-o", filepath.Join(dir, "m")}, ExitUsage, "missing column"},
		{[]string{"train", "--data", filepath.Join(dir, "none.csv"), "-o", filepath.Join(dir, "m")}, ExitEnv, "no such file"},
		{[]string{"train", "--data", oneLabel, "-o", filepath.Join(dir, "m")}, ExitFailure, "too few examples"},
		{[]string{"train", "--data", data, "--map", "oops", "-o", filepath.Join(dir, "m")}, ExitUsage, "--map"},
		{[]string{"classify", "--model", filepath.Join(dir, "none.model"), "x"}, ExitEnv, "no such file"},
		{[]string{"classify", "--model", bad, "x"}, ExitFailure, "version 7"},
		{[]string{"classify", "x"}, ExitUsage, "--model"},
		{[]string{"eval", "--model", bad, "--data", data}, ExitFailure, "version"},
	} {
		code, _, errs := otai(t, c.args...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("otai %v: exit %d, want %d with %q\n%s", c.args, code, c.code, c.msg, errs)
		}
	}
}

// TestEvalOldModel: a model written before models recorded their training
// texts cannot tell; eval says so instead of staying silent.
func TestEvalOldModel(t *testing.T) {
	train, model := trainedModel(t, 120, 3)
	m, err := linear.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	m.Meta.TrainingTexts = nil
	if err := m.Save(model); err != nil {
		t.Fatal(err)
	}
	code, out, errs := otai(t, "eval", "--model", model, "--data", train)
	if code != ExitOK || !strings.Contains(out, "warning:   the model keeps no record of its training texts") {
		t.Errorf("eval of an old model: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(out, "trained:   ") || !strings.Contains(out, "on 120 examples of 3 labels") {
		t.Errorf("eval does not show how the model was trained:\n%s", out)
	}
}

// TestEvalWrongLabelColumn: scored on a column none of whose values the
// model knows, eval asks whether --label is right.
func TestEvalWrongLabelColumn(t *testing.T) {
	train, model := trainedModel(t, 60, 4)
	code, _, errs := otai(t, "eval", "--model", model, "--data", train, "--label", "subject")
	if code != ExitOK || !strings.Contains(errs, `warning: none of the 60 rows has a label the model knows (Billing, Sales, Technical): is --label "subject" the column the model learned?`) {
		t.Errorf("exit %d\n%s", code, errs)
	}
	if _, _, errs := otai(t, "eval", "--model", model, "--data", train); strings.Contains(errs, "none of the") {
		t.Errorf("warned with the right column:\n%s", errs)
	}
}

func TestRareLabels(t *testing.T) {
	if got := rareLabels(nil); got != "" {
		t.Errorf("rareLabels(nil) = %q", got)
	}
	got := rareLabels(map[string]int{"Sales": 1, "HR": 1})
	if want := `, 2 with a label too rare to learn: "HR" (1), "Sales" (1)`; got != want {
		t.Errorf("rareLabels = %q, want %q", got, want)
	}
}

// TestEvalFromTicketSystem scores the demo's queue model on the demo help
// desk's closed tickets: the ones it was trained on, recognised as such.
// The model path is found in the data directory, as the config names it.
func TestEvalFromTicketSystem(t *testing.T) {
	dir := demoDir(t)
	code, out, errs := otai(t, "eval", "--model", "models/queue.model", "--from", "local", "--data-dir", dir)
	if code != ExitOK || !strings.Contains(errs, "read 360 tickets from local: 360 with a queue (0 without)") ||
		!strings.Contains(out, "data:      ticket system local (closed tickets)") ||
		!strings.Contains(out, "warning:   360 of 360 rows (100%) were among the model's training examples") {
		t.Errorf("eval --from: exit %d\n%s\n%s", code, out, errs)
	}
	code, out, errs = otai(t, "eval", "--model", "models/priority.model", "--from", "local", "--state", "new", "--since", "3650d", "--data-dir", dir)
	if code != ExitOK || !strings.Contains(out, "data:      ticket system local (new tickets, updated within 3650d)") || strings.Contains(out, "warning:") {
		t.Errorf("eval --from --state new: exit %d\n%s\n%s", code, out, errs)
	}
	for _, args := range [][]string{
		{"eval", "--model", "models/queue.model", "--data-dir", dir},
		{"eval", "--model", "models/queue.model", "--from", "local", "--data", "x.csv", "--data-dir", dir},
	} {
		if code, _, errs := otai(t, args...); code != ExitUsage || !strings.Contains(errs, "give either --data FILE or --from SERVICE_ID") {
			t.Errorf("%v: exit %d\n%s", args, code, errs)
		}
	}
	if code, _, errs := otai(t, "eval", "--model", "models/queue.model", "--from", "nope", "--data-dir", dir); code != ExitUsage || !strings.Contains(errs, "--from") {
		t.Errorf("unknown ticket system: exit %d\n%s", code, errs)
	}
}

// trainedModel writes n labelled rows (labelledCSV with seed) and trains a
// queue model on them; it returns both paths.
func trainedModel(t *testing.T, n int, seed uint64) (data, model string) {
	t.Helper()
	dir := t.TempDir()
	data = labelledCSV(t, dir, n, seed)
	model = filepath.Join(dir, "q.model")
	if code, out, errs := otai(t, "train", "--data", data, "--label", "queue", "-o", model); code != ExitOK {
		t.Fatalf("train: exit %d\n%s\n%s", code, out, errs)
	}
	return data, model
}

// TestModelViews: the status page learns each classifier's model and how
// it was trained.
func TestModelViews(t *testing.T) {
	_, model := trainedModel(t, 120, 5)
	src := "services:\n  - id: clf\n    use: base:LinearClassifier\n    params: {model: '" + model + "'}\n  - id: rules\n    use: base:RuleClassifier\n    params: {rules: [{label: Billing, keywords: [invoice]}]}\n"
	file, err := config.Parse("c.yml", []byte(src), config.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := orchestrator.Build(context.Background(), file, orchestrator.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ms := modelViews(eng, file)
	if len(ms) != 2 || ms[1].Service != "rules" || ms[1].HeldOut != 0 || ms[0].Service != "clf" || ms[0].Name != "linear/queue" || ms[0].Labels != 3 || ms[0].Examples != 120 ||
		ms[0].HeldOut == 0 || ms[0].Accuracy <= 0 || ms[0].TrainedAt.IsZero() {
		t.Errorf("model views: %+v", ms)
	}
}

// train reports what became of the memory of training tickets, and
// --neighbours=false writes the linear model alone, as a version 1 file.
func TestTrainNeighboursFlag(t *testing.T) {
	dir := t.TempDir()
	data := labelledCSV(t, dir, 300, 1)
	model := filepath.Join(dir, "queue.model")
	code, out, errs := otai(t, "train", "--data", data, "--text", "subject,body", "--label", "queue", "-o", model)
	if code != ExitOK || !strings.Contains(out, "\nmemory: none kept (30 held-out examples are too few") {
		t.Fatalf("train: exit %d, no memory line for a small data set\n%s\n%s", code, out, errs)
	}
	code, out, errs = otai(t, "train", "--data", data, "--text", "subject,body", "--label", "queue", "--neighbours=false", "-o", model)
	if code != ExitOK || strings.Contains(out, "memory:") {
		t.Fatalf("train --neighbours=false: exit %d\n%s\n%s", code, out, errs)
	}
	b, err := os.ReadFile(model)
	if err != nil || len(b) < 10 {
		t.Fatalf("reading the model: %d bytes, %v", len(b), err)
	}
	if b[8] != 1 || b[9] != 0 {
		t.Errorf("--neighbours=false wrote format version %v, want 1", b[8:10])
	}
}
