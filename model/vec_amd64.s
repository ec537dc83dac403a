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
	VMAXPS       Y0, Y11, Y0  // x >= -87; a NaN x stays NaN
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

// 32-byte vectors of GELU constants, for memory operands.
DATA gscale<>+0(SB)/4, $0x3f4c422a // √(2/π)
DATA gscale<>+4(SB)/4, $0x3f4c422a
DATA gscale<>+8(SB)/4, $0x3f4c422a
DATA gscale<>+12(SB)/4, $0x3f4c422a
DATA gscale<>+16(SB)/4, $0x3f4c422a
DATA gscale<>+20(SB)/4, $0x3f4c422a
DATA gscale<>+24(SB)/4, $0x3f4c422a
DATA gscale<>+28(SB)/4, $0x3f4c422a
GLOBL gscale<>(SB), RODATA|NOPTR, $32
DATA gcoef<>+0(SB)/4, $0x3d372713 // 0.044715
DATA gcoef<>+4(SB)/4, $0x3d372713
DATA gcoef<>+8(SB)/4, $0x3d372713
DATA gcoef<>+12(SB)/4, $0x3d372713
DATA gcoef<>+16(SB)/4, $0x3d372713
DATA gcoef<>+20(SB)/4, $0x3d372713
DATA gcoef<>+24(SB)/4, $0x3d372713
DATA gcoef<>+28(SB)/4, $0x3d372713
GLOBL gcoef<>(SB), RODATA|NOPTR, $32
DATA gcoef3<>+0(SB)/4, $0x3e095d4f // 3·0.044715
DATA gcoef3<>+4(SB)/4, $0x3e095d4f
DATA gcoef3<>+8(SB)/4, $0x3e095d4f
DATA gcoef3<>+12(SB)/4, $0x3e095d4f
DATA gcoef3<>+16(SB)/4, $0x3e095d4f
DATA gcoef3<>+20(SB)/4, $0x3e095d4f
DATA gcoef3<>+24(SB)/4, $0x3e095d4f
DATA gcoef3<>+28(SB)/4, $0x3e095d4f
GLOBL gcoef3<>(SB), RODATA|NOPTR, $32
DATA absmask<>+0(SB)/4, $0x7fffffff // clears the sign bit
DATA absmask<>+4(SB)/4, $0x7fffffff
DATA absmask<>+8(SB)/4, $0x7fffffff
DATA absmask<>+12(SB)/4, $0x7fffffff
DATA absmask<>+16(SB)/4, $0x7fffffff
DATA absmask<>+20(SB)/4, $0x7fffffff
DATA absmask<>+24(SB)/4, $0x7fffffff
DATA absmask<>+28(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $32
DATA signmask<>+0(SB)/4, $0x80000000 // the sign bit
DATA signmask<>+4(SB)/4, $0x80000000
DATA signmask<>+8(SB)/4, $0x80000000
DATA signmask<>+12(SB)/4, $0x80000000
DATA signmask<>+16(SB)/4, $0x80000000
DATA signmask<>+20(SB)/4, $0x80000000
DATA signmask<>+24(SB)/4, $0x80000000
DATA signmask<>+28(SB)/4, $0x80000000
GLOBL signmask<>(SB), RODATA|NOPTR, $32
DATA minus2<>+0(SB)/4, $0xc0000000 // -2
DATA minus2<>+4(SB)/4, $0xc0000000
DATA minus2<>+8(SB)/4, $0xc0000000
DATA minus2<>+12(SB)/4, $0xc0000000
DATA minus2<>+16(SB)/4, $0xc0000000
DATA minus2<>+20(SB)/4, $0xc0000000
DATA minus2<>+24(SB)/4, $0xc0000000
DATA minus2<>+28(SB)/4, $0xc0000000
GLOBL minus2<>(SB), RODATA|NOPTR, $32

// LOADEXP loads the constants of EXP8 into Y4-Y14.
#define LOADEXP \
	VBROADCASTSS expc<>+0(SB), Y14; \
	VBROADCASTSS expc<>+4(SB), Y13; \
	VBROADCASTSS expc<>+8(SB), Y12; \
	VBROADCASTSS expc<>+12(SB), Y11; \
	VBROADCASTSS expc<>+16(SB), Y10; \
	VBROADCASTSS expc<>+20(SB), Y9; \
	VBROADCASTSS expc<>+24(SB), Y8; \
	VBROADCASTSS expc<>+28(SB), Y7; \
	VBROADCASTSS expc<>+32(SB), Y6; \
	VBROADCASTSS expc<>+36(SB), Y5; \
	VPBROADCASTD expc<>+40(SB), Y4

// EXP8 sets Y1 = exp(max(Y0, -87)) for lanes of Y0 at most 0, as expf
// does; it clobbers Y0 and Y2 and reads the constants LOADEXP loads.
#define EXP8 \
	VMAXPS       Y0, Y11, Y0; \
	VMULPS       Y14, Y0, Y1; \
	VROUNDPS     $0, Y1, Y1; \
	VCVTPS2DQ    Y1, Y2; \
	VFNMADD231PS Y13, Y1, Y0; \
	VFNMADD231PS Y12, Y1, Y0; \
	VMOVAPS      Y10, Y1; \
	VFMADD213PS  Y9, Y0, Y1; \
	VFMADD213PS  Y8, Y0, Y1; \
	VFMADD213PS  Y7, Y0, Y1; \
	VFMADD213PS  Y6, Y0, Y1; \
	VFMADD213PS  Y5, Y0, Y1; \
	VFMADD213PS  Y5, Y0, Y1; \
	VPADDD       Y4, Y2, Y2; \
	VPSLLD       $23, Y2, Y2; \
	VMULPS       Y2, Y1, Y1

// TANH8 sets Y2 = tanh(Y3) through EXP8: tanh|z| = (1-e)/(1+e),
// e = exp(-2|z|), with z's sign put back; it clobbers Y0 and Y1.
#define TANH8 \
	VANDPS  absmask<>(SB), Y3, Y0; \
	VMULPS  minus2<>(SB), Y0, Y0; \
	EXP8; \
	VSUBPS  Y1, Y5, Y2; \
	VADDPS  Y1, Y5, Y1; \
	VDIVPS  Y1, Y2, Y2; \
	VANDPS  signmask<>(SB), Y3, Y0; \
	VXORPS  Y0, Y2, Y2

// GELUARG sets Y3 = √(2/π)·(x + 0.044715·x³) for x in Y15.
#define GELUARG \
	VMULPS Y15, Y15, Y3; \
	VMULPS gcoef<>(SB), Y3, Y3; \
	VADDPS Y5, Y3, Y3; \
	VMULPS Y15, Y3, Y3; \
	VMULPS gscale<>(SB), Y3, Y3

// func geluAVX2(out, x []float32)
// out = gelu(x) (tanh form), len(x) a multiple of 8.
TEXT ·geluAVX2(SB), NOSPLIT, $0-48
	MOVQ out_base+0(FP), DI
	MOVQ x_base+24(FP), SI
	MOVQ x_len+32(FP), CX
	LOADEXP

geluLoop:
	CMPQ    CX, $8
	JL      geluDone
	VMOVUPS (SI), Y15
	GELUARG
	TANH8
	VADDPS  Y5, Y2, Y2   // 1 + t
	VMULPS  Y6, Y15, Y15 // x/2
	VMULPS  Y2, Y15, Y15
	VMOVUPS Y15, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     geluLoop

geluDone:
	VZEROUPPER
	RET

// func geluGradAVX2(dx, dout, x []float32)
// dx = dout·gelu'(x), len(x) a multiple of 8:
// gelu'(x) = (1 + t + x·(1-t²)·√(2/π)·(1 + 3·0.044715·x²))/2.
TEXT ·geluGradAVX2(SB), NOSPLIT, $0-72
	MOVQ dx_base+0(FP), DI
	MOVQ dout_base+24(FP), DX
	MOVQ x_base+48(FP), SI
	MOVQ x_len+56(FP), CX
	LOADEXP

gradLoop:
	CMPQ        CX, $8
	JL          gradDone
	VMOVUPS     (SI), Y15
	GELUARG
	TANH8
	VMULPS      Y2, Y2, Y0
	VSUBPS      Y0, Y5, Y0           // 1 - t²
	VMULPS      Y15, Y15, Y1
	VMULPS      gcoef3<>(SB), Y1, Y1
	VADDPS      Y5, Y1, Y1           // 1 + 3c·x²
	VMULPS      Y1, Y0, Y0
	VMULPS      gscale<>(SB), Y0, Y0 // dt/dx
	VFMADD213PS Y2, Y15, Y0          // x·dt + t
	VADDPS      Y5, Y0, Y0
	VMULPS      Y6, Y0, Y0
	VMULPS      (DX), Y0, Y0
	VMOVUPS     Y0, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DX
	ADDQ        $32, DI
	SUBQ        $8, CX
	JMP         gradLoop

gradDone:
	VZEROUPPER
	RET

// func dotAVX2(a, b []float32) float32
// Σ a[i]·b[i] over len(a), a multiple of 32, in four 8-lane accumulators.
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   a_base+0(FP), SI
	MOVQ   b_base+24(FP), DI
	MOVQ   a_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

dotLoop:
	CMPQ        CX, $32
	JL          dotDone
	VMOVUPS     (SI), Y4
	VMOVUPS     32(SI), Y5
	VMOVUPS     64(SI), Y6
	VMOVUPS     96(SI), Y7
	VFMADD231PS (DI), Y4, Y0
	VFMADD231PS 32(DI), Y5, Y1
	VFMADD231PS 64(DI), Y6, Y2
	VFMADD231PS 96(DI), Y7, Y3
	ADDQ        $128, SI
	ADDQ        $128, DI
	SUBQ        $32, CX
	JMP         dotLoop

dotDone:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+48(FP)
	RET
