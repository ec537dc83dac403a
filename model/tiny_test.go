package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/lorakit/lorakit/arch"
	"github.com/lorakit/lorakit/format"
)

// memSource is an in-memory format.Source of F32 tensors.
type memSource struct {
	infos []format.TensorInfo
	data  map[string][]byte
	md    format.Metadata
}

func (s *memSource) Format() string               { return "memory" }
func (s *memSource) Tensors() []format.TensorInfo { return s.infos }
func (s *memSource) Metadata() format.Metadata    { return s.md }
func (s *memSource) Close() error                 { return nil }
func (s *memSource) TensorData(name string) ([]byte, error) {
	d, ok := s.data[name]
	if !ok {
		return nil, fmt.Errorf("tensor %q: %w", name, format.ErrNotFound)
	}
	return d, nil
}

func (s *memSource) add(name string, vals []float32, shape ...int64) {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	s.infos = append(s.infos, format.TensorInfo{Name: name, DType: format.F32, Shape: shape})
	s.data[name] = b
}

// tinyConfig describes a random model for tests and benchmarks. Which
// tensors it has follows the architecture's recipe; the options below set
// the hyperparameters and layouts the recipe leaves to the file.
type tinyConfig struct {
	arch                                    string
	vocab, ctx, embd, layers, heads, kv, hd int
	ff, ropeDims                            int
	tied                                    bool
	std                                     float64 // matrix values ~ std·N(0,1)
	seed                                    uint64

	fusedQKV          bool    // attn_qkv instead of attn_q/k/v (where the recipe allows both)
	qkvBias           bool    // q/k/v biases (where optional)
	ropeFreqs         bool    // rope_freqs.weight (llama)
	window, pattern   int     // sliding_window, sliding_window_pattern (gemma)
	attnCap, finalCap float64 // soft-caps (gemma2)
	ropeBaseSWA       float64 // rope.freq_base_swa (gemma3)
	experts, used     int     // expert_count, expert_used_count (MoE)
	expertFF          int     // expert_feed_forward_length (qwen3moe)
}

// tinySource builds a random model with llama.cpp's names and metadata.
func tinySource(c tinyConfig) *memSource {
	r, err := arch.RecipeFor(c.arch)
	if err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewPCG(c.seed, 1))
	s := &memSource{data: map[string][]byte{}}
	a := c.arch
	s.md = format.Metadata{{Key: "general.architecture", Value: a}}
	set := func(k string, v any) { s.md = append(s.md, format.KV{Key: a + "." + k, Value: v}) }
	set("context_length", uint32(c.ctx))
	set("embedding_length", uint32(c.embd))
	set("block_count", uint32(c.layers))
	set("attention.head_count", uint32(c.heads))
	set("feed_forward_length", uint32(c.ff))
	if !r.PosEmbd {
		set("attention.head_count_kv", uint32(c.kv))
		set("attention.key_length", uint32(c.hd))
		set("attention.value_length", uint32(c.hd))
		set(r.EpsKey, float32(1e-5))
		set("rope.freq_base", float32(10000))
	}
	if c.ropeDims > 0 {
		set("rope.dimension_count", uint32(c.ropeDims))
	}
	if c.window > 0 {
		set("attention.sliding_window", uint32(c.window))
	}
	if c.pattern > 0 {
		set("attention.sliding_window_pattern", uint32(c.pattern))
	}
	if c.attnCap > 0 {
		set("attn_logit_softcapping", float32(c.attnCap))
	}
	if c.finalCap > 0 {
		set("final_logit_softcapping", float32(c.finalCap))
	}
	if c.ropeBaseSWA > 0 {
		set("rope.freq_base_swa", float32(c.ropeBaseSWA))
	}
	if c.experts > 0 {
		set("expert_count", uint32(c.experts))
		set("expert_used_count", uint32(c.used))
	}
	if c.expertFF > 0 {
		set("expert_feed_forward_length", uint32(c.expertFF))
	}
	randn := func(n int, mean, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + std*rng.NormFloat64())
		}
		return v
	}
	C, V := int64(c.embd), int64(c.vocab)
	mat := func(name string, r, k int64) { s.add(name, randn(int(r*k), 0, c.std), r, k) }
	vec := func(name string, n int64, mean, std float64) { s.add(name, randn(int(n), mean, std), n) }
	norm := func(name string) {
		vec(name+".weight", C, 1, 0.1)
		if r.Norm == arch.LayerNorm {
			vec(name+".bias", C, 0, 0.1)
		}
	}
	lin := func(name string, rows, cols int64, bias bool) {
		mat(name+".weight", rows, cols)
		if bias {
			vec(name+".bias", rows, 0, 0.1)
		}
	}
	if c.ropeFreqs {
		f := make([]float32, c.ropeDims/2)
		for i := range f {
			f[i] = 1 + float32(i%3) // 1, 2, 3, ...: factors a llama3 rule could give
		}
		s.add("rope_freqs.weight", f, int64(len(f)))
	}
	mat("token_embd.weight", V, C)
	qd, kvd, hd := int64(c.heads*c.hd), int64(c.kv*c.hd), int64(c.hd)
	if r.PosEmbd {
		mat("position_embd.weight", int64(c.ctx), C)
	}
	ff := int64(c.ff)
	for l := range c.layers {
		p := fmt.Sprintf("blk.%d.", l)
		norm(p + "attn_norm")
		bias := r.QKVBias == arch.MustHave || (r.QKVBias == arch.MayHave && c.qkvBias)
		if r.FusedQKV == arch.MustHave || c.fusedQKV {
			lin(p+"attn_qkv", qd+2*kvd, C, bias)
		} else {
			lin(p+"attn_q", qd, C, bias)
			lin(p+"attn_k", kvd, C, bias)
			lin(p+"attn_v", kvd, C, bias)
		}
		if r.QKNorm {
			vec(p+"attn_q_norm.weight", hd, 1, 0.1)
			vec(p+"attn_k_norm.weight", hd, 1, 0.1)
		}
		lin(p+"attn_output", C, qd, r.OutBias == arch.MustHave)
		if r.PostNorms {
			vec(p+"post_attention_norm.weight", C, 1, 0.1)
		}
		norm(p + "ffn_norm")
		fb := r.FFNBias == arch.MustHave
		switch {
		case c.experts > 0:
			E, ef := int64(c.experts), ff
			if c.expertFF > 0 {
				ef = int64(c.expertFF)
			}
			mat(p+"ffn_gate_inp.weight", E, C)
			s.add(p+"ffn_gate_exps.weight", randn(int(E*ef*C), 0, c.std), E, ef, C)
			s.add(p+"ffn_up_exps.weight", randn(int(E*ef*C), 0, c.std), E, ef, C)
			s.add(p+"ffn_down_exps.weight", randn(int(E*ef*C), 0, c.std), E, C, ef)
		case r.MLP == arch.MLPPlain:
			lin(p+"ffn_up", ff, C, fb)
		case r.FusedGateUp:
			lin(p+"ffn_up", 2*ff, C, fb)
		default:
			lin(p+"ffn_gate", ff, C, fb)
			lin(p+"ffn_up", ff, C, fb)
		}
		if c.experts == 0 {
			lin(p+"ffn_down", C, ff, fb)
		}
		if r.PostNorms {
			vec(p+"post_ffw_norm.weight", C, 1, 0.1)
		}
	}
	norm("output_norm")
	if !c.tied {
		mat("output.weight", V, C)
	}
	return s
}

