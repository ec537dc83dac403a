package analyze

import (
	"context"
	"errors"
	"math"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// transposedWeight stores W (out×in) as its transpose, as a GPT-2 Conv1D
// base does.
type transposedWeight struct{ s *mat.Dense } // (in, out)

func (t transposedWeight) Dims() (int, int) { r, c := t.s.Dims(); return c, r }
func (t transposedWeight) Transposed() bool { return true }
func (t transposedWeight) ReadRows(dst []float64, i0, i1 int) error {
	return DenseWeight(t.s).ReadRows(dst, i0, i1)
}

// frobeniusOrderTol: ‖W‖_F of a weight stored transposed sums the squares
// in another order than gonum's Dlange over W's rows; the two differ by
// rounding: 1.4e-16 relative here, 5.4e-16 on GPT-2's Conv1D weights.
const frobeniusOrderTol = 2e-15

// TestPassProductsMatchGonum: a streamed pass gives W·x, Wᵀ·q and ‖W‖_F
// bit for bit as gonum's Dgemm and Dlange do on W in memory, whatever the
// band size, the number of cores, the stored orientation and the kernel
// (assembly tiles where the CPU has AVX2, gonum's Dgemm).
func TestPassProductsMatchGonum(t *testing.T) {
	defer func(b int) { panelBytes = b }(panelBytes)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rng := newRNG(50)
	const out, in, c = 301, 517, 9 // odd sizes: partial bands, stripes and k-blocks
	w := randn(rng, out, in)
	w.Set(5, 7, 0) // a zero element, which gonum's kernels skip
	x, q := randn(rng, in, c), randn(rng, out, c)
	var wantY, wantZ mat.Dense
	wantY.Mul(w, x)
	wantZ.Mul(w.T(), q)
	wantF := mat.Norm(w, 2)
	weights := []struct {
		name string
		w    Weight
	}{
		{"stored (out, in)", DenseWeight(w)},
		{"stored (in, out)", transposedWeight{mat.DenseCopyOf(w.T())}},
	}
	defer func(h bool) { haveMulAdd4x8 = h }(haveMulAdd4x8)
	kernels := []bool{false} // gonum's Dgemm
	if haveMulAdd4x8 {
		kernels = append(kernels, true) // the assembly tiles
	}
	for _, wt := range weights {
		for _, band := range []int{1, 24, 512, out} { // stored rows per band (at least 4 a core)
			for i, procs := range []int{1, 3} {
				haveMulAdd4x8 = kernels[i%len(kernels)]
				panelBytes = band * 8 * in
				runtime.GOMAXPROCS(procs)
				p := newPass(context.Background(), wt.w)
				p.first = true
				y, err := p.mulW(x)
				if err != nil {
					t.Fatal(err)
				}
				p.first = false
				z, err := p.mulWT(q)
				if err != nil {
					t.Fatal(err)
				}
				if !mat.Equal(y, &wantY) || !mat.Equal(z, &wantZ) {
					t.Errorf("%s, band %d rows, %d procs, assembly %v: W·x equal %v, Wᵀ·q equal %v; want both bit for bit gonum's",
						wt.name, p.band, procs, haveMulAdd4x8, mat.Equal(y, &wantY), mat.Equal(z, &wantZ))
				}
				got := p.frobenius()
				if tol := frobeniusOrderTol * wantF; got != wantF && (!wt.w.Transposed() || math.Abs(got-wantF) > tol) {
					t.Errorf("%s, band %d rows: ‖W‖_F = %.17g, gonum %.17g", wt.name, p.band, got, wantF)
				}
			}
		}
	}
}

// TestPassStopsWhenCancelled: a sweep checks its context between bands.
func TestPassStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rng := newRNG(51)
	w := randn(rng, 40, 30)
	if _, err := newPass(ctx, DenseWeight(w)).mulW(randn(rng, 30, 2)); !errors.Is(err, context.Canceled) {
		t.Errorf("mulW(cancelled) error = %v, want context.Canceled", err)
	}
}
