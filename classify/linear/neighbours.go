package linear

import (
	"fmt"
	"math"
	"math/bits"
)

// Neighbours make the model remember its training tickets: a ticket much
// like one it was trained on (a repeat, a follow-up, one written from the
// same template) is pushed towards that ticket's label. A linear model
// averages such cases away; on the EN/DE benchmark data the push raises
// cross-validated macro-F1 by about 0.02 for priority, whose labels the
// words predict only loosely, and a little for queue (bench/linear).
//
// Similarity is the cosine between TF-IDF vectors over the rare word
// n-grams only (those in at most MaxDF of the training tickets): two
// tickets share rare word sequences when one is a rewording of the other,
// while the common words every ticket shares say nothing. For each label,
// the most similar training ticket with that label adds
// Beta * max(0, similarity - Tau) to the label's calibrated logit.
type NeighbourOptions struct {
	// MaxDF is the largest share of training tickets a word n-gram may
	// occur in to count (default 0.02).
	MaxDF float64 `json:"max_df"`
	// MaxDocs caps the same in tickets (default 100), so that on a large
	// help desk a new ticket's look-up stays short: each of its n-grams is
	// in at most MaxDocs memory tickets.
	MaxDocs int `json:"max_docs,omitempty"`
	// Tau is the similarity a neighbour must exceed to count (default 0.2).
	Tau float64 `json:"tau"`
	// Beta scales the push. 0 (the default) chooses it on the held-out
	// slice, with a memory of the other training tickets: of 2, 4, 8, 16
	// and 32, among those that set more held-out labels right than wrong,
	// the one that gives the held-out labels the highest likelihood. If
	// none does, the model keeps no memory; with a held-out slice under
	// 100 examples (about 1,000 training examples) or none, neither.
	// Negative turns neighbours off.
	Beta float64 `json:"beta"`
}

// DefaultNeighbourOptions are the settings chosen by cross-validation on
// the EN/DE training split (bench/linear/README.md, round 6).
func DefaultNeighbourOptions() NeighbourOptions {
	return NeighbourOptions{MaxDF: 0.02, MaxDocs: 100, Tau: 0.2}
}

func (o *NeighbourOptions) fill() {
	d := DefaultNeighbourOptions()
	if o.MaxDF == 0 {
		o.MaxDF = d.MaxDF
	}
	if o.MaxDocs == 0 {
		o.MaxDocs = d.MaxDocs
	}
	if o.Tau == 0 {
		o.Tau = d.Tau
	}
}

func (o NeighbourOptions) off() bool { return o.Beta < 0 }

func (o NeighbourOptions) validate() error {
	switch {
	case o.off():
		return nil
	case !(o.MaxDF > 0 && o.MaxDF <= 1):
		return fmt.Errorf("neighbours max_df %g out of range (0, 1]", o.MaxDF)
	case o.MaxDocs < 2:
		return fmt.Errorf("neighbours max_docs %d: want at least 2", o.MaxDocs)
	case !(o.Tau >= 0 && o.Tau < 1):
		return fmt.Errorf("neighbours tau %g out of range [0, 1)", o.Tau)
	case !(o.Beta <= 1000):
		return fmt.Errorf("neighbours beta %g out of range [0, 1000]", o.Beta)
	}
	return nil
}

// neighbours is the memory of training tickets: an inverted index from
// rare word unigrams and bigrams (hashed in a space of their own) to the
// tickets holding them, each ticket's TF-IDF vector over them
// L2-normalised.
type neighbours struct {
	Tau, Beta float64
	Buckets   []uint32  // hashed n-grams in the memory, ascending
	IDF       []float32 // per bucket
	Ptr       []uint32  // postings of Buckets[k]: Doc[Ptr[k]:Ptr[k+1]]
	Doc       []uint32  // ticket index
	Val       []float32 // the ticket's normalised weight of the n-gram
	Label     []uint16  // label index per ticket

	slot rankIndex // hashed n-gram -> index into Buckets
}

// rankIndex maps a hashed n-gram to its index in the sorted Buckets: a
// bit per hash value and the number of set bits before each 64-bit word.
// For 2^18 hash values it takes 48 KB, where an int32 table would take
// 1 MB, and a ticket's look-ups then stay in the cache.
type rankIndex struct {
	bits   []uint64
	before []uint32
}

func newRankIndex(sorted []uint32, space int) rankIndex {
	words := (space + 63) / 64
	r := rankIndex{bits: make([]uint64, words), before: make([]uint32, words)}
	for _, b := range sorted {
		r.bits[b>>6] |= 1 << (b & 63)
	}
	var n uint32
	for w, x := range r.bits {
		r.before[w] = n
		n += uint32(bits.OnesCount64(x))
	}
	return r
}

// slot returns the index of hashed n-gram b (below the space size), or -1.
func (r *rankIndex) slot(b uint32) int32 {
	w, bit := b>>6, uint64(1)<<(b&63)
	x := r.bits[w]
	if x&bit == 0 {
		return -1
	}
	return int32(r.before[w] + uint32(bits.OnesCount64(x&(bit-1))))
}

