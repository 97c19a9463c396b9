package registry

import (
	"reflect"
	"strings"
	"time"
	"unicode"
)

// Field describes one param, derived from the params struct's tags:
//
//	Limit    int    `yaml:"limit" default:"50" desc:"How many tickets to fetch at most."`
//	Password string `yaml:"password" otai:"required,secret" desc:"Agent password."`
//	Domain   string `yaml:"domain" aliases:"freshdesk_domain"`
//	System   string `yaml:"ticket_system" otai:"required" ref:"ticket_system"`
//	Mode     string `yaml:"mode" enum:"fast,slow"`
//
// yaml names the key (default: the Go name in snake_case; "-" hides the
// field); otai lists flags (required, secret); ref says the value is the id
// of a configured service of that kind.
type Field struct {
	Name        string       `json:"name"`
	Aliases     []string     `json:"aliases,omitempty"`
	Type        string       `json:"type"` // string, integer, number, boolean, duration, time, object, array, any
	GoType      reflect.Type `json:"-"`
	Index       []int        `json:"-"`
	Default     string       `json:"default,omitempty"`
	HasDefault  bool         `json:"-"`
	Required    bool         `json:"required,omitempty"`
	Secret      bool         `json:"secret,omitempty"`
	Description string       `json:"description,omitempty"`
	Enum        []string     `json:"enum,omitempty"`
	Ref         Kind         `json:"ref,omitempty"`
	Fields      []Field      `json:"fields,omitempty"` // for objects and arrays of objects
	Elem        string       `json:"elem,omitempty"`   // element type of arrays and maps
}

var (
	durationType = reflect.TypeFor[time.Duration]()
	timeType     = reflect.TypeFor[time.Time]()
)

// FieldsOf lists the params of struct type t (embedded structs are
// flattened). It is cheap enough to call at load time.
func FieldsOf(t reflect.Type) []Field {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		embedded := sf.Anonymous && name == "" && sf.Type.Kind() == reflect.Struct
		// An embedded struct's exported fields are promoted (and settable)
		// even when its type is unexported, as in encoding/json.
		if !sf.IsExported() && !embedded {
			continue
		}
		if embedded {
			for _, f := range FieldsOf(sf.Type) {
				f.Index = append([]int{i}, f.Index...)
				out = append(out, f)
			}
			continue
		}
		if name == "" {
			name = snake(sf.Name)
		}
		f := Field{Name: name, GoType: sf.Type, Index: []int{i}, Description: sf.Tag.Get("desc"), Ref: Kind(sf.Tag.Get("ref"))}
		if d, ok := sf.Tag.Lookup("default"); ok {
			f.Default, f.HasDefault = d, true
		}
		for _, fl := range strings.Split(sf.Tag.Get("otai"), ",") {
			switch strings.TrimSpace(fl) {
			case "required":
				f.Required = true
			case "secret":
				f.Secret = true
			}
		}
		if a := sf.Tag.Get("aliases"); a != "" {
			f.Aliases = strings.Split(a, ",")
		}
		if e := sf.Tag.Get("enum"); e != "" {
			f.Enum = strings.Split(e, ",")
		}
		f.Type, f.Elem, f.Fields = describe(sf.Type)
		out = append(out, f)
	}
	return out
}

func describe(t reflect.Type) (typ, elem string, fields []Field) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "duration", "", nil
	case t == timeType:
		return "time", "", nil
	}
	switch t.Kind() {
	case reflect.String:
		return "string", "", nil
	case reflect.Bool:
		return "boolean", "", nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer", "", nil
	case reflect.Float32, reflect.Float64:
		return "number", "", nil
	case reflect.Struct:
		return "object", "", FieldsOf(t)
	case reflect.Slice, reflect.Array:
		e, _, f := describe(t.Elem())
		return "array", e, f
	case reflect.Map:
		e, _, f := describe(t.Elem())
		return "map", e, f
	}
	return "any", "", nil
}

func snake(s string) string {
	var b strings.Builder
	rs := []rune(s)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
