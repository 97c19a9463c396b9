package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
)

// sgd minimises the same objective as fitLBFGS with Adagrad over shuffled
// mini-batches. Each batch's forward pass (logits, softmax, residuals) runs
// on all workers against the weights at the start of the batch; the sparse
// updates are then applied in row order, so the result depends on the seed
// only, not on the number of workers.
//
// Adagrad keeps one accumulator per weight, in float32 like the weights.
// The state survives between calls to run, so training can continue on
// more rows (the optional continued refit after calibration) without
// starting over.
type sgd struct {
	d    *dataset
	opts TrainOptions
	// wa interleaves weights and Adagrad sums (squared gradients) per
	// feature, [w_0..w_nc-1, a_0..a_nc-1] for each feature then the biases,
	// so an update touches one cache line (two for ten classes) instead of
	// one in each of two tables.
	wa    []float32
	avg   []float64 // sum of the weights at the end of averaged epochs
	nAvg  int
	r     *rand.Rand
	resid []float64
	res32 []float32
	epoch int
}

func newSGD(d *dataset, opts TrainOptions) *sgd {
	nc, nf := d.nc, d.nf
	return &sgd{d: d, opts: opts, wa: make([]float32, (nf+1)*2*nc),
		r: rand.New(rand.NewPCG(uint64(opts.Seed), 0xada)), resid: make([]float64, max(1, opts.BatchSize)*nc),
		res32: make([]float32, max(1, opts.BatchSize)*nc)}
}

// run trains for epochs passes over rows; the epochs from avgFrom on (counted
// over the life of s) are averaged into the result.
func (s *sgd) run(ctx context.Context, rows []int, epochs, avgFrom int, stage string, progress func(string, int, int)) error {
	d, opts := s.d, s.opts
	nc, nf := d.nc, d.nf
	wa := s.wa
	nc2 := 2 * nc
	var sumW float64
	for _, i := range rows {
		sumW += d.sw[i]
	}
	meanW := sumW / float64(len(rows))
	// L2, applied lazily to the weights of the features in a row, scaled
	// by the feature value: lambda = 1/(C*sumW) per averaged example.
	reg := float64(len(rows)) / (opts.C * sumW)
	eta32, reg32 := float32(opts.LearningRate), float32(reg)
	const eps = 1e-8
	order := append([]int(nil), rows...)
	bs := max(1, opts.BatchSize)
	resid, res32 := s.resid, s.res32
	workersUpd := max(1, min(opts.Workers, nc))
	for ep := 0; ep < epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		progress(stage, ep, epochs)
		s.r.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for lo := 0; lo < len(order); lo += bs {
			batch := order[lo:min(lo+bs, len(order))]
			workers := opts.Workers
			if len(batch) < 16 {
				workers = 1
			}
			_ = parallel(ctx, workers, len(batch), func(a, b int) error {
				wa, cols, vals := wa, d.cols, d.vals // locals: no reloads through the closure
				for k := a; k < b; k++ {
					i := batch[k]
					z := resid[k*nc : k*nc+nc]
					for c, b := range wa[nf*nc2 : nf*nc2+nc] {
						z[c] = float64(b)
					}
					rc := cols[d.rowPtr[i]:d.rowPtr[i+1]]
					rv := vals[d.rowPtr[i]:d.rowPtr[i+1]]
					rv = rv[:len(rc)]
					for p, col := range rc {
						v := rv[p]
						j := int(col) * nc2
						wj := wa[j : j+nc]
						wj = wj[:len(z)]
						for c := range z {
							z[c] += float64(v * wj[c])
						}
					}
					mx := math.Inf(-1)
					for _, v := range z {
						mx = max(mx, v)
					}
					var sum float64
					for c, v := range z {
						z[c] = math.Exp(v - mx)
						sum += z[c]
					}
					sw := d.sw[i] / meanW
					for c := range z {
						z[c] = sw * z[c] / sum
					}
					z[d.y[i]] -= sw
				}
				return nil
			})
			// Per-weight Adagrad: rare classes and rare features keep larger
			// steps (a per-feature accumulator loses ~0.1 queue macro-F1).
			// float32 state halves the memory traffic; float32 square roots
			// and divisions are cheaper than float64 ones.
			update := func(c0, c1 int) {
				wa, cols, vals := wa, d.cols, d.vals
				for k, i := range batch {
					res := resid[k*nc : k*nc+nc]
					for c := c0; c < c1; c++ {
						res32[k*nc+c] = float32(res[c])
					}
					r32 := res32[k*nc+c0 : k*nc+c1]
					rc := cols[d.rowPtr[i]:d.rowPtr[i+1]]
					rvals := vals[d.rowPtr[i]:d.rowPtr[i+1]]
					rvals = rvals[:len(rc)]
					for p, col := range rc {
						v := rvals[p]
						j := int(col) * nc2
						rv := reg32 * v * v
						wj, aj := wa[j+c0:j+c1], wa[j+nc+c0:j+nc+c1]
						aj = aj[:len(wj)]
						r := r32[:len(wj)]
						for c := range wj {
							g := v*r[c] + rv*wj[c]
							a := aj[c] + g*g
							aj[c] = a
							wj[c] -= eta32 * g / float32(math.Sqrt(float64(a+eps)))
						}
					}
					wb, ab := wa[nf*nc2:nf*nc2+nc], wa[nf*nc2+nc:]
					for c := c0; c < c1; c++ {
						g := float32(res[c])
						ab[c] += g * g
						wb[c] -= eta32 * g / float32(math.Sqrt(float64(ab[c]+eps)))
					}
				}
			}
			if workersUpd == 1 || len(batch) < 16 {
				update(0, nc)
			} else {
				var wg sync.WaitGroup
				for wk := 0; wk < workersUpd; wk++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						update(nc*wk/workersUpd, nc*(wk+1)/workersUpd)
					}()
				}
				wg.Wait()
			}
		}
		if opts.Average && s.epoch >= avgFrom {
			if s.avg == nil {
				s.avg = make([]float64, (nf+1)*nc)
			}
			for j := 0; j <= nf; j++ {
				for c, v := range wa[j*nc2 : j*nc2+nc] {
					s.avg[j*nc+c] += float64(v)
				}
			}
			s.nAvg++
		}
		s.epoch++
	}
	progress(stage, epochs, epochs)
	return nil
}

// weights returns the model: the averaged weights if any epoch was
// averaged, else the current ones.
func (s *sgd) weights() []float64 {
	if s.nAvg == 0 {
		nc := s.d.nc
		out := make([]float64, len(s.wa)/2)
		for j := 0; j < len(out)/nc; j++ {
			for c, v := range s.wa[j*2*nc : j*2*nc+nc] {
				out[j*nc+c] = float64(v)
			}
		}
		return out
	}
	out := make([]float64, len(s.avg))
	for k, v := range s.avg {
		out[k] = v / float64(s.nAvg)
	}
	return out
}

// fitSGD trains from zeros on rows for opts.Epochs, averaging the second half.
func fitSGD(ctx context.Context, d *dataset, rows []int, opts TrainOptions, stage string, progress func(string, int, int)) (*sgd, error) {
	s := newSGD(d, opts)
	if err := s.run(ctx, rows, opts.Epochs, opts.Epochs/2, stage, progress); err != nil {
		return nil, err
	}
	return s, nil
}