// memRows are the training tickets' vectors over the memory's n-grams
// (slots), L2-normalised, as CSR.
type memRows struct {
	ptr  []int
	cols []int32
	vals []float32
}

// newMemory picks the n-grams for the memory from the training tickets'
// hashed unigrams and bigrams (grams[i] with counts cnt[i]): those in at
// least 2 and at most MaxDF of the n tickets, and in at most MaxDocs. It
// returns the memory without tickets and every ticket's vector.
func newMemory(grams [][]uint32, cnt [][]float32, space int, f Features, o NeighbourOptions) (*neighbours, *memRows) {
	n := len(grams)
	df := make([]int32, space)
	for _, g := range grams {
		for _, b := range g {
			df[b]++
		}
	}
	limit := int32(max(2, min(o.MaxDocs, int(o.MaxDF*float64(n)))))
	nb := &neighbours{Tau: o.Tau, Beta: o.Beta}
	for b, c := range df {
		if c >= 2 && c <= limit {
			nb.Buckets = append(nb.Buckets, uint32(b))
			nb.IDF = append(nb.IDF, float32(math.Log(float64(1+n)/float64(1+c))+1))
		}
	}
	nb.slot = newRankIndex(nb.Buckets, space)
	md := &memRows{ptr: make([]int, n+1)}
	var s nbScratch
	for i, g := range grams {
		nb.vector(&s, g, cnt[i], f.Sublinear)
		var ss float64
		for _, v := range s.vals {
			ss += float64(v) * float64(v)
		}
		if ss > 0 {
			inv := float32(1 / math.Sqrt(ss))
			for k := range s.vals {
				s.vals[k] *= inv
			}
		}
		md.cols = append(md.cols, s.slots...)
		md.vals = append(md.vals, s.vals...)
		md.ptr[i+1] = len(md.cols)
	}
	return nb, md
}

// withTickets returns a copy of the memory holding the given rows of md
// (labels y). Tickets without any memory n-gram are left out.
func (nb *neighbours) withTickets(md *memRows, y []int, rows []int) *neighbours {
	out := &neighbours{Tau: nb.Tau, Beta: nb.Beta, Buckets: nb.Buckets, IDF: nb.IDF, slot: nb.slot}
	count := make([]uint32, len(nb.Buckets)+1)
	for _, i := range rows {
		for _, j := range md.cols[md.ptr[i]:md.ptr[i+1]] {
			count[j+1]++
		}
	}
	for k := 1; k < len(count); k++ {
		count[k] += count[k-1]
	}
	out.Ptr = append([]uint32(nil), count...)
	out.Doc = make([]uint32, count[len(count)-1])
	out.Val = make([]float32, len(out.Doc))
	for _, i := range rows {
		lo, hi := md.ptr[i], md.ptr[i+1]
		if lo == hi {
			continue
		}
		doc := uint32(len(out.Label))
		out.Label = append(out.Label, uint16(y[i]))
		for k := lo; k < hi; k++ {
			j := md.cols[k]
			p := count[j]
			count[j]++
			out.Doc[p], out.Val[p] = doc, md.vals[k]
		}
	}
	return out
}

// heldOutMemory is the memory the calibration fit would have had: the
// n-grams chosen on the training rows only (grams and counts per ticket,
// as newMemory takes them), holding those rows, at Beta 1.
func heldOutMemory(grams [][]uint32, cnt [][]float32, y []int, rows []int, f Features, o NeighbourOptions) *neighbours {
	g := make([][]uint32, len(rows))
	c := make([][]float32, len(rows))
	ys := make([]int, len(rows))
	seq := make([]int, len(rows))
	for k, i := range rows {
		g[k], c[k], ys[k], seq[k] = grams[i], cnt[i], y[i], k
	}
	base, md := newMemory(g, c, 1<<(f.HashBits-1), f, o)
	nb := base.withTickets(md, ys, seq)
	nb.Beta = 1
	return nb
}

// vector sets s.slots and s.vals to a ticket's vector over the memory's
// n-grams from its distinct hashed n-grams and their counts (not
// normalised: boost does).
func (nb *neighbours) vector(s *nbScratch, grams []uint32, cnt []float32, sublinear bool) {
	slots, vals := s.slots[:0], s.vals[:0]
	for k, b := range grams {
		j := nb.slot.slot(b)
		if j < 0 {
			continue
		}
		slots = append(slots, j)
		vals = append(vals, nb.weight(j, cnt[k], sublinear))
	}
	s.slots, s.vals = slots, vals
}

// weight is the TF-IDF weight of memory n-gram j counted tf times.
func (nb *neighbours) weight(j int32, tf float32, sublinear bool) float32 {
	if sublinear {
		tf = sublinearTF(tf)
	}
	return tf * nb.IDF[j]
}

