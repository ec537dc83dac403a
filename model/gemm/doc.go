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
// kernel on every other CPU and architecture (and with -tags purego). Work is spread over
// runtime.GOMAXPROCS goroutines; products below a few million flops run on
// the calling goroutine. Alpha is folded into the packing of A, beta into
// the first store of each C tile.
//
// Skinny products, as LoRA's low-rank factors make them, take their own
// paths. A narrow NT product x (m,k)·A (r,k)ᵀ is computed as dot products
// of rows read in place (assembly kernels of 4x4 or 2x4 dots); another
// narrow C is computed transposed so that its few columns become the
// kernel's rows; a product with few rows reads op(B) in place instead of
// packing it; a small k simply makes short panels.
//
// The default build uses no cgo. Built with -tags openblas (and cgo), the
// package also exposes [OpenBLASSgemm], the same product through OpenBLAS's
// cblas_sgemm, for side-by-side benchmarks only.
package gemm
