package gemm

// kernelFunc is a micro-kernel. It multiplies an A panel (MR,k) — element
// (i,p) at a[i*ars+p*acs]: (1,MR) when packed, (lda,1) or (1,lda) when
// read in place — by a B panel (k,NR) — element (p,j) at b[p*bstride+j],
// bstride NR when packed — and stores the top-left (mr,nr) corner into the
// C tile at c with row stride ldc: C = alpha·A·B + beta·C, reading C only
// when beta is not 0. mr <= MR and nr <= NR; a kernel without maskedCols
// is only called with nr == NR.
type kernelFunc func(k int, a *float32, ars, acs int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr, nr int)

// kernel is a micro-kernel with its tile and the cache blocking that suits it.
type kernel struct {
	name       string
	mr, nr     int  // C tile held in registers: MR rows by NR columns
	kc, mc, nc int  // cache blocks: depth, rows of A, columns of B
	maskedCols bool // fn stores partial column counts itself
	fn         kernelFunc
	dot        *dotKernel // for narrow NT products
}

// kernels lists the micro-kernels this CPU runs, widest tile first; the
// portable Go kernel is always last. dispatch.go picks among them.
var kernels = append(archKernels(), &goKernel)
