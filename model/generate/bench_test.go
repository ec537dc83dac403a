package generate

import (
	"testing"
)

// storiesPrompt is a prompt of n tokens from the greedy story.
func storiesPrompt(n int) []int {
	p := []int{1}
	for len(p) < n {
		p = append(p, storiesGreedy...)
	}
	return p[:n]
}

// BenchmarkStoriesForward measures stories260K's forward pass over a
// 256-token prompt in one batch (prompt processing).
func BenchmarkStoriesForward(b *testing.B) {
	m := loadStories(b)
	prompt := storiesPrompt(256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.Logits(prompt); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(prompt)*b.N)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkStoriesGenerate measures greedy decoding of 256 tokens from BOS,
// one token per step through the KV cache.
func BenchmarkStoriesGenerate(b *testing.B) {
	m := loadStories(b)
	o := Options{MaxNew: 256, Context: m.Config.Context}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		res, err := Generate(b.Context(), FromModel(m), []int{1}, o)
		if err != nil {
			b.Fatal(err)
		}
		n += len(res.Tokens)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "tokens/s")
}

// BenchmarkStoriesBeam measures the paper's E2E decoding setting (10
// beams, length penalty 0.9, no-repeat 4-grams) for 64 tokens.
func BenchmarkStoriesBeam(b *testing.B) {
	m := loadStories(b)
	o := Options{MaxNew: 64, Beams: 10, LengthPenalty: 0.9, NoRepeatNGram: 4, Context: m.Config.Context}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(b.Context(), FromModel(m), []int{1}, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(64*b.N)/b.Elapsed().Seconds(), "steps/s")
}
