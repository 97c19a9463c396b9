// Package dataset reads labelled tickets from CSV and JSONL files for
// training and evaluating classifiers: column mapping, literal "\n" escapes,
// duplicate removal.
package dataset

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Options say which columns hold the text and the label.
type Options struct {
	// Text lists the columns joined (with a space) into the text; default
	// subject,body.
	Text []string
	// Label is the label column; empty means "no labels" (classify input).
	Label string
	// Map renames columns: {"subject": "title"} reads the subject from the
	// title column. Keys are the names used in Text and Label.
	Map map[string]string
	// Format is "csv", "jsonl" or "" (by extension: .jsonl/.ndjson/.json
	// are JSONL, everything else CSV).
	Format string
	// KeepEscapes leaves literal "\n" sequences alone (by default they
	// become newlines, as in the Tobi-Bueck exports).
	KeepEscapes bool
	// Dedupe drops rows whose text columns repeat an earlier row's.
	Dedupe bool
}

// Record is one row.
type Record struct {
	Text   string
	Label  string
	Fields map[string]string // every column, after escapes
	Line   int               // 1-based line (CSV record) number
}

// Stats says what Load skipped.
type Stats struct {
	Rows       int // rows read
	NoLabel    int // skipped: empty label
	NoText     int // skipped: empty text
	Duplicates int // skipped: duplicate text
}

// ErrColumn is returned (wrapped) when a requested column is missing.
var ErrColumn = errors.New("missing column")

// ParseMap parses "subject=title,queue=category" into a column map.
func ParseMap(s string) (map[string]string, error) {
	m := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("column map %q: want name=column", kv)
		}
		m[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return m, nil
}

// SplitList splits a comma list, trimming spaces and dropping empties.
func SplitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Load reads a CSV or JSONL file.
func Load(path string, o Options) ([]Record, Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, Stats{}, err
	}
	defer f.Close()
	if o.Format == "" {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".jsonl", ".ndjson", ".json":
			o.Format = "jsonl"
		default:
			o.Format = "csv"
		}
	}
	recs, st, err := Read(f, o)
	if err != nil {
		return nil, st, fmt.Errorf("%s: %w", path, err)
	}
	return recs, st, nil
}

// Read reads CSV or JSONL (o.Format; "" means CSV) from r.
func Read(r io.Reader, o Options) ([]Record, Stats, error) {
	if len(o.Text) == 0 {
		o.Text = []string{"subject", "body"}
	}
	col := func(name string) string {
		if v, ok := o.Map[name]; ok {
			return v
		}
		return name
	}
	var rows []map[string]string
	var lines []int
	var header []string
	switch strings.ToLower(o.Format) {
	case "", "csv":
		cr := csv.NewReader(bufio.NewReader(r))
		cr.FieldsPerRecord = -1
		h, err := cr.Read()
		if err == io.EOF {
			return nil, Stats{}, errors.New("empty file: no CSV header")
		}
		if err != nil {
			return nil, Stats{}, fmt.Errorf("csv header: %w", err)
		}
		if len(h) > 0 {
			h[0] = strings.TrimPrefix(h[0], "\ufeff")
		}
		for i := range h {
			h[i] = strings.TrimSpace(h[i])
		}
		header = h
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, Stats{}, fmt.Errorf("csv: %w", err)
			}
			line, _ := cr.FieldPos(0)
			m := make(map[string]string, len(h))
			for i, v := range rec {
				if i < len(h) {
					m[h[i]] = v
				}
			}
			rows = append(rows, m)
			lines = append(lines, line)
		}
	case "jsonl", "ndjson", "json":
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 0, 64<<10), 64<<20)
		seen := map[string]bool{}
		n := 0
		for sc.Scan() {
			n++
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			m, err := jsonRow(b)
			if err != nil {
				return nil, Stats{}, fmt.Errorf("line %d: %w", n, err)
			}
			for k := range m {
				if !seen[k] {
					seen[k] = true
					header = append(header, k)
				}
			}
			rows = append(rows, m)
			lines = append(lines, n)
		}
		if err := sc.Err(); err != nil {
			return nil, Stats{}, fmt.Errorf("jsonl: %w", err)
		}
		sort.Strings(header)
	default:
		return nil, Stats{}, fmt.Errorf("format %q: want csv or jsonl", o.Format)
	}
	// Check the columns exist (JSONL: in at least one row).
	have := map[string]bool{}
	for _, h := range header {
		have[h] = true
	}
	want := append([]string(nil), o.Text...)
	if o.Label != "" {
		want = append(want, o.Label)
	}
	for _, w := range want {
		if !have[col(w)] && len(rows) > 0 {
			name := col(w)
			if name != w {
				name = fmt.Sprintf("%s (mapped from %s)", name, w)
			}
			return nil, Stats{}, fmt.Errorf("%w %q; the file has: %s", ErrColumn, name, strings.Join(header, ", "))
		}
	}
	var out []Record
	st := Stats{Rows: len(rows)}
	seen := map[string]bool{}
	for k, m := range rows {
		if !o.KeepEscapes {
			for key, v := range m {
				m[key] = Unescape(v)
			}
		}
		parts := make([]string, 0, len(o.Text))
		empty := true
		for _, t := range o.Text {
			v := m[col(t)]
			if strings.TrimSpace(v) != "" {
				empty = false
			}
			parts = append(parts, v)
		}
		text := strings.Join(parts, " ")
		label := ""
		if o.Label != "" {
			label = strings.TrimSpace(m[col(o.Label)])
			if label == "" {
				st.NoLabel++
				continue
			}
		}
		if empty {
			st.NoText++
			continue
		}
		if o.Dedupe {
			key := strings.Join(trimAll(parts), "\x00")
			if seen[key] {
				st.Duplicates++
				continue
			}
			seen[key] = true
		}
		out = append(out, Record{Text: text, Label: label, Fields: m, Line: lines[k]})
	}
	return out, st, nil
}

func trimAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.TrimSpace(s)
	}
	return out
}

// Unescape turns the literal two-character sequences \n, \r\n and \t into
// a newline and a tab. Other backslashes are kept.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	s = strings.ReplaceAll(s, `\r\n`, "\n")
	s = strings.ReplaceAll(s, `\n`, "\n")
	return strings.ReplaceAll(s, `\t`, "\t")
}

// jsonRow flattens one JSON object into string fields. Strings are kept,
// numbers and booleans printed, objects with a "name" (ticket entities such
// as {"queue": {"name": "Billing"}}) give the name, other values their JSON.
func jsonRow(b []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	m := make(map[string]string, len(raw))
	for k, v := range raw {
		m[k] = jsonString(v)
	}
	return m, nil
}

func jsonString(v json.RawMessage) string {
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(v, &obj) == nil {
		if n, ok := obj["name"]; ok {
			return jsonString(n)
		}
	}
	if string(v) == "null" {
		return ""
	}
	return string(v)
}
