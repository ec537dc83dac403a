package model

import (
	"fmt"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// The architectures the model implements, by their GGUF general.architecture
// (arch.RecipeArchs lists them all: gpt2, llama, qwen2, qwen3, gemma2,
// gemma3, phi3).
const (
	ArchGPT2  = "gpt2"  // LayerNorm, learned positions, GELU-tanh, fused attn_qkv, tied lm head
	ArchLlama = "llama" // RMSNorm, RoPE (adjacent pairs), GQA, SwiGLU
)

// Config holds a model's hyperparameters, read from llama.cpp's GGUF
// metadata keys (<arch>.embedding_length, ...) as its architecture's
// recipe says, and the tensor shapes.
type Config struct {
	arch.Hyperparams
	Vocab  int          // rows of token_embd
	Recipe *arch.Recipe // the block recipe the passes are built from
}

// QDim is the width of the attention's query and output: Heads*HeadDim.
func (c Config) QDim() int { return c.Heads * c.HeadDim }

// KVDim is the width of the keys and of the values: KVHeads*HeadDim.
func (c Config) KVDim() int { return c.KVHeads * c.HeadDim }

// QKVDim is the width of the fused projection q|k|v.
func (c Config) QKVDim() int { return c.QDim() + 2*c.KVDim() }

// ffWidth is the width of the feed-forward buffers that hold the up (and
// gate) projections: 2·FF for a fused gate|up.
func (c Config) ffWidth() int {
	if c.Recipe.FusedGateUp {
		return 2 * c.FF
	}
	return c.FF
}

// maxDim bounds every hyperparameter, far above any model this package can
// hold, so size arithmetic cannot overflow.
const maxDim = 1 << 24

// configFrom reads the hyperparameters of src's architecture.
func configFrom(src format.Source) (Config, error) {
	md := src.Metadata()
	name, _ := md.String("general.architecture")
	r, err := arch.RecipeFor(name)
	if err != nil {
		return Config{}, fmt.Errorf("model: %w", err)
	}
	h, err := r.Hyperparams(md)
	if err != nil {
		return Config{}, fmt.Errorf("model: %w", err)
	}
	c := Config{Hyperparams: h, Recipe: r}
	if t, ok := format.TensorIndex(src.Tensors(), "token_embd.weight"); ok && len(t.Shape) == 2 && t.Shape[0] > 0 && t.Shape[0] <= maxDim {
		c.Vocab = int(t.Shape[0])
	} else {
		return Config{}, fmt.Errorf("model: tensor \"token_embd.weight\": %w", format.ErrNotFound)
	}
	return c, nil
}
