package gemm_test

import (
	"fmt"

	"github.com/lorakit/lorakit/model/gemm"
)

// A 2x3 times 3x2 product, with B read transposed from a (2,3) array.
func ExampleSgemm() {
	a := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	bt := []float32{ // B stored (n,k) = (2,3); op(B) = btᵀ is (3,2)
		1, 0, 1,
		0, 1, 0,
	}
	c := []float32{100, 100, 100, 100}
	// C = 1·A·btᵀ + 0.5·C
	gemm.Sgemm(false, true, 2, 2, 3, 1, a, 3, bt, 3, 0.5, c, 2)
	fmt.Println(c)
	// Output: [54 52 60 55]
}

// The forward product of a linear layer: 2 tokens of width 3 through a
// weight stored (out features 2, in features 3).
func ExampleMatMulNT() {
	x := []float32{1, 2, 3, 1, 1, 1}
	w := []float32{1, 1, 1, 0, 0, 2}
	out := make([]float32, 4)
	gemm.MatMulNT(out, x, w, 2, 2, 3, false)
	fmt.Println(out)
	// Output: [6 6 3 2]
}

// The input gradient of that layer: dx (2,3) = dy (2,2) · w (2,3).
func ExampleMatMulNN() {
	dy := []float32{1, 0, 0, 1}
	w := []float32{1, 1, 1, 0, 0, 2}
	dx := make([]float32, 6)
	gemm.MatMulNN(dx, dy, w, 2, 3, 2, false)
	fmt.Println(dx)
	// Output: [1 1 1 0 0 2]
}

// The weight gradient, accumulated over two calls: dw (2,3) += dy (2,2)ᵀ · x (2,3).
func ExampleMatMulTN() {
	dy := []float32{1, 0, 0, 1}
	x := []float32{1, 2, 3, 4, 5, 6}
	dw := make([]float32, 6)
	gemm.MatMulTN(dw, dy, x, 2, 3, 2, true)
	gemm.MatMulTN(dw, dy, x, 2, 3, 2, true)
	fmt.Println(dw)
	// Output: [2 4 6 8 10 12]
}

func ExampleKernelName() {
	name := gemm.KernelName()
	fmt.Println(name == "avx512" || name == "avx2" || name == "go")
	// Output: true
}
