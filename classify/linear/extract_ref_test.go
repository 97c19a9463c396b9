package linear

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// refExtractor is the original, straightforward featurizer (emit callback,
// rune offsets for every word). The fast extractor must produce exactly the
// same hashed indices, so models trained before and after the rewrite agree.
// extractor turns normalised text into hashed feature indices. Index layout:
// the top bit of the HashBits-wide space is the block (0 word, 1 char).
type refExtractor struct {
	f        Features
	half     uint32 // buckets per block
	text     []byte
	words    [][2]int // byte spans of word tokens in text
	wordHash []uint64
	runeOff  []int
}

func newRefExtractor(f Features) *refExtractor {
	return &refExtractor{f: f, half: 1 << (f.HashBits - 1)}
}

// extract calls emit(index, block) for every n-gram occurrence of s.
func (e *refExtractor) extract(s string, emit func(idx uint32, block int)) {
	e.text, _ = normalize(e.text[:0], nil, s)
	e.words = e.words[:0]
	t := e.text
	start := -1
	for i := 0; i < len(t); {
		r, w := rune(t[i]), 1
		if r >= utf8.RuneSelf {
			r, w = utf8.DecodeRune(t[i:])
		}
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			e.words = append(e.words, [2]int{start, i})
			start = -1
		}
		i += w
	}
	if start >= 0 {
		e.words = append(e.words, [2]int{start, len(t)})
	}
	mask := e.half - 1
	f := e.f
	if f.WordMax > 0 {
		// Word n-grams over tokens of two or more characters (one-letter
		// tokens still feed the character n-grams).
		e.wordHash = e.wordHash[:0]
		for _, sp := range e.words {
			if utf8.RuneCount(t[sp[0]:sp[1]]) < 2 {
				continue
			}
			h := uint64(fnvOffset)
			for _, c := range t[sp[0]:sp[1]] {
				h = (h ^ uint64(c)) * fnvPrime
			}
			e.wordHash = append(e.wordHash, h)
		}
		for i := range e.wordHash {
			h := uint64(seedWord)
			for n := 1; n <= f.WordMax && i+n <= len(e.wordHash); n++ {
				h = (h ^ e.wordHash[i+n-1]) * fnvPrime
				h = h*31 + uint64(n)
				if n >= f.WordMin {
					emit(uint32(mix(h))&mask, 0)
				}
			}
		}
	}
	if f.CharMax > 0 {
		for _, sp := range e.words {
			w := t[sp[0]:sp[1]]
			// rune offsets of " w " (virtual padding)
			e.runeOff = e.runeOff[:0]
			for i := range w {
				if !utf8.RuneStart(w[i]) {
					continue
				}
				e.runeOff = append(e.runeOff, i)
			}
			nr := len(e.runeOff) + 2 // with the two spaces
			for i := 0; i < nr; i++ {
				h := uint64(seedChar)
				for n := 1; n <= f.CharMax && i+n <= nr; n++ {
					k := i + n - 1
					if k == 0 || k == nr-1 {
						h = (h ^ ' ') * fnvPrime
					} else {
						a := e.runeOff[k-1]
						b := len(w)
						if k < len(e.runeOff) {
							b = e.runeOff[k]
						}
						for _, c := range w[a:b] {
							h = (h ^ uint64(c)) * fnvPrime
						}
					}
					if n >= f.CharMin {
						emit(e.half|uint32(mix(h^uint64(n)))&mask, 1)
					}
				}
			}
		}
	}
}

func TestExtractMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", "Z", "7", "_", " ", "  ", ",", ".", "\\n", "\n", "ä", "Ö", "ß", "ẞ", "é", "u\u0308", "ﬁ", "日", "😀", "-", "x", "io", "\t"}
	texts := []string{"", " ", "a", "ab", "Die Rechnung für März ist falsch, bitte Gutschrift", "Straße STRASSE ﬁne 😀😀 x y zz"}
	for k := 0; k < 2000; k++ {
		var b strings.Builder
		for n := r.IntN(40); n > 0; n-- {
			b.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		texts = append(texts, b.String())
	}
	for _, f := range []Features{DefaultFeatures(), {HashBits: 16, WordMin: 2, WordMax: 2, CharMin: 3, CharMax: 6, MinDF: 1, CharWeight: 1},
		{HashBits: 18, WordMin: 1, WordMax: 1}, {HashBits: 18, CharMin: 1, CharMax: 8}} {
		fast, ref := newExtractor(f), newRefExtractor(f)
		for _, s := range texts {
			var want []uint32
			ref.extract(s, func(idx uint32, _ int) { want = append(want, idx) })
			got := slices.Clone(fast.extract(s))
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("%+v %q: %d indices, reference %d", f, s, len(got), len(want))
			}
		}
	}
	_ = utf8.RuneSelf
}
