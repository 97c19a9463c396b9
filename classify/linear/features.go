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
	return Features{HashBits: 19, WordMin: 1, WordMax: 3, CharMin: 3, CharMax: 5, Sublinear: true, MinDF: 2, CharWeight: 1}
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
func Normalize(s string) string {
	out, _ := normalize(nil, nil, s)
	return string(out)
}

// normalize appends the normalised text of s to dst; tmp is scratch space
// for the NFKC form of non-ASCII text (returned for reuse).
func normalize(dst, tmp []byte, s string) ([]byte, []byte) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			// NFKC folds compatibility forms (ligatures, full-width
			// letters) and composes NFD umlauts.
			tmp = norm.NFKC.AppendString(tmp[:0], s)
			return fold(dst, tmp), tmp
		}
	}
	return fold(dst, s), tmp
}

// fold lower-cases src (ß and ẞ become ss) and turns literal "\n", "\r"
// and "\t" into spaces, appending to dst.
func fold[T string | []byte](dst []byte, src T) []byte {
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'A' && c <= 'Z':
				c += 'a' - 'A'
			case c == '\\' && i+1 < n && (src[i+1] == 'n' || src[i+1] == 'r' || src[i+1] == 't'):
				c = ' '
				i++
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(string(src[i:min(i+utf8.UTFMax, n)]))
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
	seedMem   = 0x165667b19e3779f9
)

func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// wordByte marks the ASCII bytes that belong to words.
var wordByte = func() (t [utf8.RuneSelf]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c >= 'A' && c <= 'Z'
	}
	return t
}()

// extractor turns normalised text into hashed feature indices. Index layout:
// the top bit of the HashBits-wide space is the block (0 word, 1 char).
// It keeps its buffers between calls, so it allocates only while they grow.
type extractor struct {
	f        Features
	half     uint32 // buckets per block
	text     []byte
	nfkc     []byte
	words    [][2]int32 // byte spans of word tokens in text
	wordHash []uint64
	runeOff  []int32
	out      []uint32
	mem      []uint32
}

func newExtractor(f Features) *extractor {
	return &extractor{f: f, half: 1 << (f.HashBits - 1)}
}

// extract returns the hashed index of every n-gram occurrence of s, word
// n-grams first. The slice is reused by the next call.
func (e *extractor) extract(s string) []uint32 {
	e.text, e.nfkc = normalize(e.text[:0], e.nfkc, s)
	e.words = e.words[:0]
	t := e.text
	start := -1
	for i := 0; i < len(t); {
		c := t[i]
		var in bool
		w := 1
		if c < utf8.RuneSelf {
			in = wordByte[c]
		} else {
			var r rune
			r, w = utf8.DecodeRune(t[i:])
			in = isWordRune(r)
		}
		if in {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			e.words = append(e.words, [2]int32{int32(start), int32(i)})
			start = -1
		}
		i += w
	}
	if start >= 0 {
		e.words = append(e.words, [2]int32{int32(start), int32(len(t))})
	}
	mask := e.half - 1
	f := e.f
	out := e.out[:0]
	if f.WordMax > 0 {
		// Word n-grams over tokens of two or more characters (one-letter
		// tokens still feed the character n-grams).
		e.wordHash = e.wordHash[:0]
		for _, sp := range e.words {
			w := t[sp[0]:sp[1]]
			if len(w) < 2 || (len(w) < 5 && utf8.RuneCount(w) < 2) {
				continue
			}
			h := uint64(fnvOffset)
			for _, c := range w {
				h = (h ^ uint64(c)) * fnvPrime
			}
			e.wordHash = append(e.wordHash, h)
		}
		wh := e.wordHash
		for i := range wh {
			h := uint64(seedWord)
			for n := 1; n <= f.WordMax && i+n <= len(wh); n++ {
				h = (h ^ wh[i+n-1]) * fnvPrime
				h = h*31 + uint64(n)
				if n >= f.WordMin {
					out = append(out, uint32(mix(h))&mask)
				}
			}
		}
	}
	if f.CharMax > 0 {
		hi := e.half
		cmin, cmax := f.CharMin, f.CharMax
		for _, sp := range e.words {
			w := t[sp[0]:sp[1]]
			ascii := true
			for _, c := range w {
				if c >= utf8.RuneSelf {
					ascii = false
					break
				}
			}
			if ascii {
				// " w " with one byte per rune: position k of the padded
				// word is a space at both ends, else w[k-1].
				nr := len(w) + 2
				for i := 0; i < nr; i++ {
					h := uint64(seedChar)
					end := min(nr, i+cmax)
					for k := i; k < end; k++ {
						c := byte(' ')
						if k > 0 && k < nr-1 {
							c = w[k-1]
						}
						h = (h ^ uint64(c)) * fnvPrime
						if n := k - i + 1; n >= cmin {
							out = append(out, hi|uint32(mix(h^uint64(n)))&mask)
						}
					}
				}
				continue
			}
			// rune offsets of " w " (virtual padding)
			e.runeOff = e.runeOff[:0]
			for i := range w {
				if utf8.RuneStart(w[i]) {
					e.runeOff = append(e.runeOff, int32(i))
				}
			}
			ro := e.runeOff
			nr := len(ro) + 2 // with the two spaces
			for i := 0; i < nr; i++ {
				h := uint64(seedChar)
				for n := 1; n <= cmax && i+n <= nr; n++ {
					k := i + n - 1
					if k == 0 || k == nr-1 {
						h = (h ^ ' ') * fnvPrime
					} else {
						a := ro[k-1]
						b := int32(len(w))
						if k < len(ro) {
							b = ro[k]
						}
						for _, c := range w[a:b] {
							h = (h ^ uint64(c)) * fnvPrime
						}
					}
					if n >= cmin {
						out = append(out, hi|uint32(mix(h^uint64(n)))&mask)
					}
				}
			}
		}
	}
	e.out = out
	return out
}

// memGrams returns the hashed word unigrams and bigrams of the text of the
// last extract call, in a space of its own (the neighbour memory's). It
// needs word features on. The slice is reused by the next call.
func (e *extractor) memGrams() []uint32 {
	mask := e.half - 1
	wh := e.wordHash
	out := e.mem[:0]
	for i, h := range wh {
		g := (uint64(seedMem) ^ h) * fnvPrime
		out = append(out, uint32(mix(g))&mask)
		if i+1 < len(wh) {
			out = append(out, uint32(mix((g^wh[i+1])*fnvPrime))&mask)
		}
	}
	e.mem = out
	return out
}
