//go:build !purego

#include "textflag.h"

// Micro-kernels: C (mr,nr) = alpha·A (mr,k)·B (k,nr) + beta·C.
// A element (i,p) is at a + i·ars + p·acs: packed panels have ars 1 and
// acs MR; A read in place has (lda,1), or (1,lda) when stored transposed.
// Rows 0-3 are addressed from AX, 4-7 from SI, 8-11 from DI, at offsets
// 0, R14 (one row), 2·R14 and R10 (three rows). B row p is at b + p·bstride
// (NR when packed, ldb when read in place); BX walks it, CX counts k.
// Row r of the C tile is accumulated in two vector registers (columns
// 0-15/16-31, or 0-7/8-15). Stores run row by row and stop after mr rows
// (R8); beta 0 (either sign) skips reading C.

// ROW512 adds A[row]·B[0:32] for one k step: broadcast, two FMAs.
#define ROW512(addr, lo, hi) \
	VBROADCASTSS addr, Z2; \
	VFMADD231PS Z0, Z2, lo; \
	VFMADD231PS Z1, Z2, hi

// ACC512 stores one C row as acc + beta·C, columns masked by K1/K2.
#define ACC512(lo, hi) \
	VMOVUPS.Z (DI), K1, Z2; \
	VFMADD231PS Z2, Z3, lo; \
	VMOVUPS lo, K1, (DI); \
	VMOVUPS.Z 64(DI), K2, Z2; \
	VFMADD231PS Z2, Z3, hi; \
	VMOVUPS hi, K2, 64(DI); \
	ADDQ DX, DI; \
	DECQ R8; \
	JZ done512

// STORE512 stores one C row as acc, columns masked by K1/K2.
#define STORE512(lo, hi) \
	VMOVUPS lo, K1, (DI); \
	VMOVUPS hi, K2, 64(DI); \
	ADDQ DX, DI; \
	DECQ R8; \
	JZ done512

// func avx512Micro(k int, a *float32, ars, acs int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr, nr int)
// a (12,k) with strides ars, acs; b (k,32) with row stride bstride -> c (mr,nr), row stride ldc.
TEXT ·avx512Micro(SB), NOSPLIT, $0-88
	// Fetch the C tile while the loop runs; rows past mr are harmless.
	MOVQ c+48(FP), R12
	MOVQ ldc+56(FP), R13
	SHLQ $2, R13
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 64(R12)
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ ars+16(FP), R14
	SHLQ $2, R14             // R14: bytes between rows of A
	LEAQ (R14)(R14*2), R10   // R10: 3 rows
	MOVQ acs+24(FP), R11
	SHLQ $2, R11             // R11: bytes between steps of A
	LEAQ (AX)(R14*4), SI     // SI: row 4
	LEAQ (SI)(R14*4), DI     // DI: row 8
	MOVQ b+32(FP), BX
	MOVQ bstride+40(FP), R9
	SHLQ $2, R9
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	VPXORD Z18, Z18, Z18
	VPXORD Z19, Z19, Z19
	VPXORD Z20, Z20, Z20
	VPXORD Z21, Z21, Z21
	VPXORD Z22, Z22, Z22
	VPXORD Z23, Z23, Z23
	VPXORD Z24, Z24, Z24
	VPXORD Z25, Z25, Z25
	VPXORD Z26, Z26, Z26
	VPXORD Z27, Z27, Z27
	TESTQ CX, CX
	JZ   store512

loop512:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	ROW512((AX), Z4, Z5)
	ROW512((AX)(R14*1), Z6, Z7)
	ROW512((AX)(R14*2), Z8, Z9)
	ROW512((AX)(R10*1), Z10, Z11)
	ROW512((SI), Z12, Z13)
	ROW512((SI)(R14*1), Z14, Z15)
	ROW512((SI)(R14*2), Z16, Z17)
	ROW512((SI)(R10*1), Z18, Z19)
	ROW512((DI), Z20, Z21)
	ROW512((DI)(R14*1), Z22, Z23)
	ROW512((DI)(R14*2), Z24, Z25)
	ROW512((DI)(R10*1), Z26, Z27)
	ADDQ R11, AX
	ADDQ R11, SI
	ADDQ R11, DI
	ADDQ R9, BX
	DECQ CX
	JNZ  loop512

store512:
	VBROADCASTSS alpha+64(FP), Z1
	VMULPS Z1, Z4, Z4
	VMULPS Z1, Z5, Z5
	VMULPS Z1, Z6, Z6
	VMULPS Z1, Z7, Z7
	VMULPS Z1, Z8, Z8
	VMULPS Z1, Z9, Z9
	VMULPS Z1, Z10, Z10
	VMULPS Z1, Z11, Z11
	VMULPS Z1, Z12, Z12
	VMULPS Z1, Z13, Z13
	VMULPS Z1, Z14, Z14
	VMULPS Z1, Z15, Z15
	VMULPS Z1, Z16, Z16
	VMULPS Z1, Z17, Z17
	VMULPS Z1, Z18, Z18
	VMULPS Z1, Z19, Z19
	VMULPS Z1, Z20, Z20
	VMULPS Z1, Z21, Z21
	VMULPS Z1, Z22, Z22
	VMULPS Z1, Z23, Z23
	VMULPS Z1, Z24, Z24
	VMULPS Z1, Z25, Z25
	VMULPS Z1, Z26, Z26
	VMULPS Z1, Z27, Z27
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), DX
	SHLQ $2, DX
	MOVQ mr+72(FP), R8
	MOVQ nr+80(FP), CX
	MOVQ $1, R10
	SHLQ CX, R10
	DECQ R10           // low nr bits set
	KMOVW R10, K1
	SHRQ $16, R10
	KMOVW R10, K2
	MOVL beta+68(FP), R11
	ANDL $0x7fffffff, R11
	JZ   overwrite512
	VBROADCASTSS beta+68(FP), Z3
	ACC512(Z4, Z5)
	ACC512(Z6, Z7)
	ACC512(Z8, Z9)
	ACC512(Z10, Z11)
	ACC512(Z12, Z13)
	ACC512(Z14, Z15)
	ACC512(Z16, Z17)
	ACC512(Z18, Z19)
	ACC512(Z20, Z21)
	ACC512(Z22, Z23)
	ACC512(Z24, Z25)
	ACC512(Z26, Z27)
	JMP done512

