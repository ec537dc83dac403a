// Package arch describes lorakit's model families as data: for each
// architecture (by its GGUF general.architecture) the tensor names,
// conversion transforms and hyperparameter keys, and the block recipe the
// transformer in package model builds its forward and backward passes from.
package arch

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// NormKind is a block's normalisation.
type NormKind int

// The normalisations.
const (
	RMSNorm   NormKind = iota // x/√(mean x²+ε)·w (ggml_rms_norm)
	LayerNorm                 // (x−mean)/√(var+ε)·w + b (ggml_norm), with biases
)

// RopeLayout is how rotary position embedding pairs a head's dimensions.
type RopeLayout int

// The RoPE layouts (llama.cpp's rope types).
const (
	RopeNone RopeLayout = iota // no RoPE (learned positions)
	RopeNorm                   // adjacent pairs (2i, 2i+1): LLAMA_ROPE_TYPE_NORM
	RopeNeox                   // halves (i, i+n_rot/2): LLAMA_ROPE_TYPE_NEOX
)

// MLPKind is the feed-forward block's shape.
type MLPKind int

// The feed-forward shapes.
const (
	MLPPlain MLPKind = iota // down(act(up·x)) (GPT-2)
	MLPGated                // down(act(gate·x) ⊙ up·x) (LLM_FFN_PAR)
)

// Activation is the feed-forward non-linearity.
type Activation int

// The activations.
const (
	SiLU     Activation = iota // x·σ(x)
	GELUTanh                   // x/2·(1+tanh(√(2/π)(x+0.044715x³)))
)

// Presence says whether a part of a layout is never, maybe or always in a
// file.
type Presence int

// The presence rules.
const (
	Never    Presence = iota // never in the file (a file that has it is refused)
	MayHave                  // used when present
	MustHave                 // the file must have it
)

// Recipe is one architecture's transformer block as llama.cpp builds its
// graph (src/models/<arch>.cpp at the commit the fixtures were made with),
// as data: package model assembles its forward and backward passes from
// it. Hyperparameters come from the GGUF keys named here (Hyperparams).
type Recipe struct {
	Arch string // GGUF general.architecture

	Norm   NormKind
	EpsKey string // the norm epsilon's key, after "<arch>."
	// EpsDflt is used when EpsKey is absent (0: the key is required, as
	// llama.cpp requires it; gpt2 and llama keep lorakit's earlier 1e-5 for
	// files without it, such as llama2.c conversions).
	EpsDflt float32

	PosEmbd    bool // learned position_embd.weight added to the token embedding
	EmbedScale bool // the token embedding is multiplied by √n_embd (float32 sqrtf)

	// Attention projections: a fused attn_qkv (rows q|k|v) and/or separate
	// attn_q, attn_k, attn_v. With MayHave the file chooses (llama.cpp's
	// create_tensor_qkv); their biases are optional then.
	FusedQKV    Presence
	QKVBias     Presence // attn_q/k/v.bias or attn_qkv.bias
	OutBias     Presence // attn_output.bias
	FFNBias     Presence // ffn_up/gate/down.bias
	QKNorm      bool     // per-head RMSNorm attn_q_norm, attn_k_norm on q and k before RoPE
	PostNorms   bool     // post_attention_norm and post_ffw_norm on each sub-layer's output
	OutputTied  Presence // Never: the lm head is always token_embd; MayHave: output.weight if present
	MLP         MLPKind
	Act         Activation
	FusedGateUp bool // gate|up stored as one ffn_up of 2·n_ff rows, gate first

	// MoE: a mixture-of-experts feed-forward (MayHave: when expert_count >
	// 0). The router ffn_gate_inp picks expert_used_count of expert_count
	// experts by softmax probability, renormalised to sum 1 (llama.cpp's
	// build_moe_ffn with norm_w, softmax gating); each expert is a gated MLP
	// stacked in ffn_gate_exps, ffn_up_exps, ffn_down_exps.
	MoE Presence
	// ExpertFFKey is the key of an expert's width; without it (or without
	// a key name) it is feed_forward_length, divided by expert_used_count
	// when ExpertFFPerUsed.
	ExpertFFKey     string
	ExpertFFPerUsed bool

	Rope      RopeLayout
	RopeFreqs Presence // rope_freqs.weight: per-pair frequency divisors (Llama 3.1 scaling)

	// Attention scale on q·kᵀ is 1/√head_dim, except for models with a
	// layer count in HeadScaleLayers, which use 1/√(n_embd/n_head) (Gemma's
	// 27B models, whose query_pre_attn_scalar llama.cpp infers so).
	HeadScaleLayers []int

	// Soft-capping cap·tanh(s/cap): of the scaled attention scores before
	// the mask (AttnCapKey), of the logits (FinalCapKey). A zero default
	// means off without the key.
	AttnCapKey   string
	AttnCapDflt  float64
	FinalCapKey  string
	FinalCapDflt float64

	// Sliding-window attention on the layers the pattern picks: layer il
	// is SWA when il % period < period−1. SWAWindowKey empty: no SWA.
	SWAWindowKey   string
	SWAWindowDflt  int // window without the key (0: SWA only when the key is present and > 0)
	SWAPatternKey  string
	SWAPatternDflt int
	// RopeBaseSWAKey: the RoPE base of SWA layers (default RopeBaseSWADflt,
	// or the global base when that is 0).
	RopeBaseSWAKey  string
	RopeBaseSWADflt float64
}

