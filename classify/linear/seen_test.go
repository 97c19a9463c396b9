package linear

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func TestSeenInTraining(t *testing.T) {
	train := synth(400, 11, 0.1)
	m, data := trainEncoded(t, train, smallOpts())
	l, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range train {
		// Case and white space do not hide a training text.
		for _, text := range []string{e.Text, strings.ToUpper(e.Text), "  " + strings.ReplaceAll(e.Text, " ", "\n ") + "\n"} {
			if seen, known := l.SeenInTraining(text); !seen || !known {
				t.Fatalf("training text %q: seen %v, known %v", text, seen, known)
			}
		}
	}
	trained := map[string]bool{}
	for _, e := range train {
		trained[Normalize(e.Text)] = true
	}
	fp, n := 0, 0
	for _, e := range synth(4000, 12, 0) {
		if trained[Normalize(e.Text)] {
			continue
		}
		n++
		if seen, _ := l.SeenInTraining(e.Text + " extra"); seen {
			fp++
		}
	}
	// Sized for 0.1%: 4 in 4000 expected; 20 would be a broken filter.
	if fp > 20 {
		t.Errorf("%d of %d unseen texts reported as seen (fp rate %.4f)", fp, n, l.Meta.TrainingTexts.FPRate)
	}
	if r := l.Meta.TrainingTexts.FPRate; r <= 0 || r > 0.002 {
		t.Errorf("fp rate %v", r)
	}

	// A model from before the filter existed does not know.
	m.Meta.TrainingTexts = nil
	if seen, known := m.SeenInTraining(train[0].Text); seen || known {
		t.Errorf("model without filter: seen %v, known %v", seen, known)
	}
}

func TestSeenFilterCorrupt(t *testing.T) {
	m, err := Train(context.Background(), synth(100, 13, 0.1), smallOpts())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{0, 17, -1} {
		m.Meta.TrainingTexts.K = k
		var buf bytes.Buffer
		if err := m.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(buf.Bytes()); !errors.Is(err, ErrCorrupt) {
			t.Errorf("k=%d: error %v, want ErrCorrupt", k, err)
		}
	}
}
