package linear

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// withRepeats adds to synthetic data a ticket labelled Technical in HR's
// words, whose rare words each also occur in HR tickets. A linear model
// follows the words; the memory follows the past ticket.
func withRepeats() []Example {
	ex := synth(400, 11, 0.05)
	// The rare words alone say HR.
	for _, w := range []string{"zebra", "xylophone", "delivery", "Nordstadt", "branch"} {
		for k := 0; k < 3; k++ {
			ex = append(ex, Example{Text: w + " vacation salary payslip please " + []string{"hello", "thanks", "team"}[k], Label: "HR"})
		}
	}
	return append(ex,
		Example{Text: "Zebra xylophone delivery to the Nordstadt branch: salary vacation contract payslip Urlaub Gehalt", Label: "Technical"},
	)
}

// memOpts fixes the neighbours' strength instead of choosing it on the
// held-out slice.
func memOpts() TrainOptions {
	o := smallOpts()
	o.Neighbours.Beta = 16
	return o
}

const reworded = "zebra xylophone delivery for the Nordstadt branch: vacation salary contract payslip Urlaub Gehalt"

func TestNeighboursRecallRecurringTicket(t *testing.T) {
	on, err := Train(context.Background(), withRepeats(), memOpts())
	if err != nil {
		t.Fatal(err)
	}
	offOpts := smallOpts()
	offOpts.Neighbours.Beta = -1
	off, err := Train(context.Background(), withRepeats(), offOpts)
	if err != nil {
		t.Fatal(err)
	}
	if off.nb != nil {
		t.Fatal("beta -1 still built a memory")
	}
	if got := off.Predict(reworded, 1)[0].Label; got != "HR" {
		t.Fatalf("without neighbours %q is %s, want HR (the test needs a ticket the words get wrong); %v", reworded, got, off.Predict(reworded, 0))
	}
	if got := on.Predict(reworded, 1)[0]; got.Label != "Technical" {
		t.Errorf("with neighbours %q is %+v, want Technical like the ticket it rewords", reworded, got)
	}
	// A ticket like no other is left to the linear part.
	for _, text := range []string{"refund invoice payment please", "login error server crash"} {
		a, b := on.Probabilities(text), off.Probabilities(text)
		if on.Predict(text, 1)[0].Label != off.Predict(text, 1)[0].Label {
			t.Errorf("%q: neighbours changed the label (%v vs %v)", text, a, b)
		}
	}
	if on.Meta.Metrics["ece"] > 0.15 || on.Meta.Metrics["accuracy"] < 0.8 {
		t.Errorf("held-out metrics with neighbours: %v", on.Meta.Metrics)
	}
}

func TestNeighboursFile(t *testing.T) {
	_, good := trainEncoded(t, withRepeats(), memOpts())
	if v := binary.LittleEndian.Uint16(good[8:]); v != 2 {
		t.Fatalf("a model with a memory is written as version %d, want 2", v)
	}
	l, err := Decode(good)
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Predict(reworded, 1)[0].Label; got != "Technical" {
		t.Errorf("loaded model forgot the memory: %s", got)
	}

	off := smallOpts()
	off.Neighbours.Beta = -1
	_, v1 := trainEncoded(t, withRepeats(), off)
	if v := binary.LittleEndian.Uint16(v1[8:]); v != 1 {
		t.Errorf("a model without a memory is written as version %d, want 1 (older otai reads it)", v)
	}
	if _, err := Decode(v1); err != nil {
		t.Errorf("version 1 file: %v", err)
	}
	// The version must match the header: a version 1 file claiming a
	// memory, or a version 2 file without one, is corrupt.
	lie := bytes.Clone(v1)
	lie[8] = 2
	if _, err := Decode(lie); !errors.Is(err, ErrCorrupt) {
		t.Errorf("version 2 without memory: %v, want ErrCorrupt", err)
	}
	lie = bytes.Clone(good)
	lie[8] = 1
	if _, err := Decode(lie); !errors.Is(err, ErrCorrupt) {
		t.Errorf("version 1 with memory: %v, want ErrCorrupt", err)
	}
	// Every single-byte change to the memory tables is caught.
	for i := len(good) - 60; i < len(good)-4; i += 7 {
		b := bytes.Clone(good)
		b[i] ^= 0x10
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("byte %d flipped: %v, want ErrCorrupt", i, err)
		}
	}
}

