//go:build !purego

package model

import "github.com/lorakit/lorakit/model/gemm"

// haveVec reports whether the AVX2/FMA loops of vec_amd64.s can run: the
// same CPU and OS checks that give gemm an assembly micro-kernel (its
// AVX-512 kernel implies AVX2 too).
var haveVec = gemm.KernelName() != "go"

// expSubAVX2: z (n), n a multiple of 8 -> z = exp(max(z−m, −87)); returns Σ z.
//
//go:noescape
func expSubAVX2(z []float32, m float32) float32

// maxAVX2: z (n), n a positive multiple of 8 -> max z.
//
//go:noescape
func maxAVX2(z []float32) float32

// axpbAVX2: z (n), n a multiple of 8 -> z = z·a + b.
//
//go:noescape
func axpbAVX2(z []float32, a, b float32)

// geluAVX2: x (n), n a multiple of 8 -> out (n) = gelu(x).
//
//go:noescape
func geluAVX2(out, x []float32)

// geluGradAVX2: dout (n), x (n), n a multiple of 8 -> dx (n) = dout·gelu'(x).
//
//go:noescape
func geluGradAVX2(dx, dout, x []float32)

// dotAVX2: a (n), b (n), n a multiple of 32 -> Σ a·b.
//
//go:noescape
func dotAVX2(a, b []float32) float32
