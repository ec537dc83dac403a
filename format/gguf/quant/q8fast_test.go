package quant

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
)

// TestQ8_0FastMatchesScalar checks the vector Q8_0 kernel against the
// scalar code (itself checked byte for byte against llama-quantize's
// fixtures) on blocks of every kind: random magnitudes from 2^-140 to
// 2^120, halves that round away from zero, a maximum that makes x·id reach
// ±127.5 (q wraps to -128 as in ggml), zero, subnormal and non-finite
// blocks between ordinary ones.
func TestQ8_0FastMatchesScalar(t *testing.T) {
	if q8_0Fast == nil {
		t.Skip("no vector Q8_0 kernel on this CPU")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	const blocks = 1 << 14
	src := make([]float32, 32*blocks)
	for b := range blocks {
		x := src[32*b : 32*b+32]
		e := rng.IntN(260) - 140
		scale := float32(math.Ldexp(1, e))
		for j := range x {
			x[j] = (rng.Float32()*2 - 1) * scale
		}
		switch b % 16 {
		case 1: // exact halves of the step
			d := x[0] / 127
			for j := range x {
				x[j] = d * (float32(rng.IntN(255)-127) + 0.5)
			}
		case 2: // all zero
			clear(x)
		case 3: // subnormal
			for j := range x {
				x[j] = math.Float32frombits(uint32(rng.IntN(1 << 23)))
			}
		case 4: // -0 and one value
			for j := range x {
				x[j] = float32(math.Copysign(0, -1))
			}
			x[5] = scale
		case 5: // 127.5·d exactly representable near the top
			x[0] = 127
			x[1] = -127
			x[2] = 126.5
		}
	}
	want := make([]byte, 34*blocks)
	got := make([]byte, 34*blocks)
	if i := quantizeQ8_0Go(want, src); i >= 0 {
		t.Fatalf("quantizeQ8_0Go: non-finite at %d", i)
	}
	if i := quantizeQ8_0(got, src); i >= 0 {
		t.Fatalf("quantizeQ8_0: non-finite at %d", i)
	}
	for b := range blocks {
		if w, g := want[34*b:34*b+34], got[34*b:34*b+34]; !bytes.Equal(w, g) {
			t.Fatalf("block %d (x %v): vector % x, scalar % x", b, src[32*b:32*b+32], g, w)
		}
	}
	// A non-finite value is reported at its index, as by the scalar code.
	for _, bad := range []float32{float32(math.Inf(1)), float32(math.NaN())} {
		s := append([]float32(nil), src[:32*64]...)
		s[32*40+7] = bad
		if got := quantizeQ8_0(make([]byte, 34*64), s); got != 32*40+7 {
			t.Errorf("quantizeQ8_0 with %v at %d = %d", bad, 32*40+7, got)
		}
	}
}

func BenchmarkQ8_0(b *testing.B) {
	src := make([]float32, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range src {
		src[i] = rng.Float32()*2 - 1
	}
	dst := make([]byte, len(src)/32*34)
	for _, c := range []struct {
		name string
		fn   func([]byte, []float32) int
	}{{"vector", quantizeQ8_0}, {"scalar", quantizeQ8_0Go}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(4 * len(src)))
			for b.Loop() {
				c.fn(dst, src)
			}
		})
	}
}
