//go:build !purego

package analyze

import "github.com/lorakit/lorakit/internal/cpu"

// haveMulAdd4x8: mulAdd4x8 may run (AVX2, with the OS saving YMM state).
var haveMulAdd4x8 = cpu.X86.HasAVX2

// mulAdd4x8 adds A·B to a 4×8 tile of C, term by term in increasing l
// (VMULPD then VADDPD). Needs AVX2.
//
//	a (4,k) element (i, l) at a[i·ras + l·las]; b (k,8) row stride ldb;
//	c (4,8) row stride ldc
//
//go:noescape
func mulAdd4x8(k int, a *float64, ras, las int, b *float64, ldb int, c *float64, ldc int)
