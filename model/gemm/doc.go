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
// panels NR columns wide, in cache-sized blocks (KC deep, NC columns), and
// a micro-kernel written in Go assembly keeps an MR x NR tile of C in
// vector registers while it walks MR rows of op(A) and one B panel. The
// kernels read op(A) in place through its two strides; only a partial last
// MR-row panel, or A whose row stride would make the MR rows collide in
// L1, is packed. The micro-kernel is picked at start-up from what the CPU
// offers: AVX-512 (12x32 tile), AVX2 with FMA (6x16), or a portable Go
// kernel on every other CPU and architecture (and with -tags purego). Work
// is spread over runtime.GOMAXPROCS goroutines in MC-row items handed out
// dynamically; products below a few million flops run on the calling
// goroutine. Alpha and beta are applied when a C tile is stored.
//
// Skinny products, as LoRA's low-rank factors make them, take their own
// paths. A narrow NT product x (m,k)·A (r,k)ᵀ is computed as dot products
// of rows read in place (assembly kernels of 4x4 or 2x4 dots); another
// narrow C is computed transposed so that its few columns become the
// kernel's rows; a product with few rows reads op(B) in place instead of
// packing it; a small k simply makes short panels.
//
// # Performance
//
// On the 2-core AMD EPYC (Zen 4) this was written on, a core's FMA units
// peak at about 113 GFLOP/s with either 256- or 512-bit vectors
// (BenchmarkMicro runs the kernels alone on every core). Sgemm reaches
// about 100-105 GFLOP per CPU-second on the transformer's large products,
// beside 99-103 for Debian's OpenBLAS (AVX2 Haswell kernel) single-threaded,
// and stays well ahead on skinny LoRA shapes. Benchmarks report both
// GFLOP/s and GFLOP/cpu-s, since wall time on a shared machine is noisy.
//
// The default build uses no cgo. With -tags openblas (and cgo) the
// subpackage gemm/openblas wraps OpenBLAS's cblas_sgemm with the same
// signature, and BenchmarkSideBySide runs every case through both.
package gemm
