//go:build !purego

package gemm

// cpuid executes CPUID with the given leaf and sub-leaf.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads XCR0, the register state the OS saves on context switches.
func xgetbv() (eax, edx uint32)

// detectCPU reports whether the AVX2+FMA and the AVX-512 (F and VL) kernels
// can run:
// the CPU must have the instructions and the OS must save the YMM
// (XCR0 bits 1-2) and, for AVX-512, the opmask and ZMM state (bits 5-7).
// Reading CPUID here keeps the package free of dependencies.
func detectCPU() (avx2, avx512 bool) {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false, false
	}
	_, _, ecx1, _ := cpuid(1, 0)
	const (
		fma     = 1 << 12
		osxsave = 1 << 27
		avx     = 1 << 28
	)
	if ecx1&(fma|osxsave|avx) != fma|osxsave|avx {
		return false, false
	}
	xcr0, _ := xgetbv()
	_, ebx7, _, _ := cpuid(7, 0)
	const (
		avx2Bit    = 1 << 5
		avx512fBit = 1 << 16
		avx512vl   = 1 << 31
		ymmState   = 0x6
		zmmState   = 0xe0
	)
	avx2 = ebx7&avx2Bit != 0 && xcr0&ymmState == ymmState
	avx512 = avx2 && ebx7&(avx512fBit|avx512vl) == avx512fBit|avx512vl && xcr0&zmmState == zmmState
	return avx2, avx512
}
