// Package llama2c reads checkpoints written by karpathy/llama2.c's export
// script: the legacy format (a 7-int32 header followed by float32 weights)
// and version 1 ("ak42" magic, 256-byte header, float32). The weights are
// presented as a format.Source with llama.cpp's GGUF tensor names and
// hyperparameter metadata (general.architecture = "llama"), since llama2.c
// stores q/k in the same adjacent-pair RoPE layout GGUF uses: no permutation
// is needed. The RoPE tables llama2.c stores (freq_cis) are not tensors of
// the model and are skipped.
package llama2c

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/mmap"
)

// Config is the llama2.c header.
type Config struct {
	// Dim is the model width, HiddenDim the feed-forward width, Layers the
	// block count, Heads and KVHeads the query and key/value head counts,
	// Vocab the vocabulary size and SeqLen the longest context.
	Dim, HiddenDim, Layers, Heads, KVHeads, Vocab, SeqLen int
	// SharedClassifier: the output matrix is the token embedding.
	SharedClassifier bool
	// Version is 0 for the legacy format, 1 for "ak42" version 1.
	Version int
}

const (
	legacyHeader = 7 * 4
	v1Header     = 256
	magicV1      = 0x616b3432 // "ak42"
	// maxDim bounds every header field, far above any llama2.c model, so
	// size arithmetic cannot overflow.
	maxDim = 1 << 20
)

// Reader is an open llama2.c checkpoint.
type Reader struct {
	path    string
	cfg     Config
	m       *mmap.Mapping // nil for NewReader
	data    []byte
	infos   []format.TensorInfo
	offsets map[string]int64
	md      format.Metadata
}

// Open maps the checkpoint at path.
func Open(path string) (*Reader, error) {
	m, err := mmap.Open(path)
	if err != nil {
		return nil, fmt.Errorf("llama2c: %w", err)
	}
	r, err := parse(path, m.Bytes(), int64(len(m.Bytes())))
	if err != nil {
		m.Close()
		return nil, err
	}
	r.m, r.data = m, m.Bytes()
	return r, nil
}

// NewReader reads a checkpoint held in memory, such as one embedded in the
// program; name is used in errors. data must not change while the Reader
// is in use.
func NewReader(data []byte, name string) (*Reader, error) {
	r, err := parse(name, data, int64(len(data)))
	if err != nil {
		return nil, err
	}
	r.data = data
	return r, nil
}

// parse reads the header at the start of data (at least the header's
// bytes) and lays out the tensors; the file size must match the header
// exactly.
func parse(path string, data []byte, size int64) (*Reader, error) {
	cfg, hdr, err := parseHeader(path, data, size)
	if err != nil {
		return nil, err
	}
	r := &Reader{path: path, cfg: cfg, offsets: map[string]int64{}}
	if end := r.layout(hdr); end != size {
		return nil, fmt.Errorf("llama2c: %s: header %+v lays out %d bytes, file has %d: %w", path, cfg, end, size, format.ErrFormat)
	}
	r.md = r.metadata()
	return r, nil
}

