package linear

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
)

// Example is one labelled text.
type Example struct {
	Text  string
	Label string
}

// TrainOptions control training. The zero value of a field means its
// default (see DefaultTrainOptions).
type TrainOptions struct {
	Features Features `json:"features"`
	// C is the inverse L2 regularisation strength, as in scikit-learn:
	// the objective is C * sum(weighted log loss) + ||W||^2 / 2.
	C float64 `json:"c"`
	// ClassWeight: "balanced" (weights n/(k*n_c), the default), "sqrt"
	// (the square root of balanced) or "none".
	ClassWeight string `json:"class_weight"`
	// MaxIter bounds the L-BFGS iterations; Tol is the relative decrease of
	// the objective below which training stops.
	MaxIter int     `json:"max_iter"`
	Tol     float64 `json:"tol"`
	// Solver is "sgd" (Adagrad over shuffled mini-batches, the default:
	// about ten times faster) or "lbfgs" (full-batch, to convergence).
	Solver string `json:"solver"`
	// Epochs and LearningRate drive the sgd solver.
	Epochs       int     `json:"epochs"`
	LearningRate float64 `json:"learning_rate"`
	BatchSize    int     `json:"batch_size"`
	// Average returns the mean of the per-epoch weights of the second half
	// of the epochs instead of the last ones.
	Average bool `json:"average"`
	// Holdout is the stratified share of examples held out to fit the
	// temperature and to measure held-out metrics (0 < Holdout < 0.5);
	// the final model is then refit on all examples. Negative disables
	// calibration (temperature 1).
	Holdout float64 `json:"holdout"`
	// Refit trains on all examples after calibration; otherwise the model
	// fitted without the held-out slice is kept, and its held-out metrics
	// describe exactly the shipped model. RefitEpochs < 0 (the default)
	// refits from scratch the way the calibrated model was fitted, so its
	// temperature carries over. With the sgd solver, RefitEpochs > 0 and a
	// held-out slice of 100 or more, the calibrated fit instead continues
	// for RefitEpochs epochs over all examples: about 40% cheaper, equal in
	// cross-validation on the EN/DE training split, but 0.01-0.02 lower
	// macro-F1 on its test split (bench/linear/README.md).
	Refit       bool  `json:"refit"`
	RefitEpochs int   `json:"refit_epochs"`
	Seed        int64 `json:"seed"`
	// Neighbours: the memory of training tickets (see NeighbourOptions).
	Neighbours NeighbourOptions `json:"neighbours"`
	// Workers is the number of goroutines (default GOMAXPROCS). Results do
	// not depend on it.
	Workers int `json:"-"`
	// Progress, if set, is called with a stage name and progress counters.
	Progress func(stage string, done, total int) `json:"-"`
}

// DefaultTrainOptions are the settings chosen by measurement (bench/linear).
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Features: DefaultFeatures(), C: 1, ClassWeight: "balanced", MaxIter: 100, Solver: "sgd", Epochs: 8, LearningRate: 0.5, BatchSize: 32, Average: true, Refit: true, RefitEpochs: -1, Tol: 1e-4, Holdout: 0.1, Seed: 42, Neighbours: DefaultNeighbourOptions()}
}

