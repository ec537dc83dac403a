package analyze

import (
	"context"
	"fmt"
	"testing"

	"github.com/lorakit/lorakit/internal/cputime"
)

// loop runs f b.N times and reports CPU seconds per op.
func loop(b *testing.B, f func() error) {
	b.ReportAllocs()
	b.ResetTimer()
	c0 := cputime.Seconds()
	for b.Loop() {
		if err := f(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cputime.Seconds()-c0)/float64(b.N), "cpu-s/op")
}

// sevenB returns a synthetic adapter shaped like a 7B Llama with LoRA on
// q, k, v, o: 32 layers × 4 modules, 4096×4096, rank r, Gaussian factors.
func sevenB(r int, seed uint64) []Module {
	rng := newRNG(seed)
	var mods []Module
	for l := range 32 {
		for _, p := range []string{"q_proj", "k_proj", "v_proj", "o_proj"} {
			mods = append(mods, Module{
				Name:  fmt.Sprintf("base_model.model.model.layers.%d.self_attn.%s", l, p),
				A:     randn(rng, r, 4096),
				B:     randn(rng, 4096, r),
				Alpha: float64(2 * r), Scale: 2,
			})
		}
	}
	return mods
}

// adapterBytes is the size of the adapter's factors as float32 on disk.
func adapterBytes(mods []Module) int64 {
	var n int64
	for _, m := range mods {
		r, in := m.A.Dims()
		out, _ := m.B.Dims()
		n += int64(r*(in+out)) * 4
	}
	return n
}

// BenchmarkSpectrum7B: the spectrum of every module of a 7B-shaped r=16
// adapter (issue 6 target: < 2 s on 2 cores).
func BenchmarkSpectrum7B(b *testing.B) {
	mods := sevenB(16, 1)
	b.SetBytes(adapterBytes(mods))
	loop(b, func() error { _, err := Spectra(context.Background(), mods); return err })
}

// BenchmarkSimilarity7B: φ grids of every module, r=8 against r=64, with the
// Gaussian control (target: < 2 s).
func BenchmarkSimilarity7B(b *testing.B) {
	a8, a64 := sevenB(8, 2), sevenB(64, 3)
	b.SetBytes(adapterBytes(a8) + adapterBytes(a64))
	loop(b, func() error { _, err := Compare(context.Background(), a8, a64, CompareOptions{}); return err })
}

// BenchmarkAmplify4096: one Table 7 row for a 4096×4096 module, r=16,
// default randomized SVD of W (target: < 1 s).
func BenchmarkAmplify4096(b *testing.B) {
	rng := newRNG(4)
	const n, r = 4096, 16
	w := randn(rng, n, n)
	m := Module{Name: "q", A: randn(rng, r, n), B: randn(rng, n, r), Scale: 2}
	b.SetBytes(n * n * 8)
	loop(b, func() error { _, err := AmplifyModule(m, w, AmplifyOptions{}); return err })
}

// BenchmarkLowRank4096: the low-rank SVD of one 4096×4096, r=16 update.
func BenchmarkLowRank4096(b *testing.B) {
	rng := newRNG(5)
	m := Module{Name: "q", A: randn(rng, 16, 4096), B: randn(rng, 4096, 16), Scale: 2}
	b.SetBytes(adapterBytes([]Module{m}))
	loop(b, func() error { _, err := LowRank(m); return err })
}
