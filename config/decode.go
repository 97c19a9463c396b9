package config

import (
	"encoding"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otai-dev/otai/registry"
	"github.com/otai-dev/otai/secret"
	"github.com/otai-dev/otai/tmpl"
)

// Decode renders n against scope and decodes it into out (a pointer to a
// params struct). Fields the node leaves out get their `default` tag
// (which may itself be a template). With a nil scope, Decode only checks:
// templates are not evaluated (a template counts as present) and nothing
// is assigned for them. Every problem is returned, positioned, as Errors.
func Decode(n *Node, scope map[string]any, out any) error {
	d := &decoder{scope: scope, check: scope == nil}
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("config.Decode: out must be a non-nil pointer, got %T", out)
	}
	if n == nil {
		n = &Node{Kind: Map}
	}
	d.value(n, v.Elem(), "")
	if len(d.errs.errs) > 0 {
		return d.errs.errs.sorted()
	}
	return nil
}

// ref is a service reference seen while checking: a literal id, or (id
// empty) a reference field that was left out and must be inferred.
type ref struct {
	kind registry.Kind
	id   string
	pos  Pos
	fld  string
}

type decoder struct {
	scope map[string]any
	check bool
	errs  collector
	refs  []ref // literal service references seen (check mode)
}

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType    = reflect.TypeFor[time.Duration]()
	timeType        = reflect.TypeFor[time.Time]()
	anyType         = reflect.TypeFor[any]()
)

func (d *decoder) fail(n *Node, field, format string, a ...any) {
	d.errs.add(n.Pos, field, format, a...)
}

// value decodes n into v.
func (d *decoder) value(n *Node, v reflect.Value, field string) {
	if n.Bad {
		return
	}
	if n.IsTemplate() {
		if d.check {
			return
		}
		val, err := n.Tmpl.Eval(d.scope)
		if err != nil {
			d.errs.addErr(n.Pos, field, err)
			return
		}
		d.native(n, val, v, field)
		return
	}
	if n.Kind == Null {
		v.SetZero()
		return
	}
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), field)
		return
	}
	if v.Type() == anyType {
		val, ok := d.plain(n, field)
		if ok && val != nil {
			v.Set(reflect.ValueOf(val))
		}
		return
	}
	switch n.Kind {
	case Scalar:
		d.scalar(n, d.scalarText(n), v, field)
	case Map:
		switch v.Kind() {
		case reflect.Struct:
			d.structure(n, v, field)
		case reflect.Map:
			if v.Type().Key().Kind() != reflect.String {
				d.fail(n, field, "unsupported map type %s", v.Type())
				return
			}
			if v.IsNil() {
				v.Set(reflect.MakeMap(v.Type()))
			}
			for _, p := range n.Pairs {
				e := reflect.New(v.Type().Elem()).Elem()
				d.value(p.Value, e, joinField(field, p.Key))
				v.SetMapIndex(reflect.ValueOf(p.Key).Convert(v.Type().Key()), e)
			}
		default:
			d.fail(n, field, "expected %s, got a mapping", typeName(v.Type()))
		}
	case Seq:
		switch v.Kind() {
		case reflect.Slice:
			s := reflect.MakeSlice(v.Type(), len(n.Items), len(n.Items))
			for i, it := range n.Items {
				d.value(it, s.Index(i), fmt.Sprintf("%s[%d]", field, i))
			}
			v.Set(s)
		default:
			d.fail(n, field, "expected %s, got a list", typeName(v.Type()))
		}
	}
}

// scalarText is the text of a scalar, with static templates (secrets,
// escaped braces) rendered.
func (d *decoder) scalarText(n *Node) string {
	if n.Tmpl != nil {
		s, err := n.Tmpl.Render(nil)
		if err == nil {
			return s
		}
	}
	return n.Value
}