func TestNeighboursTablesChecked(t *testing.T) {
	m, err := Train(context.Background(), withRepeats(), memOpts())
	if err != nil {
		t.Fatal(err)
	}
	space, nc := 1<<(m.Features.HashBits-1), len(m.Labels)
	cases := map[string]func(nb *neighbours){
		"label out of range":     func(nb *neighbours) { nb.Label[0] = uint16(nc) },
		"posting beyond tickets": func(nb *neighbours) { nb.Doc[0] = uint32(len(nb.Label)) },
		"weight above 1":         func(nb *neighbours) { nb.Val[0] = 3 },
		"n-grams unsorted":       func(nb *neighbours) { nb.Buckets[0], nb.Buckets[1] = nb.Buckets[1], nb.Buckets[0] },
		"n-gram out of range":    func(nb *neighbours) { nb.Buckets[len(nb.Buckets)-1] = uint32(space) },
		"idf not positive":       func(nb *neighbours) { nb.IDF[0] = 0 },
		"idf table short":        func(nb *neighbours) { nb.IDF = nb.IDF[1:] },
		"offsets decreasing":     func(nb *neighbours) { nb.Ptr[1] = nb.Ptr[2] + 1 },
		"threshold 1":            func(nb *neighbours) { nb.Tau = 1 },
		"negative weight":        func(nb *neighbours) { nb.Beta = -2 },
	}
	for name, spoil := range cases {
		nb := *m.nb
		nb.Buckets = append([]uint32(nil), nb.Buckets...)
		nb.IDF = append([]float32(nil), nb.IDF...)
		nb.Ptr = append([]uint32(nil), nb.Ptr...)
		nb.Doc = append([]uint32(nil), nb.Doc...)
		nb.Val = append([]float32(nil), nb.Val...)
		nb.Label = append([]uint16(nil), nb.Label...)
		spoil(&nb)
		if err := nb.init(space, nc); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestNeighbourOptionsValidated(t *testing.T) {
	for _, o := range []NeighbourOptions{{MaxDF: 1.5}, {Tau: 1}, {Tau: -0.1}, {Beta: 5000}, {MaxDocs: 1}} {
		opts := smallOpts()
		opts.Neighbours = o
		if _, err := Train(context.Background(), synth(100, 3, 0), opts); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

// With Beta 0 the memory is kept only when it sets more held-out labels
// right than wrong (TestChooseBeta has the cases); where similar tickets
// carry unrelated labels it only misleads and is left out.
func TestNeighboursAutoLeavesOutMisleadingMemory(t *testing.T) {
	// 1,200 tickets: a held-out slice of 120, enough for auto to judge.
	ex := synth(1200, 3, 0.1)
	r := rand.New(rand.NewPCG(5, 9))
	// 240 templates of rare words, each appended to about 5 tickets
	// whatever their label.
	for i := range ex {
		k := r.IntN(240)
		ex[i].Text += fmt.Sprintf(" order%d site%d ref%d model%d batch%d", k, k, k, k, k)
	}
	m, err := Train(context.Background(), ex, smallOpts())
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := m.Meta.Metrics["neighbour_beta"]; !ok || b != 0 || m.nb != nil {
		t.Errorf("auto kept a misleading memory: beta %v (recorded %v), memory %v", b, ok, m.nb != nil)
	}
	// The misleading memory forced on scores worse on the held-out slice.
	forced, err := Train(context.Background(), ex, memOpts())
	if err != nil {
		t.Fatal(err)
	}
	if forced.Meta.Metrics["nll"] <= m.Meta.Metrics["nll"] {
		t.Errorf("held-out NLL with the memory %v, without %v: the test data does not mislead", forced.Meta.Metrics["nll"], m.Meta.Metrics["nll"])
	}
}

// Without a held-out slice there is nothing to choose the strength on, and
// on one under 100 examples too little: auto keeps no memory.
func TestNeighboursAutoNeedsHeldOut(t *testing.T) {
	o := smallOpts()
	o.Holdout = -1
	m, err := Train(context.Background(), withRepeats(), o)
	if err != nil {
		t.Fatal(err)
	}
	if m.nb != nil {
		t.Error("memory kept without a held-out slice to choose its strength on")
	}
	// 417 examples: a held-out slice of 42.
	if m, err = Train(context.Background(), withRepeats(), smallOpts()); err != nil || m.nb != nil || m.Meta.Metrics["neighbour_beta"] != 0 {
		t.Errorf("memory kept on %v held-out examples (err %v)", m.Meta.Metrics["holdout"], err)
	}
	o.Neighbours.Beta = 16
	if m, err = Train(context.Background(), withRepeats(), o); err != nil || m.nb == nil {
		t.Errorf("a fixed strength without held-out slice: memory %v, err %v", m != nil && m.nb != nil, err)
	}
}

// The memory keeps n-grams in at least 2 tickets and at most MaxDF of them
// and at most MaxDocs: on a big help desk a look-up stays short.
func TestNeighboursMemoryNgramRange(t *testing.T) {
	const n = 400
	grams := make([][]uint32, n)
	cnt := make([][]float32, n)
	for i := range grams {
		grams[i] = []uint32{1} // in every ticket
		if i < 10 {
			grams[i] = append(grams[i], 2) // in 10
		}
		if i < 11 {
			grams[i] = append(grams[i], 3) // in 11
		}
		if i == 0 {
			grams[i] = append(grams[i], 4) // in 1
		}
		if i%100 == 0 {
			grams[i] = append(grams[i], 5) // in 4
		}
		for range grams[i] {
			cnt[i] = append(cnt[i], 1)
		}
	}
	o := DefaultNeighbourOptions()
	cases := []struct {
		maxDF   float64
		maxDocs int
		want    []uint32
	}{
		{1, 10, []uint32{2, 5}},
		{1, 11, []uint32{2, 3, 5}},
		{0.01, 100, []uint32{5}}, // 1% of 400 = 4 tickets
		{1, 1000, []uint32{1, 2, 3, 5}},
	}
	for _, c := range cases {
		o.MaxDF, o.MaxDocs = c.maxDF, c.maxDocs
		nb, md := newMemory(grams, cnt, 16, Features{Sublinear: true}, o)
		if fmt.Sprint(nb.Buckets) != fmt.Sprint(c.want) {
			t.Errorf("max_df %g, max_docs %d: n-grams %v, want %v", c.maxDF, c.maxDocs, nb.Buckets, c.want)
		}
		if len(md.ptr) != n+1 {
			t.Errorf("%d ticket rows, want %d", len(md.ptr)-1, n)
		}
	}
}

// chooseBeta keeps the memory only where it sets held-out labels right.
func TestChooseBeta(t *testing.T) {
	const n, nc = 200, 3
	y := make([]int, n)
	logits := make([]float64, n*nc)
	for r := range y {
		y[r] = r % nc
		c := y[r]
		if r < 10 { // the words get these wrong
			c = (y[r] + 1) % nc
			logits[r*nc+y[r]] = 1
		}
		logits[r*nc+c] += 2
	}
	push := func(rows func(r int) bool, class func(r int) int) []float64 {
		p := make([]float64, n*nc)
		for r := range y {
			if rows(r) {
				p[r*nc+class(r)] = 0.5
			}
		}
		return p
	}
	wrong := func(r int) bool { return r < 10 }
	right := func(r int) bool { return r >= 10 }
	truth := func(r int) int { return y[r] }
	other := func(r int) int { return (y[r] + 2) % nc }
	cases := []struct {
		name     string
		push     []float64
		beta     float64
		wantKept bool
	}{
		{"no memory", nil, 0, false},
		{"sets the wrong ones right", push(wrong, truth), 0, true},
		{"only makes right ones surer", push(right, truth), 0, false},
		{"misleads", push(func(r int) bool { return r >= 10 && r < 40 }, other), 0, false},
		{"fixed strength, only surer", push(right, truth), 16, true},
	}
	for _, c := range cases {
		b, temp, m := chooseBeta(logits, c.push, y, nc, c.beta)
		if (b > 0) != c.wantKept || m == nil || !(temp > 0) {
			t.Errorf("%s: beta %v, temperature %v, metrics %v; want memory kept %v", c.name, b, temp, m, c.wantKept)
		}
		if c.beta > 0 && b != c.beta {
			t.Errorf("%s: fixed strength %v became %v", c.name, c.beta, b)
		}
		if c.wantKept && c.beta == 0 && m["accuracy"] < 0.99 {
			t.Errorf("%s: held-out accuracy %v with the memory, want the 10 wrong ones set right", c.name, m["accuracy"])
		}
	}
	// Without the memory's evidence, the likelihood alone would have kept
	// it: the test's "only makes right ones surer" case is a real temptation.
	_, _, base := chooseBeta(logits, nil, y, nc, 0)
	_, _, surer := chooseBeta(logits, push(right, truth), y, nc, 16)
	if surer["nll"] >= base["nll"] {
		t.Errorf("held-out NLL %v with a memory that only adds confidence, %v without: the case tests nothing", surer["nll"], base["nll"])
	}
}

func TestRankIndex(t *testing.T) {
	const space = 1 << 12
	r := rand.New(rand.NewPCG(8, 8))
	var sorted []uint32
	in := map[uint32]int32{}
	for b := uint32(0); b < space; b++ {
		if r.IntN(7) == 0 || b == 0 || b == space-1 || b == 63 || b == 64 {
			in[b] = int32(len(sorted))
			sorted = append(sorted, b)
		}
	}
	ri := newRankIndex(sorted, space)
	for b := uint32(0); b < space; b++ {
		want, ok := in[b]
		if !ok {
			want = -1
		}
		if got := ri.slot(b); got != want {
			t.Fatalf("slot(%d) = %d, want %d", b, got, want)
		}
	}
}
