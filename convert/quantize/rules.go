package quantize

import (
	"fmt"
	"strings"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/gguf/quant"
)

// The per-tensor rules of llama.cpp's src/llama-quant.cpp.

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
// carries that tool's counters of attn_v-like, ffn_down, ffn_gate and
// ffn_up tensors.
type selector struct {
	p          Preset
	h          hparams
	opt        *Options
	hasImatrix bool
	tied       bool // no output.weight: token_embd doubles as the output
	nAttnV     int
	iAttnV     int
	iFFNDown   int
	iFFNGate   int
	iFFNUp     int
	used       []bool // which opt.TensorTypes matched a tensor
}

// newSelector prepares the counters for the tensors of names.
func newSelector(opt *Options, h hparams, names []string, hasImatrix bool) *selector {
	s := &selector{p: opt.Preset, h: h, opt: opt, hasImatrix: hasImatrix, tied: true, used: make([]bool, len(opt.TensorTypes))}
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

// allows is tensor_allows_quantization with the options: --leave-output-tensor
// keeps output.weight as it is.
func (s *selector) allows(t format.TensorInfo) bool {
	return allowsQuantization(t) && !(s.opt.LeaveOutputTensor && t.Name == "output.weight")
}

// choose returns the type of t, as llama_tensor_get_type does: tensors
// that are not quantized keep their type; --token-embedding-type and
// --output-tensor-type decide their tensors outright; then, unless the
// preset is a float type or --pure is given, the first --tensor-type
// pattern that matches, or else the preset's mixture, followed by the
// fallback for rows that are not whole blocks. Types must be chosen in
// processing order.
func (s *selector) choose(t format.TensorInfo) (choice, error) {
	if !s.allows(t) {
		return choice{t.DType, t.DType}, nil
	}
	cat := categoryOf(t.Name)
	if s.opt.TokenEmbeddingType.Valid() && cat == catTokenEmbd {
		return choice{s.opt.TokenEmbeddingType, s.opt.TokenEmbeddingType}, nil
	}
	if s.opt.OutputTensorType.Valid() && cat == catOutput {
		return choice{s.opt.OutputTensorType, s.opt.OutputTensorType}, nil
	}
	want := s.p.Base
	if !s.p.quantized() {
		return choice{want, want}, nil // float targets: no mixture, no fallback
	}
	if !s.opt.Pure {
		manual := false
		for i, tt := range s.opt.TensorTypes {
			if tt.Pattern.MatchString(t.Name) {
				want, manual, s.used[i] = tt.Type, true, true
				break
			}
		}
		if !manual {
			var err error
			if want, err = s.mixture(t, want, cat); err != nil {
				return choice{}, err
			}
		}
	}
	// llama-quantize skips the fallback with --pure (and fails on rows that
	// are not whole blocks); lorakit falls back as without it.
	got, err := fallback(t, want)
	return choice{want, got}, err
}

// isFileType reports whether ft is one of fts.
func isFileType(ft FileType, fts ...FileType) bool {
	for _, f := range fts {
		if ft == f {
			return true
		}
	}
	return false
}

// mixture is llama_tensor_get_type_impl: the type the preset's mixture
// gives t (of category cat), starting from typ.
func (s *selector) mixture(t format.TensorInfo, typ format.DType, cat category) (format.DType, error) {
	ft := s.p.FileType
	gqa, nExpert := s.h.nGQA(), s.h.nExpert
	cols := t.Shape[len(t.Shape)-1]
	lowIQ := isFileType(ft, FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ1_S, FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ1_M)
	iq2sm := isFileType(ft, FileTypeIQ2_S, FileTypeIQ2_M)
	switch {
	case cat == catOutput || (s.tied && cat == catTokenEmbd):
		switch {
		case s.opt.OutputTensorType.Valid():
			typ = s.opt.OutputTensorType
		case s.h.isFalcon || cols%int64(typ.BlockSize()) != 0:
			typ = format.Q8_0
		case isFileType(ft, FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ3_XXS, FileTypeIQ1_S, FileTypeIQ2_S, FileTypeIQ2_M, FileTypeIQ1_M):
			typ = format.Q5_K
		case typ != format.Q8_0:
			typ = format.Q6_K
		}
	case cat == catTokenEmbd:
		switch {
		case s.opt.TokenEmbeddingType.Valid():
			typ = s.opt.TokenEmbeddingType
		case isFileType(ft, FileTypeIQ2_XXS, FileTypeIQ2_XS, FileTypeIQ1_S, FileTypeIQ1_M):
			typ = format.Q2_K
		case iq2sm || ft == FileTypeIQ3_XXS:
			typ = format.IQ3_S
		case isFileType(ft, FileTypeTQ1_0, FileTypeTQ2_0):
			typ = format.Q4_K
		}
	case lowIQ:
		switch {
		case cat.isAttnV():
			switch {
			case gqa >= 4 || nExpert >= 4:
				typ = format.Q4_K
			case iq2sm:
				typ = format.IQ3_S
			default:
				typ = format.Q2_K
			}
			s.iAttnV++
		case nExpert == 8 && cat == catAttnK:
			typ = format.Q4_K
		case cat == catFFNDown:
			if s.iFFNDown < s.h.nLayer/8 {
				typ = format.Q2_K
				if iq2sm {
					typ = format.IQ3_S
				}
			}
			s.iFFNDown++
		case cat == catAttnOutput:
			switch {
			case nExpert == 8:
				typ = format.Q5_K
			case isFileType(ft, FileTypeIQ1_S, FileTypeIQ1_M):
				typ = format.IQ2_XXS
			case iq2sm:
				typ = format.IQ3_S
			}
		}
	case cat.isAttnV():
		typ = s.attnV(ft, typ)
		s.iAttnV++
	case cat == catAttnK:
		switch {
		case nExpert == 8:
			typ = format.Q8_0
		case ft == FileTypeIQ3_XS:
			typ = format.IQ3_XXS
		case ft == FileTypeIQ3_XXS:
			typ = format.IQ2_S
		}
	case cat == catAttnQ:
		switch ft {
		case FileTypeIQ3_XS:
			typ = format.IQ3_XXS
		case FileTypeIQ3_XXS:
			typ = format.IQ2_S
		}
	case cat == catFFNDown:
		i, n, err := s.layerInfo(s.iFFNDown, t.Name)
		if err != nil {
			return 0, err
		}
		typ = s.ffnDown(ft, typ, i, n)
		s.iFFNDown++
	case cat == catAttnOutput:
		typ = s.attnOutput(ft, typ)
	case cat == catFFNGate || cat == catFFNUp:
		counter := &s.iFFNGate
		if cat == catFFNUp {
			counter = &s.iFFNUp
		}
		i, n, err := s.layerInfo(*counter, t.Name)
		if err != nil {
			return 0, err
		}
		if ft == FileTypeIQ3_XS && i >= n/8 && i < 7*n/8 {
			typ = format.IQ3_XXS
		}
		*counter++
	}
	return typ, nil
}

// attnV is the rule for attn_v, attn_qkv and attn_kv_b outside the lowest
// IQ presets.
func (s *selector) attnV(ft FileType, typ format.DType) format.DType {
	gqa4 := s.h.nGQA() >= 4
	switch {
	case ft == FileTypeQ2_K:
		typ = format.Q3_K
		if gqa4 {
			typ = format.Q4_K
		}
	case ft == FileTypeQ2_K_S && gqa4:
		typ = format.Q4_K
	case ft == FileTypeIQ3_XXS:
		switch {
		case gqa4:
			typ = format.Q4_K
		case !s.hasImatrix:
			typ = format.IQ3_S
		default:
			typ = format.IQ3_XXS
		}
	case (ft == FileTypeIQ3_XS || ft == FileTypeIQ3_S) && gqa4:
		typ = format.Q4_K
	case ft == FileTypeIQ3_M:
		typ = format.Q4_K
	case ft == FileTypeQ3_K_M:
		typ = format.Q4_K
		if s.iAttnV < 2 {
			typ = format.Q5_K
		}
	case ft == FileTypeQ3_K_L:
		typ = format.Q5_K
	case (ft == FileTypeIQ4_NL || ft == FileTypeIQ4_XS) && gqa4:
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

// ffnDown is the rule for ffn_down of layer i of n outside the lowest IQ
// presets.
func (s *selector) ffnDown(ft FileType, typ format.DType, i, n int) format.DType {
	falcon := s.h.isFalcon
	switch {
	case ft == FileTypeQ2_K:
		return format.Q3_K
	case ft == FileTypeQ2_K_S:
		if i < n/8 {
			return format.Q4_K
		}
	case ft == FileTypeIQ3_XXS && !s.hasImatrix:
		if i < n/8 {
			return format.Q4_K
		}
		return format.Q3_K
	case ft == FileTypeQ3_K_M:
		switch {
		case i < n/16:
			return format.Q5_K
		case !falcon || useMoreBits(i, n):
			return format.Q4_K
		}
		return format.Q3_K
	case ft == FileTypeIQ3_M && (i < n/8 || (s.h.nExpert == 8 && useMoreBits(i, n))):
		return format.Q4_K
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
	case i < n/8 && (ft == FileTypeIQ4_NL || ft == FileTypeIQ4_XS) && !s.hasImatrix:
		return format.Q5_K
	case ft == FileTypeQ5_K_M && useMoreBits(i, n):
		return format.Q6_K
	case ft == FileTypeQ4_K_S && !falcon && i < n/8:
		return format.Q5_K
	case (ft == FileTypeQ4_0 || ft == FileTypeQ5_0) && s.hasImatrix && i < n/8:
		if ft == FileTypeQ4_0 {
			return format.Q4_1
		}
		return format.Q5_1
	}
	return typ
}

// attnOutput is the rule for attn_output outside the lowest IQ presets.
func (s *selector) attnOutput(ft FileType, typ format.DType) format.DType {
	if s.h.isFalcon {
		if ft == FileTypeQ3_K_L {
			return format.Q4_K
		}
		return typ
	}
	if s.h.nExpert == 8 {
		if isFileType(ft, FileTypeQ2_K, FileTypeIQ3_XS, FileTypeIQ3_XXS, FileTypeQ3_K_S, FileTypeQ3_K_M, FileTypeIQ4_NL,
			FileTypeQ4_K_S, FileTypeQ4_K_M, FileTypeIQ3_S, FileTypeIQ3_M, FileTypeIQ4_XS) {
			return format.Q5_K
		}
		return typ
	}
	switch ft {
	case FileTypeQ2_K:
		return format.Q3_K
	case FileTypeIQ3_XXS:
		return format.IQ3_S
	case FileTypeQ3_K_M, FileTypeIQ3_M:
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
// not tile t's rows is replaced by one whose blocks do (the 256-value IQ
// types by IQ4_NL, Q2_K, Q3_K and the TQ types by Q4_0, ...), and by F16
// when even 32 does not divide the row. Where llama-quantize has no fallback (the
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
	case format.IQ1_S, format.IQ1_M, format.IQ2_XXS, format.IQ2_XS, format.IQ2_S, format.IQ3_XXS, format.IQ3_S, format.IQ4_XS:
		got = format.IQ4_NL
	case format.Q2_K, format.Q3_K, format.TQ1_0, format.TQ2_0:
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

// requiresImatrix is llama-quantize's tensor_requires_imatrix: the lowest
// IQ types (and Q2_K within a Q2_K_S file) are garbage without importance
// weights, except for the token embedding and the output.
func requiresImatrix(name string, dt format.DType, ft FileType) bool {
	if categoryOf(name) == catTokenEmbd || name == "output.weight" {
		return false
	}
	return quant.RequiresImatrix(dt) || (dt == format.Q2_K && ft == FileTypeQ2_K_S)
}
