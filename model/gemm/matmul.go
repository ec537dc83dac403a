package gemm

// MatMulNT computes out (m,n) = x (m,k) · w (n,k)ᵀ, the forward product of
// a linear layer whose weight w is stored (out features, in features) as in
// PyTorch. With accumulate, the product is added to out instead.
func MatMulNT(out, x, w []float32, m, n, k int, accumulate bool) {
	Sgemm(false, true, m, n, k, 1, x, k, w, k, beta(accumulate), out, n)
}

// MatMulNN computes out (m,n) = x (m,k) · w (k,n), e.g. the input gradient
// dx (BT,C) = dy (BT,OC) · w (OC,C) of a linear layer. With accumulate, the
// product is added to out instead.
func MatMulNN(out, x, w []float32, m, n, k int, accumulate bool) {
	Sgemm(false, false, m, n, k, 1, x, k, w, n, beta(accumulate), out, n)
}

// MatMulTN computes out (m,n) = x (k,m)ᵀ · y (k,n), e.g. the weight
// gradient dw (OC,C) = dy (BT,OC)ᵀ · x (BT,C) of a linear layer. With
// accumulate, the product is added to out instead.
func MatMulTN(out, x, y []float32, m, n, k int, accumulate bool) {
	Sgemm(true, false, m, n, k, 1, x, m, y, n, beta(accumulate), out, n)
}

func beta(accumulate bool) float32 {
	if accumulate {
		return 1
	}
	return 0
}
