//go:build amd64 && !purego

#include "textflag.h"

// Every kernel: func(dst, src pointer, n int), n a positive multiple of 32.

// func f32ToF16F16C(dst *uint16, src *float32, n int)
// src (n) float32 -> dst (n) binary16; VCVTPS2PH imm 0 = round to nearest even.
TEXT ·f32ToF16F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f16enc:
	VMOVUPS   (SI), Y0
	VMOVUPS   32(SI), Y1
	VMOVUPS   64(SI), Y2
	VMOVUPS   96(SI), Y3
	VCVTPS2PH $0, Y0, (DI)
	VCVTPS2PH $0, Y1, 16(DI)
	VCVTPS2PH $0, Y2, 32(DI)
	VCVTPS2PH $0, Y3, 48(DI)
	ADDQ      $128, SI
	ADDQ      $64, DI
	SUBQ      $32, CX
	JNZ       f16enc
	VZEROUPPER
	RET

// func f16ToF32F16C(dst *float32, src *uint16, n int)
// src (n) binary16 -> dst (n) float32, exact.
TEXT ·f16ToF32F16C(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

f16dec:
	VCVTPH2PS (SI), Y0
	VCVTPH2PS 16(SI), Y1
	VCVTPH2PS 32(SI), Y2
	VCVTPH2PS 48(SI), Y3
	VMOVUPS   Y0, (DI)
	VMOVUPS   Y1, 32(DI)
	VMOVUPS   Y2, 64(DI)
	VMOVUPS   Y3, 96(DI)
	ADDQ      $64, SI
	ADDQ      $128, DI
	SUBQ      $32, CX
	JNZ       f16dec
	VZEROUPPER
	RET

// func bf16ToF32AVX2(dst *float32, src *uint16, n int)
// src (n) bfloat16 -> dst (n) float32: widen and shift into the top half.
TEXT ·bf16ToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX

bf16dec:
	VPMOVZXWD (SI), Y0
	VPMOVZXWD 16(SI), Y1
	VPMOVZXWD 32(SI), Y2
	VPMOVZXWD 48(SI), Y3
	VPSLLD    $16, Y0, Y0
	VPSLLD    $16, Y1, Y1
	VPSLLD    $16, Y2, Y2
	VPSLLD    $16, Y3, Y3
	VMOVDQU   Y0, (DI)
	VMOVDQU   Y1, 32(DI)
	VMOVDQU   Y2, 64(DI)
	VMOVDQU   Y3, 96(DI)
	ADDQ      $64, SI
	ADDQ      $128, DI
	SUBQ      $32, CX
	JNZ       bf16dec
	VZEROUPPER
	RET

// BF16_AVX2 rounds the 8 float32s in x to bfloat16 in the low half of each
// dword of r, as bf16FromBits does (t is scratch; x is clobbered):
// r = (x + 0x7fff + lsb) >> 16, or (x >> 16) | 0x40 where |x| is NaN.
// Constants: Y10 = 1, Y11 = 0x7fff, Y12 = 0x40, Y13 = 0x7fffffff, Y14 = +Inf.
#define BF16_AVX2(x, t, r) \
	VPSRLD    $16, x, t   \
	VPAND     Y10, t, r   \
	VPADDD    Y11, r, r   \
	VPADDD    x, r, r     \
	VPSRLD    $16, r, r   \
	VPOR      Y12, t, t   \
	VPAND     Y13, x, x   \
	VPCMPGTD  Y14, x, x   \
	VPBLENDVB x, t, r, r

#define BROADCAST(c, y) \
	MOVL         c, AX   \
	MOVD         AX, X15 \
	VPBROADCASTD X15, y

// func f32ToBF16AVX2(dst *uint16, src *float32, n int)
// src (n) float32 -> dst (n) bfloat16, integer round to nearest even.
TEXT ·f32ToBF16AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	BROADCAST($1, Y10)
	BROADCAST($0x7fff, Y11)
	BROADCAST($0x40, Y12)
	BROADCAST($0x7fffffff, Y13)
	BROADCAST($0x7f800000, Y14)

bf16enc:
	VMOVDQU (SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 64(SI), Y2
	VMOVDQU 96(SI), Y3
	BF16_AVX2(Y0, Y4, Y5)
	BF16_AVX2(Y1, Y6, Y7)
	BF16_AVX2(Y2, Y8, Y9)
	BF16_AVX2(Y3, Y0, Y1)

	// Pack dwords to words; VPACKUSDW interleaves the 128-bit lanes of its
	// two sources, and VPERMQ puts them back in order.
	VPACKUSDW Y7, Y5, Y5
	VPACKUSDW Y1, Y9, Y9
	VPERMQ    $0xd8, Y5, Y5
	VPERMQ    $0xd8, Y9, Y9
	VMOVDQU   Y5, (DI)
	VMOVDQU   Y9, 32(DI)
	ADDQ      $128, SI
	ADDQ      $64, DI
	SUBQ      $32, CX
	JNZ       bf16enc
	VZEROUPPER
	RET

// VCVTNEPS2BF16 is missing from the Go assembler; these are its EVEX
// encodings (checked with GNU as) for the two register pairs used below.
#define VCVTNEPS2BF16_Z0_Y1 BYTE $0x62; BYTE $0xf2; BYTE $0x7e; BYTE $0x48; BYTE $0x72; BYTE $0xc8
#define VCVTNEPS2BF16_Z2_Y3 BYTE $0x62; BYTE $0xf2; BYTE $0x7e; BYTE $0x48; BYTE $0x72; BYTE $0xda

// BF16_FIX overwrites the lanes of y selected by mask k with the integer
// rounding of z (the lanes where z is a float32 subnormal, which
// VCVTNEPS2BF16 flushes to zero). Z8 = 0x7fff, Z9 = 1; Z4 is scratch.
#define BF16_FIX(z, k, y) \
	VPSRLD  $16, z, Z4 \
	VPANDD  Z9, Z4, Z4 \
	VPADDD  Z8, Z4, Z4 \
	VPADDD  z, Z4, Z4  \
	VPSRLD  $16, Z4, Z4 \
	VPMOVDW Z4, k, y

// func f32ToBF16AVX512(dst *uint16, src *float32, n int)
// src (n) float32 -> dst (n) bfloat16 with VCVTNEPS2BF16, 16 per instruction.
TEXT ·f32ToBF16AVX512(SB), NOSPLIT, $0-24
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	MOVL         $0x7f800000, AX
	VPBROADCASTD AX, Z6
	MOVL         $0x007fffff, AX
	VPBROADCASTD AX, Z7
	MOVL         $0x7fff, AX
	VPBROADCASTD AX, Z8
	MOVL         $1, AX
	VPBROADCASTD AX, Z9

bf16enc512:
	VMOVUPS (SI), Z0
	VMOVUPS 64(SI), Z2
	VCVTNEPS2BF16_Z0_Y1
	VCVTNEPS2BF16_Z2_Y3

	// K1, K3: lanes that are subnormal (exponent zero, mantissa not).
	VPTESTNMD Z6, Z0, K1
	VPTESTMD  Z7, Z0, K2
	KANDW     K2, K1, K1
	VPTESTNMD Z6, Z2, K3
	VPTESTMD  Z7, Z2, K4
	KANDW     K4, K3, K3
	KORTESTW  K3, K1
	JNZ       bf16fix

bf16store:
	VMOVDQU Y1, (DI)
	VMOVDQU Y3, 32(DI)
	ADDQ    $128, SI
	ADDQ    $64, DI
	SUBQ    $32, CX
	JNZ     bf16enc512
	VZEROUPPER
	RET

bf16fix:
	BF16_FIX(Z0, K1, Y1)
	BF16_FIX(Z2, K3, Y3)
	JMP bf16store
