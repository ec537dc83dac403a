//go:build amd64 && !purego

package cpu

// cpuid executes CPUID with the given leaf and sub-leaf.
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// xgetbv0 reads extended control register 0 (XCR0): which register
// states the operating system saves.
func xgetbv0() (eax, edx uint32)

// detect asks the CPU (CPUID) and the OS (XGETBV) what may run.
func detect() Features {
	const (
		ecx1FMA     = 1 << 12
		ecx1OSXSAVE = 1 << 27
		ecx1AVX     = 1 << 28
		ecx1F16C    = 1 << 29
		ebx7AVX2    = 1 << 5
		ebx7AVX512F = 1 << 16
		ebx7AVX512V = 1 << 31
		eax71BF16   = 1 << 5
		xcr0YMM     = 1<<1 | 1<<2    // SSE and AVX state
		xcr0ZMM     = xcr0YMM | 7<<5 // plus opmask, ZMM0-15 high, ZMM16-31
	)
	var f Features
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
	f.HasFMA = ecx1&ecx1FMA != 0
	f.HasF16C = ecx1&ecx1F16C != 0
	if maxLeaf < 7 {
		return f
	}
	max7, ebx7, _, _ := cpuid(7, 0)
	f.HasAVX2 = ebx7&ebx7AVX2 != 0
	if xcr0&xcr0ZMM == xcr0ZMM {
		f.HasAVX512F = ebx7&ebx7AVX512F != 0
		f.HasAVX512VL = f.HasAVX512F && ebx7&ebx7AVX512V != 0
		if f.HasAVX512F && max7 >= 1 {
			eax71, _, _, _ := cpuid(7, 1)
			f.HasBF16 = eax71&eax71BF16 != 0
		}
	}
	return f
}