func (d *decoder) scalar(n *Node, s string, v reflect.Value, field string) {
	t := v.Type()
	if reflect.PointerTo(t).Implements(textUnmarshaler) && t != timeType {
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(s)); err != nil {
			d.fail(n, field, "%v", err)
		}
		return
	}
	switch {
	case t == durationType:
		dur, err := ParseDuration(s)
		if err != nil {
			d.fail(n, field, "%v", err)
			return
		}
		v.SetInt(int64(dur))
		return
	case t == timeType:
		tm, err := ParseTime(s)
		if err != nil {
			d.fail(n, field, "%v", err)
			return
		}
		v.Set(reflect.ValueOf(tm))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(s) // numbers and booleans keep their text: password 1234 stays "1234"
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.ToLower(s))
		if err != nil || (n.Tag != "!!bool" && n.Tag != "!!str" && n.Tag != "") {
			d.fail(n, field, "expected true or false, got %s", quoteScalar(n))
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64)
		if err != nil {
			if f, ferr := strconv.ParseFloat(s, 64); ferr == nil && f == math.Trunc(f) {
				i, err = int64(f), nil
			}
		}
		if err != nil || v.OverflowInt(i) {
			d.fail(n, field, "expected an integer, got %s", quoteScalar(n))
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		i, err := strconv.ParseUint(strings.ReplaceAll(s, "_", ""), 0, 64)
		if err != nil || v.OverflowUint(i) {
			d.fail(n, field, "expected a non-negative integer, got %s", quoteScalar(n))
			return
		}
		v.SetUint(i)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			d.fail(n, field, "expected a number, got %s", quoteScalar(n))
			return
		}
		v.SetFloat(f)
	case reflect.Slice:
		// a single scalar where a list is expected: a list of one
		s1 := reflect.MakeSlice(v.Type(), 1, 1)
		d.scalar(n, s, s1.Index(0), field)
		v.Set(s1)
	default:
		d.fail(n, field, "expected %s, got %s", typeName(t), quoteScalar(n))
	}
}

func quoteScalar(n *Node) string {
	if n.Tmpl != nil && n.Tmpl.Sensitive() {
		return "a secret"
	}
	return strconv.Quote(n.Value)
}

// structure decodes a map node into a struct: known keys, aliases,
// defaults, required fields, unknown keys with suggestions.
func (d *decoder) structure(n *Node, v reflect.Value, field string) {
	fields := fieldsOf(v.Type())
	byName := map[string]*registry.Field{}
	for i := range fields {
		f := &fields[i]
		byName[f.Name] = f
		for _, a := range f.Aliases {
			byName[a] = f
		}
	}
	set := map[string]bool{}
	for _, p := range n.Pairs {
		f, ok := byName[p.Key]
		sub := joinField(field, p.Key)
		if !ok {
			d.errs.add(p.KeyPos, sub, "unknown field%s", suggestField(p.Key, fields))
			continue
		}
		if set[f.Name] {
			d.errs.add(p.KeyPos, sub, "%s is set twice (by name and by alias)", f.Name)
			continue
		}
		set[f.Name] = true
		if f.Secret && p.Value.Kind == Scalar && p.Value.Tmpl == nil && d.check {
			// a literal secret works but lives in the file: say nothing,
			// but make sure it is redacted from everything otai prints.
			secret.Register(p.Value.Value)
		}
		fv := v.FieldByIndex(f.Index)
		d.value(p.Value, fv, sub)
		if f.Secret && !d.check && fv.Kind() == reflect.String {
			secret.Register(fv.String())
		}
		if len(f.Enum) > 0 && fv.Kind() == reflect.String && !p.Value.IsTemplate() {
			if s := fv.String(); s != "" && !contains(f.Enum, s) {
				d.fail(p.Value, sub, "%q is not one of %s", s, strings.Join(f.Enum, ", "))
			}
		}
		if f.Ref != "" && d.check && p.Value.Kind == Scalar && p.Value.Tmpl == nil {
			d.refs = append(d.refs, ref{kind: f.Ref, id: p.Value.Value, pos: p.Value.Pos, fld: sub})
		}
	}
	for i := range fields {
		f := &fields[i]
		if set[f.Name] {
			continue
		}
		if f.Ref != "" && d.check && !f.HasDefault {
			d.refs = append(d.refs, ref{kind: f.Ref, pos: n.Pos, fld: joinField(field, f.Name)})
		}
		if f.HasDefault {
			dn := defaultNode(f, n.Pos)
			if dn == nil {
				continue
			}
			if dn.IsTemplate() && d.check {
				continue
			}
			d.value(dn, v.FieldByIndex(f.Index), joinField(field, f.Name))
			continue
		}
		if f.Required {
			d.fail(n, joinField(field, f.Name), "required field is missing")
		}
	}
}