// recipes is every architecture the transformer runs, by GGUF name.
var recipes = []*Recipe{
	{
		Arch: "gpt2", Norm: LayerNorm, EpsKey: "attention.layer_norm_epsilon", EpsDflt: 1e-5,
		PosEmbd: true, FusedQKV: MustHave, QKVBias: MustHave, OutBias: MustHave, FFNBias: MustHave,
		OutputTied: MayHave, MLP: MLPPlain, Act: GELUTanh, Rope: RopeNone,
	},
	{
		Arch: "llama", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon", EpsDflt: 1e-5,
		FusedQKV: MayHave, QKVBias: MayHave, OutBias: MayHave, FFNBias: MayHave,
		OutputTied: MayHave, MLP: MLPGated, Act: SiLU, Rope: RopeNorm, RopeFreqs: MayHave,
		MoE: MayHave, // Mixtral
	},
	{
		Arch: "qwen2", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon",
		FusedQKV: MayHave, QKVBias: MayHave, OutputTied: MayHave,
		MLP: MLPGated, Act: SiLU, Rope: RopeNeox,
	},
	{
		Arch: "qwen3", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon",
		FusedQKV: MayHave, QKVBias: MayHave, QKNorm: true, OutputTied: MayHave,
		MLP: MLPGated, Act: SiLU, Rope: RopeNeox,
	},
	{
		Arch: "qwen3moe", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon",
		FusedQKV: MayHave, QKVBias: MayHave, QKNorm: true, OutputTied: MayHave,
		MLP: MLPGated, Act: SiLU, Rope: RopeNeox,
		MoE: MustHave, ExpertFFKey: "expert_feed_forward_length", ExpertFFPerUsed: true,
	},
	{
		Arch: "gemma2", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon",
		EmbedScale: true, FusedQKV: MayHave, QKVBias: MayHave, PostNorms: true, OutputTied: Never,
		MLP: MLPGated, Act: GELUTanh, Rope: RopeNeox, HeadScaleLayers: []int{46},
		AttnCapKey: "attn_logit_softcapping", AttnCapDflt: 50,
		FinalCapKey: "final_logit_softcapping", FinalCapDflt: 30,
		SWAWindowKey: "attention.sliding_window", SWAWindowDflt: 4096,
		SWAPatternKey: "attention.sliding_window_pattern", SWAPatternDflt: 2,
		RopeBaseSWAKey: "rope.freq_base_swa",
	},
	{
		Arch: "gemma3", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon",
		EmbedScale: true, FusedQKV: MayHave, QKVBias: MayHave, QKNorm: true, PostNorms: true, OutputTied: MayHave,
		MLP: MLPGated, Act: GELUTanh, Rope: RopeNeox, HeadScaleLayers: []int{62},
		FinalCapKey:  "final_logit_softcapping",
		SWAWindowKey: "attention.sliding_window", SWAPatternKey: "attention.sliding_window_pattern", SWAPatternDflt: 6,
		RopeBaseSWAKey: "rope.freq_base_swa", RopeBaseSWADflt: 10000,
	},
	{
		// llama.cpp reads phi3's attention.sliding_window and then disables
		// SWA for Phi (every layer global); so does this recipe.
		Arch: "phi3", Norm: RMSNorm, EpsKey: "attention.layer_norm_rms_epsilon",
		FusedQKV: MayHave, QKVBias: MayHave, OutputTied: MayHave,
		MLP: MLPGated, Act: SiLU, FusedGateUp: true, Rope: RopeNeox,
	},
}

