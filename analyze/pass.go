package analyze

import (
	"context"
	"math"
	"runtime"

	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"

	"github.com/lorakit/lorakit/internal/parallel"
)

// Products with a base weight stream it: each pass reads the stored
// matrix S (W, or Wᵀ where Weight.Transposed) once, in bands of rows in
// order, each band widened into a float64 panel on all cores and then
// multiplied on all cores. Memory is a panel (panelBytes, or a few rows
// per core), never W.
//
// Every element of a product is summed over its inner index in increasing
// order, one rounded multiply and one rounded add per term (mulAdd on
// sub-blocks): exactly as a single gonum Dgemm of the whole W sums it, so
// the results are bit for bit those of mat.Dense.Mul on W in memory,
// whatever the band size or the number of cores.

// panelBytes is the target size of a band's float64 panel (a variable so
// that tests can shrink it).
var panelBytes = 4 << 20

const (
	// tileRows and tileCols are the shape of mulAdd's assembly tiles:
	// bands and pieces of work are cut at multiples of tileRows, and
	// products padded to multiples of tileCols columns, so that only a
	// matrix's own edges run in Go.
	tileRows, tileCols = 4, 8
	// rowsPerWorker is the least number of stored rows of a band per core
	// (a multiple of tileRows).
	rowsPerWorker = 4
	// kBlock is the inner dimension of one mulAdd call of a row product:
	// its slice of x stays in cache.
	kBlock = 64
	// stripeCols is the most columns of S one mulAdd call of a column
	// product takes (without AVX2, below gonum's Dgemm threshold for
	// starting goroutines of its own: 4 blocks of 64).
	stripeCols = 192
)

// pass sweeps a Weight's stored rows, once per product, through one panel.
type pass struct {
	ctx        context.Context // checked between bands
	w          Weight
	rows, cols int // of S
	band       int // stored rows per band
	panel      []float64

	// first: the first sweep, which also checks that every element is
	// finite and accumulates ‖S‖_F (scale, sumsq as LAPACK's dlassq).
	first        bool
	scale, sumsq float64
}

func newPass(ctx context.Context, w Weight) *pass {
	rows, cols := storedDims(w)
	band := max(panelBytes/(8*max(cols, 1))/tileRows*tileRows, rowsPerWorker*runtime.GOMAXPROCS(0))
	band = min(band, rows)
	return &pass{ctx: ctx, w: w, rows: rows, cols: cols, band: band, panel: make([]float64, band*cols), sumsq: 1}
}

// sweep reads the stored rows band by band and calls fn(i0, i1, panel) on
// the calling goroutine for each. With p.first, reading checks that every
// element is finite, and the Frobenius norm is accumulated in row order.
func (p *pass) sweep(fn func(i0, i1 int, panel []float64)) error {
	for b0 := 0; b0 < p.rows; b0 += p.band {
		if err := p.ctx.Err(); err != nil {
			return err
		}
		b1 := min(p.rows, b0+p.band)
		panel := p.panel[:(b1-b0)*p.cols]
		err := parallel.RangeErr(b1-b0, 1, 1, func(lo, hi int) error {
			dst := panel[lo*p.cols : hi*p.cols]
			if err := p.w.ReadRows(dst, b0+lo, b0+hi); err != nil || !p.first {
				return err
			}
			return checkFiniteRows(dst, b0+lo, p.cols, p.w.Transposed())
		})
		if err != nil {
			return err
		}
		fn(b0, b1, panel)
		if p.first {
			for i := range b1 - b0 {
				p.scale, p.sumsq = lapackImpl.Dlassq(p.cols, panel[i*p.cols:], 1, p.scale, p.sumsq)
			}
		}
	}
	return nil
}

// frobenius is ‖S‖_F after a sweep with p.first set.
func (p *pass) frobenius() float64 { return p.scale * math.Sqrt(p.sumsq) }

// rowProduct returns S·x (rows×c) for x (cols×c), a sweep over S.
//
//	S (rows, cols), x (cols, c) -> (rows, c)
func (p *pass) rowProduct(x *mat.Dense) (*mat.Dense, error) {
	xr, c := operand(x)
	out := make([]float64, p.rows*xr.Cols)
	err := p.sweep(func(i0, i1 int, panel []float64) {
		parallel.Range(i1-i0, 1, tileRows, func(lo, hi int) {
			for k0 := 0; k0 < p.cols; k0 += kBlock {
				kk := min(kBlock, p.cols-k0)
				mulAdd(hi-lo, xr.Cols, kk, panel[lo*p.cols+k0:], p.cols, 1, xr.Data[k0*xr.Stride:], xr.Stride, out[(i0+lo)*xr.Cols:], xr.Cols)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	return result(p.rows, xr.Cols, c, out), nil
}

// colProduct returns Sᵀ·q (cols×c) for q (rows×c), a sweep over S that
// adds each band's share, band after band.
//
//	S (rows, cols), q (rows, c) -> (cols, c)
func (p *pass) colProduct(q *mat.Dense) (*mat.Dense, error) {
	qr, c := operand(q)
	out := make([]float64, p.cols*qr.Cols)
	err := p.sweep(func(i0, i1 int, panel []float64) {
		parallel.Range(p.cols, stripeCols, tileRows, func(lo, hi int) {
			for j0 := lo; j0 < hi; j0 += stripeCols {
				jj := min(stripeCols, hi-j0)
				mulAdd(jj, qr.Cols, i1-i0, panel[j0:], 1, p.cols, qr.Data[i0*qr.Stride:], qr.Stride, out[j0*qr.Cols:], qr.Cols)
			}
		})
	})
	if err != nil {
		return nil, err
	}
	return result(p.cols, qr.Cols, c, out), nil
}

// operand returns x (n×c) compact, with zero columns added up to a
// multiple of tileCols where mulAdd has its assembly tiles (columns of a
// product are independent, so padding changes no value; it keeps every
// column in the tiles), and c.
func operand(x *mat.Dense) (blas64.General, int) {
	raw := x.RawMatrix()
	cp := raw.Cols
	if haveMulAdd4x8 {
		cp = (raw.Cols + tileCols - 1) / tileCols * tileCols
	}
	if raw.Stride == cp && cp == raw.Cols {
		return raw, raw.Cols
	}
	out := blas64.General{Rows: raw.Rows, Cols: cp, Stride: cp, Data: make([]float64, raw.Rows*cp)}
	for i := range raw.Rows {
		copy(out.Data[i*cp:i*cp+raw.Cols], raw.Data[i*raw.Stride:i*raw.Stride+raw.Cols])
	}
	return out, raw.Cols
}

// result returns the first c of the cp columns of data (rows×cp) as a
// matrix.
func result(rows, cp, c int, data []float64) *mat.Dense {
	d := mat.NewDense(rows, cp, data)
	if cp == c {
		return d
	}
	return mat.DenseCopyOf(d.Slice(0, rows, 0, c))
}

// mulW returns W·x (out×c) for x (in×c): one sweep over W.
func (p *pass) mulW(x *mat.Dense) (*mat.Dense, error) {
	if p.w.Transposed() {
		return p.colProduct(x)
	}
	return p.rowProduct(x)
}

// mulWT returns Wᵀ·q (in×c) for q (out×c): one sweep over W.
func (p *pass) mulWT(q *mat.Dense) (*mat.Dense, error) {
	if p.w.Transposed() {
		return p.rowProduct(q)
	}
	return p.colProduct(q)
}
