package freshdeskfake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The search query language: field:value, field:>value (>=), field:<value
// (<=), strings and dates in single quotes, null, AND, OR, parentheses.

type pred func(*Ticket) bool

type lexer struct {
	toks []string
	i    int
}

func tokenize(s string) ([]string, error) {
	var out []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '(' && s[j] != ')' {
				if s[j] == '\'' {
					k := strings.IndexByte(s[j+1:], '\'')
					if k < 0 {
						return nil, fmt.Errorf("unterminated string at %d", j)
					}
					j += k + 1
				}
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}

func parseQuery(s string) (pred, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty query")
	}
	l := &lexer{toks: toks}
	p, err := l.or()
	if err != nil {
		return nil, err
	}
	if l.i != len(l.toks) {
		return nil, fmt.Errorf("unexpected %q", l.toks[l.i])
	}
	return p, nil
}

func (l *lexer) peek() string {
	if l.i < len(l.toks) {
		return l.toks[l.i]
	}
	return ""
}

func (l *lexer) or() (pred, error) {
	left, err := l.and()
	if err != nil {
		return nil, err
	}
	for l.peek() == "OR" {
		l.i++
		right, err := l.and()
		if err != nil {
			return nil, err
		}
		a, b := left, right
		left = func(t *Ticket) bool { return a(t) || b(t) }
	}
	return left, nil
}

func (l *lexer) and() (pred, error) {
	left, err := l.atom()
	if err != nil {
		return nil, err
	}
	for l.peek() == "AND" {
		l.i++
		right, err := l.atom()
		if err != nil {
			return nil, err
		}
		a, b := left, right
		left = func(t *Ticket) bool { return a(t) && b(t) }
	}
	return left, nil
}

func (l *lexer) atom() (pred, error) {
	tok := l.peek()
	if tok == "" {
		return nil, fmt.Errorf("unexpected end of query")
	}
	l.i++
	if tok == "(" {
		p, err := l.or()
		if err != nil {
			return nil, err
		}
		if l.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		l.i++
		return p, nil
	}
	field, val, ok := strings.Cut(tok, ":")
	if !ok {
		return nil, fmt.Errorf("%q is not field:value", tok)
	}
	op := byte(0)
	if strings.HasPrefix(val, ">") || strings.HasPrefix(val, "<") {
		op, val = val[0], val[1:]
	}
	quoted := len(val) >= 2 && val[0] == '\'' && val[len(val)-1] == '\''
	if quoted {
		val = val[1 : len(val)-1]
	}
	isNull := !quoted && val == "null"
	num := func(get func(*Ticket) int64) (pred, error) {
		if isNull {
			return func(t *Ticket) bool { return get(t) == 0 }, nil
		}
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || quoted {
			return nil, fmt.Errorf("%s needs a number", field)
		}
		return func(t *Ticket) bool {
			switch op {
			case '>':
				return get(t) >= n
			case '<':
				return get(t) <= n
			}
			return get(t) == n
		}, nil
	}
	date := func(get func(*Ticket) time.Time) (pred, error) {
		d, err := time.Parse("2006-01-02", val)
		if err != nil || !quoted {
			return nil, fmt.Errorf("%s needs a date 'YYYY-MM-DD'", field)
		}
		return func(t *Ticket) bool {
			day := get(t).UTC().Truncate(24 * time.Hour)
			switch op {
			case '>':
				return !day.Before(d)
			case '<':
				return !day.After(d)
			}
			return day.Equal(d)
		}, nil
	}
	str := func(get func(*Ticket) []string) (pred, error) {
		if op != 0 {
			return nil, fmt.Errorf("%s does not support :> or :<", field)
		}
		if isNull {
			return func(t *Ticket) bool { return len(get(t)) == 0 }, nil
		}
		if !quoted {
			return nil, fmt.Errorf("%s needs a value in single quotes", field)
		}
		return func(t *Ticket) bool {
			return slices.ContainsFunc(get(t), func(s string) bool { return strings.EqualFold(s, val) })
		}, nil
	}
	switch field {
	case "status":
		return num(func(t *Ticket) int64 { return int64(t.Status) })
	case "priority":
		return num(func(t *Ticket) int64 { return int64(t.Priority) })
	case "group_id":
		return num(func(t *Ticket) int64 { return t.GroupID })
	case "agent_id":
		return num(func(t *Ticket) int64 { return t.ResponderID })
	case "created_at":
		return date(func(t *Ticket) time.Time { return t.CreatedAt })
	case "updated_at":
		return date(func(t *Ticket) time.Time { return t.UpdatedAt })
	case "tag":
		return str(func(t *Ticket) []string { return t.Tags })
	case "type":
		return str(func(t *Ticket) []string {
			if t.Type == "" {
				return nil
			}
			return []string{t.Type}
		})
	}
	if strings.HasPrefix(field, "cf_") {
		return str(func(t *Ticket) []string {
			if v, ok := t.CustomFields[field]; ok && v != nil {
				return []string{fmt.Sprint(v)}
			}
			return nil
		})
	}
	return nil, fmt.Errorf("unknown field %q", field)
}
