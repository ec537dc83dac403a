package half

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/x448/float16"
)

// x448F16 is the oracle for float32 -> binary16.
func x448F16(u uint32) uint16 { return uint16(float16.Fromfloat32(math.Float32frombits(u))) }

// x448F32 is the oracle for binary16 -> float32 bits.
func x448F32(h uint16) uint32 { return math.Float32bits(float16.Frombits(h).Float32()) }

// f32sOf views float32 bit patterns as float32s.
func f32sOf(bits []uint32) []float32 {
	return unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(bits))), len(bits))
}

func u32sOf(fs []float32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(fs))), len(fs))
}

// splat repeats v over an n-element slice, so that both the kernels and
// the Go tail see it.
func splat[T any](v T, n int) []T {
	s := make([]T, n)
	for i := range s {
		s[i] = v
	}
	return s
}

// splatLen covers two kernel steps and a tail.
const splatLen = 2*32 + 7

func TestF16ToF32AllPatterns(t *testing.T) {
	src := make([]uint16, 1<<16)
	want := make([]uint32, len(src))
	for i := range src {
		src[i] = uint16(i)
		want[i] = x448F32(uint16(i))
	}
	for _, p := range allPaths() {
		t.Run(p.name, func(t *testing.T) {
			// Offsets 0 and 5 put every pattern through a kernel and
			// through the tail code.
			for _, off := range []int{0, 5} {
				got := make([]float32, len(src)-off)
				p.f16ToF32(got, src[off:])
				if err := mismatch("f16ToF32", src[off:], u32sOf(got), want[off:]); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
	for i := range src {
		if got := math.Float32bits(F16Float32(src[i])); got != want[i] {
			t.Fatalf("F16Float32(%#04x) = %#08x, want %#08x", src[i], got, want[i])
		}
	}
}

func TestF16ToF32Values(t *testing.T) {
	// Hand-computed: value = (-1)^s 2^(e-15) (1 + m/1024), subnormals
	// 2^-24 m; NaNs made quiet with the payload in the top mantissa bits.
	tests := []struct {
		name string
		in   uint16
		want uint32
	}{
		{"one", 0x3c00, 0x3f800000},
		{"minus two", 0xc000, 0xc0000000},
		{"max", 0x7bff, 0x477fe000},           // 65504
		{"min subnormal", 0x0001, 0x33800000}, // 2^-24
		{"max subnormal", 0x03ff, 0x387fc000}, // 1023 * 2^-24
		{"min normal", 0x0400, 0x38800000},    // 2^-14
		{"minus zero", 0x8000, 0x80000000},
		{"-Inf", 0xfc00, 0xff800000},
		{"quiet NaN", 0x7e00, 0x7fc00000},
		{"signalling NaN quieted", 0x7c01, 0x7fc02000},
		{"negative NaN payload", 0xfd55, 0xffeaa000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, p := range allPaths() {
				got := make([]float32, splatLen)
				p.f16ToF32(got, splat(tt.in, splatLen))
				for _, g := range u32sOf(got) {
					if g != tt.want {
						t.Fatalf("%s f16ToF32(%#04x) = %#08x, want %#08x", p.name, tt.in, g, tt.want)
					}
				}
			}
		})
	}
}

func TestF32ToF16Edges(t *testing.T) {
	// Hand-computed binary16 results (round to nearest, ties to even).
	checkEncoderEdges(t, f32ToF16Encoder, []encoderEdge{
		{"+0", 0x00000000, 0x0000},
		{"-0", 0x80000000, 0x8000},
		{"one", 0x3f800000, 0x3c00},
		{"-2.5", 0xc0200000, 0xc100},
		{"tie down to even", 0x3f801000, 0x3c00},    // 1 + 2^-11
		{"tie up to even", 0x3f803000, 0x3c02},      // 1 + 3*2^-11
		{"just above tie", 0x3f801001, 0x3c01},      // 1 + 2^-11 + 2^-23
		{"just below tie", 0x3f800fff, 0x3c00},      // 1 + 2^-11 - 2^-23
		{"max", 0x477fe000, 0x7bff},                 // 65504
		{"below overflow tie", 0x477fefff, 0x7bff},  // just under 65520
		{"overflow tie to Inf", 0x477ff000, 0x7c00}, // 65520
		{"overflow", 0x501502f9, 0x7c00},            // 1e10
		{"-overflow", 0xc7800000, 0xfc00},           // -65536
		{"+Inf", 0x7f800000, 0x7c00},
		{"-Inf", 0xff800000, 0xfc00},
		{"quiet NaN", 0x7fc00000, 0x7e00},
		{"signalling NaN low payload", 0x7f800001, 0x7e00},
		{"signalling NaN kept payload", 0x7f802000, 0x7e01},
		{"signalling NaN top payload", 0x7fa00000, 0x7f00},
		{"negative NaN all ones", 0xffffffff, 0xffff},
		{"min normal", 0x38800000, 0x0400},              // 2^-14
		{"subnormal tie to normal", 0x387fe000, 0x0400}, // 2^-14 - 2^-25
		{"max subnormal", 0x387fc000, 0x03ff},           // 1023 * 2^-24
		{"min subnormal", 0x33800000, 0x0001},           // 2^-24
		{"half min subnormal tie to 0", 0x33000000, 0x0000},
		{"above half min subnormal", 0x33000001, 0x0001},
		{"subnormal tie up to even", 0x33c00000, 0x0002}, // 3 * 2^-25
		{"-subnormal", 0xb3800000, 0x8001},
		{"float32 subnormal", 0x00000001, 0x0000},
		{"-float32 subnormal", 0x80000001, 0x8000},
	})
}

// f16Structured lists float32 patterns around every binary16 rounding
// decision: all exponents and signs, every 10-bit kept mantissa, the
// dropped 13 bits at and around the halfway point; all mantissas of the
// exponents where subnormal results begin; and random patterns.
func f16Structured() []uint32 {
	var us []uint32
	for _, sign := range []uint32{0, 1 << 31} {
		for e := range uint32(256) {
			for m := range uint32(1 << 10) {
				for _, low := range []uint32{0, 1, 0xfff, 0x1000, 0x1001, 0x1fff} {
					us = append(us, sign|e<<23|m<<13|low)
				}
			}
		}
		for e := uint32(101); e <= 113; e += 4 { // 112 + 1 and 113: subnormal edge
			for m := range uint32(1 << 23) {
				if e >= 112 || m%61 == 0 {
					us = append(us, sign|e<<23|m)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1 << 20 {
		us = append(us, r.Uint32())
	}
	return us
}

var f32ToF16Encoder = encoder{"f32ToF16", x448F16, func(p codePath) func([]uint16, []float32) { return p.f32ToF16 }, F16}

func TestF32ToF16Structured(t *testing.T) { checkEncoderOn(t, f32ToF16Encoder, f16Structured()) }

func TestF32ToF16Exhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("all 2^32 float32 patterns: skipped with -short (TestF32ToF16Structured samples them)")
	}
	checkEncoderExhaustive(t, f32ToF16Encoder)
}