// parseHeader reads and checks the header at the start of data: every
// field in range, and the bytes it implies (computed without overflow and
// without laying out a tensor) equal to size. Only then may layout run: its
// work is bounded by the file's size.
func parseHeader(path string, data []byte, size int64) (Config, int64, error) {
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("llama2c: %s: %s: %w", path, fmt.Sprintf(msg, args...), format.ErrFormat)
	}
	var cfg Config
	if len(data) < legacyHeader {
		return cfg, 0, bad("file of %d bytes is too short for a header", size)
	}
	le := binary.LittleEndian
	var hdr int64
	var ints []int32
	switch le.Uint32(data) {
	case magicV1:
		if len(data) < 40 || size < v1Header {
			return cfg, 0, bad("truncated version header")
		}
		if v := int32(le.Uint32(data[4:])); v != 1 {
			return cfg, 0, fmt.Errorf("llama2c: %s: version %d (only the legacy format and version 1 are supported): %w", path, v, format.ErrUnsupported)
		}
		for i := range 7 {
			ints = append(ints, int32(le.Uint32(data[8+4*i:])))
		}
		cfg.Version, cfg.SharedClassifier, hdr = 1, data[36] != 0, v1Header
	default:
		for i := range 7 {
			ints = append(ints, int32(le.Uint32(data[4*i:])))
		}
		hdr = legacyHeader
		cfg.SharedClassifier = ints[5] > 0
		if ints[5] < 0 {
			ints[5] = -ints[5]
		}
	}
	cfg.Dim, cfg.HiddenDim, cfg.Layers, cfg.Heads = int(ints[0]), int(ints[1]), int(ints[2]), int(ints[3])
	cfg.KVHeads, cfg.Vocab, cfg.SeqLen = int(ints[4]), int(ints[5]), int(ints[6])
	for i, v := range ints {
		if v <= 0 || v > maxDim {
			return cfg, 0, bad("header field %d is %d", i, v)
		}
	}
	if cfg.Dim%cfg.Heads != 0 || cfg.Heads%cfg.KVHeads != 0 || (cfg.Dim/cfg.Heads)%2 != 0 {
		return cfg, 0, bad("dim %d, %d heads, %d kv heads do not divide evenly", cfg.Dim, cfg.Heads, cfg.KVHeads)
	}
	if need, ok := dataBytes(cfg); !ok || need != size-hdr {
		return cfg, 0, bad("header %+v needs %s bytes of weights, file has %d", cfg, fmtNeed(need, ok), size-hdr)
	}
	return cfg, hdr, nil
}

// dataBytes is the size of the weights (and llama2.c's RoPE tables) a
// header describes, the sum layout makes, or false when it exceeds int64.
// Every field is at most maxDim (2^20), so a per-layer or per-model term
// (at most 12 products of two fields, times 4 bytes) fits easily; only the
// product with the layer count needs a check.
func dataBytes(c Config) (int64, bool) {
	d, h, v, L := int64(c.Dim), int64(c.HiddenDim), int64(c.Vocab), int64(c.Layers)
	kv := d / int64(c.Heads) * int64(c.KVHeads)
	perLayer := 4 * (2*d + 2*d*d + 2*kv*d + 3*h*d) // norms, q and output, k and v, feed-forward
	fixed := 4 * (v*d + d)                         // token_embd, output_norm
	if c.Version == 0 {
		fixed += 2 * int64(c.SeqLen) * (d / int64(c.Heads) / 2) * 4 // freq_cis_real, freq_cis_imag
	}
	if !c.SharedClassifier {
		fixed += 4 * v * d
	}
	if L > (math.MaxInt64-fixed)/perLayer {
		return 0, false
	}
	return fixed + L*perLayer, true
}

func fmtNeed(n int64, ok bool) string {
	if !ok {
		return "more than 2^63"
	}
	return fmt.Sprint(n)
}

// layout fills infos/offsets in file order from offset off and returns the
// end of the data.
func (r *Reader) layout(off int64) int64 {
	c := r.cfg
	d, h, kv, v, L := int64(c.Dim), int64(c.HiddenDim), int64(c.Dim/c.Heads*c.KVHeads), int64(c.Vocab), c.Layers
	add := func(name string, shape ...int64) {
		t := format.TensorInfo{Name: name, DType: format.F32, Shape: shape}
		n, _ := t.NumBytes()
		r.infos = append(r.infos, t)
		r.offsets[name] = off
		off += n
	}
	perLayer := func(suffix string, shape ...int64) {
		for l := range L {
			add(fmt.Sprintf("blk.%d.%s", l, suffix), shape...)
		}
	}
	attention := func() {
		perLayer("attn_q.weight", d, d)
		perLayer("attn_k.weight", kv, d)
		perLayer("attn_v.weight", kv, d)
		perLayer("attn_output.weight", d, d)
	}
	feedForward := func() {
		perLayer("ffn_gate.weight", h, d)
		perLayer("ffn_down.weight", d, h)
		perLayer("ffn_up.weight", h, d)
	}
	if c.Version == 1 {
		perLayer("attn_norm.weight", d)
		perLayer("ffn_norm.weight", d)
		add("output_norm.weight", d)
		add("token_embd.weight", v, d)
		attention()
		feedForward()
	} else {
		add("token_embd.weight", v, d)
		perLayer("attn_norm.weight", d)
		attention()
		perLayer("ffn_norm.weight", d)
		feedForward()
		add("output_norm.weight", d)
		off += 2 * int64(c.SeqLen) * (d / int64(c.Heads) / 2) * 4 // freq_cis_real, freq_cis_imag
	}
	if !c.SharedClassifier {
		add("output.weight", v, d)
	}
	return off
}

