//go:build !purego

#include "textflag.h"

// Micro-kernels: C (mr,nr) = A (mr,k) · B (k,nr) + beta·C over packed panels.
// A panel: k steps of MR floats (one per row); B panel: k rows of NR floats,
// bstride apart (NR when packed, ldb when read in place).
// Registers: AX walks A, BX walks B, CX counts k; row r of the C tile is
// accumulated in two vector registers (columns 0-15/16-31, or 0-7/8-15).
// Stores run row by row and stop after mr rows (R8); beta 0 (either sign)
// skips reading C.

// ROW512 adds A[row]·B[0:32] for one k step: broadcast, two FMAs.
#define ROW512(off, lo, hi) \
	VBROADCASTSS off(AX), Z2; \
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

// func avx512Micro(k int, a, b *float32, bstride int, c *float32, ldc int, beta float32, mr, nr int)
// a (k,12) packed, b (k,32) with row stride bstride -> c (mr,nr), row stride ldc.
TEXT ·avx512Micro(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ bstride+24(FP), R9
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
	// Fetch the C tile while the loop runs; rows past mr are harmless.
	MOVQ c+32(FP), R12
	MOVQ ldc+40(FP), R13
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
	TESTQ CX, CX
	JZ   store512

loop512:
	VMOVUPS (BX), Z0
	VMOVUPS 64(BX), Z1
	ROW512(0, Z4, Z5)
	ROW512(4, Z6, Z7)
	ROW512(8, Z8, Z9)
	ROW512(12, Z10, Z11)
	ROW512(16, Z12, Z13)
	ROW512(20, Z14, Z15)
	ROW512(24, Z16, Z17)
	ROW512(28, Z18, Z19)
	ROW512(32, Z20, Z21)
	ROW512(36, Z22, Z23)
	ROW512(40, Z24, Z25)
	ROW512(44, Z26, Z27)
	ADDQ $48, AX
	ADDQ R9, BX
	DECQ CX
	JNZ  loop512

store512:
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), DX
	SHLQ $2, DX
	MOVQ mr+56(FP), R8
	MOVQ nr+64(FP), CX
	MOVQ $1, R10
	SHLQ CX, R10
	DECQ R10           // low nr bits set
	KMOVW R10, K1
	SHRQ $16, R10
	KMOVW R10, K2
	MOVL beta+48(FP), R11
	ANDL $0x7fffffff, R11
	JZ   overwrite512
	VBROADCASTSS beta+48(FP), Z3
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
#define ROW256(off, lo, hi) \
	VBROADCASTSS off(AX), Y2; \
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

// func avx2Micro(k int, a, b *float32, bstride int, c *float32, ldc int, beta float32, mr, nr int)
// a (k,6) packed, b (k,16) with row stride bstride -> c (mr,16), row stride ldc; nr must be 16.
TEXT ·avx2Micro(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ b+16(FP), BX
	MOVQ bstride+24(FP), R9
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
	// Fetch the C tile while the loop runs; rows past mr are harmless.
	MOVQ c+32(FP), R12
	MOVQ ldc+40(FP), R13
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
	TESTQ CX, CX
	JZ   store256

loop256:
	VMOVUPS (BX), Y0
	VMOVUPS 32(BX), Y1
	ROW256(0, Y4, Y5)
	ROW256(4, Y6, Y7)
	ROW256(8, Y8, Y9)
	ROW256(12, Y10, Y11)
	ROW256(16, Y12, Y13)
	ROW256(20, Y14, Y15)
	ADDQ $24, AX
	ADDQ R9, BX
	DECQ CX
	JNZ  loop256

store256:
	MOVQ c+32(FP), DI
	MOVQ ldc+40(FP), DX
	SHLQ $2, DX
	MOVQ mr+56(FP), R8
	MOVL beta+48(FP), R11
	ANDL $0x7fffffff, R11
	JZ   overwrite256
	VBROADCASTSS beta+48(FP), Y3
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