// RecipeArchs lists the architectures with a recipe, in a fixed order.
func RecipeArchs() []string {
	names := make([]string, len(recipes))
	for i, r := range recipes {
		names[i] = r.Arch
	}
	return names
}

// RecipeFor returns (a copy of) the recipe of a GGUF architecture name; an
// unknown name wraps format.ErrUnsupported and lists the known ones.
func RecipeFor(name string) (*Recipe, error) {
	for _, r := range recipes {
		if r.Arch == name {
			c := *r
			c.HeadScaleLayers = slices.Clone(r.HeadScaleLayers)
			return &c, nil
		}
	}
	return nil, fmt.Errorf("arch: architecture %q has no transformer recipe (known: %s): %w",
		name, strings.Join(RecipeArchs(), ", "), format.ErrUnsupported)
}

// Hyperparams are a model's sizes and numeric options, read from GGUF
// metadata by Recipe.Hyperparams. Shapes of tensors are checked against
// them by the loader.
type Hyperparams struct {
	Arch     string
	Context  int // context_length
	Embd     int // embedding_length
	Layers   int // block_count
	Heads    int // attention.head_count
	KVHeads  int // attention.head_count_kv, else Heads
	HeadDim  int // attention.key_length, else Embd/Heads
	FF       int // feed_forward_length
	RopeDims int // rope.dimension_count, else HeadDim (0 without RoPE): leading dims of a head that rotate

	RopeBase    float64 // rope.freq_base (default 10000)
	RopeBaseSWA float64 // of sliding-window layers
	RopeScale   float64 // freq_scale: 1/rope.scaling.factor for linear scaling, else 1
	NormEps     float32

	AttnScale    float64 // factor on q·kᵀ
	AttnSoftcap  float64 // 0: off
	FinalSoftcap float64 // 0: off
	Window       int     // sliding window in positions (0: none)
	SWALayers    []bool  // per layer: attends within Window only

	Experts     int // expert_count (0: a dense feed-forward)
	ExpertsUsed int // expert_used_count: experts each token goes through
	ExpertFF    int // each expert's width
}

// maxHyper bounds every size read from a file, far above any model a CPU
// holds, so that size arithmetic cannot overflow.
const maxHyper = 1 << 24

