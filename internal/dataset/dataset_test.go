package dataset

import (
	"errors"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	in := "\ufeffsubject,body,queue,priority\n" +
		"Invoice,\"Hello,\\nI was charged twice\",Billing,high\n" +
		"Invoice,\"Hello,\\nI was charged twice\",Billing,high\n" +
		"Login,cannot log in,,low\n" +
		",,Billing,low\n" +
		"Server,\"multi\nline\",Technical,high\n"
	recs, st, err := Read(strings.NewReader(in), Options{Label: "queue", Dedupe: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || st.Duplicates != 1 || st.NoLabel != 1 || st.NoText != 1 || st.Rows != 5 {
		t.Fatalf("got %d records, stats %+v", len(recs), st)
	}
	if recs[0].Text != "Invoice Hello,\nI was charged twice" || recs[0].Label != "Billing" {
		t.Errorf("record 0 = %q / %q", recs[0].Text, recs[0].Label)
	}
	if recs[1].Text != "Server multi\nline" || recs[1].Line != 6 {
		t.Errorf("record 1 = %q line %d", recs[1].Text, recs[1].Line)
	}
	keep, _, _ := Read(strings.NewReader(in), Options{Label: "queue", KeepEscapes: true})
	if !strings.Contains(keep[0].Text, `\n`) {
		t.Errorf("KeepEscapes lost the escape: %q", keep[0].Text)
	}
}

func TestMapAndMissingColumn(t *testing.T) {
	in := "title,body,category\nVPN down,please help,4\n"
	m, err := ParseMap("subject=title, queue=category")
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := Read(strings.NewReader(in), Options{Label: "queue", Map: m})
	if err != nil || len(recs) != 1 || recs[0].Text != "VPN down please help" || recs[0].Label != "4" {
		t.Fatalf("%v %+v", err, recs)
	}
	_, _, err = Read(strings.NewReader(in), Options{Label: "queue"})
	if !errors.Is(err, ErrColumn) || !strings.Contains(err.Error(), "title, body, category") {
		t.Errorf("missing column error: %v", err)
	}
	if _, err := ParseMap("subject"); err == nil {
		t.Error("bad map accepted")
	}
}

func TestReadJSONL(t *testing.T) {
	in := `{"subject":"Refund","body":"money back","queue":{"id":"3","name":"Billing"},"priority":2}` + "\n\n" +
		`{"subject":"Crash","body":"app\\ncrashes","queue":"Technical","priority":1}` + "\n"
	recs, _, err := Read(strings.NewReader(in), Options{Format: "jsonl", Label: "queue"})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || recs[0].Label != "Billing" || recs[1].Text != "Crash app\ncrashes" || recs[0].Fields["priority"] != "2" {
		t.Fatalf("%+v", recs)
	}
	if _, _, err := Read(strings.NewReader("{not json\n"), Options{Format: "jsonl"}); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad JSON: %v", err)
	}
}
