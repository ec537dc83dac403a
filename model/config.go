package model

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
)

// The architectures the model implements, by their GGUF general.architecture.
const (
	ArchGPT2  = "gpt2"  // LayerNorm, learned positions, GELU-tanh, fused attn_qkv, tied lm head
	ArchLlama = "llama" // RMSNorm, RoPE (adjacent pairs), GQA, SwiGLU
)

// Config holds a model's hyperparameters, read from llama.cpp's GGUF
// metadata keys (<arch>.embedding_length, ...) and the tensor shapes.
type Config struct {
	Arch     string
	Vocab    int     // rows of token_embd
	Context  int     // <arch>.context_length: the longest sequence
	Embd     int     // C, the residual width
	Layers   int     // transformer blocks
	Heads    int     // query heads
	KVHeads  int     // key/value heads (GQA when < Heads)
	HeadDim  int     // attention.key_length, else Embd/Heads
	FF       int     // feed_forward_length
	RopeDims int     // rope.dimension_count (llama): leading dims of a head that rotate
	RopeBase float64 // rope.freq_base
	NormEps  float32 // layer_norm_epsilon (gpt2) or layer_norm_rms_epsilon (llama)
}

// QDim is the width of the attention's query and output: Heads*HeadDim.
func (c Config) QDim() int { return c.Heads * c.HeadDim }

// KVDim is the width of the keys and of the values: KVHeads*HeadDim.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim }

// QKVDim is the width of the fused projection q|k|v.
func (c Config) QKVDim() int { return c.QDim() + 2*c.KVDim() }

// maxDim bounds every hyperparameter, far above any model this package can
// hold, so size arithmetic cannot overflow.
const maxDim = 1 << 24

// configFrom reads the hyperparameters of src's architecture.
func configFrom(src format.Source) (Config, error) {
	md := src.Metadata()
	arch, _ := md.String("general.architecture")
	if arch != ArchGPT2 && arch != ArchLlama {
		return Config{}, fmt.Errorf("model: architecture %q (want %s or %s): %w", arch, ArchGPT2, ArchLlama, format.ErrUnsupported)
	}
	c := Config{Arch: arch, RopeBase: 10000, NormEps: 1e-5}
	var err error
	get := func(key string, dst *int, required bool) {
		if err != nil {
			return
		}
		v, ok := md.Int(arch + "." + key)
		switch {
		case !ok && required:
			err = fmt.Errorf("model: metadata %s.%s: %w", arch, key, format.ErrNotFound)
		case ok && (v <= 0 || v > maxDim):
			err = fmt.Errorf("model: metadata %s.%s = %d: %w", arch, key, v, format.ErrFormat)
		case ok:
			*dst = int(v)
		}
	}
	get("context_length", &c.Context, true)
	get("embedding_length", &c.Embd, true)
	get("block_count", &c.Layers, true)
	get("attention.head_count", &c.Heads, true)
	get("feed_forward_length", &c.FF, true)
	c.KVHeads = c.Heads
	get("attention.head_count_kv", &c.KVHeads, false)
	if err != nil {
		return Config{}, err
	}
	c.HeadDim = c.Embd / c.Heads
	get("attention.key_length", &c.HeadDim, false)
	c.RopeDims = c.HeadDim
	if arch == ArchLlama {
		get("rope.dimension_count", &c.RopeDims, false)
	}
	if err != nil {
		return Config{}, err
	}
	if v, ok := md.Int(arch + ".attention.value_length"); ok && int(v) != c.HeadDim {
		return Config{}, fmt.Errorf("model: value_length %d differs from key_length %d: %w", v, c.HeadDim, format.ErrUnsupported)
	}
	epsKey := arch + ".attention.layer_norm_epsilon"
	if arch == ArchLlama {
		epsKey = arch + ".attention.layer_norm_rms_epsilon"
	}
	if v, ok := md.Float(epsKey); ok {
		c.NormEps = float32(v)
	}
	if v, ok := md.Float(arch + ".rope.freq_base"); ok {
		c.RopeBase = v
	}
	if t, ok := format.TensorIndex(src.Tensors(), "token_embd.weight"); ok && len(t.Shape) == 2 && t.Shape[0] > 0 && t.Shape[0] <= maxDim {
		c.Vocab = int(t.Shape[0])
	} else {
		return Config{}, fmt.Errorf("model: tensor \"token_embd.weight\": %w", format.ErrNotFound)
	}
	return c, c.validate()
}

// validate checks the relations between hyperparameters.
func (c Config) validate() error {
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("model: %s config: %s: %w", c.Arch, fmt.Sprintf(msg, args...), format.ErrFormat)
	}
	switch {
	case c.Heads <= 0 || c.KVHeads <= 0 || c.Heads%c.KVHeads != 0:
		return bad("%d heads, %d kv heads", c.Heads, c.KVHeads)
	case c.HeadDim <= 0 || c.HeadDim > maxDim:
		return bad("head dim %d", c.HeadDim)
	case c.Arch == ArchGPT2 && (c.QDim() != c.Embd || c.KVHeads != c.Heads):
		return bad("gpt2 needs heads*head_dim = n_embd and no GQA")
	case c.Arch == ArchLlama && (c.RopeDims <= 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0):
		return bad("rope dims %d with head dim %d", c.RopeDims, c.HeadDim)
	case c.RopeBase <= 0:
		return bad("rope base %v", c.RopeBase)
	case !(c.NormEps >= 0):
		return bad("norm epsilon %v", c.NormEps)
	}
	return nil
}
