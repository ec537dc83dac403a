// Package sizecalc computes, from a model's config.json, the parameter
// counts, checkpoint sizes and training memory of full fine-tuning against
// LoRA (the engine of `lorakit size`). Nothing is loaded but config.json.
package sizecalc

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Shape is what parameter arithmetic needs from a model's config.json.
type Shape struct {
	Arch      string // "gpt2" or "llama" (llama also covers mistral/qwen2-style configs)
	Vocab     int
	Positions int // learned position embeddings (gpt2); 0 for rotary models
	Embd      int // d_model
	Layers    int
	Heads     int
	KVHeads   int
	HeadDim   int
	FF        int  // feed-forward width
	Tied      bool // the output head shares the token embedding
	Bias      bool // linear layers and norms carry biases (gpt2)
	// DType is the stored dtype (config.json torch_dtype; F32 when absent).
	DType format.DType
}

// Bounds on config numbers, far above any real model, so that parameter
// and byte counts stay within int64: width·ff·layers·16 bytes < 2^56.
const (
	maxShapeDim = 1 << 24 // vocabulary, positions, any count
	maxWidth    = 1 << 19 // d_model, feed-forward and attention widths
	maxLayers   = 1 << 12
)

// ReadShape reads config.json at path (or inside the directory path).
func ReadShape(path string) (Shape, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		path = filepath.Join(path, "config.json")
	}
	data, err := format.ReadInput(path, format.ConfigLimit)
	if err != nil {
		return Shape{}, fmt.Errorf("sizecalc: %w", err)
	}
	return ParseShape(data, path)
}

// ParseShape reads a Hugging Face config.json: GPT-2's fields (n_embd,
// n_layer, n_head, n_positions, n_inner) or Llama's (hidden_size,
// num_hidden_layers, num_attention_heads, num_key_value_heads,
// intermediate_size, head_dim, tie_word_embeddings). name is used in errors.
func ParseShape(data []byte, name string) (Shape, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return Shape{}, fmt.Errorf("sizecalc: %s: %v: %w", name, err, format.ErrFormat)
	}
	var err error
	num := func(keys ...string) int { // the first key present; 0 if none
		if err != nil {
			return 0
		}
		for _, k := range keys {
			v, ok := raw[k]
			if !ok || v == nil {
				continue
			}
			f, isNum := v.(float64)
			if !isNum || f != float64(int64(f)) || f <= 0 || f > maxShapeDim {
				err = fmt.Errorf("sizecalc: %s: %q = %v is not a positive integer ≤ %d: %w", name, k, v, maxShapeDim, format.ErrFormat)
				return 0
			}
			return int(f)
		}
		return 0
	}
	mt, _ := raw["model_type"].(string)
	s := Shape{DType: format.F32}
	switch {
	case mt == "gpt2" || (mt == "" && raw["n_embd"] != nil):
		s.Arch, s.Tied, s.Bias = "gpt2", true, true
		s.Embd, s.Layers, s.Heads = num("n_embd"), num("n_layer"), num("n_head")
		s.Positions, s.FF = num("n_positions", "n_ctx"), num("n_inner")
		if s.FF == 0 {
			s.FF = 4 * s.Embd
		}
		s.KVHeads = s.Heads
	case mt == "llama" || mt == "mistral" || mt == "qwen2" || (mt == "" && raw["hidden_size"] != nil):
		s.Arch = "llama"
		s.Embd, s.Layers, s.Heads = num("hidden_size"), num("num_hidden_layers"), num("num_attention_heads")
		s.KVHeads, s.FF, s.HeadDim = num("num_key_value_heads"), num("intermediate_size"), num("head_dim")
		if s.KVHeads == 0 {
			s.KVHeads = s.Heads
		}
		s.Tied, _ = raw["tie_word_embeddings"].(bool)
		s.Bias = mt == "qwen2" // q, k, v biases
	default:
		return Shape{}, fmt.Errorf("sizecalc: %s: model_type %q: %w (gpt2 or llama-style configs)", name, mt, format.ErrUnsupported)
	}
	s.Vocab = num("vocab_size")
	if err != nil {
		return Shape{}, err
	}
	if s.HeadDim == 0 && s.Heads > 0 {
		s.HeadDim = s.Embd / s.Heads
	}
	if td, ok := raw["torch_dtype"].(string); ok {
		switch td {
		case "float32":
			s.DType = format.F32
		case "float16":
			s.DType = format.F16
		case "bfloat16":
			s.DType = format.BF16
		default:
			return Shape{}, fmt.Errorf("sizecalc: %s: torch_dtype %q: %w", name, td, format.ErrUnsupported)
		}
	}
	switch {
	case s.Embd > maxWidth || s.FF > maxWidth || s.Layers > maxLayers || s.Heads*s.HeadDim > maxWidth:
		return Shape{}, fmt.Errorf("sizecalc: %s: width %d, feed-forward %d, %d layers: beyond %d wide or %d deep: %w",
			name, s.Embd, s.FF, s.Layers, maxWidth, maxLayers, format.ErrFormat)
	case s.Embd == 0 || s.Layers == 0 || s.Heads == 0 || s.Vocab == 0 || s.FF == 0:
		return Shape{}, fmt.Errorf("sizecalc: %s: width, layers, heads, vocab_size and feed-forward width are required: %w", name, format.ErrFormat)
	case s.Heads%s.KVHeads != 0 || s.HeadDim == 0:
		return Shape{}, fmt.Errorf("sizecalc: %s: %d heads, %d kv heads, head dim %d: %w", name, s.Heads, s.KVHeads, s.HeadDim, format.ErrFormat)
	}
	return s, nil
}

