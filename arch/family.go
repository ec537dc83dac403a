package arch

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// Family is one model architecture: how llama.cpp's GGUF and Hugging Face
// checkpoints name and lay out its tensors, and which hyperparameters the
// GGUF carries. Each family is a table in its own file.
type Family struct {
	// Name is GGUF's general.architecture, also the prefix of its
	// hyperparameter keys ("qwen2" -> "qwen2.block_count").
	Name string
	// ModelTypes are the config.json "model_type" values of this family
	// (for a multimodal checkpoint, its text_config's model_type).
	ModelTypes []string
	// HFClass is written as config.json "architectures" on export;
	// HFModelType as its "model_type".
	HFClass, HFModelType string
	// MoEClass and MoEModelType replace them on export when the GGUF has
	// experts (llama with experts is Mixtral).
	MoEClass, MoEModelType string
	// Params map config.json fields to GGUF keys, in llama.cpp's key order.
	Params []Param
	// Tensors map tensor names; "{L}" stands for the layer, "{E}" for the
	// expert of a tensor that GGUF stacks over experts.
	Tensors []Tensor
	// HFPrefixes rewrite prefixes of HF tensor names on import: GPT-2
	// checkpoints may carry "transformer.", multimodal checkpoints hold the
	// text tower under "language_model." or "model.language_model.".
	HFPrefixes []Prefix
	// PEFTPrefix is the module path PEFT sees in front of the HF names of
	// the table (GPT2LMHeadModel holds the body as "transformer.").
	PEFTPrefix string
	// HFSkip matches HF tensors that are buffers, not weights (attention
	// masks, rotary tables): dropped on import.
	HFSkip *regexp.Regexp
	// HFExtra are fixed config.json fields written on export.
	HFExtra map[string]any
	// HFDerived, if set, fills config.json fields on export that follow
	// from others or from keys no field maps (Gemma's
	// query_pre_attn_scalar from head_dim, Phi's partial_rotary_factor
	// from rope.dimension_count); md is the GGUF metadata.
	HFDerived func(cfg map[string]any, md format.Metadata)
	// Rope names the RoPE scaling types llama.cpp converts for this family
	// ("linear", "yarn", "llama3", "longrope"); any other is refused.
	Rope []string
	// TiedAlways: the output head is always the token embedding; an
	// lm_head.weight in the checkpoint is dropped (Gemma).
	TiedAlways bool
	// TiedByDefault: the head is tied when config.json does not say
	// tie_word_embeddings (GPT2Config's default; Llama's, Qwen's and
	// Phi-3's configs default to untied).
	TiedByDefault bool
	// TrimEmbedding: llama.cpp cuts the token embedding to the tokenizer's
	// size (Gemma 3's padded rows are dropped).
	TrimEmbedding bool
	// Check, if set, refuses configurations llama.cpp would run
	// differently from transformers.
	Check func(cfg Config) error
	// ExtraMetadata, if set, returns GGUF keys llama.cpp writes besides the
	// numeric Params (BERT's causal flag and classifier labels).
	ExtraMetadata func(cfg Config) (format.Metadata, error)
}

// Prefix rewrites the start of an HF tensor name: From is replaced by To.
type Prefix struct{ From, To string }

// Tensor maps one HF tensor name to its GGUF name, with the transform
// applied on the way to GGUF (its inverse on the way back).
type Tensor struct {
	HF, GGUF  string
	Transform Transform
	// Rows says what the tensor's rows must number, checked against the
	// hyperparameters on import.
	Rows Rows
	// Parts names the row blocks of a fused projection, in order (Phi-3's
	// attn_qkv: "q", "k", "v"; its ffn_up: "gate", "up").
	Parts []string
}

// Stacked reports whether GGUF stacks this tensor over experts: the HF
// name has an expert number, the GGUF name none.
func (t Tensor) Stacked() bool {
	return strings.Contains(t.HF, "{E}") && !strings.Contains(t.GGUF, "{E}")
}

// Transform is a layout or value change between an HF tensor and its GGUF
// form.
type Transform int

// The transforms.
const (
	None Transform = iota
	// Transpose swaps the two dimensions: GPT-2's Conv1D stores weights
	// [in, out] where llama.cpp wants [out, in].
	Transpose
	// RopeQ and RopeK reorder the rows of q/k projections (and of their
	// biases and LoRA B) from HF's half-split rotary layout to llama.cpp's
	// adjacent pairs, per attention head (RopeQ) or per key/value head
	// (RopeK). Only families llama.cpp runs with NORM rope have them.
	RopeQ
	RopeK
	// NormPlusOne adds 1 to an RMSNorm weight: Gemma stores the weight as
	// an offset from 1, llama.cpp as the factor itself. The addition is
	// done in float32, as llama.cpp's converter does.
	NormPlusOne
	// PositionOffset cuts the leading rows of a position embedding that no
	// position uses (RoBERTa's pad_token_id + 1, see EncoderPositionOffset).
	PositionOffset
)

// Rows is the row count a tensor must have, in terms of hyperparameters.
type Rows int

// The row counts checked on import.
const (
	AnyRows Rows = iota
	// QRows: n_head * head_dim (the query projection and its bias).
	QRows
	// KVRows: n_head_kv * head_dim (key and value projections).
	KVRows
	// QKVRows: (n_head + 2 n_head_kv) * head_dim (a fused projection).
	QKVRows
	// HeadDimRows: head_dim (per-head q/k norms).
	HeadDimRows
	// ExpertRows: the expert count (a MoE router).
	ExpertRows
)

var families = map[string]*Family{}

// register adds a family to the registry and returns it.
func register(f *Family) *Family {
	if _, dup := families[f.Name]; dup {
		panic("arch: family " + f.Name + " registered twice")
	}
	families[f.Name] = f
	return f
}

// Lookup returns the family of a GGUF architecture name. An unknown name
// is refused with the list of known ones.
func Lookup(name string) (*Family, error) {
	if f, ok := families[name]; ok {
		return f, nil
	}
	return nil, fmt.Errorf("architecture %q: %w (known: %s)", name, format.ErrUnsupported, strings.Join(Names(), ", "))
}

// ForModelType returns the family of a config.json model_type.
func ForModelType(modelType string) (*Family, error) {
	for _, n := range Names() {
		for _, mt := range families[n].ModelTypes {
			if mt == modelType {
				return families[n], nil
			}
		}
	}
	return nil, fmt.Errorf("config.json model_type %q: %w (lorakit knows %s)", modelType, format.ErrUnsupported, strings.Join(ModelTypes(), ", "))
}

// Names lists the known GGUF architectures, sorted.
func Names() []string {
	names := make([]string, 0, len(families))
	for n := range families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ModelTypes lists the config.json model_type values lorakit reads, sorted.
func ModelTypes() []string {
	var out []string
	for _, f := range families {
		out = append(out, f.ModelTypes...)
	}
	sort.Strings(out)
	return out
}

// errUnsupported formats an ErrUnsupported error.
func errUnsupported(msg string, args ...any) error {
	return fmt.Errorf(msg+": %w", append(args, format.ErrUnsupported)...)
}
