//go:build amd64 && !purego

package half

// cpuid executes CPUID with the given leaf and sub-leaf.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 reads extended control register 0 (XCR0): which register
// states the operating system saves.
func xgetbv0() (eax, edx uint32)

// detectFeatures asks the CPU (CPUID) and the OS (XGETBV) what may run.
func detectFeatures() features {
	const (
		ecx1OSXSAVE = 1 << 27
		ecx1AVX     = 1 << 28
		ecx1F16C    = 1 << 29
		ebx7AVX2    = 1 << 5
		ebx7AVX512F = 1 << 16
		eax71BF16   = 1 << 5
		xcr0YMM     = 1<<1 | 1<<2    // SSE and AVX state
		xcr0ZMM     = xcr0YMM | 7<<5 // plus opmask, ZMM0-15 high, ZMM16-31
	)
	var f features
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 1 {
		return f
	}
	_, _, ecx1, _ := cpuid(1, 0)
	if ecx1&ecx1OSXSAVE == 0 || ecx1&ecx1AVX == 0 {
		return f
	}
	xcr0, _ := xgetbv0()
	if xcr0&xcr0YMM != xcr0YMM {
		return f
	}
	f.f16c = ecx1&ecx1F16C != 0
	if maxLeaf < 7 {
		return f
	}
	max7, ebx7, _, _ := cpuid(7, 0)
	f.avx2 = ebx7&ebx7AVX2 != 0
	if max7 >= 1 && ebx7&ebx7AVX512F != 0 && xcr0&xcr0ZMM == xcr0ZMM {
		eax71, _, _, _ := cpuid(7, 1)
		f.avx512bf16 = eax71&eax71BF16 != 0
	}
	return f
}