overwrite512:
	STORE512(Z4, Z5)
	STORE512(Z6, Z7)
	STORE512(Z8, Z9)
	STORE512(Z10, Z11)
	STORE512(Z12, Z13)
	STORE512(Z14, Z15)
	STORE512(Z16, Z17)
	STORE512(Z18, Z19)
	STORE512(Z20, Z21)
	STORE512(Z22, Z23)
	STORE512(Z24, Z25)
	STORE512(Z26, Z27)

done512:
	VZEROUPPER
	RET

// ROW256 adds A[row]·B[0:16] for one k step.
#define ROW256(addr, lo, hi) \
	VBROADCASTSS addr, Y2; \
	VFMADD231PS Y0, Y2, lo; \
	VFMADD231PS Y1, Y2, hi

// ACC256 stores one full C row (16 columns) as acc + beta·C.
#define ACC256(lo, hi) \
	VFMADD231PS (DI), Y3, lo; \
	VMOVUPS lo, (DI); \
	VFMADD231PS 32(DI), Y3, hi; \
	VMOVUPS hi, 32(DI); \
	ADDQ DX, DI; \
	DECQ R8; \
	JZ done256

// STORE256 stores one full C row as acc.
#define STORE256(lo, hi) \
	VMOVUPS lo, (DI); \
	VMOVUPS hi, 32(DI); \
	ADDQ DX, DI; \
	DECQ R8; \
	JZ done256

// func avx2Micro(k int, a *float32, ars, acs int, b *float32, bstride int, c *float32, ldc int, alpha, beta float32, mr, nr int)
// a (6,k) with strides ars, acs; b (k,16) with row stride bstride -> c (mr,16), row stride ldc; nr must be 16.
TEXT ·avx2Micro(SB), NOSPLIT, $0-88
	// Fetch the C tile while the loop runs; rows past mr are harmless.
	MOVQ c+48(FP), R12
	MOVQ ldc+56(FP), R13
	SHLQ $2, R13
	PREFETCHT0 (R12)
	PREFETCHT0 32(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 32(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 32(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 32(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 32(R12)
	ADDQ R13, R12
	PREFETCHT0 (R12)
	PREFETCHT0 32(R12)
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ ars+16(FP), R14
	SHLQ $2, R14             // R14: bytes between rows of A
	LEAQ (R14)(R14*2), R10   // R10: 3 rows
	MOVQ acs+24(FP), R11
	SHLQ $2, R11             // R11: bytes between steps of A
	LEAQ (AX)(R14*4), SI     // SI: row 4
	MOVQ b+32(FP), BX
	MOVQ bstride+40(FP), R9
	SHLQ $2, R9
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VXORPS Y14, Y14, Y14
	VXORPS Y15, Y15, Y15
	TESTQ CX, CX
	JZ   store256

loop256:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	ROW256((AX), Y4, Y5)
	ROW256((AX)(R14*1), Y6, Y7)
	ROW256((AX)(R14*2), Y8, Y9)
	ROW256((AX)(R10*1), Y10, Y11)
	ROW256((SI), Y12, Y13)
	ROW256((SI)(R14*1), Y14, Y15)
	ADDQ R11, AX
	ADDQ R11, SI
	ADDQ R9, BX
	DECQ CX
	JNZ  loop256

store256:
	VBROADCASTSS alpha+64(FP), Y1
	VMULPS Y1, Y4, Y4
	VMULPS Y1, Y5, Y5
	VMULPS Y1, Y6, Y6
	VMULPS Y1, Y7, Y7
	VMULPS Y1, Y8, Y8
	VMULPS Y1, Y9, Y9
	VMULPS Y1, Y10, Y10
	VMULPS Y1, Y11, Y11
	VMULPS Y1, Y12, Y12
	VMULPS Y1, Y13, Y13
	VMULPS Y1, Y14, Y14
	VMULPS Y1, Y15, Y15
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), DX
	SHLQ $2, DX
	MOVQ mr+72(FP), R8
	MOVL beta+68(FP), R11
	ANDL $0x7fffffff, R11
	JZ   overwrite256
	VBROADCASTSS beta+68(FP), Y3
	ACC256(Y4, Y5)
	ACC256(Y6, Y7)
	ACC256(Y8, Y9)
	ACC256(Y10, Y11)
	ACC256(Y12, Y13)
	ACC256(Y14, Y15)
	JMP done256

overwrite256:
	STORE256(Y4, Y5)
	STORE256(Y6, Y7)
	STORE256(Y8, Y9)
	STORE256(Y10, Y11)
	STORE256(Y12, Y13)
	STORE256(Y14, Y15)

done256:
	VZEROUPPER
	RET