func (o *TrainOptions) fill() {
	d := DefaultTrainOptions()
	if o.Features == (Features{}) {
		o.Features = d.Features
	}
	if o.C == 0 {
		o.C = d.C
	}
	if o.ClassWeight == "" {
		o.ClassWeight = d.ClassWeight
	}
	if o.MaxIter == 0 {
		o.MaxIter = d.MaxIter
	}
	if o.Tol == 0 {
		o.Tol = d.Tol
	}
	if o.Solver == "" {
		o.Solver = d.Solver
	}
	if o.Epochs == 0 {
		o.Epochs = d.Epochs
	}
	if o.LearningRate == 0 {
		o.LearningRate = d.LearningRate
	}
	if o.BatchSize == 0 {
		o.BatchSize = d.BatchSize
	}
	if o.RefitEpochs == 0 {
		o.RefitEpochs = d.RefitEpochs
	}
	if o.Holdout == 0 {
		o.Holdout = d.Holdout
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	o.Neighbours.fill()
}

// ErrTooFewExamples is returned when there is not enough data to train.
var ErrTooFewExamples = errors.New("too few examples")

// dataset is the featurised training data: CSR rows and CSC columns over
// the active features.
type dataset struct {
	n, nf, nc int
	y         []int
	sw        []float64 // sample weights
	rowPtr    []int
	cols      []int32
	vals      []float32
	colPtr    []int
	colRows   []int32
	colVals   []float32
}

// Train fits a model on examples.
func Train(ctx context.Context, examples []Example, opts TrainOptions) (*Model, error) {
	start := time.Now()
	opts.fill()
	if err := opts.Features.validate(); err != nil {
		return nil, fmt.Errorf("features: %w", err)
	}
	if !(opts.C > 0) {
		return nil, fmt.Errorf("C must be positive, got %g", opts.C)
	}
	if err := opts.Neighbours.validate(); err != nil {
		return nil, err
	}
	counts := map[string]int{}
	for _, e := range examples {
		counts[e.Label]++
	}
	labels := make([]string, 0, len(counts))
	for l := range counts {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	if len(labels) < 2 {
		return nil, fmt.Errorf("%w: need at least 2 distinct labels, got %d", ErrTooFewExamples, len(labels))
	}
	if len(examples) < 4 {
		return nil, fmt.Errorf("%w: need at least 4 examples, got %d", ErrTooFewExamples, len(examples))
	}
	lix := make(map[string]int, len(labels))
	for i, l := range labels {
		lix[l] = i
	}
	progress := opts.Progress
	if progress == nil {
		progress = func(string, int, int) {}
	}

	// 1. Hash every document (parallel, fixed partition).
	f := opts.Features
	n := len(examples)
	docIdx := make([][]uint32, n)
	docCnt := make([][]float32, n)
	// The neighbour memory's word unigrams and bigrams, per document.
	memOn := !opts.Neighbours.off() && f.WordMax > 0
	var memIdx [][]uint32
	var memCnt [][]float32
	if memOn {
		memIdx, memCnt = make([][]uint32, n), make([][]float32, n)
	}
	var done int64
	var dmu sync.Mutex
	err := parallel(ctx, opts.Workers, n, func(lo, hi int) error {
		ex := newExtractor(f)
		cnt := make([]float32, 1<<f.HashBits)
		var touched []uint32
		for i := lo; i < hi; i++ {
			if i%256 == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			docIdx[i], docCnt[i] = countIndices(ex.extract(examples[i].Text), cnt, &touched)
			if memOn {
				memIdx[i], memCnt[i] = countIndices(ex.memGrams(), cnt, &touched)
			}
			if (i-lo)%64 == 63 {
				dmu.Lock()
				done += 64
				progress("featurize", int(done), n)
				dmu.Unlock()
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	progress("featurize", n, n)

	// 2. Document frequencies, pruning, idf (scikit-learn's smooth idf).
	// df is dense over the hash space, then reused as the remap table.
	df := make([]int32, 1<<f.HashBits)
	nnz := 0
	for _, ix := range docIdx {
		for _, b := range ix {
			df[b]++
		}
		nnz += len(ix)
	}
	minDF := int32(max(1, f.MinDF))
	var buckets []uint32
	for b, c := range df {
		if c >= minDF {
			buckets = append(buckets, uint32(b))
		}
	}
	if len(buckets) == 0 {
		return nil, fmt.Errorf("%w: no feature occurs in %d or more examples", ErrTooFewExamples, minDF)
	}
	idf := make([]float32, len(buckets))
	remap := df
	for j, b := range buckets {
		idf[j] = float32(math.Log(float64(1+n)/float64(1+df[b])) + 1)
	}
	for b := range remap {
		remap[b] = -1
	}
	for j, b := range buckets {
		remap[b] = int32(j)
	}

	// 3. TF-IDF rows over active features, block-normalised.
	half := uint32(1) << (f.HashBits - 1)
	d := &dataset{n: n, nf: len(buckets), nc: len(labels), y: make([]int, n), rowPtr: make([]int, n+1),
		cols: make([]int32, 0, nnz), vals: make([]float32, 0, nnz)}
	for i, e := range examples {
		d.y[i] = lix[e.Label]
		var ss [2]float64
		start := len(d.cols)
		for k, b := range docIdx[i] {
			j := remap[b]
			if j < 0 {
				continue
			}
			tf := docCnt[i][k]
			if f.Sublinear {
				tf = sublinearTF(tf)
			}
			v := tf * idf[j]
			d.cols = append(d.cols, j)
			d.vals = append(d.vals, v)
			ss[b2i(b >= half)] += float64(v) * float64(v)
		}
		sc := blockScales(f.CharWeight, ss)
		for k := start; k < len(d.cols); k++ {
			d.vals[k] *= sc[b2i(buckets[d.cols[k]] >= half)]
		}
		d.rowPtr[i+1] = len(d.cols)
		docIdx[i], docCnt[i] = nil, nil
	}
	if opts.Solver == "lbfgs" {
		d.buildCSC() // the full-batch gradient goes by columns
	}

	// 4. Class weights.
	d.sw = make([]float64, n)
	for i := range d.sw {
		nc := float64(counts[labels[d.y[i]]])
		switch opts.ClassWeight {
		case "balanced":
			d.sw[i] = float64(n) / (float64(len(labels)) * nc)
		case "sqrt":
			d.sw[i] = math.Sqrt(float64(n) / (float64(len(labels)) * nc))
		case "none":
			d.sw[i] = 1
		default:
			return nil, fmt.Errorf("class_weight %q: want balanced, sqrt or none", opts.ClassWeight)
		}
	}

	// 5. Hold out a stratified slice, fit, calibrate, then continue on
	// everything (or refit from scratch).
	temperature := 1.0
	metrics := map[string]float64{}
	var w []float64
	iters := 0
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	memRows := all
	// The neighbours' strength; 0 (auto) is chosen on the held-out slice.
	beta := opts.Neighbours.Beta
	var st *sgd // the sgd state of the calibrated fit, continued by the refit
	var train []int
	if opts.Holdout > 0 && opts.Holdout < 0.5 {
		var held []int
		train, held = stratifiedSplit(d.y, len(labels), opts.Holdout, opts.Seed)
		if len(held) >= len(labels) {
			if opts.Solver == "sgd" {
				st, err = fitSGD(ctx, d, train, opts, "fit", progress)
				if err == nil {
					w, iters = st.weights(), opts.Epochs
				}
			} else {
				w, iters, err = fitLBFGS(ctx, d, train, opts, nil, "fit", progress)
			}
			if err != nil {
				return nil, err
			}
			logits := d.logits(w, held, opts.Workers)
			hy := make([]int, len(held))
			for k, i := range held {
				hy[k] = d.y[i]
			}
			// The neighbours of a held-out ticket come from a memory of the
			// training part only, its n-grams chosen on that part, as they
			// would be for a new ticket. push holds their push at Beta 1.
			var push []float64
			// Auto needs a held-out slice large enough to show that the
			// memory helps (like calibration, which does not sharpen on
			// fewer than 100): on a few examples one lucky look-alike
			// would decide, and a new ticket would then follow a look-alike
			// against its words at high confidence.
			tooFew := beta == 0 && len(held) < MinMemoryHoldout
			if memOn && !tooFew {
				nb := heldOutMemory(memIdx, memCnt, d.y, train, f, opts.Neighbours)
				push = make([]float64, len(logits))
				var s nbScratch
				for k, i := range held {
					nb.vector(&s, memIdx[i], memCnt[i], f.Sublinear)
					nb.boost(&s, s.slots, s.vals, push[k*d.nc:(k+1)*d.nc])
				}
			}
			var hm map[string]float64
			beta, temperature, hm = chooseBeta(logits, push, hy, d.nc, beta)
			maps.Copy(metrics, hm)
			if memOn {
				metrics["neighbour_beta"] = beta
			}
			metrics["holdout"] = float64(len(held))
		}
	}
	switch {
	case w != nil && !opts.Refit:
		memRows = train
	case st != nil && opts.RefitEpochs > 0 && metrics["holdout"] >= 100:
		// Continue the calibrated fit over all examples: the held-out
		// slice is learnt, the temperature stays (the model moves little).
		// On small data (a held-out slice under 100, where the temperature
		// is clamped) a refit from scratch is cheap and keeps the
		// calibration honest.
		if err := st.run(ctx, all, opts.RefitEpochs, 0, "refit", progress); err != nil {
			return nil, err
		}
		w = st.weights()
		iters += opts.RefitEpochs
	case opts.Solver == "sgd":
		st, err := fitSGD(ctx, d, all, opts, "fit", progress)
		if err != nil {
			return nil, err
		}
		w = st.weights()
		iters += opts.Epochs
	default:
		var it2 int
		w, it2, err = fitLBFGS(ctx, d, all, opts, nil, "fit", progress)
		if err != nil {
			return nil, err
		}
		iters += it2
	}

	m := &Model{Labels: labels, Features: f, Buckets: buckets, IDF: idf, Temperature: temperature,
		Weights: make([]float32, d.nf*d.nc), Bias: make([]float32, d.nc)}
	for k := range m.Weights {
		m.Weights[k] = float32(w[k])
	}
	for c := range m.Bias {
		m.Bias[c] = float32(w[d.nf*d.nc+c])
	}
	if memOn && beta > 0 {
		// Built only now that it is kept; its n-grams are chosen on all
		// examples.
		base, md := newMemory(memIdx, memCnt, 1<<(f.HashBits-1), f, opts.Neighbours)
		m.nb = base.withTickets(md, d.y, memRows)
		m.nb.Beta = beta
	}
	memIdx, memCnt = nil, nil
	m.Meta = Metadata{TrainedAt: time.Now().UTC().Truncate(time.Second), DataHash: DataHash(examples), Examples: n,
		ClassCounts: counts, Seed: opts.Seed, Trainer: opts, Metrics: metrics, Iterations: iters,
		TrainMillis: time.Since(start).Milliseconds(), TrainingTexts: newTextSet(exampleTexts(examples))}
	if err := m.init(); err != nil {
		return nil, fmt.Errorf("trained model is invalid: %w", err)
	}
	return m, nil
}

// countIndices returns the distinct hashed indices of one document and
// their counts; cnt is a zeroed scratch table over the index space, left
// zeroed, and touched scratch space.
func countIndices(idx []uint32, cnt []float32, touched *[]uint32) ([]uint32, []float32) {
	t := (*touched)[:0]
	for _, g := range idx {
		if cnt[g] == 0 {
			t = append(t, g)
		}
		cnt[g]++
	}
	ix := make([]uint32, len(t))
	cs := make([]float32, len(t))
	for k, g := range t {
		ix[k], cs[k] = g, cnt[g]
		cnt[g] = 0
	}
	*touched = t
	return ix, cs
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func exampleTexts(examples []Example) []string {
	out := make([]string, len(examples))
	for i, e := range examples {
		out[i] = e.Text
	}
	return out
}

// DataHash is the sha256 of the examples (label and text, in order).
func DataHash(examples []Example) string {
	h := sha256.New()
	for _, e := range examples {
		h.Write([]byte(e.Label))
		h.Write([]byte{0})
		h.Write([]byte(e.Text))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (d *dataset) buildCSC() {
	d.colPtr = make([]int, d.nf+1)
	for _, j := range d.cols {
		d.colPtr[j+1]++
	}
	for j := 0; j < d.nf; j++ {
		d.colPtr[j+1] += d.colPtr[j]
	}
	d.colRows = make([]int32, len(d.cols))
	d.colVals = make([]float32, len(d.cols))
	next := slices.Clone(d.colPtr[:d.nf])
	for i := 0; i < d.n; i++ {
		for k := d.rowPtr[i]; k < d.rowPtr[i+1]; k++ {
			j := d.cols[k]
			d.colRows[next[j]] = int32(i)
			d.colVals[next[j]] = d.vals[k]
			next[j]++
		}
	}
}

// stratifiedSplit returns the indices of a train and a held-out part; each
// class contributes round(share*count) examples (none if it has fewer
// than 5), chosen by a seeded shuffle.
func stratifiedSplit(y []int, nc int, share float64, seed int64) (train, held []int) {
	byClass := make([][]int, nc)
	for i, c := range y {
		byClass[c] = append(byClass[c], i)
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x5eed))
	isHeld := make([]bool, len(y))
	for _, idx := range byClass {
		if len(idx) < 5 {
			continue
		}
		r.Shuffle(len(idx), func(a, b int) { idx[a], idx[b] = idx[b], idx[a] })
		k := int(math.Round(share * float64(len(idx))))
		for _, i := range idx[:k] {
			isHeld[i] = true
		}
	}
	for i := range y {
		if isHeld[i] {
			held = append(held, i)
		} else {
			train = append(train, i)
		}
	}
	return train, held
}

// parallel runs fn over [0,n) split into one contiguous range per worker.
func parallel(ctx context.Context, workers, n int, fn func(lo, hi int) error) error {
	if workers <= 1 || n < 2*workers {
		return fn(0, n)
	}
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = fn(lo, hi)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// logits returns the raw scores of rows (len(rows)*nc).
func (d *dataset) logits(w []float64, rows []int, workers int) []float64 {
	nc, nf := d.nc, d.nf
	out := make([]float64, len(rows)*nc)
	_ = parallel(context.Background(), workers, len(rows), func(lo, hi int) error {
		for r := lo; r < hi; r++ {
			i := rows[r]
			z := out[r*nc : r*nc+nc]
			copy(z, w[nf*nc:])
			for k := d.rowPtr[i]; k < d.rowPtr[i+1]; k++ {
				v := float64(d.vals[k])
				wj := w[int(d.cols[k])*nc : int(d.cols[k])*nc+nc]
				for c := range z {
					z[c] += v * wj[c]
				}
			}
		}
		return nil
	})
	return out
}

// objective evaluates the regularised weighted log loss of w on rows and
// its gradient into g. The result does not depend on the worker count:
// rows and features are each handled by exactly one goroutine and sums
// are taken in index order.
type objective struct {
	d       *dataset
	rows    []int
	inRows  []bool
	resid   []float64 // n*nc, zero for rows not in the set
	loss    []float64 // per row
	workers int
	lambda  float64 // L2 strength on the averaged loss
	sumW    float64
}

func newObjective(d *dataset, rows []int, opts TrainOptions) *objective {
	o := &objective{d: d, rows: rows, inRows: make([]bool, d.n), resid: make([]float64, d.n*d.nc),
		loss: make([]float64, len(rows)), workers: opts.Workers}
	for _, i := range rows {
		o.inRows[i] = true
		o.sumW += d.sw[i]
	}
	o.lambda = 1 / (opts.C * o.sumW)
	return o
}

func (o *objective) eval(w, g []float64) float64 {
	d := o.d
	nc, nf := d.nc, d.nf
	_ = parallel(context.Background(), o.workers, len(o.rows), func(lo, hi int) error {
		z := make([]float64, nc)
		for r := lo; r < hi; r++ {
			i := o.rows[r]
			copy(z, w[nf*nc:])
			for k := d.rowPtr[i]; k < d.rowPtr[i+1]; k++ {
				v := float64(d.vals[k])
				j := int(d.cols[k]) * nc
				wj := w[j : j+nc]
				for c := range z {
					z[c] += v * wj[c]
				}
			}
			mx := math.Inf(-1)
			for _, v := range z {
				mx = max(mx, v)
			}
			var s float64
			for c, v := range z {
				z[c] = math.Exp(v - mx)
				s += z[c]
			}
			y := d.y[i]
			sw := d.sw[i] / o.sumW
			o.loss[r] = sw * (math.Log(s) + mx - (mx + math.Log(z[y])))
			res := o.resid[i*nc : i*nc+nc]
			for c := range z {
				p := z[c] / s
				if c == y {
					p--
				}
				res[c] = sw * p
			}
		}
		return nil
	})
	var loss float64
	for _, l := range o.loss {
		loss += l
	}
	// Gradient: X^T R by columns, plus the L2 term.
	_ = parallel(context.Background(), o.workers, nf, func(lo, hi int) error {
		for j := lo; j < hi; j++ {
			gj := g[j*nc : j*nc+nc]
			wj := w[j*nc : j*nc+nc]
			for c := range gj {
				gj[c] = o.lambda * wj[c]
			}
			for k := d.colPtr[j]; k < d.colPtr[j+1]; k++ {
				i := int(d.colRows[k])
				if !o.inRows[i] {
					continue
				}
				v := float64(d.colVals[k])
				res := o.resid[i*nc : i*nc+nc]
				for c := range gj {
					gj[c] += v * res[c]
				}
			}
		}
		return nil
	})
	gb := g[nf*nc:]
	for c := range gb {
		gb[c] = 0
	}
	for _, i := range o.rows {
		for c := range gb {
			gb[c] += o.resid[i*nc+c]
		}
	}
	var reg float64
	for _, v := range w[:nf*nc] {
		reg += v * v
	}
	return loss + 0.5*o.lambda*reg
}

func fitLBFGS(ctx context.Context, d *dataset, rows []int, opts TrainOptions, w0 []float64, stage string, progress func(string, int, int)) ([]float64, int, error) {
	dim := d.nf*d.nc + d.nc
	o := newObjective(d, rows, opts)
	w := make([]float64, dim)
	if w0 != nil {
		copy(w, w0)
	}
	const m = 7
	g := make([]float64, dim)
	fx := o.eval(w, g)
	var sHist, yHist [][]float64
	var rho []float64
	dir := make([]float64, dim)
	wNew := make([]float64, dim)
	gNew := make([]float64, dim)
	alpha := make([]float64, m)
	it := 0
	for it = 0; it < opts.MaxIter; it++ {
		if err := ctx.Err(); err != nil {
			return nil, it, err
		}
		progress(stage, it, opts.MaxIter)
		// Two-loop recursion: dir = -H g.
		copy(dir, g)
		for k := len(sHist) - 1; k >= 0; k-- {
			alpha[k] = rho[k] * dot(sHist[k], dir)
			axpy(-alpha[k], yHist[k], dir)
		}
		if k := len(sHist) - 1; k >= 0 {
			scale(dot(sHist[k], yHist[k])/dot(yHist[k], yHist[k]), dir)
		} else {
			scale(1/math.Max(1e-12, math.Sqrt(dot(g, g))), dir)
		}
		for k := range sHist {
			b := rho[k] * dot(yHist[k], dir)
			axpy(alpha[k]-b, sHist[k], dir)
		}
		scale(-1, dir)
		gd := dot(g, dir)
		if gd >= 0 { // not a descent direction: restart
			sHist, yHist, rho = nil, nil, nil
			copy(dir, g)
			scale(-1/math.Max(1e-12, math.Sqrt(dot(g, g))), dir)
			gd = dot(g, dir)
		}
		// Backtracking line search (Armijo).
		step := 1.0
		var fNew float64
		ok := false
		for ls := 0; ls < 30; ls++ {
			for k := range w {
				wNew[k] = w[k] + step*dir[k]
			}
			fNew = o.eval(wNew, gNew)
			if fNew <= fx+1e-4*step*gd {
				ok = true
				break
			}
			step *= 0.5
		}
		if !ok {
			break
		}
		s := make([]float64, dim)
		yv := make([]float64, dim)
		if len(sHist) == m {
			s, yv = sHist[0], yHist[0]
			sHist, yHist, rho = sHist[1:], yHist[1:], rho[1:]
		}
		for k := range s {
			s[k] = wNew[k] - w[k]
			yv[k] = gNew[k] - g[k]
		}
		if sy := dot(s, yv); sy > 1e-12 {
			sHist, yHist, rho = append(sHist, s), append(yHist, yv), append(rho, 1/sy)
		}
		w, wNew = wNew, w
		g, gNew = gNew, g
		rel := (fx - fNew) / math.Max(math.Abs(fNew), 1e-12)
		fx = fNew
		if rel < opts.Tol {
			it++
			break
		}
	}
	progress(stage, opts.MaxIter, opts.MaxIter)
	return w, it, nil
}

func dot(a, b []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func axpy(a float64, x, y []float64) {
	for i, v := range x {
		y[i] += a * v
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

// autoBetas are the neighbour strengths tried when Beta is 0 (auto).
var autoBetas = []float64{0, 2, 4, 8, 16, 32}

// MinMemoryHoldout is the smallest held-out slice on which auto may keep a
// memory (about 1,000 training examples at the default 10%).
const MinMemoryHoldout = 100

// chooseBeta calibrates on held-out logits with the neighbours' push at
// strength beta (push is their push at strength 1, nil without a memory)
// and returns the strength, the temperature and the held-out metrics.
//
// beta 0 means auto: the memory must earn its place by setting more
// held-out labels right than wrong; of the strengths that do, the one
// under which the held-out labels are likeliest wins. Likelihood alone would keep a memory that only makes
// right answers surer, and a look-alike would then outvote the words on a
// new ticket. If no strength earns it, the result is 0: no memory.
func chooseBeta(logits, push []float64, y []int, nc int, beta float64) (float64, float64, map[string]float64) {
	betas := []float64{beta}
	if push == nil {
		betas = []float64{0}
	} else if beta == 0 {
		betas = autoBetas
	}
	bestNLL, baseRight := math.Inf(1), 0.0
	var bestT float64
	var best map[string]float64
	chosen := 0.0
	for _, b := range betas {
		var boost []float64
		if b > 0 {
			boost = make([]float64, len(push))
			for k, v := range push {
				boost[k] = b * v
			}
		}
		t := calibrate(logits, boost, y, nc)
		hm := heldOutMetrics(logits, boost, y, nc, t)
		right := math.Round(hm["accuracy"] * float64(len(y)))
		if b == 0 {
			baseRight = right
		} else if len(betas) > 1 && right <= baseRight {
			continue
		}
		if hm["nll"] < bestNLL-1e-9 || best == nil {
			bestNLL, chosen, bestT, best = hm["nll"], b, t, hm
		}
	}
	return chosen, bestT, best
}

// calibrate fits the temperature on held-out logits (plus the neighbours'
// boost, if any). A small or perfectly separated held-out slice drives the
// temperature towards 0 (certainty); it never sharpens by more than 2x,
// and not at all on fewer than 100 held-out examples.
func calibrate(logits, boost []float64, y []int, nc int) float64 {
	t := fitTemperature(logits, boost, y, nc)
	if len(y) < 100 {
		t = max(t, 1)
	}
	return max(t, 0.5)
}

// fitTemperature minimises the negative log-likelihood of labels y under
// softmax(logits/T + boost) over T in [0.05, 20] (golden-section search on
// log T).
func fitTemperature(logits, boost []float64, y []int, nc int) float64 {
	p := make([]float64, nc)
	z := make([]float64, nc)
	nll := func(logT float64) float64 {
		t := math.Exp(logT)
		var s float64
		for r, c := range y {
			calibrated(z, logits[r*nc:r*nc+nc], boost, r, t)
			softmax(p, z, 1)
			s -= math.Log(math.Max(p[c], 1e-300))
		}
		return s
	}
	a, b := math.Log(0.05), math.Log(20)
	const gr = 0.6180339887498949
	x1, x2 := b-gr*(b-a), a+gr*(b-a)
	f1, f2 := nll(x1), nll(x2)
	for k := 0; k < 60; k++ {
		if f1 < f2 {
			b, x2, f2 = x2, x1, f1
			x1 = b - gr*(b-a)
			f1 = nll(x1)
		} else {
			a, x1, f1 = x1, x2, f2
			x2 = a + gr*(b-a)
			f2 = nll(x2)
		}
	}
	return math.Exp((a + b) / 2)
}

// calibrated sets z to row r of logits divided by the temperature t, plus
// row r of the neighbours' boost (if any).
func calibrated(z, logits, boost []float64, r int, t float64) {
	nc := len(z)
	for c, v := range logits {
		z[c] = v / t
	}
	if boost != nil {
		for c, b := range boost[r*nc : r*nc+nc] {
			z[c] += b
		}
	}
}

// heldOutMetrics scores logits (plus the neighbours' boost, if any)
// against y: accuracy, macro-F1, NLL and ECE (15 bins) at temperature t,
// and ECE at temperature 1.
func heldOutMetrics(logits, boost []float64, y []int, nc int, t float64) map[string]float64 {
	p := make([]float64, nc)
	z := make([]float64, nc)
	pred := make([]int, len(y))
	conf := make([]float64, len(y))
	conf1 := make([]float64, len(y))
	var nll float64
	for r, c := range y {
		calibrated(z, logits[r*nc:r*nc+nc], boost, r, 1)
		softmax(p, z, 1)
		conf1[r] = p[argmax(p)]
		calibrated(z, logits[r*nc:r*nc+nc], boost, r, t)
		softmax(p, z, 1)
		best := argmax(p)
		pred[r], conf[r] = best, p[best]
		nll -= math.Log(math.Max(p[c], 1e-300))
	}
	correct := make([]bool, len(y))
	var acc float64
	for r := range y {
		correct[r] = pred[r] == y[r]
		if correct[r] {
			acc++
		}
	}
	return map[string]float64{
		"accuracy":         acc / float64(len(y)),
		"macro_f1":         MacroF1(y, pred, nc),
		"nll":              nll / float64(len(y)),
		"ece":              ECE(conf, correct, 15),
		"ece_uncalibrated": ECE(conf1, correct, 15),
		"temperature":      t,
	}
}

func argmax(p []float64) int {
	best := 0
	for k := range p {
		if p[k] > p[best] {
			best = k
		}
	}
	return best
}

// ECE is the expected calibration error of top-1 confidences over equal-
// width bins.
func ECE(conf []float64, correct []bool, bins int) float64 {
	if len(conf) == 0 {
		return 0
	}
	n := make([]float64, bins)
	sc := make([]float64, bins)
	sa := make([]float64, bins)
	for i, c := range conf {
		b := min(bins-1, int(c*float64(bins)))
		n[b]++
		sc[b] += c
		if correct[i] {
			sa[b]++
		}
	}
	var e float64
	for b := range n {
		if n[b] > 0 {
			e += math.Abs(sa[b]-sc[b]) / float64(len(conf))
		}
	}
	return e
}

// MacroF1 is the unweighted mean F1 over classes that occur in y or pred.
func MacroF1(y, pred []int, nc int) float64 {
	tp := make([]float64, nc)
	fp := make([]float64, nc)
	fn := make([]float64, nc)
	for i := range y {
		if y[i] == pred[i] {
			tp[y[i]]++
		} else {
			fp[pred[i]]++
			fn[y[i]]++
		}
	}
	var s float64
	k := 0
	for c := 0; c < nc; c++ {
		if tp[c]+fp[c]+fn[c] == 0 {
			continue
		}
		k++
		s += 2 * tp[c] / (2*tp[c] + fp[c] + fn[c])
	}
	if k == 0 {
		return 0
	}
	return s / float64(k)
}
