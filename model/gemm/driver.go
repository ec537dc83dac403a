package gemm

import (
	"runtime"
	"sync"

	"github.com/lorakit/lorakit/internal/parallel"
)

// minParallelMACs is the size (m·n·k multiply-adds) below which a product
// runs on the calling goroutine: about 50 µs of one core's work, where
// starting goroutines and packing shared panels stops paying for itself.
const minParallelMACs = 1 << 22

// workers is how many goroutines share a product of this size.
func (p *problem) workers() int {
	if int64(p.m)*int64(p.n)*int64(p.k) < minParallelMACs {
		return 1
	}
	return runtime.GOMAXPROCS(0)
}

// solve picks the path for p: dot products for narrow NT products, the
// transposed product for other narrow ones, else the blocked loop nest.
func (p *problem) solve() {
	if p.useDot() {
		p.dotNT()
		return
	}
	if p.skinny() {
		return
	}
	p.blocked(p.workers())
}

// directBRows is the most MR panels of A for which op(B), when stored
// (k,n), is read in place instead of packed: with few rows of A each B
// panel is used too few times to repay copying it.
const directBRows = 4

// readAInPlace makes the kernels read op(A) where it is stored, through
// its row and column strides, instead of packing it: only a partial last
// panel of MR rows is copied. See aInPlace for the exception.
var readAInPlace = true

