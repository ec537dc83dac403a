package main

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/parallel"
)

// llamaShape is the shape of a synthetic Llama-layout checkpoint.
type llamaShape struct {
	name                      string
	layers, hidden, heads, kv int64
	ffn, vocab, maxPositions  int64
	maxShard                  int64 // bytes of tensor data per safetensors shard
	adapterRank, adapterAlpha int
	ropeFactor, ropeOrigCtx   float64
}

// llama3_8B is Meta-Llama-3.1-8B's shape, with its shard size (5 GB).
var llama3_8B = llamaShape{
	name: "Llama-3.1-8B", layers: 32, hidden: 4096, heads: 32, kv: 8, ffn: 14336, vocab: 128256,
	maxShard: 5e9, adapterRank: 16, adapterAlpha: 32, ropeFactor: 8, ropeOrigCtx: 8192, maxPositions: 131072,
}

// llama3Mid is two layers of llama3_8B, every tensor at its full size
// (3 GB in 1 GB shards): the per-tensor costs of the 8B run (peak RSS
// above all) in minutes.
var llama3Mid = func() llamaShape {
	s := llama3_8B
	s.name, s.layers, s.maxShard = "Llama-3.1-8B-2-layers", 2, 1e9
	return s
}()

// llama3Tiny keeps the Llama 3 vocabulary (so the real tokenizer fits) and
// shrinks everything else, to try the scale pipeline in seconds.
var llama3Tiny = llamaShape{
	name: "Llama-3-tiny", layers: 2, hidden: 256, heads: 4, kv: 2, ffn: 512, vocab: 128256,
	maxShard: 40e6, adapterRank: 16, adapterAlpha: 32, ropeFactor: 8, ropeOrigCtx: 8192, maxPositions: 131072,
}

// linearModules are the Llama projections a PEFT "all-linear" adapter
// targets, with (out, in) of each as a function of the shape.
func (s llamaShape) linearModules() []struct {
	name    string
	out, in int64
} {
	hd := s.hidden / s.heads
	return []struct {
		name    string
		out, in int64
	}{
		{"self_attn.q_proj", s.hidden, s.hidden},
		{"self_attn.k_proj", s.kv * hd, s.hidden},
		{"self_attn.v_proj", s.kv * hd, s.hidden},
		{"self_attn.o_proj", s.hidden, s.hidden},
		{"mlp.gate_proj", s.ffn, s.hidden},
		{"mlp.up_proj", s.ffn, s.hidden},
		{"mlp.down_proj", s.hidden, s.ffn},
	}
}

// tensors lists the checkpoint's BF16 tensors in transformers' order.
func (s llamaShape) tensors() []format.TensorInfo {
	var infos []format.TensorInfo
	add := func(name string, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: format.BF16, Shape: shape})
	}
	add("model.embed_tokens.weight", s.vocab, s.hidden)
	for l := range s.layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", s.hidden)
		for _, m := range s.linearModules() {
			add(p+m.name+".weight", m.out, m.in)
		}
		add(p+"post_attention_layernorm.weight", s.hidden)
	}
	add("model.norm.weight", s.hidden)
	add("lm_head.weight", s.vocab, s.hidden)
	return infos
}

// config is the checkpoint's config.json, as transformers 4.43 writes it
// for Llama 3.1 (llama3 rope scaling included).
func (s llamaShape) config() map[string]any {
	return map[string]any{
		"architectures":           []string{"LlamaForCausalLM"},
		"attention_bias":          false,
		"attention_dropout":       0.0,
		"bos_token_id":            128000,
		"eos_token_id":            []int{128001, 128008, 128009},
		"hidden_act":              "silu",
		"hidden_size":             s.hidden,
		"initializer_range":       0.02,
		"intermediate_size":       s.ffn,
		"max_position_embeddings": s.maxPositions,
		"mlp_bias":                false,
		"model_type":              "llama",
		"num_attention_heads":     s.heads,
		"num_hidden_layers":       s.layers,
		"num_key_value_heads":     s.kv,
		"pretraining_tp":          1,
		"rms_norm_eps":            1e-5,
		"rope_scaling": map[string]any{
			"factor": s.ropeFactor, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
			"original_max_position_embeddings": s.ropeOrigCtx, "rope_type": "llama3",
		},
		"rope_theta":           500000.0,
		"tie_word_embeddings":  false,
		"torch_dtype":          "bfloat16",
		"transformers_version": "4.43.0.dev0",
		"use_cache":            true,
		"vocab_size":           s.vocab,
	}
}