var (
	fieldsMu    sync.Mutex
	fieldsCache = map[reflect.Type][]registry.Field{}
	defaultsMu  sync.Mutex
	defaults    = map[string]*Node{}
)

func fieldsOf(t reflect.Type) []registry.Field {
	fieldsMu.Lock()
	defer fieldsMu.Unlock()
	fs, ok := fieldsCache[t]
	if !ok {
		fs = registry.FieldsOf(t)
		fieldsCache[t] = fs
	}
	return fs
}

// defaultNode compiles a field's default once. Defaults are written by
// developers, so a bad one panics in tests rather than at a user.
func defaultNode(f *registry.Field, at Pos) *Node {
	key := f.GoType.String() + "\x00" + f.Default
	defaultsMu.Lock()
	n, ok := defaults[key]
	if !ok {
		n = &Node{Kind: Scalar, Tag: "!!str", Value: f.Default}
		if tmpl.HasMarkup(f.Default) {
			t, err := tmpl.Compile(f.Default, tmpl.Options{})
			if err != nil {
				defaultsMu.Unlock()
				panic(fmt.Sprintf("config: default of %s: %v", f.Name, err))
			}
			n.Tmpl = t
		}
		defaults[key] = n
	}
	defaultsMu.Unlock()
	c := *n
	c.Pos = at
	return &c
}