var (
	tinyGPT2  = tinyConfig{arch: ArchGPT2, vocab: 29, ctx: 16, embd: 16, layers: 2, heads: 2, kv: 2, hd: 8, ff: 32, tied: true, std: 0.3, seed: 1}
	tinyLlama = tinyConfig{arch: ArchLlama, vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 6, ff: 24, ropeDims: 4, std: 0.3, seed: 2}
)

// tinyFamilies are tiny random models of every recipe, each with the
// options that make its block differ from Llama's (head dims ≠ n_embd/n_head,
// GQA, windows shorter than the batch, soft-caps that bite at std 0.3).
var tinyFamilies = []tinyConfig{
	tinyGPT2,
	tinyLlama,
	{arch: ArchLlama, vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 1, hd: 8, ff: 24, ropeDims: 8, ropeFreqs: true, std: 0.3, seed: 3},
	{arch: "qwen2", vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 4, ff: 24, qkvBias: true, tied: true, std: 0.3, seed: 4},
	{arch: "qwen3", vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 6, ff: 24, tied: true, std: 0.3, seed: 5},
	{arch: "gemma2", vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 3, kv: 1, hd: 6, ff: 24, window: 3, attnCap: 0.5, finalCap: 1.5, tied: true, std: 0.3, seed: 6},
	{arch: "gemma3", vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 2, kv: 1, hd: 8, ff: 24, window: 2, pattern: 2, ropeBaseSWA: 100, tied: true, std: 0.3, seed: 7},
	{arch: "phi3", vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 4, ff: 24, ropeDims: 4, fusedQKV: true, std: 0.3, seed: 8},
	{arch: ArchLlama, vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 4, ff: 8, ropeDims: 4, experts: 4, used: 2, std: 0.3, seed: 9},
	{arch: "qwen3moe", vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 6, ff: 24, experts: 3, used: 2, expertFF: 8, std: 0.3, seed: 10},
}

// name is a test name for the configuration.
func (c tinyConfig) name() string {
	n := c.arch
	if c.ropeFreqs {
		n += "+rope_freqs"
	}
	if c.experts > 0 && c.arch == ArchLlama {
		n += "+moe"
	}
	return n
}

// tinyBatch returns a random (B,T) batch with a mask covering some rows.
func tinyBatch(vocab, B, T int, seed uint64) Batch {
	rng := rand.New(rand.NewPCG(seed, 2))
	b := Batch{B: B, T: T, Tokens: make([]int, B*T), Targets: make([]int, B*T), Mask: make([]bool, B*T)}
	for i := range b.Tokens {
		b.Tokens[i] = rng.IntN(vocab)
		b.Targets[i] = rng.IntN(vocab)
		b.Mask[i] = i%T >= 1
	}
	return b
}
