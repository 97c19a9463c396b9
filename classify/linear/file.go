package linear

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// The model file: one little-endian binary blob.
//
//	magic      8 bytes  "OTAILIN\x00"
//	version    uint16   FormatVersion
//	flags      uint16   0 (reserved)
//	headerLen  uint32   length of the JSON header
//	header     JSON     labels, features, temperature, metadata, counts
//	buckets    uint32 x features   active hashed feature ids, ascending
//	idf        float32 x features
//	weights    float32 x features*labels   row-major by feature
//	bias       float32 x labels
//	then, in version 2, the neighbour memory (sizes in the header):
//	nb_buckets uint32 x nb n-grams    hashed word 1-2 grams, ascending
//	nb_idf     float32 x nb n-grams
//	nb_ptr     uint32 x nb n-grams+1  postings offsets
//	nb_doc     uint32 x postings      training ticket of each posting
//	nb_val     float32 x postings     its normalised weight
//	nb_label   uint16 x tickets       label of each training ticket
//	crc32      uint32   IEEE CRC of everything before it
//
// A model without a memory (trained with neighbours off) is written as
// version 1, which older otai versions read too.
const (
	Magic         = "OTAILIN\x00"
	FormatVersion = 2
	maxHeader     = 16 << 20
	maxFeatures   = 1 << 26
	maxLabels     = 1 << 16
	maxPostings   = 1 << 30
)

// Errors of Load and Decode, for errors.Is.
var (
	ErrNotModel     = errors.New("not an otai linear model file (bad magic)")
	ErrVersion      = errors.New("unsupported model format version")
	ErrCorrupt      = errors.New("model file is corrupt")
	ErrTruncated    = errors.New("model file is truncated")
	errHeaderFields = errors.New("header does not match the tables")
)

type fileHeader struct {
	Labels      []string `json:"labels"`
	Features    Features `json:"features"`
	Temperature float64  `json:"temperature"`
	NumFeatures int      `json:"num_features"`
	Meta        Metadata `json:"meta"`
	// Neighbours sizes the memory tables (version 2).
	Neighbours *nbHeader `json:"neighbours,omitempty"`
}

type nbHeader struct {
	Tau      float64 `json:"tau"`
	Beta     float64 `json:"beta"`
	Features int     `json:"features"`
	Postings int     `json:"postings"`
	Tickets  int     `json:"tickets"`
}

// tableBytes is the size of the binary tables after the header.
func tableBytes(nf, nc int, nb *nbHeader) int {
	n := 4 * (2*nf + nf*nc + nc)
	if nb != nil {
		n += 4*(3*nb.Features+1) + 8*nb.Postings + 2*nb.Tickets
	}
	return n
}

