//go:build amd64 && !purego

package half

import "github.com/lorakit/lorakit/internal/cpu"

// features are the instruction sets the amd64 kernels may use, each
// present in the CPU and enabled by the operating system.
type features struct {
	f16c       bool // AVX + F16C: VCVTPS2PH, VCVTPH2PS on YMM registers
	avx2       bool // AVX2 integer arithmetic on YMM registers
	avx512bf16 bool // AVX512F + AVX512_BF16: VCVTNEPS2BF16 on ZMM registers
}

// have is what this machine has; it selects the kernels.
var have = features{
	f16c:       cpu.X86.HasF16C,
	avx2:       cpu.X86.HasAVX2,
	avx512bf16: cpu.X86.HasBF16,
}

// kernelStep is the element count the assembly kernels work in; the Go
// code converts the remainder.
const kernelStep = 32

// The arch hooks convert the longest prefix that the kernels for cpu can
// (a multiple of kernelStep) and return its length.

func f32ToF16Arch(dst []uint16, src []float32) int  { return f32ToF16Using(have, dst, src) }
func f16ToF32Arch(dst []float32, src []uint16) int  { return f16ToF32Using(have, dst, src) }
func f32ToBF16Arch(dst []uint16, src []float32) int { return f32ToBF16Using(have, dst, src) }
func bf16ToF32Arch(dst []float32, src []uint16) int { return bf16ToF32Using(have, dst, src) }

// The Using functions pick a kernel from f (tests pass every subset).

func f32ToF16Using(f features, dst []uint16, src []float32) int {
	n := len(src) &^ (kernelStep - 1)
	if !f.f16c || n == 0 {
		return 0
	}
	f32ToF16F16C(&dst[0], &src[0], n)
	return n
}

func f16ToF32Using(f features, dst []float32, src []uint16) int {
	n := len(src) &^ (kernelStep - 1)
	if !f.f16c || n == 0 {
		return 0
	}
	f16ToF32F16C(&dst[0], &src[0], n)
	return n
}

func f32ToBF16Using(f features, dst []uint16, src []float32) int {
	n := len(src) &^ (kernelStep - 1)
	switch {
	case n == 0:
		return 0
	case f.avx512bf16:
		f32ToBF16AVX512(&dst[0], &src[0], n)
	case f.avx2:
		f32ToBF16AVX2(&dst[0], &src[0], n)
	default:
		return 0
	}
	return n
}

func bf16ToF32Using(f features, dst []float32, src []uint16) int {
	n := len(src) &^ (kernelStep - 1)
	if !f.avx2 || n == 0 {
		return 0
	}
	bf16ToF32AVX2(&dst[0], &src[0], n)
	return n
}

// The kernels (convert_amd64.s): dst and src hold n elements, n a positive
// multiple of kernelStep.

//go:noescape
func f32ToF16F16C(dst *uint16, src *float32, n int)

//go:noescape
func f16ToF32F16C(dst *float32, src *uint16, n int)

//go:noescape
func f32ToBF16AVX512(dst *uint16, src *float32, n int)

//go:noescape
func f32ToBF16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func bf16ToF32AVX2(dst *float32, src *uint16, n int)
