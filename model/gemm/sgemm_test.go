package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// unitRoundoff is float32's unit roundoff, 2^-24.
const unitRoundoff = 1.0 / (1 << 24)

// extraRoundings covers the roundings beyond the k of the dot product:
// alpha folded into A, the beta·C multiply and the final add.
const extraRoundings = 4

// errBound is the worst-case error of a float32 dot product of length k
// (Higham's γ_k bound, (k+extra)·u·Σ|a||b|): any summation order, blocked
// or fused, stays inside it, so a larger error is a real bug.
func errBound(k int, absSum float64) float64 {
	return float64(k+extraRoundings) * unitRoundoff * absSum
}

// pad fills stored-matrix padding so that reading it poisons results.
var pad = float32(math.NaN())

// matrix returns a (rows,cols) matrix with stride ld, padding set to pad.
func matrix(rng *rand.Rand, rows, cols, ld int) []float32 {
	s := make([]float32, max(rows*ld, 1))
	for i := range s {
		s[i] = pad
	}
	for i := range rows {
		for j := range cols {
			s[i*ld+j] = float32(rng.NormFloat64())
		}
	}
	return s
}

// reference computes alpha·op(A)·op(B) + beta·C in float64 and, per
// element, |alpha|·Σ|a||b| + |beta·c| for the error bound.
func reference(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (want, abs []float64) {
	want = make([]float64, m*n)
	abs = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, sa float64
			for p := range k {
				ai, bi := i*lda+p, p*ldb+j
				if transA {
					ai = p*lda + i
				}
				if transB {
					bi = j*ldb + p
				}
				av, bv := a[ai], b[bi]
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			s *= float64(alpha)
			sa *= math.Abs(float64(alpha))
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
				sa += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			want[i*n+j], abs[i*n+j] = s, sa
		}
	}
	return want, abs
}

type shape struct{ m, n, k int }

// testShapes: degenerate, tile-edge, multi-block (k > KC, n > NC) and
// parallel (m·n·k >= minParallelMACs) sizes.
var testShapes = []shape{
	{1, 1, 1}, {0, 5, 3}, {4, 0, 3}, {3, 5, 0}, {1, 7, 1}, {2, 3, 4},
	{12, 32, 8}, {6, 16, 9}, {13, 33, 7}, {11, 31, 5}, {25, 65, 17},
	{1, 100, 3}, {100, 1, 50}, {5, 3, 300}, {37, 29, 513},
	{24, 2000, 20}, {300, 200, 100}, {50, 8, 70}, {7, 5, 129}, {3, 4, 64}, {130, 33, 200}, {512, 8, 768}, {2100, 6, 400}, {4500, 2, 3}, {129, 777, 65}, {64, 1600, 48},
}

// alphaBetas cycles through the interesting scalings: plain product,
// accumulate, general scalings, alpha 0.
var alphaBetas = [][2]float32{{1, 0}, {1, 1}, {-0.75, 0.5}, {2, -1}, {0, 0.5}, {0.5, 0}}

func TestSgemmKernels(t *testing.T) {
	for _, kern := range kernels {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for si, sh := range testShapes {
				for combo := range 4 {
					transA, transB := combo&1 != 0, combo&2 != 0
					ab := alphaBetas[(si+combo)%len(alphaBetas)]
					name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/alpha=%v/beta=%v", sh.m, sh.n, sh.k, transA, transB, ab[0], ab[1])
					t.Run(name, func(t *testing.T) {
						checkSgemm(t, rng, kern, transA, transB, sh, ab[0], ab[1], (si+combo)%3)
					})
				}
			}
		})
	}
}

// checkSgemm runs one product with leading dimensions padded by extra and
// compares it with the float64 reference.
func checkSgemm(t *testing.T, rng *rand.Rand, kern *kernel, transA, transB bool, sh shape, alpha, beta float32, extra int) {
	t.Helper()
	m, n, k := sh.m, sh.n, sh.k
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	lda, ldb, ldc := max(ac, 1)+extra, max(bc, 1)+2*extra, max(n, 1)+extra
	a := matrix(rng, ar, ac, lda)
	b := matrix(rng, br, bc, ldb)
	c := matrix(rng, m, n, ldc)
	if beta == 0 { // C must not be read: NaN there must not propagate
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	want, abs := reference(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	sgemm(kern, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	bad := 0
	for i := range m {
		for j := range n {
			got := float64(c[i*ldc+j])
			w := want[i*n+j]
			if math.Abs(got-w) > errBound(k, abs[i*n+j]) || math.IsNaN(got) {
				if bad++; bad <= 3 {
					t.Errorf("Sgemm C[%d,%d] = %v, want %v (bound %.3g)", i, j, got, w, errBound(k, abs[i*n+j]))
				}
			}
		}
		for j := n; j < ldc && i*ldc+j < len(c) && m > 0; j++ {
			if v := c[i*ldc+j]; !math.IsNaN(float64(v)) {
				t.Fatalf("Sgemm wrote C padding [%d,%d] = %v", i, j, v)
			}
		}
	}
	if bad > 3 {
		t.Errorf("... %d wrong elements in all", bad)
	}
}

func TestMatMulWrappers(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const m, n, k = 37, 45, 29
	tests := []struct {
		name           string
		transA, transB bool
		f              func(out, x, w []float32, m, n, k int, acc bool)
	}{
		{"MatMulNT", false, true, MatMulNT},
		{"MatMulNN", false, false, MatMulNN},
		{"MatMulTN", true, false, MatMulTN},
	}
	for _, tt := range tests {
		for _, acc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/accumulate=%v", tt.name, acc), func(t *testing.T) {
				lda, ldb := k, n
				if tt.transA {
					lda = m
				}
				if tt.transB {
					ldb = k
				}
				x := matrix(rng, m*k/lda, lda, lda)
				w := matrix(rng, k*n/ldb, ldb, ldb)
				out := matrix(rng, m, n, n)
				want, abs := reference(tt.transA, tt.transB, m, n, k, 1, x, lda, w, ldb, beta(acc), out, n)
				tt.f(out, x, w, m, n, k, acc)
				for i, g := range out {
					if math.Abs(float64(g)-want[i]) > errBound(k, abs[i]) {
						t.Fatalf("%s out[%d] = %v, want %v", tt.name, i, g, want[i])
					}
				}
			})
		}
	}
}

