//go:build !purego

#include "textflag.h"

// Constants of expf (exp.go), one float32 each.
DATA expc<>+0(SB)/4, $0x3fb8aa3b  // log2 e
DATA expc<>+4(SB)/4, $0x3f318000  // ln2 high part 0.693359375
DATA expc<>+8(SB)/4, $0xb95e8083  // ln2 low part -2.12194440e-4
DATA expc<>+12(SB)/4, $0xc2ae0000 // -87
DATA expc<>+16(SB)/4, $0x3ab60b61 // 1/720
DATA expc<>+20(SB)/4, $0x3c088889 // 1/120
DATA expc<>+24(SB)/4, $0x3d2aaaab // 1/24
DATA expc<>+28(SB)/4, $0x3e2aaaab // 1/6
DATA expc<>+32(SB)/4, $0x3f000000 // 1/2
DATA expc<>+36(SB)/4, $0x3f800000 // 1
DATA expc<>+40(SB)/4, $0x0000007f // exponent bias 127
GLOBL expc<>(SB), RODATA|NOPTR, $44

// func expSubAVX2(z []float32, m float32) float32
// z[i] = exp(max(z[i]-m, -87)) for len(z) a multiple of 8; returns the sum.
TEXT ·expSubAVX2(SB), NOSPLIT, $0-36
	MOVQ         z_base+0(FP), SI
	MOVQ         z_len+8(FP), CX
	VBROADCASTSS m+24(FP), Y15
	VBROADCASTSS expc<>+0(SB), Y14
	VBROADCASTSS expc<>+4(SB), Y13
	VBROADCASTSS expc<>+8(SB), Y12
	VBROADCASTSS expc<>+12(SB), Y11
	VBROADCASTSS expc<>+16(SB), Y10
	VBROADCASTSS expc<>+20(SB), Y9
	VBROADCASTSS expc<>+24(SB), Y8
	VBROADCASTSS expc<>+28(SB), Y7
	VBROADCASTSS expc<>+32(SB), Y6
	VBROADCASTSS expc<>+36(SB), Y5
	VPBROADCASTD expc<>+40(SB), Y4
	VXORPS       Y3, Y3, Y3

expLoop:
	CMPQ         CX, $8
	JL           expDone
	VMOVUPS      (SI), Y0
	VSUBPS       Y15, Y0, Y0  // x = z - m
	VMAXPS       Y11, Y0, Y0  // x >= -87
	VMULPS       Y14, Y0, Y1  // x·log2e
	VROUNDPS     $0, Y1, Y1   // n, rounded to nearest
	VCVTPS2DQ    Y1, Y2       // n as int32
	VFNMADD231PS Y13, Y1, Y0  // r = x - n·ln2hi
	VFNMADD231PS Y12, Y1, Y0  //     - n·ln2lo
	VMOVAPS      Y10, Y1      // p = 1/720
	VFMADD213PS  Y9, Y0, Y1   // p = p·r + 1/120
	VFMADD213PS  Y8, Y0, Y1   // ... + 1/24
	VFMADD213PS  Y7, Y0, Y1   // ... + 1/6
	VFMADD213PS  Y6, Y0, Y1   // ... + 1/2
	VFMADD213PS  Y5, Y0, Y1   // ... + 1
	VFMADD213PS  Y5, Y0, Y1   // ... + 1
	VPADDD       Y4, Y2, Y2
	VPSLLD       $23, Y2, Y2  // 2^n
	VMULPS       Y2, Y1, Y1
	VMOVUPS      Y1, (SI)
	VADDPS       Y1, Y3, Y3
	ADDQ         $32, SI
	SUBQ         $8, CX
	JMP          expLoop

expDone:
	VEXTRACTF128 $1, Y3, X0
	VADDPS       X0, X3, X3
	VHADDPS      X3, X3, X3
	VHADDPS      X3, X3, X3
	VZEROUPPER
	MOVSS        X3, ret+32(FP)
	RET

// func maxAVX2(z []float32) float32
// The largest of z, len(z) a positive multiple of 8.
TEXT ·maxAVX2(SB), NOSPLIT, $0-28
	MOVQ         z_base+0(FP), SI
	MOVQ         z_len+8(FP), CX
	VMOVUPS      (SI), Y0
	ADDQ         $32, SI
	SUBQ         $8, CX

maxLoop:
	CMPQ         CX, $8
	JL           maxDone
	VMAXPS       (SI), Y0, Y0
	ADDQ         $32, SI
	SUBQ         $8, CX
	JMP          maxLoop

maxDone:
	VEXTRACTF128 $1, Y0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0x4e, X0, X1
	VMAXPS       X1, X0, X0
	VPERMILPS    $0xb1, X0, X1
	VMAXPS       X1, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func axpbAVX2(z []float32, a, b float32)
// z[i] = z[i]·a + b for len(z) a multiple of 8.
TEXT ·axpbAVX2(SB), NOSPLIT, $0-32
	MOVQ         z_base+0(FP), SI
	MOVQ         z_len+8(FP), CX
	VBROADCASTSS a+24(FP), Y15
	VBROADCASTSS b+28(FP), Y14

axpbLoop:
	CMPQ        CX, $8
	JL          axpbDone
	VMOVUPS     (SI), Y0
	VFMADD213PS Y14, Y15, Y0
	VMOVUPS     Y0, (SI)
	ADDQ        $32, SI
	SUBQ        $8, CX
	JMP         axpbLoop

axpbDone:
	VZEROUPPER
	RET