// Hyperparams reads the recipe's hyperparameters from md, applying
// llama.cpp's defaults. A required key that is missing wraps
// format.ErrNotFound; a value of the wrong type or out of range
// format.ErrFormat; an option lorakit does not implement (a RoPE scaling
// other than linear, a per-layer array where one value is expected)
// format.ErrUnsupported.
func (r *Recipe) Hyperparams(md format.Metadata) (Hyperparams, error) {
	h := Hyperparams{Arch: r.Arch, RopeBase: 10000, RopeScale: 1}
	m := hpReader{md: md, arch: r.Arch}
	m.int("context_length", &h.Context, true)
	m.int("embedding_length", &h.Embd, true)
	m.int("block_count", &h.Layers, true)
	m.int("attention.head_count", &h.Heads, true)
	m.int("feed_forward_length", &h.FF, true)
	h.KVHeads = h.Heads
	m.int("attention.head_count_kv", &h.KVHeads, false)
	if m.err != nil {
		return Hyperparams{}, m.err
	}
	if h.Heads > h.Embd {
		return Hyperparams{}, fmt.Errorf("arch: %s: %d heads for embedding width %d: %w", r.Arch, h.Heads, h.Embd, format.ErrFormat)
	}
	h.HeadDim = h.Embd / h.Heads
	m.int("attention.key_length", &h.HeadDim, false)
	vd := h.HeadDim
	m.int("attention.value_length", &vd, false)
	if r.Rope != RopeNone {
		h.RopeDims = h.HeadDim // llama.cpp's n_rot: rope.dimension_count, else the head dim
		m.int("rope.dimension_count", &h.RopeDims, false)
	}
	m.float("rope.freq_base", &h.RopeBase)
	h.RopeBaseSWA = h.RopeBase
	if r.RopeBaseSWADflt != 0 {
		h.RopeBaseSWA = r.RopeBaseSWADflt
	}
	h.NormEps = r.EpsDflt
	var eps float64
	if m.float(r.EpsKey, &eps) {
		h.NormEps = float32(eps)
	} else if r.EpsDflt == 0 && m.err == nil {
		m.err = fmt.Errorf("arch: metadata %s.%s: %w", r.Arch, r.EpsKey, format.ErrNotFound)
	}
	if m.err != nil {
		return Hyperparams{}, m.err
	}
	if vd != h.HeadDim {
		return Hyperparams{}, fmt.Errorf("arch: %s: value_length %d differs from key_length %d: %w", r.Arch, vd, h.HeadDim, format.ErrUnsupported)
	}
	if err := r.ropeScaling(&m, &h); err != nil {
		return Hyperparams{}, err
	}
	if err := r.attention(&m, &h); err != nil {
		return Hyperparams{}, err
	}
	if err := r.experts(&m, &h); err != nil {
		return Hyperparams{}, err
	}
	return h, h.validate(r)
}

// ropeScaling reads rope.scaling.*: linear scaling (llama.cpp's default type
// when only a factor is given) divides every frequency by the factor; other
// types are refused rather than ignored.
func (r *Recipe) ropeScaling(m *hpReader, h *Hyperparams) error {
	typ, hasType := m.md.String(r.Arch + ".rope.scaling.type")
	if v, ok := m.md.Get(r.Arch + ".rope.scaling.type"); ok && !hasType {
		return fmt.Errorf("arch: metadata %s.rope.scaling.type = %v: %w", r.Arch, v, format.ErrFormat)
	}
	if hasType && typ != "linear" && typ != "none" {
		return fmt.Errorf("arch: %s: RoPE scaling %q: %w", r.Arch, typ, format.ErrUnsupported)
	}
	var f float64
	if !m.float("rope.scaling.factor", &f) {
		m.float("rope.scale_linear", &f)
	}
	if m.err != nil {
		return m.err
	}
	if f != 0 && typ != "none" {
		if !(f > 0) || math.IsInf(f, 0) {
			return fmt.Errorf("arch: %s: rope.scaling.factor %v: %w", r.Arch, f, format.ErrFormat)
		}
		h.RopeScale = 1 / f
	}
	for _, k := range []string{"rope.scaling.attn_factor", "rope.scaling.yarn_log_multiplier", "rope.scaling.alpha"} {
		if _, ok := m.md.Get(r.Arch + "." + k); ok {
			return fmt.Errorf("arch: %s.%s: %w", r.Arch, k, format.ErrUnsupported)
		}
	}
	return nil
}

