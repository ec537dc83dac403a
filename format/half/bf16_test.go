package half

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bf16Ref is the plain reference for float32 -> bfloat16: keep the top 16
// bits, round up when the dropped 16 are above half, or exactly half with
// an odd kept part; NaNs keep sign and top payload and are made quiet
// (ggml's rule).
func bf16Ref(u uint32) uint16 {
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 0x40
	}
	hi, lo := u>>16, u&0xffff
	if lo > 0x8000 || lo == 0x8000 && hi&1 == 1 {
		hi++
	}
	return uint16(hi)
}

func TestBF16ToF32AllPatterns(t *testing.T) {
	src := make([]uint16, 1<<16)
	for i := range src {
		src[i] = uint16(i)
	}
	for _, p := range allPaths() {
		t.Run(p.name, func(t *testing.T) {
			for _, off := range []int{0, 5} {
				got := make([]float32, len(src)-off)
				p.bf16ToF32(got, src[off:])
				for i, g := range got {
					h := src[off+i]
					if want := bf16Value(h); !sameFloat(g, want) {
						t.Fatalf("bf16ToF32(%#04x) = %v (%#08x), want %v", h, g, math.Float32bits(g), want)
					}
					if math.Float32bits(g) != uint32(h)<<16 {
						t.Fatalf("bf16ToF32(%#04x) = %#08x, want the bits %#08x", h, math.Float32bits(g), uint32(h)<<16)
					}
				}
			}
		})
	}
}

// bf16Value computes a bfloat16's value from its fields: (-1)^s 2^(e-127)
// (1 + m/128), subnormals 2^-133 m.
func bf16Value(h uint16) float64 {
	s, e, m := h>>15, int(h>>7&0xff), float64(h&0x7f)
	var v float64
	switch {
	case e == 0xff && m == 0:
		v = math.Inf(1)
	case e == 0xff:
		v = math.NaN()
	case e == 0:
		v = math.Ldexp(m, -133)
	default:
		v = math.Ldexp(1+m/128, e-127)
	}
	if s == 1 {
		v = -v
	}
	return v
}

// sameFloat reports whether got is want, with the same sign, or both NaN.
func sameFloat(got float32, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(float64(got))
	}
	return float64(got) == want && math.Signbit(float64(got)) == math.Signbit(want)
}

func TestF32ToBF16Edges(t *testing.T) {
	checkEncoderEdges(t, f32ToBF16Encoder, []encoderEdge{
		{"+0", 0x00000000, 0x0000},
		{"-0", 0x80000000, 0x8000},
		{"one", 0x3f800000, 0x3f80},
		{"tie down to even", 0x3f808000, 0x3f80},
		{"tie up to even", 0x3f818000, 0x3f82},
		{"above tie", 0x3f808001, 0x3f81},
		{"below tie", 0x3f807fff, 0x3f80},
		{"max float32 to Inf", 0x7f7fffff, 0x7f80},
		{"max bf16", 0x7f7f7fff, 0x7f7f},
		{"+Inf", 0x7f800000, 0x7f80},
		{"-Inf", 0xff800000, 0xff80},
		{"quiet NaN", 0x7fc00000, 0x7fc0},
		{"signalling NaN quieted", 0x7f800001, 0x7fc0},
		{"NaN payload kept", 0x7fa12345, 0x7fe1},
		{"negative NaN", 0xff800001, 0xffc0},
		{"NaN near all ones", 0x7fffffff, 0x7fff},
		{"float32 subnormal rounds up", 0x00018000, 0x0002},
		{"float32 subnormal tie to 0", 0x00008000, 0x0000},
		{"float32 subnormal above tie", 0x80008001, 0x8001},
		{"largest subnormal to min normal", 0x007fffff, 0x0080},
		{"min normal", 0x00800000, 0x0080},
	})
}

// bf16Structured lists every top half with the dropped half at and around
// the rounding decisions, all float32 subnormals at a stride (to reach the
// AVX-512 fix-up among normal lanes), and random patterns.
func bf16Structured() []uint32 {
	var us []uint32
	for hi := range uint32(1 << 16) {
		for _, lo := range []uint32{0, 1, 0x7fff, 0x8000, 0x8001, 0xffff} {
			us = append(us, hi<<16|lo)
		}
	}
	for m := uint32(0); m < 1<<24; m += 97 { // both signs of subnormals
		us = append(us, m&0x7fffff|m>>23<<31)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 1 << 20 {
		us = append(us, r.Uint32())
	}
	return us
}

var f32ToBF16Encoder = encoder{"f32ToBF16", bf16Ref, func(p codePath) func([]uint16, []float32) { return p.f32ToBF16 }, BF16}

func TestF32ToBF16Structured(t *testing.T) { checkEncoderOn(t, f32ToBF16Encoder, bf16Structured()) }

func TestF32ToBF16Exhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("all 2^32 float32 patterns: skipped with -short (TestF32ToBF16Structured samples them)")
	}
	checkEncoderExhaustive(t, f32ToBF16Encoder)
}
