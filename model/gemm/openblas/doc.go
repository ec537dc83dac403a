// Package openblas exposes OpenBLAS's cblas_sgemm with the signature of
// gemm.Sgemm, for side-by-side benchmarks only. It is built only with
// -tags openblas and cgo (Debian: apt-get install libopenblas-dev); in
// other builds the package is empty.
//
//	go test -tags openblas -bench . ./model/gemm/
package openblas