func suggestField(key string, fields []registry.Field) string {
	best, bestD := "", 1<<30
	var names []string
	for _, f := range fields {
		names = append(names, f.Name)
		for _, cand := range append([]string{f.Name}, f.Aliases...) {
			if dd := editDistance(strings.ToLower(key), strings.ToLower(cand)); dd < bestD {
				best, bestD = f.Name, dd
			}
		}
	}
	if best != "" && bestD <= max(2, len(key)/3) {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	if len(names) == 0 {
		return " (this component takes no params)"
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// plain converts n to plain Go values (for fields of type any):
// map[string]any, []any, string, int, float64, bool, nil, templates
// evaluated to their native values.
func (d *decoder) plain(n *Node, field string) (any, bool) {
	if n.IsTemplate() {
		if d.check {
			return nil, false
		}
		v, err := n.Tmpl.Eval(d.scope)
		if err != nil {
			d.errs.addErr(n.Pos, field, err)
			return nil, false
		}
		return v, true
	}
	switch n.Kind {
	case Null:
		return nil, true
	case Scalar:
		s := d.scalarText(n)
		switch n.Tag {
		case "!!int":
			if i, err := strconv.ParseInt(strings.ReplaceAll(s, "_", ""), 0, 64); err == nil {
				return int(i), true
			}
		case "!!float":
			if f, err := strconv.ParseFloat(s, 64); err == nil {
				return f, true
			}
		case "!!bool":
			if b, err := strconv.ParseBool(strings.ToLower(s)); err == nil {
				return b, true
			}
		}
		return s, true
	case Map:
		m := make(map[string]any, len(n.Pairs))
		ok := true
		for _, p := range n.Pairs {
			v, k := d.plain(p.Value, joinField(field, p.Key))
			ok = ok && k
			m[p.Key] = v
		}
		return m, ok
	case Seq:
		s := make([]any, len(n.Items))
		ok := true
		for i, it := range n.Items {
			v, k := d.plain(it, fmt.Sprintf("%s[%d]", field, i))
			ok = ok && k
			s[i] = v
		}
		return s, ok
	}
	return nil, true
}

// native assigns a template's result to v, converting where a person
// would expect it (a number into a string field renders as text; a list of
// maps into a list of structs decodes field by field).
func (d *decoder) native(n *Node, val any, v reflect.Value, field string) {
	if val == nil {
		v.SetZero()
		return
	}
	rv := reflect.ValueOf(val)
	if rv.Type().AssignableTo(v.Type()) {
		v.Set(rv)
		return
	}
	if v.Kind() == reflect.Pointer {
		if rv.Kind() == reflect.Pointer && rv.Type().Elem().AssignableTo(v.Type().Elem()) {
			v.Set(rv)
			return
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.native(n, val, v.Elem(), field)
		return
	}
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Type().AssignableTo(v.Type()) {
		v.Set(rv.Elem())
		return
	}
	switch v.Kind() {
	case reflect.String:
		if v.Type() == reflect.TypeFor[string]() || rv.Kind() != reflect.String {
			v.SetString(formatValue(val))
		} else {
			v.SetString(rv.String())
		}
		return
	case reflect.Slice:
		if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array {
			s := reflect.MakeSlice(v.Type(), rv.Len(), rv.Len())
			for i := 0; i < rv.Len(); i++ {
				d.native(n, rv.Index(i).Interface(), s.Index(i), fmt.Sprintf("%s[%d]", field, i))
			}
			v.Set(s)
			return
		}
	}
	// Everything else goes through a synthetic node, so the same rules
	// apply as for values written in the file.
	d.value(nodeOf(val, n.Pos), v, field)
}

// nodeOf turns a plain value into a Node (no templates).
func nodeOf(val any, pos Pos) *Node {
	switch x := val.(type) {
	case nil:
		return &Node{Kind: Null, Pos: pos}
	case string:
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!str", Value: x}
	case bool:
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!bool", Value: strconv.FormatBool(x)}
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!int", Value: fmt.Sprint(x)}
	case float32, float64:
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!float", Value: formatValue(x)}
	case time.Duration:
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!str", Value: x.String()}
	case time.Time:
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!str", Value: x.Format(time.RFC3339Nano)}
	case map[string]any:
		n := &Node{Kind: Map, Pos: pos}
		for k, v := range x {
			n.Pairs = append(n.Pairs, Pair{Key: k, KeyPos: pos, Value: nodeOf(v, pos)})
		}
		return n
	case []any:
		n := &Node{Kind: Seq, Pos: pos}
		for _, v := range x {
			n.Items = append(n.Items, nodeOf(v, pos))
		}
		return n
	}
	// structs and other types: through JSON, which every otai type speaks
	b, err := json.Marshal(val)
	if err != nil {
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!str", Value: fmt.Sprint(val)}
	}
	var plain any
	if err := json.Unmarshal(b, &plain); err != nil {
		return &Node{Kind: Scalar, Pos: pos, Tag: "!!str", Value: string(b)}
	}
	if f, ok := plain.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		plain = int64(f)
	}
	return nodeOf(plain, pos)
}

func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "a duration like 30s or 5m"
	case t == timeType:
		return "a time like 2026-01-02T15:04:05Z"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Slice, reflect.Array:
		return "a list"
	}
	return t.String()
}

// ParseDuration accepts Go durations ("90s", "1h30m"), days ("2d") and
// plain numbers of seconds.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	if strings.HasSuffix(s, "d") {
		if f, err := strconv.ParseFloat(strings.TrimSuffix(s, "d"), 64); err == nil {
			return time.Duration(f * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("expected a duration like 30s, 5m, 2h or 1d, got %q", s)
	}
	return d, nil
}

// ParseTime accepts RFC 3339, "2006-01-02 15:04:05" and "2006-01-02" (UTC).
func ParseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("expected a time like 2026-01-02T15:04:05Z or 2026-01-02, got %q", s)
}

// formatValue renders a native value as text the way a person expects:
// integers without decimals, floats in shortest form, nil as "", lists
// and maps as JSON.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case float32:
		return formatValue(float64(x))
	case fmt.Stringer:
		return x.String()
	case []any, map[string]any:
		b, err := json.Marshal(x)
		if err == nil {
			return string(b)
		}
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice || rv.Kind() == reflect.Map || rv.Kind() == reflect.Struct {
		if b, err := json.Marshal(v); err == nil {
			return string(b)
		}
	}
	return fmt.Sprint(v)
}
