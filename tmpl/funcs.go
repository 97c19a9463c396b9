package tmpl

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"unicode"

	"github.com/expr-lang/expr"

	"github.com/otai-dev/otai/classify"
)

// functions are the helpers every expression may call (see the package doc).
var functions = []expr.Option{
	expr.Function("percent", fnPercent),
	expr.Function("truncate", fnTruncate),
	expr.Function("default", fnDefault),
	expr.Function("lines", fnLines),
	expr.Function("topk", fnTopK),
}

func wantArgs(name string, args []any, min, max int) error {
	if len(args) < min || len(args) > max {
		if min == max {
			return fmt.Errorf("%s takes %d argument(s), got %d", name, min, len(args))
		}
		return fmt.Errorf("%s takes %d to %d arguments, got %d", name, min, max, len(args))
	}
	return nil
}

// fnPercent: percent(0.871) == "87%".
func fnPercent(args ...any) (any, error) {
	if err := wantArgs("percent", args, 1, 1); err != nil {
		return nil, err
	}
	f, ok := toFloat(args[0])
	if !ok {
		return nil, fmt.Errorf("percent: want a number, got %T", args[0])
	}
	return percent(f)
}

func percent(f float64) (string, error) {
	p := math.Round(f * 100)
	if math.IsNaN(p) || math.IsInf(p, 0) || math.Abs(p) > 1e15 {
		return "", fmt.Errorf("percent: %v is not a fraction", f)
	}
	return fmt.Sprintf("%d%%", int64(p)), nil
}

// fnTruncate: truncate(s, n) cuts s to at most n runes, the last being "…"
// when s was cut.
func fnTruncate(args ...any) (any, error) {
	if err := wantArgs("truncate", args, 2, 2); err != nil {
		return nil, err
	}
	n, ok := toInt(args[1])
	if !ok {
		return nil, fmt.Errorf("truncate: want an integer length, got %T", args[1])
	}
	s := format(args[0])
	if n <= 0 {
		return "", nil
	}
	// Count runes without converting the whole string.
	count, cut := 0, -1
	for i := range s {
		if count == n-1 {
			cut = i
		}
		count++
		if count > n {
			break
		}
	}
	if count <= n {
		return s, nil
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + "…", nil
}

// fnDefault: default(v, fallback) is fallback when v is nil or "".
func fnDefault(args ...any) (any, error) {
	if err := wantArgs("default", args, 2, 2); err != nil {
		return nil, err
	}
	if isNil(args[0]) {
		return args[1], nil
	}
	if s, ok := args[0].(string); ok && s == "" {
		return args[1], nil
	}
	return args[0], nil
}

// fnLines: lines(list) joins the formatted elements with newlines.
func fnLines(args ...any) (any, error) {
	if err := wantArgs("lines", args, 1, 1); err != nil {
		return nil, err
	}
	if isNil(args[0]) {
		return "", nil
	}
	if s, ok := args[0].(string); ok {
		return s, nil
	}
	rv := reflect.ValueOf(args[0])
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("lines: want a list, got %T", args[0])
	}
	parts := make([]string, rv.Len())
	for i := range parts {
		parts[i] = format(rv.Index(i).Interface())
	}
	return strings.Join(parts, "\n"), nil
}

// fnTopK: topk(preds[, k]) formats predictions as "Billing 87%, Sales 9%".
func fnTopK(args ...any) (any, error) {
	if err := wantArgs("topk", args, 1, 2); err != nil {
		return nil, err
	}
	preds, err := toPredictions(args[0])
	if err != nil {
		return nil, fmt.Errorf("topk: %w", err)
	}
	k := 0
	if len(args) == 2 {
		var ok bool
		if k, ok = toInt(args[1]); !ok {
			return nil, fmt.Errorf("topk: want an integer k, got %T", args[1])
		}
	}
	sort.SliceStable(preds, func(i, j int) bool { return preds[i].Confidence > preds[j].Confidence })
	if k > 0 && len(preds) > k {
		preds = preds[:k]
	}
	out := make([]string, 0, len(preds))
	for _, p := range preds {
		pc, err := percent(p.Confidence)
		if err != nil {
			return nil, fmt.Errorf("topk: %s: %w", p.Label, err)
		}
		out = append(out, p.Label+" "+pc)
	}
	return strings.Join(out, ", "), nil
}

var errNotPredictions = errors.New("want a list of predictions (label and confidence)")

// toPredictions accepts []classify.Prediction, a list of predictions or
// pointers to them, and a list of maps with "label" and "confidence".
// It always returns a fresh slice.
func toPredictions(v any) ([]classify.Prediction, error) {
	if isNil(v) {
		return nil, nil
	}
	switch x := v.(type) {
	case []classify.Prediction:
		return append([]classify.Prediction(nil), x...), nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, fmt.Errorf("%w, got %T", errNotPredictions, v)
	}
	out := make([]classify.Prediction, 0, rv.Len())
	for i := 0; i < rv.Len(); i++ {
		p, ok := toPrediction(rv.Index(i).Interface())
		if !ok {
			return nil, fmt.Errorf("%w, got %T at index %d", errNotPredictions, rv.Index(i).Interface(), i)
		}
		out = append(out, p)
	}
	return out, nil
}

func toPrediction(v any) (classify.Prediction, bool) {
	switch x := v.(type) {
	case classify.Prediction:
		return x, true
	case *classify.Prediction:
		if x == nil {
			return classify.Prediction{}, false
		}
		return *x, true
	case map[string]any:
		label, ok := x["label"].(string)
		if !ok {
			return classify.Prediction{}, false
		}
		c, ok := toFloat(x["confidence"])
		if !ok {
			return classify.Prediction{}, false
		}
		return classify.Prediction{Label: label, Confidence: c}, true
	}
	return classify.Prediction{}, false
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return float64(rv.Uint()), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	}
	return 0, false
}

func toInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	}
	f, ok := toFloat(v)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}
