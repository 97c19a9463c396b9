package evalreport

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"
)

// WriteHTML writes a self-contained HTML page (inline CSS and SVG, no
// scripts, no external assets) with the summary, per-class table,
// confusion-matrix heat map, reliability diagram and threshold table.
func (r *Report) WriteHTML(w io.Writer) error {
	data := map[string]any{
		"R":           r,
		"Generated":   time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		"Confusion":   template.HTML(r.confusionSVG()),
		"Reliability": template.HTML(r.reliabilitySVG()),
	}
	return page.Execute(w, data)
}

func esc(s string) string { return template.HTMLEscapeString(s) }

// heat maps a share in [0,1] to a white-to-blue colour.
func heat(v float64) string {
	v = math.Max(0, math.Min(1, v))
	r := int(247 - v*(247-8))
	g := int(251 - v*(251-69))
	b := int(255 - v*(255-148))
	return fmt.Sprintf("rgb(%d,%d,%d)", r, g, b)
}

func short(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

// confusionSVG draws the confusion matrix, each row coloured by its share
// of the row total (recall view), with counts in the cells.
func (r *Report) confusionSVG() string {
	k := len(r.Labels)
	if k == 0 {
		return ""
	}
	cell := 46
	if k > 12 {
		cell = max(18, 560/k)
	}
	left, top := 210, 150
	wd, ht := left+cell*k+90, top+cell*k+20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="confusion matrix">`, wd, ht, wd, ht)
	fmt.Fprintf(&b, `<text x="%d" y="14" class="axis" text-anchor="middle">predicted</text>`, left+cell*k/2)
	fmt.Fprintf(&b, `<text x="12" y="%d" class="axis" transform="rotate(-90 12 %d)" text-anchor="middle">true</text>`, top+cell*k/2, top+cell*k/2)
	for j, l := range r.Labels {
		x := left + j*cell + cell/2
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl" transform="rotate(-45 %d %d)">%s<title>%s</title></text>`, x, top-6, x, top-6, esc(short(l, 24)), esc(l))
	}
	for i, row := range r.Confusion {
		total := 0
		for _, v := range row {
			total += v
		}
		y := top + i*cell
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl" text-anchor="end">%s<title>%s</title></text>`, left-8, y+cell/2+4, esc(short(r.Labels[i], 28)), esc(r.Labels[i]))
		for j, v := range row {
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			x := left + j*cell
			stroke := "#fff"
			if i == j {
				stroke = "#333"
			}
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="%s"><title>true %s, predicted %s: %d (%.0f%% of row)</title></rect>`,
				x, y, cell, cell, heat(share), stroke, esc(r.Labels[i]), esc(r.Labels[j]), v, 100*share)
			if v > 0 && cell >= 24 {
				col := "#111"
				if share > 0.55 {
					col = "#fff"
				}
				fmt.Fprintf(&b, `<text x="%d" y="%d" class="num" fill="%s" text-anchor="middle">%d</text>`, x+cell/2, y+cell/2+4, col, v)
			}
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl">%d</text>`, left+k*cell+8, y+cell/2+4, total)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" class="lbl">n</text>`, left+k*cell+8, top-6)
	b.WriteString(`</svg>`)
	return b.String()
}

