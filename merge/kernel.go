package merge

import (
	"math"

	"github.com/lorakit/lorakit/internal/parallel"
)

// addLowRank adds s·L·R to w, all row-major float32:
//
//	w (rows, cols) += s · L (rows, rank) · R (rank, cols)
//
// Each row of L·R is accumulated in float32 over k = 0..rank-1 and then
// scaled and added, as llama.cpp's export-lora computes W + s·(B·A). Rows
// are split across all cores.
func addLowRank(w []float32, rows, cols int, l, r []float32, rank int, s float32) {
	parallel.Range(rows, max(1, 16384/max(1, cols*rank)), 1, func(lo, hi int) {
		d := make([]float32, cols)
		for i := lo; i < hi; i++ {
			li := l[i*rank : (i+1)*rank]
			r0 := r[:cols]
			for j := range d {
				d[j] = float32(li[0] * r0[j])
			}
			k := 1
			// Four terms per pass, summed left to right: the same order
			// (and so the same rounding) as one term per pass.
			for ; k+4 <= rank; k += 4 {
				a0, a1, a2, a3 := li[k], li[k+1], li[k+2], li[k+3]
				x0 := r[k*cols:][:len(d)]
				x1 := r[(k+1)*cols:][:len(d)]
				x2 := r[(k+2)*cols:][:len(d)]
				x3 := r[(k+3)*cols:][:len(d)]
				for j := range d {
					d[j] = d[j] + float32(a0*x0[j]) + float32(a1*x1[j]) + float32(a2*x2[j]) + float32(a3*x3[j])
				}
			}
			for ; k < rank; k++ {
				axpy(d, li[k], r[k*cols:(k+1)*cols])
			}
			axpy(w[i*cols:(i+1)*cols], s, d)
		}
	})
}

// rowNorms returns the Euclidean norm of each row (transposed false) or
// each column (transposed true) of w (rows, cols), accumulated in float64.
func rowNorms(w []float32, rows, cols int, transposed bool) []float64 {
	if !transposed {
		out := make([]float64, rows)
		parallel.Range(rows, 64, 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				var s float64
				for _, v := range w[i*cols : (i+1)*cols] {
					s += float64(v) * float64(v)
				}
				out[i] = math.Sqrt(s)
			}
		})
		return out
	}
	out := make([]float64, cols)
	for i := range rows {
		for j, v := range w[i*cols : (i+1)*cols] {
			out[j] += float64(v) * float64(v)
		}
	}
	for j := range out {
		out[j] = math.Sqrt(out[j])
	}
	return out
}

// doraRescale applies DoRA's merge to v = W+ΔW (rows, cols): each output
// feature o (a row, or a column when transposed) is multiplied by
// m[o] / ‖v_o‖, as PEFT's DoraLinearVariant.merge does with the norm of the
// merged weight.
func doraRescale(v []float32, rows, cols int, transposed bool, m []float32) {
	norms := rowNorms(v, rows, cols, transposed)
	f := make([]float32, len(norms))
	for o, n := range norms {
		f[o] = float32(float64(m[o]) / n)
	}
	parallel.Range(rows, 64, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			row := v[i*cols : (i+1)*cols]
			if transposed {
				for j := range row {
					row[j] *= f[j]
				}
			} else {
				scaleInto(row, f[i])
			}
		}
	})
}

// scaleInto multiplies d by a in place.
func scaleInto(d []float32, a float32) {
	for j := range d {
		d[j] *= a
	}
}

// axpy computes y += a·x (len(x) >= len(y)). The product is rounded before
// the sum (no fused multiply-add), as on x86-64 without FMA.
func axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	for j := range y {
		y[j] += float32(a * x[j])
	}
}

// DoRAMerge applies DoRA's merge to v = W+ΔW (rows, cols), in place: each
// row o is rescaled to the magnitude m[o], v_o·m[o]/‖v_o‖ (package check
// measures merged DoRA updates with it).
func DoRAMerge(v []float32, rows, cols int, m []float32) {
	doraRescale(v, rows, cols, false, m)
}
