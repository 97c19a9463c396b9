package config

import (
	"errors"
	"fmt"
	"strings"

	"github.com/otai-dev/otai/tmpl"
	"go.yaml.in/yaml/v3"
)

// Kind is the shape of a Node.
type Kind int

const (
	Null Kind = iota
	Scalar
	Map
	Seq
)

// Node is a config value with its position. String scalars holding
// {{ templates }} or ${{ secrets.X }} carry their compiled template.
type Node struct {
	Kind  Kind
	Pos   Pos
	Tag   string // YAML tag of scalars: !!str, !!int, !!float, !!bool
	Value string // scalar text as written (secrets unresolved)
	Tmpl  *tmpl.Template
	Bad   bool // a template that did not compile (already reported)
	Pairs []Pair
	Items []*Node
}

// Pair is one key of a map node.
type Pair struct {
	Key    string
	KeyPos Pos
	Value  *Node
}

// Get returns the value of key in a map node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil {
		return nil
	}
	for _, p := range n.Pairs {
		if p.Key == key {
			return p.Value
		}
	}
	return nil
}

// IsTemplate reports whether n is a scalar whose value is computed per run.
func (n *Node) IsTemplate() bool { return n != nil && n.Tmpl != nil && !n.Tmpl.Static() }

// Sensitive reports whether n or any node below it holds a secret.
func (n *Node) Sensitive() bool {
	if n == nil {
		return false
	}
	if n.Tmpl != nil && n.Tmpl.Sensitive() {
		return true
	}
	for _, p := range n.Pairs {
		if p.Value.Sensitive() {
			return true
		}
	}
	for _, it := range n.Items {
		if it.Sensitive() {
			return true
		}
	}
	return false
}

const maxNodes = 100_000

// convert builds a Node tree from a YAML node, compiling templates. Anchors
// and aliases are followed; merge keys (<<) are applied.
func (l *loader) convert(y *yaml.Node, field string, depth int) *Node {
	pos := Pos{File: l.file, Line: y.Line, Col: y.Column}
	if depth > 64 {
		l.errs.add(pos, field, "nested too deeply")
		return &Node{Kind: Null, Pos: pos}
	}
	// Aliases can multiply a small file into billions of nodes ("billion
	// laughs"); a config never needs more than a few thousand.
	l.nodes++
	if l.nodes > maxNodes {
		if !l.tooBig {
			l.tooBig = true
			l.errs.add(pos, field, "the config expands to more than %d values (anchors and aliases nested too deeply?)", maxNodes)
		}
		return &Node{Kind: Null, Pos: pos}
	}
	switch y.Kind {
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &Node{Kind: Null, Pos: pos}
		}
		return l.convert(y.Content[0], field, depth+1)
	case yaml.AliasNode:
		if y.Alias == nil {
			return &Node{Kind: Null, Pos: pos}
		}
		n := l.convert(y.Alias, field, depth+1)
		return n
	case yaml.ScalarNode:
		if y.Tag == "!!null" {
			return &Node{Kind: Null, Pos: pos, Tag: y.Tag}
		}
		n := &Node{Kind: Scalar, Pos: pos, Tag: y.Tag, Value: y.Value}
		if y.Tag == "!!str" && tmpl.HasMarkup(y.Value) {
			t, err := tmpl.Compile(y.Value, tmpl.Options{Secrets: l.secrets})
			if err != nil {
				var te *tmpl.Error
				p := pos
				if errors.As(err, &te) {
					p = offsetPos(y, te.Offset)
					p.File = l.file
				}
				l.errs.addErr(p, field, err)
				n.Bad = true
			} else {
				n.Tmpl = t
			}
		}
		return n
	case yaml.SequenceNode:
		n := &Node{Kind: Seq, Pos: pos}
		for i, c := range y.Content {
			n.Items = append(n.Items, l.convert(c, fmt.Sprintf("%s[%d]", field, i), depth+1))
		}
		return n
	case yaml.MappingNode:
		n := &Node{Kind: Map, Pos: pos}
		seen := map[string]Pos{}
		for i := 0; i+1 < len(y.Content); i += 2 {
			k, v := y.Content[i], y.Content[i+1]
			kp := Pos{File: l.file, Line: k.Line, Col: k.Column}
			if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Tag == "!!merge" {
				m := l.convert(v, field, depth+1)
				for _, src := range append([]*Node{m}, m.Items...) {
					for _, p := range src.Pairs {
						if _, dup := seen[p.Key]; !dup {
							seen[p.Key] = p.KeyPos
							n.Pairs = append(n.Pairs, p)
						}
					}
				}
				continue
			}
			if k.Kind != yaml.ScalarNode {
				l.errs.add(kp, field, "a key must be a plain string")
				continue
			}
			key := k.Value
			sub := joinField(field, key)
			if first, dup := seen[key]; dup {
				l.errs.add(kp, sub, "duplicate key (first at line %d)", first.Line)
				continue
			}
			seen[key] = kp
			n.Pairs = append(n.Pairs, Pair{Key: key, KeyPos: kp, Value: l.convert(v, sub, depth+1)})
		}
		return n
	}
	return &Node{Kind: Null, Pos: pos}
}

func joinField(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// offsetPos maps a byte offset inside a scalar's value to a file position.
// Plain and quoted one-line scalars map exactly (quotes shift by one);
// block scalars start on the next line.
func offsetPos(y *yaml.Node, off int) Pos {
	line, col := y.Line, y.Column
	v := y.Value
	if off > len(v) {
		off = len(v)
	}
	switch y.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		line++
		col = y.Column + 2
		if y.Column <= 1 {
			col = 3
		}
	}
	before := v[:off]
	if nl := strings.Count(before, "\n"); nl > 0 {
		line += nl
		last := strings.LastIndex(before, "\n")
		return Pos{Line: line, Col: col - 0 + (off - last - 1)}
	}
	return Pos{Line: line, Col: col + off}
}
