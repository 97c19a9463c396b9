// Package rules is otai's rule-based classifier: admins write keyword and
// regular-expression rules beside (or instead of) trained models.
//
//	use: base:RuleClassifier
//	params:
//	  rules:                    # ordered
//	    - label: Billing
//	      keywords: [invoice, rechnung, refund, "credit card"]
//	      regex: '(?i)\bpayment (failed|declined)\b'
//	      confidence: 0.9       # default 0.8, in (0, 1]
//	  default_label: Other      # optional: returned when nothing matches
//	  default_confidence: 0.1
//
// Every rule that matches yields its label with its confidence. A label
// matched by several rules is reported once, with the highest confidence.
// Results are ordered by confidence, then by rule order (earlier rules
// first), and cut to k.
//
// # Keywords
//
// A rule matches when any one of its keywords does. Keywords match whole
// words, case-insensitively, for any script: text and keywords are split
// into words (runs of letters, digits and combining marks; everything else
// separates words) and compared after lower-casing. A keyword of several
// words matches those words in sequence, whatever separates them in the
// text: "credit card" matches "Credit Card", "credit-card" and
// "credit\ncard", but not "credit cards". So "bill" does not match
// "billion", and "Rechnung" matches "rechnung" and "RECHNUNG".
//
// German ß (and capital ẞ) is compared as "ss", so "Größe" matches "GRÖSSE"
// and "Grösse", and "Straße" matches "Strasse"; umlauts are not
// transliterated ("Größe" does not match "Groesse"). An umlaut written as a
// vowel plus combining diaeresis (as some mail clients send) matches the
// precomposed one.
//
// Keywords consisting only of punctuation or symbols (such as "c++"
// reduced to "c") match poorly: use regex for those.
//
// # Regex
//
// regex is a Go (RE2) regular expression, compiled at load and matched
// against the unmodified text; write (?i) for case-insensitive matching. A
// rule with both keywords and regex matches when either does.
package rules

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"

	"github.com/otai-dev/otai/classify"
	"github.com/otai-dev/otai/registry"
)

// DefaultConfidence is a rule's confidence when it sets none.
const DefaultConfidence = 0.8

// DefaultFallbackConfidence is default_confidence when it is not set.
const DefaultFallbackConfidence = 0.1

// Rule is one rule of Params.
type Rule struct {
	Label      string   `yaml:"label" otai:"required" desc:"The label this rule yields when it matches."`
	Keywords   []string `yaml:"keywords" desc:"Whole words or phrases, matched case-insensitively; any one matches."`
	Regex      string   `yaml:"regex" desc:"A Go (RE2) regular expression matched against the text; (?i) makes it case-insensitive."`
	Confidence float64  `yaml:"confidence" default:"0.8" desc:"The confidence reported for the label, in (0, 1]."`
}

// Params configure the rule classifier.
type Params struct {
	Rules             []Rule  `yaml:"rules" otai:"required" desc:"Ordered rules; every matching rule yields its label, earlier rules rank first on equal confidence."`
	DefaultLabel      string  `yaml:"default_label" desc:"Label returned when no rule matches (none when empty)."`
	DefaultConfidence float64 `yaml:"default_confidence" default:"0.1" desc:"Confidence of default_label, in (0, 1]."`
}

func init() {
	registry.RegisterClassifier[Params](registry.Info{
		ID:      "base:RuleClassifier",
		Aliases: []string{"base:RulesClassifier", "rules:Classifier"},
		Summary: "Classifies by keyword and regex rules: every matching rule yields its label with a fixed confidence.",
		Description: "Keywords match whole words case-insensitively (several words match as a phrase); " +
			"regex is a Go RE2 expression. A label matched by several rules keeps its highest confidence; " +
			"default_label is returned when nothing matches.",
	}, New)
}

// rule is a compiled Rule.
type rule struct {
	label      string
	confidence float64
	re         *regexp.Regexp
}

// keyword is one compiled keyword: its words, folded.
type keyword struct {
	rule  int
	words []string
}

// Classifier is the compiled rule set. It is immutable and safe for
// concurrent use.
type Classifier struct {
	rules []rule
	// byFirst maps a keyword's first word to the keywords starting with it.
	byFirst      map[string][]keyword
	defaultLabel string
	defaultConf  float64
	info         classify.Info
}

var (
	_ classify.Classifier = (*Classifier)(nil)
	_ classify.Describer  = (*Classifier)(nil)
)

// New validates p and compiles the rules. Errors name the offending field,
// as in "rules[2].regex: ...".
func New(ctx context.Context, p *Params, env registry.Env) (classify.Classifier, error) {
	return Compile(p)
}