// reliabilitySVG draws accuracy against confidence per bin, the diagonal
// of perfect calibration, and the share of examples per bin.
func (r *Report) reliabilitySVG() string {
	const W, H, L, T, P = 520, 400, 60, 20, 320 // width, height, left, top, plot size
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-label="reliability diagram">`, W, H, W, H)
	px := func(v float64) float64 { return L + v*P }
	py := func(v float64) float64 { return T + (1-v)*P }
	for _, g := range []float64{0, 0.2, 0.4, 0.6, 0.8, 1} {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, px(0), py(g), px(1), py(g))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="end">%.1f</text>`, px(0)-6, py(g)+4, g)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="tick" text-anchor="middle">%.1f</text>`, px(g), py(0)+16, g)
	}
	maxCount := 1
	for _, bn := range r.Bins {
		maxCount = max(maxCount, bn.Count)
	}
	for _, bn := range r.Bins {
		x, w := px(bn.Lo)+1, (bn.Hi-bn.Lo)*P-2
		if bn.Count == 0 {
			continue
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="acc"><title>confidence %.2f–%.2f: %d examples, accuracy %.3f, mean confidence %.3f</title></rect>`,
			x, py(bn.Accuracy), w, bn.Accuracy*P, bn.Lo, bn.Hi, bn.Count, bn.Accuracy, bn.Confidence)
		// gap to the mean confidence
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="conf"/>`, x, py(bn.Confidence), x+w, py(bn.Confidence))
	}
	for _, bn := range r.Bins { // example share, a grey strip on top of the bars
		hc := float64(bn.Count) / float64(maxCount) * P * 0.25
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="count"><title>%d examples</title></rect>`, px(bn.Lo)+1, py(0)-hc, (bn.Hi-bn.Lo)*P-2, hc, bn.Count)
	}
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="diag"/>`, px(0), py(0), px(1), py(1))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" class="frame"/>`, L, T, P, P)
	fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="axis" text-anchor="middle">confidence (top-1 probability)</text>`, px(0.5), T+P+36)
	fmt.Fprintf(&b, `<text x="16" y="%.1f" class="axis" text-anchor="middle" transform="rotate(-90 16 %.1f)">accuracy</text>`, py(0.5), py(0.5))
	lx := float64(L + P + 14)
	fmt.Fprintf(&b, `<rect x="%.1f" y="30" width="14" height="14" class="acc"/><text x="%.1f" y="42" class="lbl">accuracy</text>`, lx, lx+20)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="62" x2="%.1f" y2="62" class="conf"/><text x="%.1f" y="66" class="lbl">confidence</text>`, lx, lx+14, lx+20)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="84" x2="%.1f" y2="84" class="diag"/><text x="%.1f" y="88" class="lbl">perfect</text>`, lx, lx+14, lx+20)
	fmt.Fprintf(&b, `<rect x="%.1f" y="100" width="14" height="14" class="count"/><text x="%.1f" y="112" class="lbl">examples</text>`, lx, lx+20)
	fmt.Fprintf(&b, `<text x="%.1f" y="140" class="lbl">ECE %.3f</text>`, lx, r.ECE)
	b.WriteString(`</svg>`)
	return b.String()
}

var page = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) },
	"f3":  func(v float64) string { return fmt.Sprintf("%.3f", v) },
	"bar": func(v float64) template.CSS {
		return template.CSS(fmt.Sprintf("width:%.0f%%;background:%s", 100*math.Max(0, math.Min(1, v)), heat(0.35+0.65*v)))
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .R.Title}}{{.R.Title}}{{else}}otai evaluation{{end}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f4f6f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px}
.meta{color:#5b6475;font-size:13px;word-break:break-all}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:18px 0}
.card{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:12px 16px;min-width:130px}
.card b{display:block;font-size:24px}.card span{color:#5b6475;font-size:12px}
section{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:16px 20px;margin-bottom:18px;overflow-x:auto}
table{border-collapse:collapse;font-variant-numeric:tabular-nums}
th,td{padding:4px 10px;text-align:right;border-bottom:1px solid #eef0f4}th{font-weight:600;color:#3b4456}
td.l,th.l{text-align:left}
.barc{width:120px;background:#eef0f4;height:10px;border-radius:5px;overflow:hidden;display:inline-block;vertical-align:middle}
.barc i{display:block;height:100%}
svg text{font-family:inherit}.lbl{font-size:12px;fill:#1d2330}.num{font-size:12px}
.axis{font-size:13px;fill:#3b4456;font-weight:600}.tick{font-size:11px;fill:#5b6475}
.grid{stroke:#e3e7ee}.frame{fill:none;stroke:#8a93a3}.diag{stroke:#c0392b;stroke-dasharray:5 4;stroke-width:1.5}
.acc{fill:#2d6cb5;fill-opacity:.8}.conf{stroke:#f39c12;stroke-width:3}.count{fill:#7f8c8d;fill-opacity:.55}
p.note{color:#5b6475;font-size:13px;margin:6px 0 0}
p.warn{background:#fff4e0;border:1px solid #f0c36d;border-radius:8px;padding:10px 14px;margin:0 0 18px}
</style></head><body><main>
<h1>{{if .R.Title}}{{.R.Title}}{{else}}Classifier evaluation{{end}}</h1>
<div class="meta">{{if .R.Model}}model {{.R.Model}} · {{end}}{{if .R.Data}}data {{.R.Data}} · {{end}}{{.R.N}} examples · {{.Generated}}</div>
{{with .R.Trained}}<div class="meta">trained {{.}}</div>{{end}}
{{with .R.Warning}}<p class="warn" id="seen-warning"><b>Warning:</b> {{.}}.</p>{{end}}
<div class="cards">
<div class="card"><b>{{f3 .R.Accuracy}}</b><span>accuracy (majority {{f3 .R.Majority}})</span></div>
<div class="card"><b>{{f3 .R.MacroF1}}</b><span>macro-F1</span></div>
<div class="card"><b>{{f3 .R.WeightedF1}}</b><span>weighted-F1</span></div>
<div class="card"><b>{{f3 .R.TopKAcc}}</b><span>top-{{.R.TopK}} accuracy</span></div>
<div class="card"><b>{{f3 .R.ECE}}</b><span>expected calibration error</span></div>
<div class="card"><b>{{f3 .R.NLL}}</b><span>log loss</span></div>
</div>
{{if .R.Unknown}}<p class="note">{{.R.Unknown}} examples carry labels the model does not know; they count as errors.</p>{{end}}
<section><h2>Per class</h2>
<table><tr><th class="l">label</th><th>precision</th><th>recall</th><th>F1</th><th class="l"></th><th>support</th><th>predicted</th></tr>
{{range .R.PerClass}}<tr><td class="l">{{.Label}}</td><td>{{f3 .Precision}}</td><td>{{f3 .Recall}}</td><td>{{f3 .F1}}</td><td class="l"><span class="barc"><i style="{{bar .F1}}"></i></span></td><td>{{.Support}}</td><td>{{.Predicted}}</td></tr>
{{end}}</table></section>
<section><h2>Confusion matrix</h2>{{.Confusion}}
<p class="note">Rows are true labels, columns predictions; colour is the share of the row (recall), the diagonal is outlined.</p></section>
<section><h2>Reliability diagram</h2>{{.Reliability}}
<p class="note">Blue bars: accuracy of the predictions in each confidence bin; orange: their mean confidence. A calibrated model's bars meet the dashed diagonal, so a confidence threshold means what it says.</p></section>
<section><h2>Confidence threshold</h2>
<table><tr><th>threshold</th><th>tickets above</th><th>accuracy above</th></tr>
{{range .R.Thresholds}}<tr><td>{{f3 .Threshold}}</td><td>{{pct .Coverage}}</td><td>{{f3 .Accuracy}}</td></tr>
{{end}}</table>
<p class="note">With the threshold pattern, tickets above the threshold are moved automatically; the rest get an internal note with the top suggestions for a human.</p></section>
</main></body></html>
`))
