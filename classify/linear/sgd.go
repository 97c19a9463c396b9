package linear

import (
	"context"
	"math"
	"math/rand/v2"
	"sync"
)

// fitSGD minimises the same objective as fitLBFGS with Adagrad over
// shuffled mini-batches. Each batch's forward pass (logits, softmax,
// residuals) runs on all workers against the weights at the start of the
// batch; the sparse updates are then applied in row order, so the result
// depends on the seed only, not on the number of workers.
func fitSGD(ctx context.Context, d *dataset, rows []int, opts TrainOptions, w0 []float64, stage string, progress func(string, int, int)) ([]float64, int, error) {
	nc, nf := d.nc, d.nf
	dim := nf*nc + nc
	w := make([]float64, dim)
	if w0 != nil {
		copy(w, w0)
	}
	workersUpd := max(1, min(opts.Workers, nc))
	acc := make([]float64, dim) // Adagrad squared-gradient sums
	var sumW float64
	for _, i := range rows {
		sumW += d.sw[i]
	}
	meanW := sumW / float64(len(rows))
	// Per-example L2 strength: the objective averages the loss over rows.
	lambda := 1 / (opts.C * sumW)
	order := append([]int(nil), rows...)
	r := rand.New(rand.NewPCG(uint64(opts.Seed), 0xada))
	bs := max(1, opts.BatchSize)
	resid := make([]float64, bs*nc)
	// L2, applied lazily to the weights of the features in a row, scaled
	// by the feature value.
	reg := lambda * float64(len(rows))
	eta := opts.LearningRate
	const eps = 1e-8
	// Tail averaging: the result is the mean of the weights at the end of
	// the last half of the epochs, which smooths SGD noise.
	var avg []float64
	nAvg := 0
	for ep := 0; ep < opts.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return nil, ep, err
		}
		progress(stage, ep, opts.Epochs)
		r.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for lo := 0; lo < len(order); lo += bs {
			batch := order[lo:min(lo+bs, len(order))]
			workers := opts.Workers
			if len(batch) < 16 {
				workers = 1
			}
			_ = parallel(ctx, workers, len(batch), func(a, b int) error {
				for k := a; k < b; k++ {
					i := batch[k]
					z := resid[k*nc : k*nc+nc]
					copy(z, w[nf*nc:])
					for p := d.rowPtr[i]; p < d.rowPtr[i+1]; p++ {
						v := float64(d.vals[p])
						j := int(d.cols[p]) * nc
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
					sw := d.sw[i] / meanW
					for c := range z {
						z[c] = sw * z[c] / s
					}
					z[d.y[i]] -= sw
				}
				return nil
			})
			// Updates in row order. Adagrad with one accumulator per
			// feature (the squared gradient norm of its row of weights,
			// v^2*|res|^2/nc): one square root per feature instead of one
			// per weight. The classes are split between the workers; each
			// keeps its own identical copy of the accumulators.
			update := func(c0, c1 int) {
				for k, i := range batch {
					res := resid[k*nc : k*nc+nc]
					for p := d.rowPtr[i]; p < d.rowPtr[i+1]; p++ {
						v := float64(d.vals[p])
						j := int(d.cols[p]) * nc
						rv := reg * v * v
						wj, aj := w[j:j+nc], acc[j:j+nc]
						for c := c0; c < c1; c++ {
							g := v*res[c] + rv*wj[c]
							aj[c] += g * g
							wj[c] -= eta * g / math.Sqrt(aj[c]+eps)
						}
					}
					wb, ab := w[nf*nc:], acc[nf*nc:]
					for c := c0; c < c1; c++ {
						g := res[c]
						ab[c] += g * g
						wb[c] -= eta * g / math.Sqrt(ab[c]+eps)
					}
				}
			}
			// Updates in row order; the classes are split between the
			// workers, so each weight has exactly one writer.
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
		if opts.Average && ep >= opts.Epochs/2 {
			if avg == nil {
				avg = make([]float64, dim)
			}
			axpy(1, w, avg)
			nAvg++
		}
	}
	progress(stage, opts.Epochs, opts.Epochs)
	if nAvg > 0 {
		scale(1/float64(nAvg), avg)
		return avg, opts.Epochs, nil
	}
	return w, opts.Epochs, nil
}
