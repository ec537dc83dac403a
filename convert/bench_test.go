package convert

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/format/safetensors"
	"github.com/lorakit/lorakit/internal/peakrss"
)

// gpt2SmallHF writes a GPT-2-small-shaped Hugging Face directory (12
// layers, n_embd 768, vocab 50257, Conv1D layouts, random F32 weights,
// about 500 MB) into dir and returns the weights' size in bytes. Tensors
// are generated one at a time into one reused buffer.
func gpt2SmallHF(tb testing.TB, dir string) int64 {
	const d, vocab, ctx, layers = 768, 50257, 1024, 12
	var infos []format.TensorInfo
	add := func(name string, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: format.F32, Shape: shape})
	}
	add("wte.weight", vocab, d)
	add("wpe.weight", ctx, d)
	for l := range layers {
		p := fmt.Sprintf("h.%d.", l)
		add(p+"ln_1.weight", d)
		add(p+"ln_1.bias", d)
		add(p+"attn.c_attn.weight", d, 3*d)
		add(p+"attn.c_attn.bias", 3*d)
		add(p+"attn.c_proj.weight", d, d)
		add(p+"attn.c_proj.bias", d)
		add(p+"ln_2.weight", d)
		add(p+"ln_2.bias", d)
		add(p+"mlp.c_fc.weight", d, 4*d)
		add(p+"mlp.c_fc.bias", 4*d)
		add(p+"mlp.c_proj.weight", 4*d, d)
		add(p+"mlp.c_proj.bias", d)
	}
	add("ln_f.weight", d)
	add("ln_f.bias", d)
	cfg := fmt.Sprintf(`{"model_type":"gpt2","n_embd":%d,"n_head":12,"n_layer":%d,"n_positions":%d,"vocab_size":%d,"layer_norm_epsilon":1e-5}`, d, layers, ctx, vocab)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		tb.Fatal(err)
	}
	w, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, vocab*d*4)
	var total int64
	seed := uint32(1)
	for _, t := range infos {
		n, _ := t.NumBytes()
		for i := int64(0); i < n; i += 4 {
			seed = seed*1664525 + 1013904223 // LCG: cheap, enough for benchmark data
			binary.LittleEndian.PutUint32(buf[i:], math.Float32bits(float32(int32(seed))/(1<<31)*0.02))
		}
		if err := w.WriteTensor(t.Name, buf[:n]); err != nil {
			tb.Fatal(err)
		}
		total += n
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return total
}

// BenchmarkHFToGGUF converts a ~500 MB GPT-2-small-shaped HF directory to
// GGUF F16 (Conv1D transposes included), file to file on tmpfs where
// available; MB/s of F32 input and peak RSS of the conversion.
func BenchmarkHFToGGUF(b *testing.B) {
	dir := peakrss.ScratchDir(b.TempDir())
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "hf")
	os.MkdirAll(in, 0o755)
	size := gpt2SmallHF(b, in)
	out := filepath.Join(dir, "out.gguf")
	b.SetBytes(size)
	b.ReportAllocs()
	peakrss.Reset()
	b.ResetTimer()
	for range b.N {
		if err := Model(context.Background(), in, out, ModelOptions{DType: format.F16, Force: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakrss.Read())/(1<<20), "peak-RSS-MiB")
}

// moeHF writes a Qwen3-MoE-shaped Hugging Face directory of BF16 weights
// (layers layers, 64 experts of width ff over hidden, attention and
// router) and returns the bytes of one stacked expert tensor.
func moeHF(tb testing.TB, dir string, layers, hidden, ff int) int64 {
	const experts, heads, kv, headDim = 64, 16, 4, 64
	var infos []format.TensorInfo
	add := func(name string, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: format.BF16, Shape: shape})
	}
	for l := range layers {
		p := fmt.Sprintf("model.layers.%d.", l)
		add(p+"input_layernorm.weight", int64(hidden))
		add(p+"post_attention_layernorm.weight", int64(hidden))
		add(p+"self_attn.q_proj.weight", heads*headDim, int64(hidden))
		add(p+"self_attn.k_proj.weight", kv*headDim, int64(hidden))
		add(p+"self_attn.v_proj.weight", kv*headDim, int64(hidden))
		add(p+"self_attn.o_proj.weight", int64(hidden), heads*headDim)
		add(p+"self_attn.q_norm.weight", headDim)
		add(p+"self_attn.k_norm.weight", headDim)
		add(p+"mlp.gate.weight", experts, int64(hidden))
		for e := range experts {
			q := fmt.Sprintf("%smlp.experts.%d.", p, e)
			add(q+"gate_proj.weight", int64(ff), int64(hidden))
			add(q+"up_proj.weight", int64(ff), int64(hidden))
			add(q+"down_proj.weight", int64(hidden), int64(ff))
		}
	}
	cfg := fmt.Sprintf(`{"model_type":"qwen3_moe","hidden_size":%d,"intermediate_size":%d,"moe_intermediate_size":%d,
"num_hidden_layers":%d,"num_attention_heads":%d,"num_key_value_heads":%d,"head_dim":%d,"num_experts":%d,
"num_experts_per_tok":8,"norm_topk_prob":true,"rms_norm_eps":1e-6,"rope_theta":1e6,"max_position_embeddings":40960}`,
		hidden, 6*hidden, ff, layers, heads, kv, headDim, experts)
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		tb.Fatal(err)
	}
	safetensors.SortLikeReference(infos)
	w, err := safetensors.Create(filepath.Join(dir, "model.safetensors"), infos, format.Metadata{{Key: "format", Value: "pt"}}, format.CreateOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	buf := make([]byte, 2*hidden*max(ff, heads*headDim))
	for i := range buf {
		buf[i] = byte(i*7) & 0x3c // small finite BF16 values
	}
	for _, t := range infos {
		n, _ := t.NumBytes()
		if err := w.WriteTensor(t.Name, buf[:n]); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return int64(experts) * int64(ff) * int64(hidden) * 2
}

// BenchmarkMoEToGGUF stacks 64 experts per layer (Qwen3-30B-A3B's expert
// count and width, hidden 2048, moe ff 768, two layers, BF16: 2 × 3
// stacked tensors of 192 MiB, 1.2 GiB in all) from HF to GGUF; peak RSS
// beside the size of one stacked tensor shows that stacking streams
// (measured: 208.5 MiB peak for 192 MiB stacked, Intel Xeon, 2 cores,
// Go 1.26, input on /dev/shm, output on disk).
func BenchmarkMoEToGGUF(b *testing.B) {
	dir := peakrss.ScratchDir(b.TempDir())
	defer os.RemoveAll(dir)
	in := filepath.Join(dir, "hf")
	os.MkdirAll(in, 0o755)
	stacked := moeHF(b, in, 2, 2048, 768)
	out := filepath.Join(b.TempDir(), "out.gguf") // on disk: tmpfs output pages showed in peak RSS here
	peakrss.Reset()
	b.ResetTimer()
	for range b.N {
		if err := Model(context.Background(), in, out, ModelOptions{Force: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakrss.Read())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(stacked)/(1<<20), "stacked-MiB")
}
