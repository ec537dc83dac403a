package gemm

// skinny handles products with a small inner or output dimension; it
// reports false when the blocked path should run instead.
func (p *problem) skinny() bool { return false }
