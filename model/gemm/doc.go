// Package gemm is lorakit's float32 general matrix multiply: the product at
// the heart of the CPU transformer's forward and backward passes.
//
// All matrices are row-major, as everywhere in lorakit. [Sgemm] has the
// shape of BLAS sgemm (transpose flags, alpha, beta, leading dimensions)
// but row-major:
//
//	C (m,n) = alpha * op(A) (m,k) * op(B) (k,n) + beta * C (m,n)
//
// [MatMulNT], [MatMulNN] and [MatMulTN] are the three products a
// transformer layer needs (nn.Linear forward, input gradient and weight
// gradient) on densely stored operands.
//
// # How it is computed
//
// Large products follow the GotoBLAS/BLIS scheme: op(B) is packed into
// panels NR columns wide and op(A) into panels MR rows high, in cache-sized
// blocks (KC deep, MC rows, NC columns); a micro-kernel written in Go
// assembly keeps an MR x NR tile of C in vector registers while it walks
// the two panels. The micro-kernel is picked at start-up from what the CPU
// offers: AVX-512 (12x32 tile), AVX2 with FMA (6x16), or a portable Go
// kernel on every other CPU and architecture. Work is spread over
// runtime.GOMAXPROCS goroutines; products below a few million flops run on
// the calling goroutine. Alpha is folded into the packing of A, beta into
// the first store of each C tile.
//
// Skinny products, where k or n is small as in LoRA's low-rank factors
// ((1024,768)·(768,8) and (1024,8)·(8,768)), take their own path: a narrow
// kernel that needs no packing of the large operand.
//
// The default build uses no cgo. Built with -tags openblas (and cgo), the
// package also exposes [OpenBLASSgemm], the same product through OpenBLAS's
// cblas_sgemm, for side-by-side benchmarks only.
package gemm
