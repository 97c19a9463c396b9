package zammad

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, _ := json.MarshalIndent(got, "", "  ")
	b = append(b, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != string(b) {
		t.Errorf("%s differs from golden:\n%s", name, b)
	}
}

func TestGoldenDecoding(t *testing.T) {
	raw, _ := os.ReadFile("testdata/ticket_expanded.json")
	var tk Ticket
	if err := json.Unmarshal(raw, &tk); err != nil {
		t.Fatal(err)
	}
	golden(t, "ticket_expanded", toUnified(&tk))

	raw, _ = os.ReadFile("testdata/search_old_shape.json")
	ts, err := decodeTickets(raw)
	if err != nil || len(ts) != 2 || ts[0].ID != 10 {
		t.Fatalf("old shape: %v %+v", err, ts)
	}
	arr, _ := json.Marshal([]json.RawMessage{json.RawMessage(`{"id":1,"title":"x"}`)})
	if ts, err := decodeTickets(arr); err != nil || len(ts) != 1 || ts[0].Title != "x" {
		t.Fatalf("array shape: %v %+v", err, ts)
	}

	raw, _ = os.ReadFile("testdata/article.json")
	var a Article
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatal(err)
	}
	golden(t, "article", noteToUnified(&a))
}

func TestQuoteES(t *testing.T) {
	if got := quoteES(`2nd "Level" \ x`); got != `"2nd \"Level\" \\ x"` {
		t.Fatalf("quote = %s", got)
	}
}
