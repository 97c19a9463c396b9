package linear

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// TextSet is a Bloom filter of the training texts, kept in the model's
// metadata so that 'otai eval' can tell when it is scoring a model on the
// data it learned from (the scores are then optimistic). It holds no text:
// about 15 bits per example, a false positive rate of about 0.1%.
type TextSet struct {
	N      int     `json:"n"`       // texts added
	K      int     `json:"k"`       // hash functions
	Bits   []byte  `json:"bits"`    // the filter, len*8 bits
	FPRate float64 `json:"fp_rate"` // expected false-positive rate
}

// textSetFPRate is the false-positive rate the filter is sized for.
const textSetFPRate = 0.001

// newTextSet builds the filter of texts; nil for none.
func newTextSet(texts []string) *TextSet {
	if len(texts) == 0 {
		return nil
	}
	n := float64(len(texts))
	bits := math.Ceil(-n * math.Log(textSetFPRate) / (math.Ln2 * math.Ln2))
	nbytes := int(math.Ceil(bits / 8))
	k := int(math.Round(float64(nbytes*8) / n * math.Ln2))
	k = max(1, min(k, 16))
	s := &TextSet{N: len(texts), K: k, Bits: make([]byte, nbytes)}
	var buf, tmp []byte
	for _, t := range texts {
		var h1, h2 uint64
		h1, h2, buf, tmp = textKey(t, buf, tmp)
		s.add(h1, h2)
	}
	m := float64(nbytes * 8)
	s.FPRate = math.Pow(1-math.Exp(-float64(k)*n/m), float64(k))
	return s
}

// textKey hashes a text the way the model sees it (normalised, case-folded)
// with runs of white space collapsed, so that a re-export with other line
// breaks still matches. buf and tmp are scratch space, returned for reuse.
func textKey(text string, buf, tmp []byte) (h1, h2 uint64, _, _ []byte) {
	buf, tmp = normalize(buf[:0], tmp, text)
	h := uint64(fnvOffset)
	started, space := false, false
	for i := 0; i < len(buf); {
		r, n := rune(buf[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(buf[i:])
		}
		if unicode.IsSpace(r) {
			space = true
			i += n
			continue
		}
		if space && started {
			h = (h ^ ' ') * fnvPrime
		}
		started, space = true, false
		for _, c := range buf[i : i+n] {
			h = (h ^ uint64(c)) * fnvPrime
		}
		i += n
	}
	return mix(h), mix(h^seedWord) | 1, buf, tmp
}

func (s *TextSet) positions(h1, h2 uint64, fn func(bit uint64) bool) bool {
	m := uint64(len(s.Bits)) * 8
	for i := 0; i < s.K; i++ {
		if !fn((h1 + uint64(i)*h2) % m) {
			return false
		}
	}
	return true
}

func (s *TextSet) add(h1, h2 uint64) {
	s.positions(h1, h2, func(b uint64) bool { s.Bits[b/8] |= 1 << (b % 8); return true })
}

// Has reports whether text was (very probably) among the texts added.
func (s *TextSet) Has(text string) bool {
	if s == nil || len(s.Bits) == 0 || s.K <= 0 {
		return false
	}
	h1, h2, _, _ := textKey(text, nil, nil)
	return s.positions(h1, h2, func(b uint64) bool { return s.Bits[b/8]&(1<<(b%8)) != 0 })
}

// RecordsTrainingTexts reports whether the model can tell its training
// texts (models from before the filter existed cannot).
func (m *Model) RecordsTrainingTexts() bool { return m.Meta.TrainingTexts != nil }

// SeenInTraining reports whether text was one of the model's training
// examples (with the filter's small false-positive rate). known is false
// for models trained before otai recorded its training texts.
func (m *Model) SeenInTraining(text string) (seen, known bool) {
	if m.Meta.TrainingTexts == nil {
		return false, false
	}
	return m.Meta.TrainingTexts.Has(text), true
}
