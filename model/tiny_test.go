package model

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

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

// tinyConfig describes a random model for tests and benchmarks.
type tinyConfig struct {
	arch                                    string
	vocab, ctx, embd, layers, heads, kv, hd int
	ff, ropeDims                            int
	tied                                    bool
	std                                     float64 // matrix values ~ std·N(0,1)
	seed                                    uint64
}

// tinySource builds a random model with llama.cpp's names and metadata.
func tinySource(c tinyConfig) *memSource {
	rng := rand.New(rand.NewPCG(c.seed, 1))
	s := &memSource{data: map[string][]byte{}}
	a := c.arch
	s.md = format.Metadata{{Key: "general.architecture", Value: a}}
	set := func(k string, v uint32) { s.md = append(s.md, format.KV{Key: a + "." + k, Value: v}) }
	set("context_length", uint32(c.ctx))
	set("embedding_length", uint32(c.embd))
	set("block_count", uint32(c.layers))
	set("attention.head_count", uint32(c.heads))
	set("feed_forward_length", uint32(c.ff))
	if a == ArchLlama {
		set("attention.head_count_kv", uint32(c.kv))
		set("attention.key_length", uint32(c.hd))
		set("attention.value_length", uint32(c.hd))
		set("rope.dimension_count", uint32(c.ropeDims))
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
	mat("token_embd.weight", V, C)
	qd, kvd := int64(c.heads*c.hd), int64(c.kv*c.hd)
	if a == ArchGPT2 {
		mat("position_embd.weight", int64(c.ctx), C)
	}
	for l := range c.layers {
		p := fmt.Sprintf("blk.%d.", l)
		vec(p+"attn_norm.weight", C, 1, 0.1)
		if a == ArchGPT2 {
			vec(p+"attn_norm.bias", C, 0, 0.1)
			mat(p+"attn_qkv.weight", 3*C, C)
			vec(p+"attn_qkv.bias", 3*C, 0, 0.1)
			mat(p+"attn_output.weight", C, C)
			vec(p+"attn_output.bias", C, 0, 0.1)
			vec(p+"ffn_norm.weight", C, 1, 0.1)
			vec(p+"ffn_norm.bias", C, 0, 0.1)
			mat(p+"ffn_up.weight", int64(c.ff), C)
			vec(p+"ffn_up.bias", int64(c.ff), 0, 0.1)
			mat(p+"ffn_down.weight", C, int64(c.ff))
			vec(p+"ffn_down.bias", C, 0, 0.1)
		} else {
			mat(p+"attn_q.weight", qd, C)
			mat(p+"attn_k.weight", kvd, C)
			mat(p+"attn_v.weight", kvd, C)
			mat(p+"attn_output.weight", C, qd)
			vec(p+"ffn_norm.weight", C, 1, 0.1)
			mat(p+"ffn_gate.weight", int64(c.ff), C)
			mat(p+"ffn_up.weight", int64(c.ff), C)
			mat(p+"ffn_down.weight", C, int64(c.ff))
		}
	}
	vec("output_norm.weight", C, 1, 0.1)
	if a == ArchGPT2 {
		vec("output_norm.bias", C, 0, 0.1)
	}
	if !c.tied {
		mat("output.weight", V, C)
	}
	return s
}

var (
	tinyGPT2  = tinyConfig{arch: ArchGPT2, vocab: 29, ctx: 16, embd: 16, layers: 2, heads: 2, kv: 2, hd: 8, ff: 32, tied: true, std: 0.3, seed: 1}
	tinyLlama = tinyConfig{arch: ArchLlama, vocab: 31, ctx: 16, embd: 16, layers: 2, heads: 4, kv: 2, hd: 6, ff: 24, ropeDims: 4, std: 0.3, seed: 2}
)

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
