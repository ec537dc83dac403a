//go:build amd64 && !purego

#include "textflag.h"

// q8_0BlocksAVX2 quantizes blocks of 32 float32s to Q8_0 exactly as
// quantizeQ8_0Go does: amax = max|x| (as integer max of the bit patterns),
// d = amax/127 (VDIVSS), id = 1/d, d stored as binary16 rounded to nearest
// even (VCVTPS2PH $0), q = (int8)trunc(float64(x·id) ± 0.5) — the product
// rounded to float32 first, as the scalar code does, then widened, so the
// ± 0.5 is exact and truncation rounds half away from zero; the low byte of
// the int32 is kept (128 wraps to -128 as in ggml). It stops before the
// first block whose amax is outside [safeLo, safeHi] (zero, tiny, huge or
// non-finite: the scalar code handles those) and returns the number of
// blocks done.

DATA absmask<>+0(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $4
DATA f127<>+0(SB)/4, $0x42fe0000
GLOBL f127<>(SB), RODATA|NOPTR, $4
DATA f1<>+0(SB)/4, $0x3f800000
GLOBL f1<>(SB), RODATA|NOPTR, $4
DATA signpd<>+0(SB)/8, $0x8000000000000000
GLOBL signpd<>(SB), RODATA|NOPTR, $8
DATA halfpd<>+0(SB)/8, $0x3fe0000000000000
GLOBL halfpd<>(SB), RODATA|NOPTR, $8
DATA lowbyte<>+0(SB)/4, $0x000000ff
GLOBL lowbyte<>(SB), RODATA|NOPTR, $4
DATA order<>+0(SB)/4, $0
DATA order<>+4(SB)/4, $4
DATA order<>+8(SB)/4, $1
DATA order<>+12(SB)/4, $5
DATA order<>+16(SB)/4, $2
DATA order<>+20(SB)/4, $6
DATA order<>+24(SB)/4, $3
DATA order<>+28(SB)/4, $7
GLOBL order<>(SB), RODATA|NOPTR, $32

// ROUND8 turns the 8 float32s v·id (v in Y register v, xv its low half,
// id broadcast in Y7) into 8 int32s masked to their low byte, in register v. Clobbers
// Y8-Y10.
#define ROUND8(v, xv) \
	VMULPS       Y7, v, v; \
	VCVTPS2PD    xv, Y8; \
	VEXTRACTF128 $1, v, X9; \
	VCVTPS2PD    X9, Y9; \
	VANDPD       Y12, Y8, Y10; \
	VORPD        Y13, Y10, Y10; \
	VADDPD       Y10, Y8, Y8; \
	VANDPD       Y12, Y9, Y10; \
	VORPD        Y13, Y10, Y10; \
	VADDPD       Y10, Y9, Y9; \
	VCVTTPD2DQY  Y8, X8; \
	VCVTTPD2DQY  Y9, X9; \
	VINSERTI128  $1, X9, Y8, v; \
	VPAND        Y14, v, v

// func q8_0BlocksAVX2(dst *byte, src *float32, n int) int
TEXT ·q8_0BlocksAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	VPBROADCASTD absmask<>(SB), Y15
	VBROADCASTSD signpd<>(SB), Y12
	VBROADCASTSD halfpd<>(SB), Y13
	VPBROADCASTD lowbyte<>(SB), Y14
	VMOVDQU      order<>(SB), Y11

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3

	// amax bits, as an unsigned integer max of |x|'s bits.
	VPAND        Y15, Y0, Y4
	VPAND        Y15, Y1, Y5
	VPAND        Y15, Y2, Y6
	VPAND        Y15, Y3, Y7
	VPMAXUD      Y5, Y4, Y4
	VPMAXUD      Y7, Y6, Y6
	VPMAXUD      Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPMAXUD      X5, X4, X4
	VPSHUFD      $0x4e, X4, X5
	VPMAXUD      X5, X4, X4
	VPSHUFD      $0xb1, X4, X5
	VPMAXUD      X5, X4, X4
	VMOVD        X4, BX
	CMPL         BX, $0x0d800000 // safeLo
	JB           done
	CMPL         BX, $0x71800000 // safeHi
	JA           done

	// d = amax/127, stored as binary16; id = 1/d broadcast to Y7.
	VDIVSS       f127<>(SB), X4, X5
	VCVTPS2PH    $0, X5, X6
	VMOVD        X6, BX
	MOVW         BX, (DI)
	VMOVSS       f1<>(SB), X6
	VDIVSS       X5, X6, X6
	VBROADCASTSS X6, Y7

	ROUND8(Y0, X0)
	ROUND8(Y1, X1)
	ROUND8(Y2, X2)
	ROUND8(Y3, X3)

	// 32 int32s (bytes 0..255) to 32 bytes in order.
	VPACKUSDW Y1, Y0, Y0
	VPACKUSDW Y3, Y2, Y2
	VPACKUSWB Y2, Y0, Y0
	VPERMD    Y0, Y11, Y0
	VMOVDQU   Y0, 2(DI)

	ADDQ $128, SI
	ADDQ $34, DI
	INCQ AX
	JMP  loop

done:
	VZEROUPPER
	MOVQ AX, ret+24(FP)
	RET
