//go:build !purego

package gemm

import "github.com/lorakit/lorakit/internal/cpu"

// avx512Micro: a (12,k) with strides ars, acs; b (k,32) with row stride
// bstride -> c (mr,nr), mr <= 12, nr <= 32 (columns masked). Needs AVX-512F.
//
//go:noescape
func avx512Micro(k int, a *float32, ars, acs int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr, nr int)

// avx2Micro: a (6,k) with strides ars, acs; b (k,16) with row stride
// bstride -> c (mr,16), mr <= 6. Needs AVX2 and FMA.
//
//go:noescape
func avx2Micro(k int, a *float32, ars, acs int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr, nr int)

// avx512Dot: x (4,k) stride ldx, w (4,k) stride ldw -> out (4,4); k a
// multiple of 16. Needs AVX-512F and VL.
//
//go:noescape
func avx512Dot(k int, x *float32, ldx int, w *float32, ldw int, out *float32)

// avx2Dot: x (2,k) stride ldx, w (4,k) stride ldw -> out (2,4); k a
// multiple of 8. Needs AVX2 and FMA.
//
//go:noescape
func avx2Dot(k int, x *float32, ldx int, w *float32, ldw int, out *float32)

// The blocking was tuned on 2-core Zen 4 (32 KiB L1, 1 MiB L2 per core) by
// flops per CPU-second: one A micro-panel (MR·KC floats, 24 KiB) stays in
// L1 while the B block (KC·NC) streams past it from L2 and L3; KC 256-512
// and NC 512-2048 were within a few percent of each other. MC only sizes
// a work item. On Zen 4 a 512-bit FMA issues at half the rate of a 256-bit
// one, so both kernels reach the same ~113 GFLOP/s per core; the AVX-512
// kernel's larger tile needs fewer loads and C updates per flop.
var (
	avx512Kernel = kernel{
		name: "avx512", mr: 12, nr: 32,
		kc: 512, mc: 96, nc: 1024,
		maskedCols: true,
		fn:         avx512Micro,
		dot:        &dotKernel{rows: 4, cols: 4, width: 16, fn: avx512Dot},
	}
	avx2Kernel = kernel{
		name: "avx2", mr: 6, nr: 16,
		kc: 512, mc: 96, nc: 1024,
		fn:  avx2Micro,
		dot: &dotKernel{rows: 2, cols: 4, width: 8, fn: avx2Dot},
	}
)

// archKernels lists the assembly kernels this CPU and OS support.
func archKernels() []*kernel {
	// The kernels need FMA with AVX2, and AVX-512 F and VL.
	avx2 := cpu.X86.HasAVX2 && cpu.X86.HasFMA
	avx512 := avx2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512VL
	var ks []*kernel
	if avx512 {
		ks = append(ks, &avx512Kernel)
	}
	if avx2 {
		ks = append(ks, &avx2Kernel)
	}
	return ks
}
