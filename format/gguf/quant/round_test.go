package quant

import (
	"math"
	"testing"
)

// ggmlFP32ToFP16 is ggml's portable GGML_FP32_TO_FP16 (ggml-impl.h,
// after Maratyszcza's FP16 library), written from its description: scale
// the magnitude so the float32 adder rounds it to binary16 precision, then
// read exponent and mantissa from the sum.
func ggmlFP32ToFP16(f float32) uint16 {
	const scaleToInf = 0x1.0p+112
	const scaleToZero = 0x1.0p-110
	base := float32(float32(abs(f)*scaleToInf) * scaleToZero)
	w := math.Float32bits(f)
	shl1 := w + w
	sign := w & 0x80000000
	bias := shl1 & 0xff000000
	if bias < 0x71000000 {
		bias = 0x71000000
	}
	base = math.Float32frombits(bias>>1+0x07800000) + base
	bits := math.Float32bits(base)
	expBits := (bits >> 13) & 0x00007c00
	mantBits := bits & 0x00000fff
	nonsign := expBits + mantBits
	if shl1 > 0xff000000 {
		nonsign = 0x7e00
	}
	return uint16(sign>>16 | nonsign)
}

// TestF16MatchesGGML: the scale rounding agrees with ggml's conversion on
// every finite float32 whose value lands in binary16's range (all exponents,
// a dense stride of mantissas) and on the rounding boundaries.
func TestF16MatchesGGML(t *testing.T) {
	step := uint32(97)
	if testing.Short() {
		step = 9973
	}
	check := func(u uint32) {
		f := math.Float32frombits(u)
		if !finite(f) {
			return
		}
		if got, want := f16(f), ggmlFP32ToFP16(f); got != want {
			t.Fatalf("f16(%g = %#08x) = %#04x, want %#04x", f, u, got, want)
		}
	}
	for u := uint32(0); u < 0x48000000; u += step { // up to 131072: past f16's max
		check(u)
		check(u | 0x80000000)
	}
	for e := uint32(0x33000000); e <= 0x47800000; e += 0x00800000 { // halfway cases
		for _, m := range []uint32{0x1000, 0x0fff, 0x1001, 0x3000, 0x2fff, 0x3001, 0x7fffff} {
			check(e | m)
		}
	}
}

func TestNearestInt(t *testing.T) {
	tests := []struct {
		in   float32
		want int32
	}{
		{0.5, 0}, {1.5, 2}, {2.5, 2}, {-0.5, 0}, {-1.5, -2}, {-2.5, -2},
		{0.49999997, 0}, {3.7, 4}, {-3.7, -4}, {4194303, 4194303}, {-4194303, -4194303},
	}
	for _, tt := range tests {
		if got := nearestInt(tt.in); got != tt.want {
			t.Errorf("nearestInt(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestRoundfAndCInt(t *testing.T) {
	tests := []struct {
		in           float32
		round, trunc int32
	}{
		{0.5, 1, 0}, {-0.5, -1, 0}, {2.5, 3, 2}, {-2.5, -3, -2}, {0.49999997, 0, 0},
		{126.5, 127, 126}, {-127.49999, -127, -127},
		{3e9, math.MinInt32, math.MinInt32}, {-3e9, math.MinInt32, math.MinInt32},
		{float32(math.NaN()), math.MinInt32, math.MinInt32},
	}
	for _, tt := range tests {
		if got := roundf(tt.in); got != tt.round {
			t.Errorf("roundf(%v) = %d, want %d", tt.in, got, tt.round)
		}
		if got := cInt(tt.in); got != tt.trunc {
			t.Errorf("cInt(%v) = %d, want %d", tt.in, got, tt.trunc)
		}
	}
}

// TestTritMatchesLroundf: the ternary types' fast trit is lroundf(x·id)+1
// (roundf, the emulation of x86-64's lroundf) for values x of a block
// whose max|x| is amax (id = 1/amax), around the halfway points and at the
// ends, including the infinite inverse of a subnormal amax.
func TestTritMatchesLroundf(t *testing.T) {
	for _, amax := range []float32{1, 0.3, 7e-3, 1e-38, 1e-40} {
		id := inverse(amax)
		for _, f := range []float32{0, 0.25, 0.5, math.Nextafter32(0.5, 0), math.Nextafter32(0.5, 1), 0.7, 1} {
			for _, x := range []float32{f * amax, -f * amax} {
				if got, want := trit(x, id), uint8(roundf(float32(x*id))+1); got != want {
					t.Errorf("trit(%g, 1/%g) = %d, want %d", x, amax, got, want)
				}
			}
		}
	}
}