// Encode writes m in the model file format.
func (m *Model) Encode(w io.Writer) error {
	h := fileHeader{Labels: m.Labels, Features: m.Features, Temperature: m.Temperature,
		NumFeatures: len(m.Buckets), Meta: m.Meta}
	version := uint16(m.formatVersion())
	if nb := m.nb; nb != nil {
		h.Neighbours = &nbHeader{Tau: nb.Tau, Beta: nb.Beta, Features: len(nb.Buckets), Postings: len(nb.Doc), Tickets: len(nb.Label)}
	}
	hdr, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode model header: %w", err)
	}
	nf, nc := len(m.Buckets), len(m.Labels)
	buf := make([]byte, 0, 16+len(hdr)+tableBytes(nf, nc, h.Neighbours)+4)
	buf = append(buf, Magic...)
	buf = binary.LittleEndian.AppendUint16(buf, version)
	buf = binary.LittleEndian.AppendUint16(buf, 0)
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(hdr)))
	buf = append(buf, hdr...)
	for _, b := range m.Buckets {
		buf = binary.LittleEndian.AppendUint32(buf, b)
	}
	for _, tab := range [][]float32{m.IDF, m.Weights, m.Bias} {
		for _, v := range tab {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
	}
	if nb := m.nb; nb != nil {
		for _, b := range nb.Buckets {
			buf = binary.LittleEndian.AppendUint32(buf, b)
		}
		for _, v := range nb.IDF {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		for _, tab := range [][]uint32{nb.Ptr, nb.Doc} {
			for _, v := range tab {
				buf = binary.LittleEndian.AppendUint32(buf, v)
			}
		}
		for _, v := range nb.Val {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		}
		for _, l := range nb.Label {
			buf = binary.LittleEndian.AppendUint16(buf, l)
		}
	}
	buf = binary.LittleEndian.AppendUint32(buf, crc32.ChecksumIEEE(buf))
	_, err = w.Write(buf)
	return err
}

// Decode parses a model file held in memory. It never panics: a wrong
// magic, version, checksum or size gives an error wrapping ErrNotModel,
// ErrVersion, ErrCorrupt or ErrTruncated.
func Decode(data []byte) (*Model, error) {
	if len(data) < 8 || string(data[:8]) != Magic {
		if len(data) < 8 && len(data) > 0 && bytes.HasPrefix([]byte(Magic), data) {
			return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, len(data))
		}
		return nil, ErrNotModel
	}
	if len(data) < 16 {
		return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, len(data))
	}
	version := binary.LittleEndian.Uint16(data[8:])
	if version < 1 || version > FormatVersion {
		return nil, fmt.Errorf("%w %d (this otai reads versions 1 to %d; retrain the model or use a matching otai)", ErrVersion, version, FormatVersion)
	}
	hl := int(binary.LittleEndian.Uint32(data[12:]))
	if hl > maxHeader {
		return nil, fmt.Errorf("%w: header length %d", ErrCorrupt, hl)
	}
	if len(data) < 16+hl+4 {
		return nil, fmt.Errorf("%w: %d bytes, header alone needs %d", ErrTruncated, len(data), 16+hl+4)
	}
	var h fileHeader
	if err := json.Unmarshal(data[16:16+hl], &h); err != nil {
		if crc32.ChecksumIEEE(data[:len(data)-4]) != binary.LittleEndian.Uint32(data[len(data)-4:]) {
			return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
		}
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if ts := h.Meta.TrainingTexts; ts != nil && (ts.K < 1 || ts.K > 16 || len(ts.Bits) == 0) {
		return nil, fmt.Errorf("%w: training text filter with %d hashes over %d bytes", ErrCorrupt, ts.K, len(ts.Bits))
	}
	nf, nc := h.NumFeatures, len(h.Labels)
	if nf < 0 || nf > maxFeatures || nc > maxLabels {
		return nil, fmt.Errorf("%w: %d features, %d labels", ErrCorrupt, nf, nc)
	}
	if (version >= 2) != (h.Neighbours != nil) {
		return nil, fmt.Errorf("%w: format version %d with%s neighbour memory", ErrCorrupt, version, map[bool]string{true: "", false: "out"}[h.Neighbours != nil])
	}
	if nb := h.Neighbours; nb != nil && (nb.Features < 0 || nb.Features > maxFeatures || nb.Postings < 0 || nb.Postings > maxPostings || nb.Tickets < 0 || nb.Tickets > maxPostings) {
		return nil, fmt.Errorf("%w: neighbour memory of %d features, %d postings, %d tickets", ErrCorrupt, nb.Features, nb.Postings, nb.Tickets)
	}
	want := 16 + hl + tableBytes(nf, nc, h.Neighbours) + 4
	switch {
	case len(data) < want:
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrTruncated, len(data), want)
	case len(data) > want:
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(data)-want)
	}
	if crc32.ChecksumIEEE(data[:want-4]) != binary.LittleEndian.Uint32(data[want-4:]) {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	p := data[16+hl:]
	u32 := func(n int) []uint32 {
		out := make([]uint32, n)
		for i := range out {
			out[i] = binary.LittleEndian.Uint32(p[4*i:])
		}
		p = p[4*n:]
		return out
	}
	f32 := func(n int) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = math.Float32frombits(binary.LittleEndian.Uint32(p[4*i:]))
		}
		p = p[4*n:]
		return out
	}
	m := &Model{Labels: h.Labels, Features: h.Features, Temperature: h.Temperature, Meta: h.Meta}
	m.Buckets = u32(nf)
	m.IDF = f32(nf)
	m.Weights = f32(nf * nc)
	m.Bias = f32(nc)
	if nh := h.Neighbours; nh != nil {
		nb := &neighbours{Tau: nh.Tau, Beta: nh.Beta}
		nb.Buckets = u32(nh.Features)
		nb.IDF = f32(nh.Features)
		nb.Ptr = u32(nh.Features + 1)
		nb.Doc = u32(nh.Postings)
		nb.Val = f32(nh.Postings)
		nb.Label = make([]uint16, nh.Tickets)
		for i := range nb.Label {
			nb.Label[i] = binary.LittleEndian.Uint16(p[2*i:])
		}
		m.nb = nb
	}
	if err := m.init(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return m, nil
}

// Load reads a model file.
func Load(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

// Save writes m to path atomically: a temporary file in the same directory,
// synced, then renamed over path.
func (m *Model) Save(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := m.Encode(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	return nil
}