// metadata returns llama.cpp's hyperparameter keys for the model.
func (r *Reader) metadata() format.Metadata {
	c := r.cfg
	name := strings.TrimSuffix(filepath.Base(r.path), filepath.Ext(r.path))
	return format.Metadata{
		{Key: "general.architecture", Value: "llama"},
		{Key: "general.name", Value: name},
		{Key: "llama.context_length", Value: uint32(c.SeqLen)},
		{Key: "llama.embedding_length", Value: uint32(c.Dim)},
		{Key: "llama.feed_forward_length", Value: uint32(c.HiddenDim)},
		{Key: "llama.block_count", Value: uint32(c.Layers)},
		{Key: "llama.attention.head_count", Value: uint32(c.Heads)},
		{Key: "llama.attention.head_count_kv", Value: uint32(c.KVHeads)},
		{Key: "llama.rope.dimension_count", Value: uint32(c.Dim / c.Heads)},
		{Key: "llama.rope.freq_base", Value: float32(10000)},
		{Key: "llama.attention.layer_norm_rms_epsilon", Value: float32(1e-5)},
		{Key: "llama.vocab_size", Value: uint32(c.Vocab)},
		{Key: "general.file_type", Value: uint32(0)},
	}
}

// Config returns the checkpoint's header.
func (r *Reader) Config() Config { return r.cfg }

// Format implements format.Source.
func (r *Reader) Format() string { return "llama2c" }

// Tensors implements format.Source: tensors in file order.
func (r *Reader) Tensors() []format.TensorInfo { return r.infos }

// Metadata implements format.Source with llama.cpp's llama.* keys.
func (r *Reader) Metadata() format.Metadata { return r.md }

// TensorData implements format.Source (zero copy from the mapping).
func (r *Reader) TensorData(name string) ([]byte, error) {
	off, ok := r.offsets[name]
	if !ok {
		return nil, fmt.Errorf("llama2c: %s: tensor %q: %w", r.path, name, format.ErrNotFound)
	}
	t, _ := format.TensorIndex(r.infos, name)
	n, _ := t.NumBytes()
	return r.data[off : off+n], nil
}

// Version implements format.Header.
func (r *Reader) Version() int { return r.cfg.Version }

// Alignment implements format.Header (llama2.c does not align).
func (r *Reader) Alignment() int { return 0 }

// TensorOffset implements format.Header.
func (r *Reader) TensorOffset(name string) (int64, bool) {
	off, ok := r.offsets[name]
	return off, ok
}

// Close unmaps the file.
func (r *Reader) Close() error {
	if r.m == nil {
		return nil
	}
	return r.m.Close()
}

// probe recognises a llama2.c checkpoint: its header must describe a model
// whose size is exactly the file's.
func probe(path string, head []byte, isDir bool) bool {
	if isDir || len(head) < legacyHeader {
		return false
	}
	st, err := os.Stat(path)
	if err != nil || st.Size() > 1<<40 {
		return false
	}
	// Only the header is needed, checked against the file size: nothing
	// is laid out, so a header claiming 2^20 layers costs nothing here.
	_, _, err = parseHeader(path, head, st.Size())
	return err == nil
}

func init() {
	format.RegisterFormat(format.Driver{
		Name:  "llama2c",
		Probe: probe,
		Open:  func(path string) (format.Source, error) { return Open(path) },
	})
}
