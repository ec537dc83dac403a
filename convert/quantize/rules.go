package quantize

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
)

// The per-tensor rules of llama.cpp's src/llama-quant.cpp, for the presets
// of this package (no importance matrix, no IQ1-IQ3 mixes).

// category is llama-quantize's tensor_category: the broad role of a tensor,
// judged from its name.
type category int

const (
	catOther category = iota
	catTokenEmbd
	catAttnQ
	catAttnV
	catAttnK
	catAttnQKV
	catAttnKVB
	catAttnOutput
	catFFNUp
	catFFNGate
	catFFNDown
	catOutput
)

// categoryOf classifies name, testing the same substrings in the same order
// as llama-quantize.
func categoryOf(name string) category {
	switch {
	case name == "output.weight":
		return catOutput
	case name == "token_embd.weight" || name == "per_layer_token_embd.weight":
		return catTokenEmbd
	}
	for _, c := range []struct {
		sub string
		cat category
	}{
		{"attn_qkv.weight", catAttnQKV},
		{"attn_kv_b.weight", catAttnKVB},
		{"attn_v.weight", catAttnV},
		{"attn_k.weight", catAttnK},
		{"attn_q.weight", catAttnQ},
		{"attn_output.weight", catAttnOutput},
		{"ffn_up", catFFNUp},
		{"ffn_gate", catFFNGate},
		{"ffn_down", catFFNDown},
	} {
		if strings.Contains(name, c.sub) {
			return c.cat
		}
	}
	return catOther
}

// isAttnV reports the attention-value-like tensors, which share one counter
// and one rule.
func (c category) isAttnV() bool { return c == catAttnV || c == catAttnQKV || c == catAttnKVB }

// nDims is ggml_n_dims: the number of dimensions up to the last one (in ne
// order, innermost first) that is larger than 1; at least 1.
func nDims(shape []int64) int {
	for i := 0; i < len(shape)-1; i++ { // shape[i] is ne[len-1-i]
		if shape[i] > 1 {
			return len(shape) - i
		}
	}
	return 1
}

// keptNames are substrings that llama-quantize never quantizes: expert
// gates and routing tables, tiny per-layer projections, convolution and
// RWKV weights, relative position biases, multimodal tensors.
var keptNames = []string{
	"_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel",
	"per_layer_model_proj", "ssm_conv1d", "shortconv.conv.weight",
	"indexer.k_proj.weight", "indexer.q_proj.weight",
	"time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
	"time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
	"time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
	"time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
	"attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_",
	".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd",
}

// allowsQuantization is llama-quantize's tensor_allows_quantization: only
// matrices (and stacks of them) whose name ends in "weight", minus norms,
// position and token-type embeddings and the names of keptNames.
func allowsQuantization(t format.TensorInfo) bool {
	if nDims(t.Shape) < 2 || !strings.HasSuffix(t.Name, "weight") {
		return false
	}
	if t.Name == "position_embd.weight" || t.Name == "token_types.weight" {
		return false
	}
	for _, s := range keptNames {
		if strings.Contains(t.Name, s) {
			return false
		}
	}
	return true
}

// useMoreBits is llama-quantize's use_more_bits: the first and last eighth
// of the layers, and every third layer in between, get more bits.
func useMoreBits(i, n int) bool {
	return i < n/8 || i >= 7*n/8 || (i-n/8)%3 == 2
}

// selector chooses tensor types in llama-quantize's processing order; it
// carries that tool's counters of attn_v-like and ffn_down tensors.
type selector struct {
	p        Preset
	h        hparams
	tied     bool // no output.weight: token_embd doubles as the output
	nAttnV   int
	iAttnV   int
	iFFNDown int
}

// newSelector prepares the counters for the tensors of names.
func newSelector(p Preset, h hparams, names []string) *selector {
	s := &selector{p: p, h: h, tied: true}
	for _, n := range names {
		c := categoryOf(n)
		if c.isAttnV() {
			s.nAttnV++
		}
		if c == catOutput {
			s.tied = false
		}
	}
	return s
}

// choice is the type chosen for one tensor: want is the type the mixture
// asked for, got the one written (they differ after a fallback).
type choice struct {
	want, got format.DType
}

// choose returns the type of t (as llama_tensor_get_type). Tensors that are
// not quantized keep their type. Types must be chosen in processing order.
func (s *selector) choose(t format.TensorInfo) (choice, error) {
	if !allowsQuantization(t) {
		return choice{t.DType, t.DType}, nil
	}
	if !s.p.quantized() {
		return choice{s.p.Base, s.p.Base}, nil // float targets: no mixture, no fallback
	}
	want, err := s.mixture(t)
	if err != nil {
		return choice{}, err
	}
	got, err := fallback(t, want)
	return choice{want, got}, err
}

// mixture is llama_tensor_get_type_impl for the presets of this package.
func (s *selector) mixture(t format.TensorInfo) (format.DType, error) {
	ft, typ := s.p.FileType, s.p.Base
	cat := categoryOf(t.Name)
	cols := t.Shape[len(t.Shape)-1]
	switch {
	case cat == catOutput || (s.tied && cat == catTokenEmbd):
		switch {
		case s.h.isFalcon || cols%int64(typ.BlockSize()) != 0:
			typ = format.Q8_0
		case typ != format.Q8_0:
			typ = format.Q6_K
		}
	case cat == catTokenEmbd:
		// The presets here keep the base type for an untied embedding.
	case cat.isAttnV():
		typ = s.attnV(ft, typ)
		s.iAttnV++
	case cat == catFFNDown:
		i, n, err := s.layerInfo(s.iFFNDown, t.Name)
		if err != nil {
			return 0, err
		}
		typ = s.ffnDown(ft, typ, i, n)
		s.iFFNDown++
	case cat == catAttnOutput:
		typ = s.attnOutput(ft, typ)
	}
	return typ, nil
}

