//go:build !amd64

package gemm

// archKernels: no assembly kernels outside amd64.
func archKernels() []*kernel { return nil }