// Matrix is one adaptable weight of a layer: y = W·x with W (Out, In).
type Matrix struct {
	Target string `json:"target"` // the --targets name: q k v o gate up down, or c_attn
	In     int    `json:"in"`
	Out    int    `json:"out"`
}

// TargetNames lists the names Matrices accepts, per architecture.
var TargetNames = map[string][]string{
	"gpt2":  {"q", "k", "v", "o", "up", "down", "c_attn"},
	"llama": {"q", "k", "v", "o", "gate", "up", "down"},
}

// Matrices returns the per-layer weights named by targets. GPT-2's fused
// c_attn counts as three d×d matrices q, k and v (loralib's MergedLinear
// adapts each separately); "c_attn" adapts the fused (3d, d) matrix as one,
// as PEFT does; o is attn.c_proj, up mlp.c_fc and down mlp.c_proj.
func (s Shape) Matrices(targets []string) ([]Matrix, error) {
	q, kv := s.Heads*s.HeadDim, s.KVHeads*s.HeadDim
	shapes := map[string]Matrix{
		"q": {"q", s.Embd, q}, "k": {"k", s.Embd, kv}, "v": {"v", s.Embd, kv}, "o": {"o", q, s.Embd},
		"up": {"up", s.Embd, s.FF}, "down": {"down", s.FF, s.Embd},
	}
	if s.Arch == "llama" {
		shapes["gate"] = Matrix{"gate", s.Embd, s.FF}
	} else {
		shapes["c_attn"] = Matrix{"c_attn", s.Embd, q + 2*kv}
	}
	var out []Matrix
	for _, t := range targets {
		t = strings.TrimSpace(t)
		m, ok := shapes[t]
		if !ok {
			return nil, fmt.Errorf("sizecalc: target %q for %s (want one of %s): %w", t, s.Arch, strings.Join(TargetNames[s.Arch], ","), format.ErrUnsupported)
		}
		if slices.ContainsFunc(out, func(x Matrix) bool { return x.Target == t }) {
			return nil, fmt.Errorf("sizecalc: target %q listed twice: %w", t, format.ErrInvalidOption)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("sizecalc: no targets: %w", format.ErrInvalidOption)
	}
	return out, nil
}

// TotalParams counts the model's parameters: embeddings, the untied output
// head, attention and feed-forward weights, norms, and biases where the
// architecture has them.
func (s Shape) TotalParams() int64 {
	d, ff := int64(s.Embd), int64(s.FF)
	q, kv := int64(s.Heads*s.HeadDim), int64(s.KVHeads*s.HeadDim)
	n := int64(s.Vocab)*d + int64(s.Positions)*d
	if !s.Tied {
		n += int64(s.Vocab) * d
	}
	var layer int64
	switch s.Arch {
	case "gpt2":
		layer = d*(q+2*kv) + (q + 2*kv) + q*d + d // c_attn, attn c_proj (with biases)
		layer += d*ff + ff + ff*d + d             // c_fc, mlp c_proj
		layer += 4 * d                            // ln_1, ln_2 (weight and bias)
		n += 2 * d                                // ln_f
	default:
		layer = d*q + 2*d*kv + q*d + 3*d*ff + 2*d // attention, SwiGLU, two RMSNorms
		if s.Bias {
			layer += q + 2*kv
		}
		n += d // final norm
	}
	return n + int64(s.Layers)*layer
}

// Options choose the adapter and the memory model of Shape.Size.
type Options struct {
	Rank    int
	Targets []string
	// WeightDType stores weights and their gradients (Shape.DType if
	// Invalid); StateDType stores Adam's two moments (F32 if Invalid).
	WeightDType, StateDType format.DType
}

// Report is Shape.Size's answer; the JSON names are lorakit size --json's.
type Report struct {
	TotalParams     int64    `json:"total_params"`
	TrainableParams int64    `json:"trainable_params"`
	Reduction       float64  `json:"reduction"` // total/trainable
	FullFTMemory    int64    `json:"full_ft_train_memory_bytes"`
	LoRAMemory      int64    `json:"lora_train_memory_bytes"`
	MemoryRatio     float64  `json:"memory_ratio"`     // full/LoRA
	CheckpointBytes int64    `json:"checkpoint_bytes"` // the whole model in WeightDType
	AdapterBytes    int64    `json:"adapter_bytes"`    // A and B of every target, in WeightDType
	Rank            int      `json:"rank"`
	Targets         []Matrix `json:"targets"`
	WeightDType     string   `json:"weight_dtype"`
	StateDType      string   `json:"state_dtype"`
}

// Size counts trainable parameters, checkpoint sizes and training memory of
// full fine-tuning against LoRA with opts. The memory model: every weight in
// WeightDType; each trainable parameter adds a gradient in WeightDType and
// Adam's m and v in StateDType; frozen weights add nothing; activations,
// the KV cache, buffers and fp32 master copies are excluded.
func (s Shape) Size(opts Options) (Report, error) {
	wdt, sdt := opts.WeightDType, opts.StateDType
	if wdt == format.Invalid {
		wdt = s.DType
	}
	if sdt == format.Invalid {
		sdt = format.F32
	}
	wb, err := elemBytes(wdt)
	if err != nil {
		return Report{}, err
	}
	sb, err := elemBytes(sdt)
	if err != nil {
		return Report{}, err
	}
	ms, err := s.Matrices(opts.Targets)
	if err != nil {
		return Report{}, err
	}
	var perLayer int64
	for _, m := range ms {
		if opts.Rank < 1 || opts.Rank > min(m.In, m.Out) {
			return Report{}, fmt.Errorf("sizecalc: rank %d for %s (%d×%d): must be 1..%d: %w", opts.Rank, m.Target, m.Out, m.In, min(m.In, m.Out), format.ErrInvalidOption)
		}
		perLayer += int64(opts.Rank) * int64(m.In+m.Out) // A (r, in) and B (out, r)
	}
	total := s.TotalParams()
	lora := perLayer * int64(s.Layers)
	trainBytes := 2*wb + 2*sb // the weight, its gradient, m and v
	r := Report{
		TotalParams:     total,
		TrainableParams: lora,
		Reduction:       float64(total) / float64(lora),
		FullFTMemory:    total * trainBytes,
		LoRAMemory:      total*wb + lora*trainBytes,
		CheckpointBytes: total * wb,
		AdapterBytes:    lora * wb,
		Rank:            opts.Rank,
		Targets:         ms,
		WeightDType:     wdt.String(),
		StateDType:      sdt.String(),
	}
	r.MemoryRatio = float64(r.FullFTMemory) / float64(r.LoRAMemory)
	return r, nil
}

// elemBytes is the size of one element of a scalar float dtype.
func elemBytes(dt format.DType) (int64, error) {
	switch dt {
	case format.F32, format.F16, format.BF16, format.F64:
		return dt.RowBytes(1)
	}
	return 0, fmt.Errorf("sizecalc: dtype %v for sizes (want F32, F16, BF16 or F64): %w", dt, format.ErrUnsupported)
}