// aInPlace reports whether A can be read in place. A stored (k,m) always
// can: each k step reads MR consecutive floats. A stored (m,k) is read as
// MR streams, one per row; when its row stride maps them into the same
// few sets of a 4 KiB-periodic L1 cache (strides of 1024 floats, say),
// they evict each other and the block is packed instead.
func aInPlace(a operand, mr int) bool {
	if !readAInPlace {
		return false
	}
	if a.trans {
		return true
	}
	const l1Period = 4096 // bytes after which L1 set indices repeat
	stride := a.ld * 4 % l1Period
	if stride == 0 {
		return false
	}
	sets := l1Period / gcd(stride, l1Period) // distinct sets the rows use
	return ceilDiv(mr, sets) <= 4
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// blocked runs the packed GotoBLAS loop nest:
//
//	for each NC-wide column block jc of C
//	  for each KC-deep slice pc of the inner dimension
//	    pack op(B)[pc, jc] into NR-wide panels (shared, in parallel)
//	    for each (MC-row block, column chunk) work item, in parallel:
//	      pack op(A)[ic, pc] into MR-high panels (per worker)
//	      for each MR panel ir, for each NR panel jr: micro-kernel
func (p *problem) blocked(workers int) {
	kn := p.kern
	mr, nr := kn.mr, kn.nr
	kc := ceilDiv(p.k, ceilDiv(p.k, kn.kc)) // equal slices of at most kn.kc
	nc := roundUp(ceilDiv(p.n, ceilDiv(p.n, kn.nc)), nr)
	direct := !p.b.trans && p.m <= directBRows*mr
	directA := aInPlace(p.a, mr)

	// Rows of A per work item: MC, or less so every worker has two items.
	mc := kn.mc
	if ceilDiv(p.m, mc) < 2*workers {
		mc = max(mr, roundUp(ceilDiv(p.m, 2*workers), mr))
	}
	mblocks := ceilDiv(p.m, mc)

	bbuf := getBuf(nc * kc)
	defer putBuf(bbuf)
	ws := make([]workerState, workers)
	for w := range ws {
		ws[w].a = getBuf(mc * kc)
		ws[w].tile = getBuf(mr * nr)
		defer putBuf(ws[w].a)
		defer putBuf(ws[w].tile)
	}

	for jc := 0; jc < p.n; jc += nc {
		ncur := min(nc, p.n-jc)
		npanels := ceilDiv(ncur, nr)
		// Split columns too when there are too few row blocks to share.
		nchunks := 1
		if mblocks < 2*workers {
			nchunks = min(npanels, ceilDiv(2*workers, mblocks))
		}
		chunk := ceilDiv(npanels, nchunks) * nr
		nchunks = ceilDiv(ncur, chunk)

		for pc := 0; pc < p.k; pc += kc {
			bl := bBlock{packed: (*bbuf)[:npanels*nr*kc], kc: kc}
			if direct {
				bl.direct = p.b.data[pc*p.b.ld+jc:]
				bl.ld = p.b.ld
				bl.full = ncur / nr * nr
			}
			kcur := min(kc, p.k-pc)
			beta := p.beta
			if pc > 0 {
				beta = 1
			}
			first := bl.full / nr // panels read in place need no packing
			parallel.Dynamic(workers, npanels-first, func(_, q int) {
				q += first
				packBPanel(bl.packed[q*nr*kc:(q+1)*nr*kc], p.b, pc, kcur, jc+q*nr, min(nr, ncur-q*nr), nr)
			})
			for w := range ws {
				ws[w].packed = -1
			}
			parallel.Dynamic(workers, mblocks*nchunks, func(w, item int) {
				st := &ws[w]
				blk, ch := item/nchunks, item%nchunks
				ic := blk * mc
				mcur := min(mc, p.m-ic)
				al := aBlock{packed: *st.a, kc: kcur, mr: mr}
				if directA {
					al.full = mcur / mr * mr
					if p.a.trans { // stored (k,m)
						al.direct, al.rs, al.cs = p.a.data[pc*p.a.ld+ic:], 1, p.a.ld
					} else { // stored (m,k)
						al.direct, al.rs, al.cs = p.a.data[ic*p.a.ld+pc:], p.a.ld, 1
					}
				}
				if st.packed != blk && al.full < mcur {
					packA(al.packed, p.a, ic+al.full, mcur-al.full, pc, kcur, mr)
					st.packed = blk
				}
				j0 := ch * chunk
				p.macro(&al, &bl, *st.tile, ic, mcur, jc, j0, min(chunk, ncur-j0), kcur, beta)
			})
		}
	}
}

// aBlock is one MC-high, KC-deep block of op(A) as the kernels read it:
// its first full MR-row panels in place, the rest packed.
type aBlock struct {
	packed []float32 // panels of the rows from full on, each (MR,kc)
	kc, mr int
	direct []float32 // stored A from the block's first element, or nil
	rs, cs int       // strides of direct between rows and along k
	full   int       // rows read from direct
}

// panel returns the A panel holding row ir of the block and its strides.
func (al *aBlock) panel(ir int) (*float32, int, int) {
	if ir < al.full {
		return &al.direct[ir*al.rs], al.rs, al.cs
	}
	return &al.packed[(ir-al.full)*al.kc], 1, al.mr
}

// bBlock is one KC-deep, NC-wide block of op(B) as the kernels read it:
// packed panels, or, for its first full columns, the stored rows in place.
type bBlock struct {
	packed []float32 // panel q at q·NR·kc
	kc     int       // panel depth the packing used
	direct []float32 // stored B from the block's first element, or nil
	ld     int       // row stride of direct
	full   int       // columns read from direct
}

// panel returns the B panel holding column jr of the block and its row stride.
func (bl *bBlock) panel(jr, nr int) (*float32, int) {
	if jr < bl.full {
		return &bl.direct[jr], bl.ld
	}
	return &bl.packed[jr*bl.kc], nr
}

// workerState is one goroutine's packing buffer for A and scratch tile.
type workerState struct {
	a, tile *[]float32
	packed  int // row block held in a, or -1
}

// macro multiplies the A block (mcur rows) by the columns
// [j0,j0+cols) of the B block, into C rows ic.. and columns jc+j0..
// Each MR-high A micro-panel stays in L1 while the NR-wide B panels of
// the chunk stream past it from L2.
func (p *problem) macro(al *aBlock, bl *bBlock, tile []float32, ic, mcur, jc, j0, cols, kc int, beta float32) {
	kn := p.kern
	mr, nr := kn.mr, kn.nr
	for ir := 0; ir < mcur; ir += mr {
		rows := min(mr, mcur-ir)
		ap, ars, acs := al.panel(ir)
		for jr := j0; jr < j0+cols; jr += nr {
			ncols := min(nr, j0+cols-jr)
			bp, bs := bl.panel(jr, nr)
			ci := (ic+ir)*p.ldc + jc + jr
			if ncols == nr || kn.maskedCols {
				kn.fn(kc, ap, ars, acs, bp, bs, &p.c[ci], p.ldc, p.alpha, beta, rows, ncols)
				continue
			}
			kn.fn(kc, ap, ars, acs, bp, bs, &tile[0], nr, p.alpha, 0, rows, nr)
			addTile(p.c[ci:], p.ldc, tile, nr, rows, ncols, beta)
		}
	}
}

// addTile stores C (rows,cols) = t + beta·C, t with row stride ldt.
func addTile(c []float32, ldc int, t []float32, ldt, rows, cols int, beta float32) {
	for i := range rows {
		crow := c[i*ldc : i*ldc+cols]
		trow := t[i*ldt : i*ldt+cols]
		for j, v := range trow {
			if beta == 0 {
				crow[j] = v
			} else {
				crow[j] = v + beta*crow[j]
			}
		}
	}
}

// bufPool recycles packing buffers between calls.
var bufPool sync.Pool

// getBuf returns a buffer of n floats starting on a 64-byte boundary, so
// the kernels' vector loads never straddle cache lines.
func getBuf(n int) *[]float32 {
	if v, ok := bufPool.Get().(*[]float32); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	raw := make([]float32, n+16)
	off := 0
	for uintptrOf(raw[off:])%64 != 0 {
		off++
	}
	s := raw[off : off+n : off+n]
	return &s
}

func putBuf(b *[]float32) { bufPool.Put(b) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func roundUp(a, b int) int { return ceilDiv(a, b) * b }
