package analyze

import (
	"fmt"

	"github.com/lorakit/lorakit/format"
	"gonum.org/v1/gonum/mat"
)

// PhiGrid returns the subspace similarity of the paper's Section 7.2 for
// every pair of leading column blocks of u1 (n×k₁) and u2 (n×k₂), both with
// orthonormal columns sorted by singular value:
//
//	grid[i-1][j-1] = φ(i, j) = ‖U1[:, :i]ᵀ U2[:, :j]‖_F² / min(i, j)
//
// φ is 1 when one subspace contains the other and 0 when they are
// orthogonal. All k₁×k₂ values come from one product M = U1ᵀU2 and a 2-D
// prefix sum of M², in O(n·k₁·k₂). Rounding is clamped into [0, 1].
func PhiGrid(u1, u2 mat.Matrix) ([][]float64, error) {
	n1, _ := u1.Dims()
	n2, _ := u2.Dims()
	if n1 != n2 {
		return nil, fmt.Errorf("analyze: φ: vectors of length %d and %d: %w", n1, n2, format.ErrShape)
	}
	var m mat.Dense
	m.Mul(u1.T(), u2) // (k1, k2)
	return phiFromCross(&m), nil
}

// phiFromCross returns the φ grid from M = U1ᵀU2 (k₁×k₂).
func phiFromCross(m *mat.Dense) [][]float64 {
	k1, k2 := m.Dims()
	grid := make([][]float64, k1)
	prev := make([]float64, k2) // prefix sums of the rows above
	for i := range k1 {
		grid[i] = make([]float64, k2)
		var rowSum float64
		for j := range k2 {
			v := m.At(i, j)
			rowSum += v * v
			prev[j] += rowSum
			grid[i][j] = clamp01(prev[j] / float64(min(i, j)+1))
		}
	}
	return grid
}

// MeanDiagonal is the mean of φ(i, i) for i = 1..k (k is cut to the grid).
func MeanDiagonal(grid [][]float64, k int) float64 {
	k = min(k, len(grid))
	if k <= 0 || len(grid[0]) == 0 {
		return 0
	}
	k = min(k, len(grid[0]))
	var s float64
	for i := range k {
		s += grid[i][i]
	}
	return s / float64(k)
}

// ExpectedRandomPhi is E[φ(i, j)] between two independent uniformly random
// subspaces of ℝⁿ of dimensions i and j: E‖PᵀQ‖_F² = i·j/n, so
// φ = max(i, j)/n — j/n for i ≤ j, the paper's Gaussian control.
func ExpectedRandomPhi(i, j, n int) float64 {
	return float64(max(i, j)) / float64(n)
}

func clamp01(x float64) float64 {
	return min(max(x, 0), 1)
}