// attention reads the attention scale, soft-caps and sliding window.
func (r *Recipe) attention(m *hpReader, h *Hyperparams) error {
	h.AttnScale = 1 / math.Sqrt(float64(float32(h.HeadDim)))
	if slices.Contains(r.HeadScaleLayers, h.Layers) {
		h.AttnScale = 1 / math.Sqrt(float64(float32(h.Embd/h.Heads)))
	}
	h.AttnSoftcap, h.FinalSoftcap = r.AttnCapDflt, r.FinalCapDflt
	if r.AttnCapKey != "" {
		m.float(r.AttnCapKey, &h.AttnSoftcap)
	}
	if r.FinalCapKey != "" {
		m.float(r.FinalCapKey, &h.FinalSoftcap)
	}
	if r.RopeBaseSWAKey != "" {
		m.float(r.RopeBaseSWAKey, &h.RopeBaseSWA)
	}
	h.SWALayers = make([]bool, h.Layers)
	if r.SWAWindowKey != "" {
		h.Window = r.SWAWindowDflt
		found := m.int(r.SWAWindowKey, &h.Window, false)
		if (found || r.SWAWindowDflt > 0) && h.Window > 0 {
			period := r.SWAPatternDflt
			if v, ok := m.md.Get(r.Arch + "." + r.SWAPatternKey); ok {
				if _, isInt := m.md.Int(r.Arch + "." + r.SWAPatternKey); !isInt {
					return fmt.Errorf("arch: metadata %s.%s = %T: a per-layer pattern: %w", r.Arch, r.SWAPatternKey, v, format.ErrUnsupported)
				}
				m.num(r.SWAPatternKey, &period, false, true)
			}
			for il := range h.SWALayers {
				h.SWALayers[il] = period == 0 || il%period < period-1
			}
		} else {
			h.Window = 0
		}
	}
	if m.err != nil {
		return m.err
	}
	return nil
}

// experts reads the mixture-of-experts sizes.
func (r *Recipe) experts(m *hpReader, h *Hyperparams) error {
	if r.MoE == Never {
		for _, k := range []string{"expert_count", "expert_used_count"} {
			_, ok := m.md.Get(r.Arch + "." + k)
			if n, isInt := m.md.Int(r.Arch + "." + k); ok && (!isInt || n != 0) {
				return fmt.Errorf("arch: %s.%s: %s has no mixture-of-experts recipe: %w", r.Arch, k, r.Arch, format.ErrUnsupported)
			}
		}
		return nil
	}
	m.num("expert_count", &h.Experts, r.MoE == MustHave, true)
	m.num("expert_used_count", &h.ExpertsUsed, h.Experts > 0, true) // llama.cpp asserts 0 without experts
	switch {
	case m.err != nil:
		return m.err
	case h.Experts == 0 && r.MoE == MustHave:
		return fmt.Errorf("arch: %s.expert_count is 0: %s needs experts: %w", r.Arch, r.Arch, format.ErrFormat)
	case h.Experts == 0 && h.ExpertsUsed > 0:
		return fmt.Errorf("arch: %s: %d experts used of none: %w", r.Arch, h.ExpertsUsed, format.ErrFormat)
	case h.Experts == 0:
		return nil
	case h.ExpertsUsed == 0:
		return fmt.Errorf("arch: %s: %d experts, none used: %w", r.Arch, h.Experts, format.ErrFormat)
	}
	for _, k := range []string{"expert_group_count", "expert_shared_count", "expert_weights_scale", "expert_gating_func"} {
		if _, ok := m.md.Get(r.Arch + "." + k); ok {
			return fmt.Errorf("arch: %s.%s: %w", r.Arch, k, format.ErrUnsupported)
		}
	}
	if h.ExpertsUsed > h.Experts {
		return fmt.Errorf("arch: %s: %d experts used of %d: %w", r.Arch, h.ExpertsUsed, h.Experts, format.ErrFormat)
	}
	h.ExpertFF = h.FF
	if r.ExpertFFPerUsed {
		h.ExpertFF = h.FF / h.ExpertsUsed
	}
	if r.ExpertFFKey != "" {
		m.int(r.ExpertFFKey, &h.ExpertFF, false)
	}
	if h.ExpertFF <= 0 {
		return fmt.Errorf("arch: %s: expert width %d: %w", r.Arch, h.ExpertFF, format.ErrFormat)
	}
	return m.err
}