// attnV is the rule for attn_v, attn_qkv and attn_kv_b.
func (s *selector) attnV(ft FileType, typ format.DType) format.DType {
	gqa4 := s.h.nGQA() >= 4
	switch {
	case ft == FileTypeQ2_K:
		typ = format.Q3_K
		if gqa4 {
			typ = format.Q4_K
		}
	case ft == FileTypeQ3_K_M:
		typ = format.Q4_K
		if s.iAttnV < 2 {
			typ = format.Q5_K
		}
	case ft == FileTypeQ3_K_L:
		typ = format.Q5_K
	case ft == FileTypeIQ4_NL && gqa4:
		typ = format.Q5_K
	case (ft == FileTypeQ4_K_M || ft == FileTypeQ5_K_M) && useMoreBits(s.iAttnV, s.nAttnV):
		typ = format.Q6_K
	case ft == FileTypeQ4_K_S && s.iAttnV < 4:
		typ = format.Q5_K
	}
	if s.h.is70B && (typ == format.Q3_K || typ == format.Q4_K) {
		typ = format.Q5_K
	}
	if s.h.nExpert == 8 {
		typ = format.Q8_0
	}
	return typ
}

// ffnDown is the rule for ffn_down of layer i of n.
func (s *selector) ffnDown(ft FileType, typ format.DType, i, n int) format.DType {
	falcon := s.h.isFalcon
	switch {
	case ft == FileTypeQ2_K:
		return format.Q3_K
	case ft == FileTypeQ3_K_M:
		switch {
		case i < n/16:
			return format.Q5_K
		case !falcon || useMoreBits(i, n):
			return format.Q4_K
		}
		return format.Q3_K
	case ft == FileTypeQ3_K_L:
		if falcon {
			return format.Q4_K
		}
		return format.Q5_K
	case ft == FileTypeQ4_K_M:
		if falcon {
			switch {
			case i < n/16:
				return format.Q6_K
			case useMoreBits(i, n):
				return format.Q5_K
			}
			return format.Q4_K
		}
		if useMoreBits(i, n) {
			return format.Q6_K
		}
	case i < n/8 && ft == FileTypeIQ4_NL:
		return format.Q5_K
	case ft == FileTypeQ5_K_M:
		if useMoreBits(i, n) {
			return format.Q6_K
		}
	case ft == FileTypeQ4_K_S:
		if !falcon && i < n/8 {
			return format.Q5_K
		}
	}
	return typ
}

// attnOutput is the rule for attn_output.
func (s *selector) attnOutput(ft FileType, typ format.DType) format.DType {
	if s.h.isFalcon {
		if ft == FileTypeQ3_K_L {
			return format.Q4_K
		}
		return typ
	}
	if s.h.nExpert == 8 {
		switch ft {
		case FileTypeQ2_K, FileTypeQ3_K_S, FileTypeQ3_K_M, FileTypeIQ4_NL, FileTypeQ4_K_S, FileTypeQ4_K_M:
			return format.Q5_K
		}
		return typ
	}
	switch ft {
	case FileTypeQ2_K:
		return format.Q3_K
	case FileTypeQ3_K_M:
		return format.Q4_K
	case FileTypeQ3_K_L:
		return format.Q5_K
	}
	return typ
}

// layerInfo is llama-quantize's layer_info: the counter and the layer count,
// or, in mixture-of-experts models, the layer parsed from the name.
func (s *selector) layerInfo(counter int, name string) (i, n int, err error) {
	n = s.h.nLayer
	if s.h.nExpert <= 1 {
		return counter, n, nil
	}
	i, ok := layerOf(name)
	if !ok {
		return 0, 0, fmt.Errorf("tensor %q: cannot tell its layer: %w", name, format.ErrFormat)
	}
	if i < 0 || i >= n {
		return 0, 0, fmt.Errorf("tensor %q: layer %d is not in [0, %d): %w", name, i, n, format.ErrFormat)
	}
	return i, n, nil
}

// fallback is llama-quantize's tensor_type_fallback: a type whose blocks do
// not tile t's rows is replaced by one whose blocks do, and by F16 when even
// 32 does not divide the row. Where llama-quantize has no fallback (the
// 32-value types: it stops with "Unsupported tensor size"), lorakit keeps
// the tensor in F16 instead, so that models with such rows (stories260K's
// feed-forward width is 172) still quantize; files llama-quantize can
// write are unaffected.
func fallback(t format.TensorInfo, want format.DType) (format.DType, error) {
	cols := t.Shape[len(t.Shape)-1]
	if cols%int64(want.BlockSize()) == 0 {
		return want, nil
	}
	var got format.DType
	switch want {
	case format.Q2_K, format.Q3_K:
		got = format.Q4_0
	case format.Q4_K:
		got = format.Q5_0
	case format.Q5_K:
		got = format.Q5_1
	case format.Q6_K:
		got = format.Q8_0
	default:
		got = format.F16
	}
	if cols%int64(got.BlockSize()) != 0 {
		got = format.F16
	}
	return got, nil
}
