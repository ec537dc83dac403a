package merge

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/format"
	"github.com/lorakit/lorakit/internal/peakrss"
	"github.com/lorakit/lorakit/lora"
)

// Qwen3-30B-A3B's MoE layer shapes: 64 experts of width 768 over hidden
// 2048 (config.json: num_experts, moe_intermediate_size, hidden_size).
const moeExperts, moeFF, moeHidden = 64, 768, 2048

// moeGGUF writes a qwen3moe GGUF of layers layers (BF16 stacked experts,
// F32 router, BF16 attention) and returns its path and the bytes of one
// stacked expert tensor.
func moeGGUF(b *testing.B, dir string, layers int) (string, int64) {
	var infos []format.TensorInfo
	add := func(name string, dt format.DType, shape ...int64) {
		infos = append(infos, format.TensorInfo{Name: name, DType: dt, Shape: shape})
	}
	for l := range layers {
		p := fmt.Sprintf("blk.%d.", l)
		add(p+"attn_norm.weight", format.F32, moeHidden)
		add(p+"attn_q.weight", format.BF16, 4096, moeHidden)
		add(p+"attn_k.weight", format.BF16, 512, moeHidden)
		add(p+"attn_v.weight", format.BF16, 512, moeHidden)
		add(p+"attn_output.weight", format.BF16, moeHidden, 4096)
		add(p+"ffn_norm.weight", format.F32, moeHidden)
		add(p+"ffn_gate_inp.weight", format.F32, moeExperts, moeHidden)
		add(p+"ffn_gate_exps.weight", format.BF16, moeExperts, moeFF, moeHidden)
		add(p+"ffn_down_exps.weight", format.BF16, moeExperts, moeHidden, moeFF)
		add(p+"ffn_up_exps.weight", format.BF16, moeExperts, moeFF, moeHidden)
	}
	path := filepath.Join(dir, "base.gguf")
	md := format.Metadata{{Key: "general.architecture", Value: "qwen3moe"}, {Key: "qwen3moe.expert_count", Value: uint32(moeExperts)}}
	sink, err := format.Create("gguf", path, infos, md, format.CreateOptions{})
	if err != nil {
		b.Fatal(err)
	}
	stacked := int64(moeExperts * moeFF * moeHidden * 2)
	buf := make([]byte, stacked)
	for i := range buf {
		buf[i] = byte(i*7) & 0x3c // small finite BF16 values
	}
	for _, t := range infos {
		n, _ := t.NumBytes()
		if err := sink.WriteTensor(t.Name, buf[:n]); err != nil {
			b.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		b.Fatal(err)
	}
	return path, stacked
}

// expertAdapter is a rank-r llama.cpp-style adapter on all three expert
// stacks of every layer (one independent pair per expert).
func expertAdapter(layers, r int) *lora.Adapter {
	a := &lora.Adapter{Kind: lora.KindGGUF, Arch: "qwen3moe", DType: format.F32}
	rng := rand.New(rand.NewPCG(5, 6))
	for l := range layers {
		for _, s := range []struct {
			name    string
			in, out int
		}{{"ffn_gate_exps", moeHidden, moeFF}, {"ffn_down_exps", moeFF, moeHidden}, {"ffn_up_exps", moeHidden, moeFF}} {
			m := &lora.Module{Name: fmt.Sprintf("blk.%d.%s", l, s.name), Experts: moeExperts, Rank: r, In: s.in, Out: s.out, Alpha: float64(2 * r),
				A: make([]float32, moeExperts*r*s.in), B: make([]float32, moeExperts*s.out*r)}
			for i := range m.A {
				m.A[i] = float32(0.01 * rng.NormFloat64())
			}
			for i := range m.B {
				m.B[i] = float32(0.01 * rng.NormFloat64())
			}
			a.Modules = append(a.Modules, m)
		}
	}
	return a
}

// BenchmarkMergeMoE merges a rank-8 adapter on every expert stack into a
// Qwen3-30B-A3B-shaped GGUF (two layers, BF16: six stacked tensors of 192
// MiB, 1.2 GiB in all), base on tmpfs, output on disk; peak RSS beside
// one stacked tensor's size shows that merging streams one stack at a
// time (figures in the project notes).
func BenchmarkMergeMoE(b *testing.B) {
	const layers = 2
	dir := peakrss.ScratchDir(b.TempDir())
	defer os.RemoveAll(dir)
	base, stacked := moeGGUF(b, dir, layers)
	a := expertAdapter(layers, 8)
	out := filepath.Join(b.TempDir(), "out.gguf")
	peakrss.Reset()
	b.ResetTimer()
	for range b.N {
		if _, err := Merge(b.Context(), base, []Input{{Path: "bench-adapter", Adapter: a, Scale: 1}}, out, Options{Force: true}); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(peakrss.Read())/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(float64(stacked)/(1<<20), "stacked-MiB")
}
