// Package linear is otai's built-in text classifier: hashed word and
// character n-grams weighted by TF-IDF, and a multinomial logistic
// regression with temperature-calibrated probabilities. It trains in seconds
// on a few thousand labelled tickets, predicts tens of thousands of tickets
// per second on one core, and needs nothing but this package at run time.
package linear

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Features are the featurizer settings. They are stored in the model file,
// so a model always featurizes the way it was trained.
type Features struct {
	// HashBits is log2 of the hashed feature space, shared by the word and
	// the character block (each gets half). 20 means 2^19 buckets per block.
	HashBits int `json:"hash_bits"`
	// WordMin..WordMax are the word n-gram orders (0,0 turns words off).
	WordMin int `json:"word_min"`
	WordMax int `json:"word_max"`
	// CharMin..CharMax are the character n-gram lengths, taken within word
	// boundaries with a space on each side (like scikit-learn's char_wb);
	// 0,0 turns characters off.
	CharMin int `json:"char_min"`
	CharMax int `json:"char_max"`
	// Sublinear uses 1+log(tf) instead of tf.
	Sublinear bool `json:"sublinear"`
	// MinDF drops features seen in fewer training documents (pruning).
	MinDF int `json:"min_df"`
	// CharWeight scales the L2-normalised character block against the
	// L2-normalised word block (each block is normalised on its own, then
	// the whole vector is normalised again).
	CharWeight float64 `json:"char_weight"`
}

// DefaultFeatures are the settings chosen by measurement (bench/linear).
func DefaultFeatures() Features {
	return Features{HashBits: 20, WordMin: 1, WordMax: 3, CharMin: 2, CharMax: 5, Sublinear: true, MinDF: 2, CharWeight: 1}
}

func (f Features) validate() error {
	switch {
	case f.HashBits < 8 || f.HashBits > 26:
		return fmt.Errorf("hash_bits %d out of range 8..26", f.HashBits)
	case f.WordMin < 0 || f.WordMax < f.WordMin || f.WordMax > 3:
		return fmt.Errorf("word n-gram range %d..%d invalid (max 3)", f.WordMin, f.WordMax)
	case f.CharMin < 0 || f.CharMax < f.CharMin || f.CharMax > 8:
		return fmt.Errorf("char n-gram range %d..%d invalid (max 8)", f.CharMin, f.CharMax)
	case f.WordMax == 0 && f.CharMax == 0:
		return fmt.Errorf("no features: both word and char n-grams are off")
	case f.CharWeight < 0 || f.CharWeight > 100:
		return fmt.Errorf("char_weight %g out of range 0..100", f.CharWeight)
	case f.MinDF < 0:
		return fmt.Errorf("min_df %d is negative", f.MinDF)
	}
	return nil
}

// Normalize returns the form of s the featurizer sees: NFKC, case-folded
// (ß and ẞ become ss), with literal "\n" escape sequences turned into
// spaces. Composed and decomposed umlauts give the same result.
func Normalize(s string) string { return string(normalize(nil, s)) }

// normalize appends the normalised text of s to dst.
func normalize(dst []byte, s string) []byte {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	var src []byte
	if !ascii {
		// NFKC folds compatibility forms (ligatures, full-width letters)
		// and composes NFD umlauts.
		src = norm.NFKC.AppendString(make([]byte, 0, len(s)+8), s)
	}
	n := len(s)
	if src != nil {
		n = len(src)
	}
	at := func(i int) byte {
		if src != nil {
			return src[i]
		}
		return s[i]
	}
	for i := 0; i < n; {
		c := at(i)
		if c < utf8.RuneSelf {
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == '\\' && i+1 < n && (at(i+1) == 'n' || at(i+1) == 'r' || at(i+1) == 't'):
				c = ' '
				i++
			}
			dst = append(dst, c)
			i++
			continue
		}
		var r rune
		var w int
		if src != nil {
			r, w = utf8.DecodeRune(src[i:])
		} else {
			r, w = utf8.DecodeRuneInString(s[i:])
		}
		i += w
		switch r {
		case 'ß', 'ẞ':
			dst = append(dst, 's', 's')
			continue
		}
		dst = utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r >= 'A' && r <= 'Z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

// Hashing: FNV-1a over bytes, then a 64-bit finaliser so the low bits are
// well mixed. Word and character features use different seeds.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
	seedWord  = 0x9e3779b97f4a7c15
	seedChar  = 0xc2b2ae3d27d4eb4f
)

func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// extractor turns normalised text into hashed feature indices. Index layout:
// the top bit of the HashBits-wide space is the block (0 word, 1 char).
type extractor struct {
	f        Features
	half     uint32 // buckets per block
	text     []byte
	words    [][2]int // byte spans of word tokens in text
	wordHash []uint64
	runeOff  []int
}

func newExtractor(f Features) *extractor {
	return &extractor{f: f, half: 1 << (f.HashBits - 1)}
}

// extract calls emit(index, block) for every n-gram occurrence of s.
func (e *extractor) extract(s string, emit func(idx uint32, block int)) {
	e.text = normalize(e.text[:0], s)
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
