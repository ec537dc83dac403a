package half

import (
	"math/rand/v2"
	"testing"

	"github.com/x448/float16"
)

// benchN elements: 4 MiB of float32, 2 MiB of 16-bit values.
const benchN = 1 << 20

// BenchmarkConvert measures each bulk conversion beside a copy() of the
// same number of output bytes, in one run so that the figures compare.
// Throughput (b.SetBytes) counts output bytes everywhere: copy/2MiB pairs
// with the conversions to 16 bits, copy/4MiB with those to float32.
func BenchmarkConvert(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	f32 := make([]float32, benchN)
	for i := range f32 {
		f32[i] = float32(r.NormFloat64())
	}
	f32out := make([]float32, benchN)
	u16 := make([]uint16, benchN)
	F32ToF16(u16, f32)
	u16out := make([]uint16, benchN)
	u8 := make([]uint8, benchN)
	F32ToF8E4M3(u8, f32)

	run := func(name string, outBytes int, fn func()) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(outBytes))
			b.ReportAllocs()
			for b.Loop() {
				fn()
			}
		})
	}
	run("copy/2MiB", 2*benchN, func() { copy(u16out, u16) })
	run("copy/4MiB", 4*benchN, func() { copy(f32out, f32) })
	for _, p := range allPaths() {
		run("f32tof16/"+p.name, 2*benchN, func() { p.f32ToF16(u16out, f32) })
		run("f16tof32/"+p.name, 4*benchN, func() { p.f16ToF32(f32out, u16) })
		run("f32tobf16/"+p.name, 2*benchN, func() { p.f32ToBF16(u16out, f32) })
		run("bf16tof32/"+p.name, 4*benchN, func() { p.bf16ToF32(f32out, u16) })
	}
	run("f32tof16/x448", 2*benchN, func() {
		for i, v := range f32 {
			u16out[i] = uint16(float16.Fromfloat32(v))
		}
	})
	run("f16tof32/x448", 4*benchN, func() {
		for i, h := range u16 {
			f32out[i] = float16.Frombits(h).Float32()
		}
	})
	run("f32tof8e4m3", benchN, func() { F32ToF8E4M3(u8, f32) })
	run("f8e4m3tof32", 4*benchN, func() { F8E4M3ToF32(f32out, u8) })
	run("f32tof8e5m2", benchN, func() { F32ToF8E5M2(u8, f32) })
	run("f8e5m2tof32", 4*benchN, func() { F8E5M2ToF32(f32out, u8) })
}
