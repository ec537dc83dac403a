// Package cpu reports the x86-64 instruction-set extensions that both the
// CPU and the operating system support, read once with CPUID and XGETBV.
// Packages with assembly kernels use it to pick a kernel at start-up.
//
// On other architectures, and with the purego build tag, every feature
// reads as absent, so callers fall back to their pure-Go code.
package cpu

// X86 holds the features found at start-up. Treat it as read-only.
var X86 = detect()

// Features is a set of x86-64 extensions usable by this process.
type Features struct {
	HasAVX2     bool // AVX2, with the OS saving YMM state
	HasFMA      bool // FMA3, with the OS saving YMM state
	HasF16C     bool // F16C (half-precision conversions)
	HasAVX512F  bool // AVX-512 Foundation, with the OS saving ZMM and opmask state
	HasAVX512VL bool // AVX-512 Vector Length extensions
	HasBF16     bool // AVX512_BF16 (VCVTNEPS2BF16), with AVX-512 state saved
}