// validate checks the relations between hyperparameters.
func (h Hyperparams) validate(r *Recipe) error {
	bad := func(msg string, args ...any) error {
		return fmt.Errorf("arch: %s hyperparameters: %s: %w", h.Arch, fmt.Sprintf(msg, args...), format.ErrFormat)
	}
	fin := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case h.Heads <= 0 || h.KVHeads <= 0 || h.Heads%h.KVHeads != 0:
		return bad("%d heads, %d kv heads", h.Heads, h.KVHeads)
	case h.HeadDim <= 0 || h.HeadDim > maxHyper || h.Heads*h.HeadDim > maxHyper:
		return bad("head dim %d", h.HeadDim)
	case r.PosEmbd && (h.Heads*h.HeadDim != h.Embd || h.KVHeads != h.Heads):
		return bad("%s needs heads*head_dim = n_embd and no GQA", h.Arch)
	case r.Rope != RopeNone && (h.RopeDims <= 0 || h.RopeDims > h.HeadDim || h.RopeDims%2 != 0):
		return bad("rope dims %d with head dim %d", h.RopeDims, h.HeadDim)
	case !(h.RopeBase > 0) || !fin(h.RopeBase) || !(h.RopeBaseSWA > 0) || !fin(h.RopeBaseSWA):
		return bad("rope base %v (sliding-window layers %v)", h.RopeBase, h.RopeBaseSWA)
	case !(h.NormEps >= 0) || math.IsInf(float64(h.NormEps), 0):
		return bad("norm epsilon %v", h.NormEps)
	case !(h.AttnSoftcap >= 0) || !fin(h.AttnSoftcap) || !(h.FinalSoftcap >= 0) || !fin(h.FinalSoftcap):
		return bad("soft-caps %v, %v", h.AttnSoftcap, h.FinalSoftcap)
	case h.Window < 0:
		return bad("sliding window %d", h.Window)
	}
	return nil
}

// hpReader reads "<arch>.key" values with sticky errors.
type hpReader struct {
	md   format.Metadata
	arch string
	err  error
}

// int reads a positive integer into dst; it reports whether the key was
// there. A value that is not one integer in (0, maxHyper] is an error.
func (m *hpReader) int(key string, dst *int, required bool) bool {
	return m.num(key, dst, required, false)
}

// num reads an integer in [0 or 1, maxHyper] into dst (zeroOK: 0 allowed);
// it reports whether the key was there.
func (m *hpReader) num(key string, dst *int, required, zeroOK bool) bool {
	if m.err != nil {
		return false
	}
	k := m.arch + "." + key
	v, ok := m.md.Get(k)
	if !ok {
		if required {
			m.err = fmt.Errorf("arch: metadata %s: %w", k, format.ErrNotFound)
		}
		return false
	}
	n, isInt := m.md.Int(k)
	switch {
	case !isInt:
		m.err = fmt.Errorf("arch: metadata %s = %v (%T), want one integer: %w", k, v, v, format.ErrUnsupported)
	case n < 0 || (n == 0 && !zeroOK) || n > maxHyper:
		m.err = fmt.Errorf("arch: metadata %s = %d: %w", k, n, format.ErrFormat)
	default:
		*dst = int(n)
	}
	return true
}

// float reads a number into dst; it reports whether the key was there.
func (m *hpReader) float(key string, dst *float64) bool {
	if m.err != nil {
		return false
	}
	k := m.arch + "." + key
	v, ok := m.md.Get(k)
	if !ok {
		return false
	}
	f, isNum := m.md.Float(k)
	if !isNum {
		m.err = fmt.Errorf("arch: metadata %s = %v (%T), want a number: %w", k, v, v, format.ErrFormat)
		return true
	}
	*dst = f
	return true
}