// writeJSONFile writes v as indented JSON to path.
func writeJSONFile(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// copyInto copies src to dst.
func copyInto(tb testing.TB, src, dst string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// writeSyntheticLlama writes a Hugging Face directory of shape s into dir:
// config.json, sharded BF16 safetensors with model.safetensors.index.json
// and the Llama 3 tokenizer files from tokDir. Weights are random from seed
// (each tensor generated on all cores into one reused buffer); it returns
// the bytes of tensor data.
func writeSyntheticLlama(tb testing.TB, dir, tokDir string, s llamaShape, seed uint64) int64 {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	writeJSONFile(tb, filepath.Join(dir, "config.json"), s.config())
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "generation_config.json"} {
		copyInto(tb, filepath.Join(tokDir, f), filepath.Join(dir, f))
	}
	infos := s.tensors()
	w, err := safetensors.CreateSharded(dir, infos, format.Metadata{{Key: "format", Value: "pt"}}, s.maxShard, format.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	total := writeRandomTensors(tb, w, infos, seed, func(t format.TensorInfo) (int, int) {
		if len(t.Shape) == 1 { // RMS norm gains: 0.5 .. 2
			return 126, 2
		}
		return 119, 4 // weights: |w| in 2^-8 .. 2^-4
	})
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return total
}

// writeSyntheticAdapter writes a PEFT LoRA adapter of rank
// s.adapterRank on every linear module of every layer into dir (BF16 A and
// B, random from seed, B non-zero so that merging changes every weight).
func writeSyntheticAdapter(tb testing.TB, dir, baseDir string, s llamaShape, seed uint64) {
	tb.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	r := int64(s.adapterRank)
	var infos []format.TensorInfo
	var targets []string
	for _, m := range s.linearModules() {
		targets = append(targets, filepath.Ext(m.name)[1:])
	}
	for l := range s.layers {
		for _, m := range s.linearModules() {
			p := fmt.Sprintf("base_model.model.model.layers.%d.%s.", l, m.name)
			infos = append(infos,
				format.TensorInfo{Name: p + "lora_A.weight", DType: format.BF16, Shape: []int64{r, m.in}},
				format.TensorInfo{Name: p + "lora_B.weight", DType: format.BF16, Shape: []int64{m.out, r}})
		}
	}
	safetensors.SortLikeReference(infos)
	w, err := safetensors.Create(filepath.Join(dir, "adapter_model.safetensors"), infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	writeRandomTensors(tb, w, infos, seed, func(t format.TensorInfo) (int, int) {
		if t.Shape[0] == r { // A: about 1/sqrt(in)
			return 119, 4
		}
		return 116, 4 // B: smaller, as after a short fine-tune
	})
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	writeJSONFile(tb, filepath.Join(dir, "adapter_config.json"), map[string]any{
		"base_model_name_or_path": baseDir,
		"bias":                    "none",
		"fan_in_fan_out":          false,
		"inference_mode":          true,
		"lora_alpha":              s.adapterAlpha,
		"lora_dropout":            0.05,
		"peft_type":               "LORA",
		"r":                       s.adapterRank,
		"target_modules":          targets,
		"task_type":               "CAUSAL_LM",
		"use_rslora":              false,
	})
}

// writeRandomTensors writes random BF16 data for each of infos to w and
// returns the bytes written. exps gives a tensor's lowest biased exponent
// and how many consecutive exponents its values use (a power of two, at
// most 4): values are ±(1+m/128)·2^(e-127) with m and e uniform, a spread
// of magnitudes like trained weights. Chunks of a tensor are generated on
// all cores, each from a generator seeded by (seed, tensor, chunk), so the
// data does not depend on the number of cores.
func writeRandomTensors(tb testing.TB, w format.Sink, infos []format.TensorInfo, seed uint64, exps func(format.TensorInfo) (int, int)) int64 {
	tb.Helper()
	const chunk = 1 << 20 // values per generator
	var buf []byte
	var total int64
	for _, t := range infos {
		n, err := t.NumBytes()
		if err != nil {
			tb.Fatal(err)
		}
		if int64(cap(buf)) < n {
			buf = make([]byte, n)
		}
		data := buf[:n]
		h := fnv.New64a()
		h.Write([]byte(t.Name))
		id := h.Sum64()
		lo, span := exps(t)
		values := int(n / 2)
		parallel.Range((values+chunk-1)/chunk, 1, 1, func(c0, c1 int) {
			for c := c0; c < c1; c++ {
				fillBF16(data[2*c*chunk:2*min(values, (c+1)*chunk)], rand.NewPCG(seed^id, uint64(c)), lo, span)
			}
		})
		if err := w.WriteTensor(t.Name, data); err != nil {
			tb.Fatal(err)
		}
		total += n
	}
	return total
}

// fillBF16 fills dst (little-endian BF16) with random values from src: 16
// random bits per value give the sign, 7 mantissa bits and the exponent
// offset (0 .. span-1) above the biased exponent lo.
func fillBF16(dst []byte, src *rand.PCG, lo, span int) {
	mask := uint64(span - 1)
	var bits uint64
	for i := 0; i+1 < len(dst); i += 2 {
		if i%8 == 0 {
			bits = src.Uint64()
		}
		v := bits & 0xffff
		bits >>= 16
		e := uint64(lo) + (v>>8)&mask
		binary.LittleEndian.PutUint16(dst[i:], uint16((v>>15)<<15|e<<7|v&0x7f))
	}
}