func TestSgemmPanics(t *testing.T) {
	buf := make([]float32, 100)
	tests := []struct {
		name string
		call func()
		msg  string
	}{
		{"negative m", func() { Sgemm(false, false, -1, 2, 2, 1, buf, 2, buf, 2, 0, buf, 2) }, "negative size"},
		{"small lda", func() { Sgemm(false, false, 2, 2, 3, 1, buf, 2, buf, 2, 0, buf, 2) }, "A stored (2,3) needs leading dimension >= 3"},
		{"small ldb transposed", func() { Sgemm(false, true, 2, 4, 3, 1, buf, 3, buf, 2, 0, buf, 4) }, "B stored (4,3) needs leading dimension >= 3"},
		{"short C", func() { Sgemm(false, false, 10, 10, 1, 1, buf, 1, buf, 10, 0, buf[:50], 10) }, "C stored (10,10) with stride 10 needs 100 elements, slice has 50"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.Contains(msg, tt.msg) {
					t.Errorf("Sgemm panic = %v, want message containing %q", r, tt.msg)
				}
			}()
			tt.call()
		})
	}
}

func TestKernelName(t *testing.T) {
	if last := kernels[len(kernels)-1]; last != &goKernel {
		t.Errorf("last kernel = %q, want the portable go kernel", last.name)
	}
	rates := KernelRates()
	arch := kernels[:len(kernels)-1]
	want := kernels[0].name
	if len(arch) >= 2 {
		rs := make([]float64, len(arch))
		for i, k := range arch {
			if rs[i] = rates[k.name]; rs[i] <= 0 {
				t.Fatalf("KernelRates()[%q] = %v, want a measured rate", k.name, rs[i])
			}
		}
		want = arch[fastest(rs)].name
	}
	if got := KernelName(); got != want {
		t.Errorf("KernelName() = %q, want %q (rates %v)", got, want, rates)
	}
	t.Logf("kernels on this CPU: %d, active %s, probe GFLOP/s %v", len(kernels), KernelName(), rates)
}

func TestFastest(t *testing.T) {
	for _, c := range []struct {
		rates []float64
		want  int
	}{
		{[]float64{100}, 0},
		{[]float64{190, 120}, 0}, // full-width AVX-512 (this Intel Xeon)
		{[]float64{113, 113}, 0}, // Zen 4: one ceiling, the wider tile stays
		{[]float64{110, 114}, 0}, // within tieMargin
		{[]float64{60, 113}, 1},  // AVX-512 at half rate or downclocked
		{[]float64{50, 100, 120}, 2},
	} {
		if got := fastest(c.rates); got != c.want {
			t.Errorf("fastest(%v) = %d, want %d", c.rates, got, c.want)
		}
	}
}

// TestSgemmPackedA covers A stored (m,k) with a row stride of 1024 floats,
// which aInPlace packs rather than reads in place.
func TestSgemmPackedA(t *testing.T) {
	if aInPlace(operand{ld: 1024}, 12) {
		t.Fatalf("aInPlace(ld 1024) = true, want false")
	}
	for _, kern := range kernels {
		t.Run(kern.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 10))
			checkSgemm(t, rng, kern, false, false, shape{30, 40, 1024}, 1.5, 0.5, 0)
		})
	}
}

func TestAInPlace(t *testing.T) {
	tests := []struct {
		ld    int
		trans bool
		want  bool
	}{
		{768, false, true},   // 3 KiB rows: 4 sets, 3 rows each
		{1000, false, true},  // odd stride: every row its own set
		{1024, false, false}, // 4 KiB rows: all in one set
		{512, false, false},  // 2 KiB rows: 6 rows per set
		{3072, false, false}, // 12 KiB rows: one set
		{1024, true, true},   // stored (k,m): one stream
	}
	for _, tt := range tests {
		if got := aInPlace(operand{ld: tt.ld, trans: tt.trans}, 12); got != tt.want {
			t.Errorf("aInPlace(ld %d, trans %v) = %v, want %v", tt.ld, tt.trans, got, tt.want)
		}
	}
}