// Compile validates p and compiles the rules (New without the registry's
// arguments).
func Compile(p *Params) (*Classifier, error) {
	if p == nil || len(p.Rules) == 0 {
		return nil, errors.New("rules: at least one rule is required")
	}
	c := &Classifier{byFirst: map[string][]keyword{}}
	norm := Params{DefaultLabel: strings.TrimSpace(p.DefaultLabel), DefaultConfidence: p.DefaultConfidence}
	for i, r := range p.Rules {
		field := fmt.Sprintf("rules[%d]", i)
		label := strings.TrimSpace(r.Label)
		if label == "" {
			return nil, fmt.Errorf("%s.label: required", field)
		}
		conf := r.Confidence
		if conf == 0 {
			conf = DefaultConfidence
		}
		if !(conf > 0 && conf <= 1) {
			return nil, fmt.Errorf("%s.confidence: %v is not in (0, 1]", field, r.Confidence)
		}
		if len(r.Keywords) == 0 && strings.TrimSpace(r.Regex) == "" {
			return nil, fmt.Errorf("%s: rule %q needs keywords or regex", field, label)
		}
		cr := rule{label: label, confidence: conf}
		if r.Regex != "" {
			re, err := regexp.Compile(r.Regex)
			if err != nil {
				return nil, fmt.Errorf("%s.regex: %w", field, err)
			}
			cr.re = re
		}
		nr := Rule{Label: label, Regex: r.Regex, Confidence: conf}
		for j, kw := range r.Keywords {
			ws := words(kw)
			if len(ws) == 0 {
				return nil, fmt.Errorf("%s.keywords[%d]: %q has no letters or digits (use regex)", field, j, kw)
			}
			c.byFirst[ws[0]] = append(c.byFirst[ws[0]], keyword{rule: i, words: ws})
			nr.Keywords = append(nr.Keywords, strings.Join(ws, " "))
		}
		c.rules = append(c.rules, cr)
		norm.Rules = append(norm.Rules, nr)
	}
	if norm.DefaultLabel != "" {
		if norm.DefaultConfidence == 0 {
			norm.DefaultConfidence = DefaultFallbackConfidence
		}
		if !(norm.DefaultConfidence > 0 && norm.DefaultConfidence <= 1) {
			return nil, fmt.Errorf("default_confidence: %v is not in (0, 1]", p.DefaultConfidence)
		}
	} else {
		norm.DefaultConfidence = 0
	}
	c.defaultLabel, c.defaultConf = norm.DefaultLabel, norm.DefaultConfidence
	c.info = classify.Info{Name: "rules", Version: version(norm), Labels: labels(norm)}
	return c, nil
}

// version is a short hash of the normalized rules.
func version(p Params) string {
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: Params holds strings and numbers only
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}

func labels(p Params) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range p.Rules {
		if !seen[r.Label] {
			seen[r.Label] = true
			out = append(out, r.Label)
		}
	}
	if p.DefaultLabel != "" && !seen[p.DefaultLabel] {
		out = append(out, p.DefaultLabel)
	}
	return out
}

// Describe returns the classifier's name ("rules"), a version that changes
// whenever the rules do, and its labels in rule order.
func (c *Classifier) Describe() classify.Info {
	info := c.info
	info.Labels = append([]string(nil), c.info.Labels...)
	return info
}

// Classify returns the labels of all matching rules, at most k (k <= 0
// means all), highest confidence first, ties in rule order. With no match
// it returns the default label if one is set, else an empty slice.
func (c *Classifier) Classify(ctx context.Context, text string, k int) ([]classify.Prediction, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	matched := make([]bool, len(c.rules))
	ws := words(text)
	for i, w := range ws {
		for _, kw := range c.byFirst[w] {
			if !matched[kw.rule] && hasPrefix(ws[i:], kw.words) {
				matched[kw.rule] = true
			}
		}
	}
	for i, r := range c.rules {
		if !matched[i] && r.re != nil && r.re.MatchString(text) {
			matched[i] = true
		}
	}

	type hit struct {
		classify.Prediction
		rule int
	}
	var hits []hit
	index := map[string]int{} // label -> index in hits
	for i, r := range c.rules {
		if !matched[i] {
			continue
		}
		if j, ok := index[r.label]; ok {
			if r.confidence > hits[j].Confidence {
				hits[j].Confidence, hits[j].rule = r.confidence, i
			}
			continue
		}
		index[r.label] = len(hits)
		hits = append(hits, hit{classify.Prediction{Label: r.label, Confidence: r.confidence}, i})
	}
	if len(hits) == 0 {
		if c.defaultLabel != "" {
			return []classify.Prediction{{Label: c.defaultLabel, Confidence: c.defaultConf}}, nil
		}
		return []classify.Prediction{}, nil
	}
	sort.SliceStable(hits, func(a, b int) bool {
		if hits[a].Confidence != hits[b].Confidence {
			return hits[a].Confidence > hits[b].Confidence
		}
		return hits[a].rule < hits[b].rule
	})
	if k > 0 && len(hits) > k {
		hits = hits[:k]
	}
	out := make([]classify.Prediction, len(hits))
	for i, h := range hits {
		out[i] = h.Prediction
	}
	return out, nil
}

func hasPrefix(ws, prefix []string) bool {
	if len(ws) < len(prefix) {
		return false
	}
	for i, w := range prefix {
		if ws[i] != w {
			return false
		}
	}
	return true
}

// words splits s into folded words: runs of letters, digits and combining
// marks, lower-cased, with ß as "ss" and a vowel plus combining diaeresis
// composed into its umlaut.
func words(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, string(cur))
			cur = cur[:0]
		}
	}
	for _, r := range s {
		switch {
		case r == 'ß' || r == 'ẞ':
			cur = append(cur, 's', 's')
		case r == '\u0308' && len(cur) > 0 && umlaut[cur[len(cur)-1]] != 0:
			cur[len(cur)-1] = umlaut[cur[len(cur)-1]]
		case r == 'ς':
			cur = append(cur, 'σ')
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			cur = append(cur, unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return out
}

// umlaut composes a lower-case vowel with a combining diaeresis.
var umlaut = map[rune]rune{'a': 'ä', 'o': 'ö', 'u': 'ü'}