// init checks the tables (from a file) and builds the slot index over a
// hashed space of the given size.
func (nb *neighbours) init(space, nc int) error {
	nf := len(nb.Buckets)
	switch {
	case math.IsNaN(nb.Tau) || nb.Tau < 0 || nb.Tau >= 1:
		return fmt.Errorf("neighbour threshold %g out of range", nb.Tau)
	case math.IsNaN(nb.Beta) || nb.Beta < 0 || nb.Beta > 1000:
		return fmt.Errorf("neighbour weight %g out of range", nb.Beta)
	case len(nb.IDF) != nf:
		return fmt.Errorf("neighbour memory has %d idf values for %d n-grams", len(nb.IDF), nf)
	case len(nb.Ptr) != nf+1 || nb.Ptr[0] != 0 || int(nb.Ptr[nf]) != len(nb.Doc):
		return fmt.Errorf("neighbour postings table corrupt")
	case len(nb.Val) != len(nb.Doc):
		return fmt.Errorf("neighbour postings have %d values for %d entries", len(nb.Val), len(nb.Doc))
	}
	prev := int64(-1)
	for k, b := range nb.Buckets {
		if int64(b) <= prev || int(b) >= space {
			return fmt.Errorf("neighbour n-gram table corrupt at entry %d", k)
		}
		prev = int64(b)
		if nb.Ptr[k+1] < nb.Ptr[k] {
			return fmt.Errorf("neighbour postings table corrupt at entry %d", k)
		}
		if v := nb.IDF[k]; !(v > 0 && v < 100) {
			return fmt.Errorf("neighbour idf table corrupt at entry %d", k)
		}
	}
	for _, l := range nb.Label {
		if int(l) >= nc {
			return fmt.Errorf("neighbour label %d out of range", l)
		}
	}
	for k, doc := range nb.Doc {
		v := nb.Val[k]
		if int(doc) >= len(nb.Label) || !(v >= 0 && v <= 1.0001) {
			return fmt.Errorf("neighbour postings corrupt at entry %d", k)
		}
	}
	nb.slot = newRankIndex(nb.Buckets, space)
	return nil
}

// nbScratch is per-query state.
type nbScratch struct {
	tf    []float32 // term count per memory n-gram
	slots []int32
	vals  []float32
	sim   []float32 // dot product per memory ticket, zero between queries
	best  []float64
}

// query turns the hashed n-grams of a new ticket into its vector over the
// memory's n-grams, in s.slots and s.vals (not normalised: boost does).
func (nb *neighbours) query(s *nbScratch, grams []uint32, sublinear bool) {
	if len(s.tf) < len(nb.Buckets) {
		s.tf = make([]float32, len(nb.Buckets))
	}
	slots := s.slots[:0]
	for _, b := range grams {
		j := nb.slot.slot(b)
		if j < 0 {
			continue
		}
		if s.tf[j] == 0 {
			slots = append(slots, j)
		}
		s.tf[j]++
	}
	vals := s.vals[:0]
	for _, j := range slots {
		vals = append(vals, nb.weight(j, s.tf[j], sublinear))
		s.tf[j] = 0
	}
	s.slots, s.vals = slots, vals
}

// boost adds the neighbours' push for the vector (slots, vals) to z, the
// calibrated logits: for each label, Beta times the amount by which the
// cosine similarity of the closest memory ticket with that label exceeds
// Tau.
//
// Two passes over the postings, both without data-dependent branches (a
// "first time this ticket is seen" test mispredicts about every other
// time): the first sums each ticket's dot product, the second takes the
// per-label maximum and clears the sums for the next query.
func (nb *neighbours) boost(s *nbScratch, slots []int32, vals []float32, z []float64) {
	if len(s.sim) < len(nb.Label) {
		s.sim = make([]float32, len(nb.Label))
	}
	if len(s.best) < len(z) {
		s.best = make([]float64, len(z))
	}
	sim := s.sim[:len(nb.Label)]
	var qq float64
	for i, j := range slots {
		q := vals[i]
		qq += float64(q) * float64(q)
		lo, hi := nb.Ptr[j], nb.Ptr[j+1]
		docs, ws := nb.Doc[lo:hi], nb.Val[lo:hi]
		ws = ws[:len(docs)]
		for p, doc := range docs {
			sim[doc] += q * ws[p]
		}
	}
	best := s.best[:len(z)]
	clear(best)
	label := nb.Label
	label = label[:len(sim)]
	// Only a dot product above Tau*|q| counts (cosine above Tau); most
	// are far below, so the test is almost always false and predicted.
	norm := math.Sqrt(qq)
	thr := float32(nb.Tau * norm)
	for _, j := range slots {
		for _, doc := range nb.Doc[nb.Ptr[j]:nb.Ptr[j+1]] {
			v := sim[doc]
			sim[doc] = 0
			if v > thr {
				if c := label[doc]; float64(v) > best[c] {
					best[c] = float64(v)
				}
			}
		}
	}
	if !(norm > 0) {
		return
	}
	for c, v := range best {
		if v /= norm; v > nb.Tau {
			z[c] += nb.Beta * (v - nb.Tau)
		}
	}
}

// Memory reports the neighbour memory: how many training tickets it holds,
// over how many word n-grams, and how strongly a look-alike pulls (all 0 if
// the model has none).
func (m *Model) Memory() (tickets, ngrams int, strength float64) {
	if m.nb == nil {
		return 0, 0, 0
	}
	return len(m.nb.Label), len(m.nb.Buckets), m.nb.Beta
}
