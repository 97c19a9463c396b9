// Command linear-bench trains and scores otai's linear classifier on the
// exact splits exported from the scikit-learn baseline (export_split.py)
// and prints JSON lines comparable to the baseline's output. See README.md.
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/otai-dev/otai/classify/linear"
)

type row struct{ split, label, lang, text string }

func readSplit(path string) ([]row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []row
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, row{rec[0], rec[1], rec[2], rec[3]})
	}
}

type result struct {
	Dataset     string  `json:"dataset"`
	Target      string  `json:"target"`
	Model       string  `json:"model"`
	NTrain      int     `json:"n_train"`
	NTest       int     `json:"n_test"`
	NFeatures   int     `json:"n_features"`
	Accuracy    float64 `json:"accuracy"`
	MacroF1     float64 `json:"macro_f1"`
	ECE         float64 `json:"ece"`
	Temperature float64 `json:"temperature"`
	Iterations  int     `json:"iterations"`
	TrainS      float64 `json:"train_s"`
	PredictMS   float64 `json:"predict_ms_per_ticket"`
	TicketsPerS float64 `json:"predict_tickets_per_s_1core"`
	// CPU time of the process (user+system) for the same work: on a shared
	// machine it is the stable figure; wall time includes time other
	// processes took from us.
	TrainCPUS      float64 `json:"train_cpu_s"`
	PredictCPUMS   float64 `json:"predict_cpu_ms_per_ticket"`
	TicketsPerCPUS float64 `json:"predict_tickets_per_cpu_s"`
	ModelBytes     int     `json:"model_bytes"`
	LoadMS         float64 `json:"load_ms"`
	AccByLang      map[string]float64
	HeldOutTrain   map[string]float64 `json:"held_out_train_metrics"`
}

