package model

import (
	"path/filepath"
	"testing"

	"github.com/lorakit/lorakit/internal/cputime"
)

// BenchmarkStoriesForward: tokens/s of KV-cache decoding on stories260K.
func BenchmarkStoriesForward(b *testing.B) {
	m := loadModel(b, filepath.Join(sharedDir(b), "data", "models", "stories260K", "stories260K.bin"), Options{})
	const n = 256
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		s := m.NewSession()
		id := 1
		for range n {
			logits, err := s.Step([]int{id})
			if err != nil {
				b.Fatal(err)
			}
			id = argmax(logits)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "tokens/s")
	if cpu := cputime.Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(float64(n*b.N)/cpu, "tokens/cpu-s")
	}
}

// BenchmarkFamilyLoRAStep: LoRA forward+backward (rank 8 on q and v) at
// batch 4 x seq 128 on random models shaped like Qwen2.5-0.5B (24 layers,
// d 896, 14 heads, 2 kv heads, n_ff 4864, vocab 151,936, q/k/v biases) and
// Gemma-3-270m (18 layers, d 640, 4 heads of 256, 1 kv head, n_ff 2048,
// vocab 262,144, window 512 every 6th layer global, q/k and post norms).
// Their published config.json values; the weights are random.
func BenchmarkFamilyLoRAStep(b *testing.B) {
	for _, tc := range []tinyConfig{
		{arch: "qwen2", vocab: 151936, ctx: 32768, embd: 896, layers: 24, heads: 14, kv: 2, hd: 64, ff: 4864, qkvBias: true, tied: true, std: 0.02, seed: 1},
		{arch: "gemma3", vocab: 262144, ctx: 32768, embd: 640, layers: 18, heads: 4, kv: 1, hd: 256, ff: 2048, window: 512, pattern: 6,
			ropeBaseSWA: 10000, tied: true, std: 0.02, seed: 1},
	} {
		b.Run(tc.arch, func(b *testing.B) {
			const B, T = 4, 128
			m, err := Load(tinySource(tc), Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := m.AddLoRA(LoRAConfig{Targets: []string{"q", "v"}, Rank: 8, Alpha: 16, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			benchSteps(b, m, tinyBatch(tc.vocab, B, T, 1))
		})
	}
}

// benchSteps times LoRA steps on batch, reporting tokens/s and the CPU
// time per step (the figure to compare on a shared machine).
func benchSteps(b *testing.B, m *Model, batch Batch) {
	batch.Mask = nil
	step := func() {
		m.ZeroGrad()
		if _, err := m.Forward(batch); err != nil {
			b.Fatal(err)
		}
		if err := m.Backward(); err != nil {
			b.Fatal(err)
		}
	}
	step() // allocate activations
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Seconds()
	for b.Loop() {
		step()
	}
	b.ReportMetric(float64(batch.B*batch.T*b.N)/b.Elapsed().Seconds(), "tokens/s")
	if cpu := cputime.Seconds() - cpu0; cpu > 0 {
		b.ReportMetric(cpu/float64(b.N), "cpu-s/step")
	}
}

// BenchmarkLoRAStep: LoRA forward+backward (rank 4 on q and v) on random
// GPT-2-shaped models at batch 8 x seq 128, as in compute-baselines.md's
// PyTorch figures (119 tokens/s for GPT-2 small, 1,014 for 4 layers d 256,
// on 2 threads). cpu-s/step, the process's CPU time per step, is the figure
// to compare on a shared, noisy machine.
func BenchmarkLoRAStep(b *testing.B) {
	for _, c := range []struct {
		name                string
		layers, embd, heads int
	}{{"gpt2-small", 12, 768, 12}, {"4x256", 4, 256, 4}} {
		b.Run(c.name, func(b *testing.B) {
			tc := tinyConfig{arch: ArchGPT2, vocab: 50257, ctx: 1024, embd: c.embd, layers: c.layers, heads: c.heads, kv: c.heads,
				hd: c.embd / c.heads, ff: 4 * c.embd, tied: true, std: 0.02, seed: 1}
			m, err := Load(tinySource(tc), Options{})
			if err != nil {
				b.Fatal(err)
			}
			if err := m.AddLoRA(LoRAConfig{Targets: []string{"q", "v"}, Rank: 4, Alpha: 8, Seed: 1}); err != nil {
				b.Fatal(err)
			}
			benchSteps(b, m, tinyBatch(tc.vocab, 8, 128, 1))
		})
	}
}
