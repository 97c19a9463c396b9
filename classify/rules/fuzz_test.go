package rules

import (
	"context"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// FuzzClassify compiles arbitrary keyword and regex rules and classifies
// arbitrary text with them. Compile either fails with an error or yields a
// classifier whose answers are well-formed: at most k predictions, labels
// unique and known to Describe, confidences in (0, 1] and non-increasing,
// the default label only when nothing matched. A keyword made of the
// text's own words always matches it (folding is idempotent), and so does
// a regex that matches the text.
func FuzzClassify(f *testing.F) {
	f.Add("Meine Rechnung ist falsch, bitte Gutschrift", "rechnung", `(?i)\bpayment (failed|declined)\b`, "Other", 0.9, 0, uint8(1), uint8(2))
	f.Add("FALSCHE GRÖSSE, Straße", "Größe", "", "", 0.0, 2, uint8(0), uint8(3))
	f.Add("Pru\u0308fung credit-card\nΣΟΦΟΣ ς", "credit card", `\p{Greek}+`, "x", 1.0, 1, uint8(4), uint8(9))
	f.Add("", "c++", "(", " ", -1.0, -3, uint8(0), uint8(0))
	f.Add("\xff\xfe a\u0308 İstanbul ǅ ß", "ISTANBUL", "^$", "Other", 1e-300, 0, uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, text, keyword, regex, defaultLabel string, conf float64, k int, from, n uint8) {
		p := &Params{DefaultLabel: defaultLabel, Rules: []Rule{
			{Label: "Keyword", Keywords: []string{keyword}, Confidence: conf},
			{Label: "Regex", Regex: regex, Confidence: 0.5},
		}}
		ws := words(text)
		phrase := ""
		if len(ws) > 0 {
			i := int(from) % len(ws)
			j := min(len(ws), i+1+int(n)%3)
			phrase = strings.Join(ws[i:j], " ")
			p.Rules = append(p.Rules, Rule{Label: "Phrase", Keywords: []string{phrase}, Confidence: 0.7})
		}
		c, err := Compile(p)
		if err != nil {
			// Only the fuzzed parts can be wrong.
			if len(words(keyword)) > 0 && (conf == 0 || conf > 0 && conf <= 1) && strings.TrimSpace(regex) != "" && validRegex(regex) {
				t.Fatalf("Compile: %v", err)
			}
			return
		}
		ctx := context.Background()
		got, err := c.Classify(ctx, text, k)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := c.Classify(ctx, text, k)
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("not deterministic: %v then %v", got, again)
		}
		if got == nil || (k > 0 && len(got) > k) {
			t.Fatalf("k=%d: %v", k, got)
		}
		known := c.Describe().Labels
		seen := map[string]bool{}
		for i, pr := range got {
			if !(pr.Confidence > 0 && pr.Confidence <= 1) || seen[pr.Label] || !slices.Contains(known, pr.Label) {
				t.Fatalf("prediction %d = %+v (known %v)", i, pr, known)
			}
			seen[pr.Label] = true
			if i > 0 && pr.Confidence > got[i-1].Confidence {
				t.Fatalf("not ordered by confidence: %v", got)
			}
		}
		all, _ := c.Classify(ctx, text, 0)
		labels := make([]string, len(all))
		for i, pr := range all {
			labels[i] = pr.Label
		}
		if k > 0 && !reflect.DeepEqual(got, all[:min(k, len(all))]) {
			t.Fatalf("top %d %v is not a prefix of %v", k, got, all)
		}
		if phrase != "" && !slices.Contains(labels, "Phrase") {
			t.Fatalf("keyword %q from the text %q did not match (words %q)", phrase, text, words(phrase))
		}
		if regex != "" && regexp.MustCompile(regex).MatchString(text) && !slices.Contains(labels, "Regex") {
			t.Fatalf("regex %q matches %q but the rule did not", regex, text)
		}
		if def := strings.TrimSpace(defaultLabel); def != "" && slices.Contains(labels, def) && len(all) == 1 && def != "Keyword" && def != "Regex" && def != "Phrase" {
			return // the default alone: nothing else matched
		}
		for _, pr := range all {
			if pr.Label != "Keyword" && pr.Label != "Regex" && pr.Label != "Phrase" {
				t.Fatalf("label %q beside rule matches: %v", pr.Label, all)
			}
		}
	})
}

func validRegex(s string) bool {
	_, err := regexp.Compile(s)
	return err == nil
}
