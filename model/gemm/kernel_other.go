//go:build !amd64 || purego

package gemm

// archKernels: no assembly kernels outside amd64, or with -tags purego.
func archKernels() []*kernel { return nil }