func main() {
	d := linear.DefaultTrainOptions()
	split := flag.String("split", "", "directory with queue.csv and priority.csv from export_split.py")
	name := flag.String("name", "", "dataset name for the output")
	targets := flag.String("targets", "queue,priority", "targets")
	flag.Float64Var(&d.C, "C", d.C, "inverse regularisation")
	flag.StringVar(&d.ClassWeight, "class-weight", d.ClassWeight, "balanced|sqrt|none")
	flag.IntVar(&d.MaxIter, "max-iter", d.MaxIter, "L-BFGS iterations")
	flag.Float64Var(&d.Tol, "tol", d.Tol, "relative tolerance")
	flag.Float64Var(&d.Holdout, "holdout", d.Holdout, "calibration holdout share (-1 off)")
	flag.IntVar(&d.Features.HashBits, "hash-bits", d.Features.HashBits, "hash bits")
	flag.IntVar(&d.Features.WordMin, "word-min", d.Features.WordMin, "word n-gram min (0 with -word-max 0: no words)")
	flag.IntVar(&d.Features.WordMax, "word-max", d.Features.WordMax, "word n-gram max")
	flag.IntVar(&d.Features.CharMin, "char-min", d.Features.CharMin, "char n-gram min")
	flag.IntVar(&d.Features.CharMax, "char-max", d.Features.CharMax, "char n-gram max")
	flag.IntVar(&d.Features.MinDF, "min-df", d.Features.MinDF, "min document frequency")
	flag.Float64Var(&d.Features.CharWeight, "char-weight", d.Features.CharWeight, "char block weight")
	flag.BoolVar(&d.Features.Sublinear, "sublinear", d.Features.Sublinear, "sublinear tf")
	flag.StringVar(&d.Solver, "solver", d.Solver, "sgd|lbfgs")
	flag.IntVar(&d.Epochs, "epochs", d.Epochs, "sgd epochs")
	flag.Float64Var(&d.LearningRate, "lr", d.LearningRate, "sgd learning rate")
	flag.IntVar(&d.BatchSize, "batch", d.BatchSize, "sgd batch size")
	flag.BoolVar(&d.Average, "average", d.Average, "sgd tail averaging")
	flag.BoolVar(&d.Refit, "refit", d.Refit, "refit on all data after calibration")
	flag.IntVar(&d.RefitEpochs, "refit-epochs", d.RefitEpochs, "sgd epochs of the refit continuing the calibrated fit (-1: refit from scratch)")
	flag.Int64Var(&d.Seed, "seed", d.Seed, "training seed")
	flag.Float64Var(&d.Neighbours.MaxDF, "nb-max-df", d.Neighbours.MaxDF, "neighbours: largest share of training tickets a word n-gram may occur in")
	flag.IntVar(&d.Neighbours.MaxDocs, "nb-max-docs", d.Neighbours.MaxDocs, "neighbours: most training tickets a word n-gram may occur in")
	flag.Float64Var(&d.Neighbours.Tau, "nb-tau", d.Neighbours.Tau, "neighbours: similarity threshold")
	flag.Float64Var(&d.Neighbours.Beta, "nb-beta", d.Neighbours.Beta, "neighbours: push per unit of similarity above the threshold (-1: off)")
	dump := flag.String("cv-dump", "", "with -cv: write the out-of-fold probabilities here (CSV: target, fold, label index, p_0..p_k)")
	cv := flag.Int("cv", 0, "instead of the test split, report the mean macro-F1 of a stratified k-fold cross-validation on the training split (for choosing settings without looking at the test split)")
	reps := flag.Int("predict-reps", 3, "repeat the test set this many times when timing prediction")
	cpuprof := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *cpuprof != "" {
		pf, err := os.Create(*cpuprof)
		if err != nil {
			fmt.Fprintln(os.Stderr, "linear-bench:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(pf); err != nil {
			fmt.Fprintln(os.Stderr, "linear-bench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if *split == "" {
		fmt.Fprintln(os.Stderr, "usage: linear-bench -split DIR [flags]")
		os.Exit(2)
	}
	if *name == "" {
		*name = filepath.Base(*split)
	}
	for _, t := range splitComma(*targets) {
		if *cv > 1 {
			res, err := crossValidate(*split, t, d, *cv, *dump)
			if err != nil {
				fmt.Fprintln(os.Stderr, "linear-bench:", err)
				os.Exit(1)
			}
			b, _ := json.Marshal(res)
			fmt.Println(string(b))
			continue
		}
		res, err := run(*split, *name, t, d, *reps)
		if err != nil {
			pprof.StopCPUProfile()
			fmt.Fprintln(os.Stderr, "linear-bench:", err)
			os.Exit(1)
		}
		b, _ := json.Marshal(res)
		fmt.Println(string(b))
	}
}

func splitComma(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

func run(dir, name, target string, opts linear.TrainOptions, reps int) (*result, error) {
	rows, err := readSplit(filepath.Join(dir, target+".csv"))
	if err != nil {
		return nil, err
	}
	var train []linear.Example
	var test []row
	for _, r := range rows {
		if r.split == "train" {
			train = append(train, linear.Example{Text: r.text, Label: r.label})
		} else {
			test = append(test, r)
		}
	}
	runtime.GC()
	t0, c0 := time.Now(), cpuTime()
	m, err := linear.Train(context.Background(), train, opts)
	if err != nil {
		return nil, err
	}
	trainS, trainCPU := time.Since(t0).Seconds(), cpuTime()-c0

	// Round trip through the file format and time the load.
	f, err := os.CreateTemp("", "bench-*.model")
	if err != nil {
		return nil, err
	}
	defer os.Remove(f.Name())
	f.Close()
	if err := m.Save(f.Name()); err != nil {
		return nil, err
	}
	st, _ := os.Stat(f.Name())
	t0 = time.Now()
	m, err = linear.Load(f.Name())
	if err != nil {
		return nil, err
	}
	loadMS := float64(time.Since(t0).Microseconds()) / 1000

	lix := map[string]int{}
	for i, l := range m.Labels {
		lix[l] = i
	}
	// Accuracy pass (also warms the pool).
	y := make([]int, len(test))
	pred := make([]int, len(test))
	conf := make([]float64, len(test))
	correct := make([]bool, len(test))
	langN, langOK := map[string]float64{}, map[string]float64{}
	acc := 0.0
	for i, r := range test {
		yi, ok := lix[r.label]
		if !ok {
			yi = -1
		}
		y[i] = yi
		pred[i], conf[i] = m.PredictLabel(r.text)
		correct[i] = pred[i] == yi
		langN[r.lang]++
		if correct[i] {
			acc++
			langOK[r.lang]++
		}
	}
	byLang := map[string]float64{}
	for l, n := range langN {
		byLang[l] = round4(langOK[l] / n)
	}
	// One-core throughput: a single goroutine, the whole test set, reps times.
	runtime.GC()
	t0, c0 = time.Now(), cpuTime()
	for k := 0; k < reps; k++ {
		for _, r := range test {
			m.PredictLabel(r.text)
		}
	}
	el, elCPU := time.Since(t0).Seconds(), cpuTime()-c0
	n := float64(reps * len(test))
	yy := make([]int, 0, len(y))
	pp := make([]int, 0, len(y))
	for i := range y {
		if y[i] >= 0 {
			yy, pp = append(yy, y[i]), append(pp, pred[i])
		}
	}
	return &result{Dataset: name, Target: target, Model: "otai linear", NTrain: len(train), NTest: len(test),
		NFeatures: len(m.Buckets), Accuracy: round4(acc / float64(len(test))), MacroF1: round4(linear.MacroF1(yy, pp, len(m.Labels))),
		ECE: round4(linear.ECE(conf, correct, 15)), Temperature: round4(m.Temperature), Iterations: m.Meta.Iterations,
		TrainS: round4(trainS), PredictMS: round4(1000 * el / n), TicketsPerS: float64(int(n / el)),
		TrainCPUS: round4(trainCPU), PredictCPUMS: round4(1000 * elCPU / n), TicketsPerCPUS: float64(int(n / elCPU)),
		ModelBytes: int(st.Size()), LoadMS: loadMS, AccByLang: byLang, HeldOutTrain: m.Meta.Metrics}, nil
}

// crossValidate scores opts by stratified k-fold cross-validation on the
// training rows only: each class's rows are dealt round-robin to the folds.
func crossValidate(dir, target string, opts linear.TrainOptions, k int, dump string) (map[string]any, error) {
	var dw *os.File
	if dump != "" {
		var err error
		if dw, err = os.OpenFile(dump, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err != nil {
			return nil, err
		}
		defer dw.Close()
	}
	rows, err := readSplit(filepath.Join(dir, target+".csv"))
	if err != nil {
		return nil, err
	}
	seen := map[string]int{}
	var train []linear.Example
	var fold []int
	for _, r := range rows {
		if r.split != "train" {
			continue
		}
		fold = append(fold, seen[r.label]%k)
		seen[r.label]++
		train = append(train, linear.Example{Text: r.text, Label: r.label})
	}
	var f1s, accs, betas []float64
	var cpu float64
	for f := 0; f < k; f++ {
		var tr []linear.Example
		var te []linear.Example
		for i, e := range train {
			if fold[i] == f {
				te = append(te, e)
			} else {
				tr = append(tr, e)
			}
		}
		c0 := cpuTime()
		m, err := linear.Train(context.Background(), tr, opts)
		if err != nil {
			return nil, err
		}
		cpu += cpuTime() - c0
		betas = append(betas, m.Meta.Metrics["neighbour_beta"])
		lix := map[string]int{}
		for i, l := range m.Labels {
			lix[l] = i
		}
		var y, p []int
		ok := 0.0
		for _, e := range te {
			yi, known := lix[e.Label]
			pi, _ := m.PredictLabel(e.Text)
			if dw != nil {
				fmt.Fprintf(dw, "%s,%d,%d", target, f, yi)
				for _, p := range m.Probabilities(e.Text) {
					fmt.Fprintf(dw, ",%.6g", p)
				}
				fmt.Fprintln(dw)
			}
			if known {
				y, p = append(y, yi), append(p, pi)
			}
			if known && yi == pi {
				ok++
			}
		}
		f1s = append(f1s, linear.MacroF1(y, p, len(m.Labels)))
		accs = append(accs, ok/float64(len(te)))
	}
	mean := func(v []float64) float64 {
		s := 0.0
		for _, x := range v {
			s += x
		}
		return round4(s / float64(len(v)))
	}
	return map[string]any{"target": target, "cv": k, "cv_macro_f1": mean(f1s), "cv_accuracy": mean(accs), "train_cpu_s_per_fold": round4(cpu / float64(k)), "fold_macro_f1": f1s, "fold_neighbour_beta": betas}, nil
}

// cpuTime is the user+system CPU time of the process in seconds.
func cpuTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func round4(v float64) float64 { return float64(int(v*10000+0.5)) / 10000 }
