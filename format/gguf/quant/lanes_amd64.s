//go:build amd64 && !purego

#include "textflag.h"

// AVX2 kernels for the scale searches: each of the 8 float32 lanes of a
// YMM register runs one candidate scale (or, in the group kernels, one
// group) through exactly the operations the scalar code in search.go and
// iq4nl.go performs, in the same order (one VMULPS, then one VADDPS: no
// FMA), so every lane's sums are the scalar sums bit for bit. Struct
// offsets are those of lanes.go (checked by TestLaneLayout).

// NEAREST turns the float32s in f into ggml's nearest_int(f), as int32s:
// the low 23 bits of f + 1.5·2²³, minus 2²². This is the bit trick itself,
// so it agrees with ggml for every input, not only |f| < 2²².
#define NEAREST(f) \
	VADDPS magic<>(SB), f, f; \
	VPAND  mant<>(SB), f, f; \
	VPSUBD half<>(SB), f, f

// QXLANE accumulates one value into 8 make_qx_quants candidates: with
// Y9 = x, Y10 = w = x², Y11 = wv = x²·x and l = clamp(nearest_int(is·x),
// lo, hi): lx += wv·l, l2 += (w·l)·l. Clobbers Y12, Y13.
#define QXLANE(is, lx, l2) \
	VMULPS    Y9, is, Y12; \
	NEAREST(Y12); \
	VPMAXSD   288(R9), Y12, Y12; \
	VPMINSD   320(R9), Y12, Y12; \
	VCVTDQ2PS Y12, Y12; \
	VMULPS    Y11, Y12, Y13; \
	VADDPS    Y13, lx, lx; \
	VMULPS    Y10, Y12, Y13; \
	VMULPS    Y12, Y13, Y13; \
	VADDPS    Y13, l2, l2

// func qxLanesAVX2(x, w, wv *float32, n int, c *qxLanes)
TEXT ·qxLanesAVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DI
	MOVQ wv+16(FP), R8
	MOVQ n+24(FP), DX
	MOVQ c+32(FP), R9
	VBROADCASTSS 448(R9), Y3 // mx
	VMOVUPS 352(R9), Y0
	VMOVUPS 384(R9), Y1
	VMOVUPS 416(R9), Y2
	VDIVPS  Y3, Y0, Y0       // iscale = num/mx
	VDIVPS  Y3, Y1, Y1
	VDIVPS  Y3, Y2, Y2
	VMOVUPS Y0, 0(R9)
	VMOVUPS Y1, 32(R9)
	VMOVUPS Y2, 64(R9)
	VXORPS  Y3, Y3, Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	VXORPS  Y6, Y6, Y6
	VXORPS  Y7, Y7, Y7
	VXORPS  Y8, Y8, Y8
	XORQ    CX, CX

qxloop:
	CMPQ         CX, DX
	JGE          qxdone
	VBROADCASTSS (SI)(CX*4), Y9
	VBROADCASTSS (DI)(CX*4), Y10
	VBROADCASTSS (R8)(CX*4), Y11
	QXLANE(Y0, Y3, Y4)
	QXLANE(Y1, Y5, Y6)
	QXLANE(Y2, Y7, Y8)
	INCQ         CX
	JMP          qxloop

qxdone:
	VMOVUPS Y3, 96(R9)
	VMOVUPS Y5, 128(R9)
	VMOVUPS Y7, 160(R9)
	VMOVUPS Y4, 192(R9)
	VMOVUPS Y6, 224(R9)
	VMOVUPS Y8, 256(R9)
	VZEROUPPER
	RET

// KXSQUARE and KXABS turn the differences d in t into d² and |d| (Y3 =
// absMask).
#define KXSQUARE(t) VMULPS t, t, t
#define KXABS(t) VANDPS Y3, t, t

// KXPASS is the loop (label loop) of the error pass over values CX..DX-1
// (x at SI, w at DI, the lanes' levels in rows of 32 bytes from R10): Y7
// += w·dist(scale·l + min - x), scale Y13, min Y14, dist one of KXSQUARE
// and KXABS; on to kxdone at the end. Clobbers R10, CX, Y10-Y12.
#define KXPASS(loop, dist) \
loop: \
	CMPQ         CX, DX; \
	JGE          kxdone; \
	VBROADCASTSS (SI)(CX*4), Y10; \
	VBROADCASTSS (DI)(CX*4), Y11; \
	VMULPS       (R10), Y13, Y12; \
	VADDPS       Y14, Y12, Y12; \
	VSUBPS       Y10, Y12, Y12; \
	dist(Y12); \
	VMULPS       Y12, Y11, Y12; \
	VADDPS       Y12, Y7, Y7; \
	ADDQ         $32, R10; \
	INCQ         CX; \
	JMP          loop

// func kx2LanesAVX2(x, w *float32, n int, c *kx2Lanes)
//
// The candidates are is = is0..is0+7, with inverse scales
// ((rmin + rdelta·is) + nmax) / (hi - lo), stored in c.iscale.
// Pass 1, per value: l = clamp(nearest_int(is·(x-lo)), 0, nmax), stored in
// c.L; sumL += w·l, sumL2 += (w·l)·l, sumXL += (w·l)·x. Then ggml's D,
// scale and min (min > 0 → min = 0, scale = sumXL/sumL2). Pass 2: err +=
// w·e with d = (scale·l + min) - x and e = |d| (mad) or d·d.
TEXT ·kx2LanesAVX2(SB), NOSPLIT, $0-32
	MOVQ         x+0(FP), SI
	MOVQ         w+8(FP), DI
	MOVQ         n+16(FP), DX
	MOVQ         c+24(FP), R9
	VBROADCASTSS 1184(R9), Y1  // lo
	VPBROADCASTD 1196(R9), Y6  // nmax
	VPBROADCASTD 1216(R9), Y0
	VPADDD       iota<>(SB), Y0, Y0
	VCVTDQ2PS    Y0, Y0        // is0+k
	VBROADCASTSS 1208(R9), Y12
	VMULPS       Y12, Y0, Y0   // rdelta·is
	VBROADCASTSS 1204(R9), Y12
	VADDPS       Y0, Y12, Y0   // rmin + rdelta·is
	VCVTDQ2PS    Y6, Y12
	VADDPS       Y12, Y0, Y0   // + nmax
	VBROADCASTSS 1212(R9), Y12
	VSUBPS       Y1, Y12, Y12  // hi - lo
	VDIVPS       Y12, Y0, Y0   // the inverse scales
	VMOVUPS      Y0, 1024(R9)
	VMOVUPS      magic<>(SB), Y2
	VMOVUPS      mant<>(SB), Y3
	VMOVUPS      half<>(SB), Y4
	VPXOR        Y5, Y5, Y5    // 0
	VXORPS       Y7, Y7, Y7    // sumL
	VXORPS       Y8, Y8, Y8    // sumL2
	VXORPS       Y9, Y9, Y9    // sumXL
	XORQ         CX, CX
	MOVQ         R9, R10       // &c.L[i]

kxfit:
	CMPQ         CX, DX
	JGE          kxsolve
	VBROADCASTSS (SI)(CX*4), Y10 // x
	VBROADCASTSS (DI)(CX*4), Y11 // w
	VSUBPS       Y1, Y10, Y12    // x - lo
	VMULPS       Y12, Y0, Y12    // is·(x - lo)
	VADDPS       Y2, Y12, Y12
	VPAND        Y3, Y12, Y12
	VPSUBD       Y4, Y12, Y12
	VPMAXSD      Y5, Y12, Y12
	VPMINSD      Y6, Y12, Y12
	VCVTDQ2PS    Y12, Y12        // l
	VMOVUPS      Y12, (R10)
	VMULPS       Y12, Y11, Y13   // w·l
	VADDPS       Y13, Y7, Y7
	VMULPS       Y12, Y13, Y14
	VADDPS       Y14, Y8, Y8
	VMULPS       Y10, Y13, Y14
	VADDPS       Y14, Y9, Y9
	ADDQ         $32, R10
	INCQ         CX
	JMP          kxfit

kxsolve:
	VBROADCASTSS 1188(R9), Y10          // sumW
	VBROADCASTSS 1192(R9), Y11          // sumX
	VMULPS       Y8, Y10, Y12           // sumW·sumL2
	VMULPS       Y7, Y7, Y13            // sumL·sumL
	VSUBPS       Y13, Y12, Y12          // D
	VMOVUPS      Y12, 1152(R9)
	VMULPS       Y9, Y10, Y13           // sumW·sumXL
	VMULPS       Y7, Y11, Y14           // sumX·sumL
	VSUBPS       Y14, Y13, Y13
	VDIVPS       Y12, Y13, Y13          // scale
	VMULPS       Y11, Y8, Y14           // sumL2·sumX
	VMULPS       Y9, Y7, Y15            // sumL·sumXL
	VSUBPS       Y15, Y14, Y14
	VDIVPS       Y12, Y14, Y14          // min
	VDIVPS       Y8, Y9, Y15            // sumXL/sumL2
	VCMPPS       $0x1e, Y5, Y14, Y12    // min > 0 (ordered)
	VANDNPS      Y14, Y12, Y14          // min = 0 there
	VBLENDVPS    Y12, Y15, Y13, Y13     // scale = sumXL/sumL2 there
	VMOVUPS      Y13, 1056(R9)
	VMOVUPS      Y14, 1088(R9)
	VXORPS       Y7, Y7, Y7             // err
	VMOVUPS      absMask<>(SB), Y3
	XORQ         CX, CX
	MOVQ         R9, R10
	CMPL         1200(R9), $0
	JNE          kxmad

	KXPASS(kxsq, KXSQUARE)
	KXPASS(kxmad, KXABS)

kxdone:
	VMOVUPS Y7, 1120(R9)
	VZEROUPPER
	RET

// KGFIT accumulates value i (R10 = &c.x[i]) into one set of 8 lanes at
// byte offset off: l = clamp(rint(is·(x - lo)), 0, nmax), stored in c.L;
// sL += w·l, sL2 += (w·l)·l, sXL += (w·l)·x. rint is nearest_int here:
// 0 <= is·(x - lo) <= nmax + 1, as the caller ensures (kx2GroupsLanes).
#define KGFIT(off, lo, is, sL, sL2, sXL, t1, t2, t3) \
	VMOVUPS   off(R10), t1; \
	VSUBPS    lo, t1, t2; \
	VMULPS    t2, is, t2; \
	VROUNDPS  $0, t2, t2; \
	VMAXPS    zero<>(SB), t2, t2; \
	VMINPS    6656(R9), t2, t2; \
	VMOVUPS   t2, 4096+off(R10); \
	VMULPS    2048+off(R10), t2, t3; \
	VADDPS    t3, sL, sL; \
	VMULPS    t3, t1, t1; \
	VMULPS    t2, t3, t3; \
	VADDPS    t3, sL2, sL2; \
	VADDPS    t1, sXL, sXL

// KGSOLVE is ggml's fit from one set's sums: D = sumW·sL2 - sL·sL,
// sc = (sumW·sXL - sumX·sL)/D, mn = (sL2·sumX - sL·sXL)/D, and where
// mn > 0: mn = 0, sc = sXL/sL2.
#define KGSOLVE(off, sL, sL2, sXL, D, sc, mn, t1, t2, t3) \
	VMOVUPS   6272+off(R9), t1; \
	VMULPS    sL2, t1, D; \
	VMULPS    sL, sL, t2; \
	VSUBPS    t2, D, D; \
	VMULPS    sXL, t1, sc; \
	VMOVUPS   6336+off(R9), t1; \
	VMULPS    sL, t1, t2; \
	VSUBPS    t2, sc, sc; \
	VDIVPS    D, sc, sc; \
	VMULPS    t1, sL2, mn; \
	VMULPS    sXL, sL, t2; \
	VSUBPS    t2, mn, mn; \
	VDIVPS    D, mn, mn; \
	VDIVPS    sL2, sXL, t2; \
	VXORPS    t3, t3, t3; \
	VCMPPS    $0x1e, t3, mn, t3; \
	VANDNPS   mn, t3, mn; \
	VBLENDVPS t3, t2, sc, sc

// KGSQ and KGMAD add value i's weighted error w·d² or w·|d|, d = (sc·l +
// mn) - x, to err.
#define KGSQ(off, sc, mn, err, t) \
	VMULPS 4096+off(R10), sc, t; \
	VADDPS mn, t, t; \
	VSUBPS off(R10), t, t; \
	VMULPS t, t, t; \
	VMULPS 2048+off(R10), t, t; \
	VADDPS t, err, err

#define KGMAD(off, sc, mn, err, t) \
	VMULPS 4096+off(R10), sc, t; \
	VADDPS mn, t, t; \
	VSUBPS off(R10), t, t; \
	VANDPS absMask<>(SB), t, t; \
	VMULPS 2048+off(R10), t, t; \
	VADDPS t, err, err

// KGPICK keeps, in the lanes where D > 0 and err < the best error, the
// candidate as the best (error, scale, inverse scale is, and the min lo it
// was evaluated at) and makes its min mn the lane's min.
#define KGPICK(off, D, err, sc, is, lo, mn, m, t) \
	VXORPS    t, t, t; \
	VCMPPS    $0x1e, t, D, m; \
	VCMPPS    $0x11, 6400+off(R9), err, t; \
	VANDPS    t, m, m; \
	VMOVUPS   6400+off(R9), t; \
	VBLENDVPS m, err, t, t; \
	VMOVUPS   t, 6400+off(R9); \
	VMOVUPS   6464+off(R9), t; \
	VBLENDVPS m, sc, t, t; \
	VMOVUPS   t, 6464+off(R9); \
	VMOVUPS   6528+off(R9), t; \
	VBLENDVPS m, is, t, t; \
	VMOVUPS   t, 6528+off(R9); \
	VMOVUPS   6592+off(R9), t; \
	VBLENDVPS m, lo, t, t; \
	VMOVUPS   t, 6592+off(R9); \
	VBLENDVPS m, mn, lo, lo

// ROWNEXT steps a pass over the DX rows of 64 bytes from R10 to the next
// row (R10 += 64, CX += 1), back to loop while CX < DX.
#define ROWNEXT(loop) \
	ADDQ $64, R10; \
	INCQ CX; \
	CMPQ CX, DX; \
	JLT  loop

// KGPASS is the loop (label loop) of the error pass over the DX rows of
// 64 bytes from R10 (CX counting from 0): err, one of KGSQ and KGMAD,
// adds each row's terms of both sets of lanes (scales Y3/Y6, mins Y4/Y13)
// to Y7/Y8. Clobbers R10, CX, Y9, Y10.
#define KGPASS(loop, err) \
loop: \
	err(0, Y3, Y4, Y7, Y9); \
	err(32, Y6, Y13, Y8, Y10); \
	ROWNEXT(loop)

// func kx2GroupsAVX2(c *kx2Groups, n int)
//
// Lane g of 16 (two sets of 8: lanes 0-7 at byte offset 0 of each row,
// 8-15 at 32) runs make_qkx2_quants on group g: first ggml's initial fit
// (is = -1: iscale = nmax/(hi - lo), scale = 1/iscale, min = lo), then
// the candidates is = 0..nstep with iscale = ((rmin + rdelta·is) + nmax) /
// (hi - lo) in turn, each evaluated as in kx2LanesAVX2 (levels into c.L,
// sums, D, scale, min, error) at the lane's current min; a candidate with
// D > 0 and a smaller error becomes the lane's best and its min the lane's
// min. The two sets' dependency chains are independent and interleave.
// n ≥ 1. Registers: Y0/Y1 the inverse scales, Y15/Y14 the mins of the two
// sets.
TEXT ·kx2GroupsAVX2(SB), NOSPLIT, $0-16
	MOVQ         c+0(FP), R9
	MOVQ         n+8(FP), DX
	MOVL         6704(R9), AX  // wmode
	CMPL         AX, $0
	JEQ          kgstart
	CMPL         AX, $1
	JNE          kgabs

	// wmode 1: w = sqrt(Σx²/n) + |x|.
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	XORQ         CX, CX
	MOVQ         R9, R10

kgsum2:
	VMOVUPS      (R10), Y4
	VMULPS       Y4, Y4, Y4
	VADDPS       Y4, Y2, Y2
	VMOVUPS      32(R10), Y5
	VMULPS       Y5, Y5, Y5
	VADDPS       Y5, Y3, Y3
	ROWNEXT(kgsum2)
	CVTSQ2SS     DX, X4
	VBROADCASTSS X4, Y4
	VDIVPS       Y4, Y2, Y2
	VDIVPS       Y4, Y3, Y3
	VSQRTPS      Y2, Y2
	VSQRTPS      Y3, Y3
	JMP          kgw

kgabs: // wmode 2: w = |x|
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3

kgw:
	XORQ         CX, CX
	MOVQ         R9, R10

kgwloop:
	VMOVUPS      absMask<>(SB), Y6
	VANDPS       (R10), Y6, Y4
	VADDPS       Y4, Y2, Y4
	VMOVUPS      Y4, 2048(R10)
	VANDPS       32(R10), Y6, Y5
	VADDPS       Y5, Y3, Y5
	VMOVUPS      Y5, 2080(R10)
	ROWNEXT(kgwloop)

kgstart:
	// ggml's start: min and max seeded with x[0], Σw and Σw·x; min > 0
	// becomes 0.
	MOVQ         R9, R10
	VMOVUPS      (R9), Y2      // min
	VMOVUPS      32(R9), Y3
	VMOVAPS      Y2, Y4        // max
	VMOVAPS      Y3, Y5
	VMOVUPS      2048(R9), Y6  // Σw
	VMOVUPS      2080(R9), Y7
	VMULPS       Y2, Y6, Y8    // Σw·x
	VMULPS       Y3, Y7, Y9
	MOVQ         $1, CX
	CMPQ         CX, DX
	JGE          kgstarted

kgstartloop:
	ADDQ         $64, R10
	VMOVUPS      (R10), Y10
	VMOVUPS      2048(R10), Y11
	VMINPS       Y2, Y10, Y2   // x < min ? x : min
	VMAXPS       Y4, Y10, Y4   // x > max ? x : max
	VADDPS       Y11, Y6, Y6
	VMULPS       Y10, Y11, Y11
	VADDPS       Y11, Y8, Y8
	VMOVUPS      32(R10), Y10
	VMOVUPS      2080(R10), Y11
	VMINPS       Y3, Y10, Y3
	VMAXPS       Y5, Y10, Y5
	VADDPS       Y11, Y7, Y7
	VMULPS       Y10, Y11, Y11
	VADDPS       Y11, Y9, Y9
	INCQ         CX
	CMPQ         CX, DX
	JLT          kgstartloop

kgstarted:
	VXORPS       Y10, Y10, Y10
	VCMPPS       $0x1e, Y10, Y2, Y11 // min > 0
	VANDNPS      Y2, Y11, Y2
	VCMPPS       $0x1e, Y10, Y3, Y11
	VANDNPS      Y3, Y11, Y3
	VMOVUPS      Y2, 6720(R9)  // lo0
	VMOVUPS      Y3, 6752(R9)
	VMOVUPS      Y4, 6208(R9)  // hi
	VMOVUPS      Y5, 6240(R9)
	VMOVUPS      Y6, 6272(R9)  // Σw
	VMOVUPS      Y7, 6304(R9)
	VMOVUPS      Y8, 6336(R9)  // Σw·x
	VMOVUPS      Y9, 6368(R9)
	VMOVAPS      Y2, Y15
	VMOVAPS      Y3, Y14
	MOVQ         $-1, R11      // is; -1: the initial fit
	MOVLQSX      6700(R9), R12 // nstep

kgcand:
	VMOVUPS      6656(R9), Y2  // nmax
	TESTQ        R11, R11
	JS           kgdiv
	MOVQ         R11, X3
	VPBROADCASTD X3, Y3
	VCVTDQ2PS    Y3, Y3        // is
	VBROADCASTSS 6696(R9), Y4
	VMULPS       Y4, Y3, Y3    // rdelta·is
	VBROADCASTSS 6692(R9), Y4
	VADDPS       Y3, Y4, Y3    // rmin + rdelta·is
	VADDPS       Y2, Y3, Y2    // + nmax

kgdiv:
	VMOVUPS      6208(R9), Y3
	VSUBPS       Y15, Y3, Y3   // hi - lo
	VDIVPS       Y3, Y2, Y0
	VMOVUPS      6240(R9), Y3
	VSUBPS       Y14, Y3, Y3
	VDIVPS       Y3, Y2, Y1
	VXORPS       Y7, Y7, Y7
	VXORPS       Y8, Y8, Y8
	VXORPS       Y9, Y9, Y9
	VXORPS       Y10, Y10, Y10
	VXORPS       Y11, Y11, Y11
	VXORPS       Y12, Y12, Y12
	XORQ         CX, CX
	MOVQ         R9, R10       // &c.x[i]

kgfit:
	KGFIT(0, Y15, Y0, Y7, Y8, Y9, Y2, Y3, Y4)
	KGFIT(32, Y14, Y1, Y10, Y11, Y12, Y5, Y6, Y13)
	ROWNEXT(kgfit)
	TESTQ        R11, R11
	JS           kginit
	KGSOLVE(0, Y7, Y8, Y9, Y2, Y3, Y4, Y5, Y6, Y13)
	KGSOLVE(32, Y10, Y11, Y12, Y5, Y6, Y13, Y7, Y8, Y9)
	JMP          kgerr

kginit:
	VBROADCASTSS one<>(SB), Y2
	VDIVPS       Y0, Y2, Y3    // scale = 1/iscale
	VDIVPS       Y1, Y2, Y6
	VMOVAPS      Y15, Y4       // min = lo
	VMOVAPS      Y14, Y13

kgerr:
	VXORPS       Y7, Y7, Y7
	VXORPS       Y8, Y8, Y8
	XORQ         CX, CX
	MOVQ         R9, R10
	CMPL         6688(R9), $0
	JNE          kgmad

	KGPASS(kgsq, KGSQ)
	JMP          kgpick
	KGPASS(kgmad, KGMAD)

kgpick:
	TESTQ        R11, R11
	JS           kgfirst
	KGPICK(0, Y2, Y7, Y3, Y0, Y15, Y4, Y9, Y10)
	KGPICK(32, Y5, Y8, Y6, Y1, Y14, Y13, Y9, Y10)
	JMP          kgnext

kgfirst:
	VMOVUPS      Y7, 6400(R9)
	VMOVUPS      Y3, 6464(R9)
	VMOVUPS      Y0, 6528(R9)
	VMOVUPS      Y15, 6592(R9)
	VMOVUPS      Y8, 6432(R9)
	VMOVUPS      Y6, 6496(R9)
	VMOVUPS      Y1, 6560(R9)
	VMOVUPS      Y14, 6624(R9)

kgnext:
	INCQ         R11
	CMPQ         R11, R12
	JLE          kgcand
	VMOVUPS      Y15, 6144(R9)
	VMOVUPS      Y14, 6176(R9)
	VZEROUPPER
	RET

// QGLANE accumulates value i (R10 = &c.x[i]) into one set of 8
// make_qx_quants lanes at byte offset off: l = clamp(rint(is·x), -nmax,
// nmax-1) (rint is nearest_int here: |is·x| <= nmax + 0.9), lx += wv·l,
// l2 += (w·l)·l.
#define QGLANE(off, is, lx, l2, t1, t2) \
	VMULPS   off(R10), is, t1; \
	VROUNDPS $0, t1, t1; \
	VMAXPS   6432(R9), t1, t1; \
	VMINPS   6464(R9), t1, t1; \
	VMULPS   4096+off(R10), t1, t2; \
	VADDPS   t2, lx, lx; \
	VMULPS   2048+off(R10), t1, t2; \
	VMULPS   t1, t2, t2; \
	VADDPS   t2, l2, l2

// QGMAX is ggml's signed max loop on one set of 8 lanes at byte offset
// off, for value i: where |x| > amax (ordered), amax = |x| and mx = x.
// It leaves x in t1.
#define QGMAX(off, amax, mx, t1, t2, m) \
	VMOVUPS   off(R10), t1; \
	VANDPS    absMask<>(SB), t1, t2; \
	VCMPPS    $0x1e, amax, t2, m; \
	VBLENDVPS m, t1, mx, mx; \
	VBLENDVPS m, t2, amax, amax

// QGSQ sets value i's weights from x in t1: w = x·x, wv = w·x.
#define QGSQ(off, t1, t2) \
	VMULPS  t1, t1, t2; \
	VMOVUPS t2, 2048+off(R10); \
	VMULPS  t1, t2, t2; \
	VMOVUPS t2, 4096+off(R10)

// QGWV sets value i's wv = w·x from the given w and x in t1.
#define QGWV(off, t1, t2) \
	VMULPS  2048+off(R10), t1, t2; \
	VMOVUPS t2, 4096+off(R10)

// QGFIRST takes candidate 0 as the best: scale = lx/l2 (0 where l2 == 0),
// best = scale·lx.
#define QGFIRST(off, is, lx, l2, best, t1, t2) \
	VDIVPS    l2, lx, t1; \
	VXORPS    t2, t2, t2; \
	VCMPPS    $4, t2, l2, t2; \
	VANDPS    t2, t1, t1; \
	VMULPS    lx, t1, best; \
	VMOVUPS   t1, 6208+off(R9); \
	VMOVUPS   is, 6272+off(R9)

// QGPICK takes the candidate where l2 > 0 and lx·lx > best·l2: scale =
// lx/l2, best = scale·lx, and its inverse scale.
#define QGPICK(off, is, lx, l2, best, m, t1, t2) \
	VXORPS    t1, t1, t1; \
	VCMPPS    $0x1e, t1, l2, m; \
	VMULPS    lx, lx, t1; \
	VMULPS    l2, best, t2; \
	VCMPPS    $0x1e, t2, t1, t1; \
	VANDPS    t1, m, m; \
	VDIVPS    l2, lx, t1; \
	VMULPS    lx, t1, t2; \
	VBLENDVPS m, t2, best, best; \
	VMOVUPS   6208+off(R9), t2; \
	VBLENDVPS m, t1, t2, t2; \
	VMOVUPS   t2, 6208+off(R9); \
	VMOVUPS   6272+off(R9), t2; \
	VBLENDVPS m, is, t2, t2; \
	VMOVUPS   t2, 6272+off(R9)

// QGPASS is the loop (label loop) of the first pass over the DX rows of
// 64 bytes from R10 (CX counting from 0): both sets of lanes' amax and
// signed max (QGMAX into Y12-Y15), and the weights by wv, one of QGWV and
// QGSQ. Clobbers R10, CX, Y2-Y7.
#define QGPASS(loop, wv) \
loop: \
	QGMAX(0, Y12, Y14, Y2, Y3, Y6); \
	QGMAX(32, Y13, Y15, Y4, Y5, Y7); \
	wv(0, Y2, Y3); \
	wv(32, Y4, Y5); \
	ROWNEXT(loop)

// func qxGroupsAVX2(c *qxGroups, n int)
//
// Lane g of 16 (two sets of 8: lanes 0-7 at byte offset 0 of each row,
// 8-15 at 32) runs make_qx_quants on group g: the signed max mx and amax,
// the weights (w = x² where c.squares is set) and wv = w·x, then the 19
// candidates in ggml's order of trial, with inverse scales num[k]/mx,
// keeping the winner's scale and inverse scale. n ≥ 1. Registers: Y0/Y1
// the inverse scales, Y12/Y13 the best sums, Y14/Y15 the signed maxes.
TEXT ·qxGroupsAVX2(SB), NOSPLIT, $0-16
	MOVQ         c+0(FP), R9
	MOVQ         n+8(FP), DX
	VXORPS       Y12, Y12, Y12 // amax
	VXORPS       Y13, Y13, Y13
	VXORPS       Y14, Y14, Y14 // mx
	VXORPS       Y15, Y15, Y15
	XORQ         CX, CX
	MOVQ         R9, R10
	CMPL         6496(R9), $0  // squares
	JNE          qgsq

	QGPASS(qgmax, QGWV)
	JMP          qgready
	QGPASS(qgsq, QGSQ)

qgready:
	VMOVUPS      Y12, 6528(R9)
	VMOVUPS      Y13, 6560(R9)
	VMOVUPS      Y14, 6144(R9)
	VMOVUPS      Y15, 6176(R9)
	XORQ         R11, R11      // the candidate

qgcand:
	VBROADCASTSS 6336(R9)(R11*4), Y2
	VDIVPS       Y14, Y2, Y0
	VDIVPS       Y15, Y2, Y1
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	XORQ         CX, CX
	MOVQ         R9, R10

qgfit:
	QGLANE(0, Y0, Y4, Y5, Y8, Y9)
	QGLANE(32, Y1, Y6, Y7, Y10, Y11)
	ROWNEXT(qgfit)
	TESTQ        R11, R11
	JNZ          qgmore
	QGFIRST(0, Y0, Y4, Y5, Y12, Y8, Y9)
	QGFIRST(32, Y1, Y6, Y7, Y13, Y8, Y9)
	JMP          qgnext

qgmore:
	QGPICK(0, Y0, Y4, Y5, Y12, Y8, Y9, Y10)
	QGPICK(32, Y1, Y6, Y7, Y13, Y8, Y9, Y10)

qgnext:
	INCQ         R11
	CMPQ         R11, $19
	JLT          qgcand
	VZEROUPPER
	RET

// func requantAVX2(L *uint8, x *float32, n int, a *requantArgs)
//
// L[i] = clamp(nearest_int((x[i] + dm)/d), lo, hi) + add for n values, a
// multiple of 16, 16 per round: two vectors of int32 packed to bytes
// (results in [0, 255]).
TEXT ·requantAVX2(SB), NOSPLIT, $0-32
	MOVQ         L+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), DX
	MOVQ         a+24(FP), R9
	VBROADCASTSS 0(R9), Y4  // dm
	VBROADCASTSS 4(R9), Y5  // d
	VPBROADCASTD 8(R9), Y6  // lo
	VPBROADCASTD 12(R9), Y7 // hi
	VPBROADCASTD 16(R9), Y8 // add
	XORQ         CX, CX

rqloop:
	VMOVUPS      (SI)(CX*4), Y0
	VMOVUPS      32(SI)(CX*4), Y1
	VADDPS       Y4, Y0, Y0
	VADDPS       Y4, Y1, Y1
	VDIVPS       Y5, Y0, Y0
	VDIVPS       Y5, Y1, Y1
	NEAREST(Y0)
	NEAREST(Y1)
	VPMAXSD      Y6, Y0, Y0
	VPMAXSD      Y6, Y1, Y1
	VPMINSD      Y7, Y0, Y0
	VPMINSD      Y7, Y1, Y1
	VPADDD       Y8, Y0, Y0
	VPADDD       Y8, Y1, Y1
	VPACKSSDW    Y1, Y0, Y0   // words: x0-3 x8-11 | x4-7 x12-15
	VPERMQ       $0xd8, Y0, Y0 // x0-7 | x8-15
	VEXTRACTI128 $1, Y0, X1
	VPACKUSWB    X1, X0, X0   // bytes x0-15
	VMOVDQU      X0, (DI)(CX*1)
	ADDQ         $16, CX
	CMPQ         CX, DX
	JLT          rqloop
	VZEROUPPER
	RET

// IQ4CMP counts, in cnt, the midpoint at offset off that Y8 = 2·id·x reaches
// (x2 >= m, false for NaN), into mask m.
#define IQ4CMP(off, m) \
	VCMPPS $0x1d, iq4Mid<>+off(SB), Y8, m; \
	VPSUBD m, Y9, Y9

// IQ4LANE accumulates one value into 8 IQ4_NL trial sums: with Y6 = x,
// Y7 = w = x² and q = kvalues[best_index_int8(id·x)]: qx += (w·q)·x,
// q2 += (w·q)·q. The index is the number of midpoints 2·id·x reaches; the
// eighth one's mask picks the upper half of the level table.
#define IQ4LANE(id, qx, q2) \
	VMULPS    Y6, id, Y8; \
	VADDPS    Y8, Y8, Y8; \
	VPXOR     Y9, Y9, Y9; \
	IQ4CMP(0, Y10); \
	IQ4CMP(32, Y10); \
	IQ4CMP(64, Y10); \
	IQ4CMP(96, Y10); \
	IQ4CMP(128, Y10); \
	IQ4CMP(160, Y10); \
	IQ4CMP(192, Y10); \
	IQ4CMP(224, Y11); \
	IQ4CMP(256, Y10); \
	IQ4CMP(288, Y10); \
	IQ4CMP(320, Y10); \
	IQ4CMP(352, Y10); \
	IQ4CMP(384, Y10); \
	IQ4CMP(416, Y10); \
	IQ4CMP(448, Y10); \
	VPERMPS   iq4Lev<>+0(SB), Y9, Y12; \
	VPERMPS   iq4Lev<>+32(SB), Y9, Y13; \
	VBLENDVPS Y11, Y13, Y12, Y12; \
	VMULPS    Y12, Y7, Y13; \
	VMULPS    Y6, Y13, Y10; \
	VADDPS    Y10, qx, qx; \
	VMULPS    Y12, Y13, Y10; \
	VADDPS    Y10, q2, q2

// func iq4LanesAVX2(x, w *[32]float32, c *iq4Lanes)
TEXT ·iq4LanesAVX2(SB), NOSPLIT, $0-24
	MOVQ    x+0(FP), SI
	MOVQ    w+8(FP), DI
	MOVQ    c+16(FP), R9
	VBROADCASTSS 192(R9), Y2 // mx
	VMOVUPS      iq4Num<>+0(SB), Y0
	VMOVUPS      iq4Num<>+32(SB), Y1
	VDIVPS       Y2, Y0, Y0       // id = (itry + kvalues[0])/mx
	VDIVPS       Y2, Y1, Y1
	VBLENDPS     $1, 0(R9), Y0, Y0 // but id[0] as given
	VMOVUPS      Y0, 0(R9)
	VMOVUPS      Y1, 32(R9)
	VXORPS       Y2, Y2, Y2
	VXORPS  Y3, Y3, Y3
	VXORPS  Y4, Y4, Y4
	VXORPS  Y5, Y5, Y5
	XORQ    CX, CX

iq4loop:
	VBROADCASTSS (SI)(CX*4), Y6
	VBROADCASTSS (DI)(CX*4), Y7
	IQ4LANE(Y0, Y2, Y3)
	IQ4LANE(Y1, Y4, Y5)
	INCQ         CX
	CMPQ         CX, $32
	JLT          iq4loop

	VMOVUPS Y2, 64(R9)
	VMOVUPS Y4, 96(R9)
	VMOVUPS Y3, 128(R9)
	VMOVUPS Y5, 160(R9)
	VZEROUPPER
	RET

// magic is 1.5·2²³: nearest_int adds it and reads the low mantissa bits.
DATA magic<>+0(SB)/4, $0x4b400000
DATA magic<>+4(SB)/4, $0x4b400000
DATA magic<>+8(SB)/4, $0x4b400000
DATA magic<>+12(SB)/4, $0x4b400000
DATA magic<>+16(SB)/4, $0x4b400000
DATA magic<>+20(SB)/4, $0x4b400000
DATA magic<>+24(SB)/4, $0x4b400000
DATA magic<>+28(SB)/4, $0x4b400000
GLOBL magic<>(SB), RODATA|NOPTR, $32

// mant masks those bits; half is their value for a zero result.
DATA mant<>+0(SB)/4, $0x007fffff
DATA mant<>+4(SB)/4, $0x007fffff
DATA mant<>+8(SB)/4, $0x007fffff
DATA mant<>+12(SB)/4, $0x007fffff
DATA mant<>+16(SB)/4, $0x007fffff
DATA mant<>+20(SB)/4, $0x007fffff
DATA mant<>+24(SB)/4, $0x007fffff
DATA mant<>+28(SB)/4, $0x007fffff
GLOBL mant<>(SB), RODATA|NOPTR, $32
DATA half<>+0(SB)/4, $0x00400000
DATA half<>+4(SB)/4, $0x00400000
DATA half<>+8(SB)/4, $0x00400000
DATA half<>+12(SB)/4, $0x00400000
DATA half<>+16(SB)/4, $0x00400000
DATA half<>+20(SB)/4, $0x00400000
DATA half<>+24(SB)/4, $0x00400000
DATA half<>+28(SB)/4, $0x00400000
GLOBL half<>(SB), RODATA|NOPTR, $32

// absMask clears the sign bit (fabsf).
DATA absMask<>+0(SB)/4, $0x7fffffff
DATA absMask<>+4(SB)/4, $0x7fffffff
DATA absMask<>+8(SB)/4, $0x7fffffff
DATA absMask<>+12(SB)/4, $0x7fffffff
DATA absMask<>+16(SB)/4, $0x7fffffff
DATA absMask<>+20(SB)/4, $0x7fffffff
DATA absMask<>+24(SB)/4, $0x7fffffff
DATA absMask<>+28(SB)/4, $0x7fffffff
GLOBL absMask<>(SB), RODATA|NOPTR, $32

// iq4Mid holds, eight times each, the float32 sums of neighbouring
// IQ4_NL levels kvalues[j-1] + kvalues[j], j = 1..15 (twice the midpoints).
DATA iq4Mid<>+0(SB)/4, $0xc3670000
DATA iq4Mid<>+4(SB)/4, $0xc3670000
DATA iq4Mid<>+8(SB)/4, $0xc3670000
DATA iq4Mid<>+12(SB)/4, $0xc3670000
DATA iq4Mid<>+16(SB)/4, $0xc3670000
DATA iq4Mid<>+20(SB)/4, $0xc3670000
DATA iq4Mid<>+24(SB)/4, $0xc3670000
DATA iq4Mid<>+28(SB)/4, $0xc3670000
DATA iq4Mid<>+32(SB)/4, $0xc33b0000
DATA iq4Mid<>+36(SB)/4, $0xc33b0000
DATA iq4Mid<>+40(SB)/4, $0xc33b0000
DATA iq4Mid<>+44(SB)/4, $0xc33b0000
DATA iq4Mid<>+48(SB)/4, $0xc33b0000
DATA iq4Mid<>+52(SB)/4, $0xc33b0000
DATA iq4Mid<>+56(SB)/4, $0xc33b0000
DATA iq4Mid<>+60(SB)/4, $0xc33b0000
DATA iq4Mid<>+64(SB)/4, $0xc3140000
DATA iq4Mid<>+68(SB)/4, $0xc3140000
DATA iq4Mid<>+72(SB)/4, $0xc3140000
DATA iq4Mid<>+76(SB)/4, $0xc3140000
DATA iq4Mid<>+80(SB)/4, $0xc3140000
DATA iq4Mid<>+84(SB)/4, $0xc3140000
DATA iq4Mid<>+88(SB)/4, $0xc3140000
DATA iq4Mid<>+92(SB)/4, $0xc3140000
DATA iq4Mid<>+96(SB)/4, $0xc2e40000
DATA iq4Mid<>+100(SB)/4, $0xc2e40000
DATA iq4Mid<>+104(SB)/4, $0xc2e40000
DATA iq4Mid<>+108(SB)/4, $0xc2e40000
DATA iq4Mid<>+112(SB)/4, $0xc2e40000
DATA iq4Mid<>+116(SB)/4, $0xc2e40000
DATA iq4Mid<>+120(SB)/4, $0xc2e40000
DATA iq4Mid<>+124(SB)/4, $0xc2e40000
DATA iq4Mid<>+128(SB)/4, $0xc2a80000
DATA iq4Mid<>+132(SB)/4, $0xc2a80000
DATA iq4Mid<>+136(SB)/4, $0xc2a80000
DATA iq4Mid<>+140(SB)/4, $0xc2a80000
DATA iq4Mid<>+144(SB)/4, $0xc2a80000
DATA iq4Mid<>+148(SB)/4, $0xc2a80000
DATA iq4Mid<>+152(SB)/4, $0xc2a80000
DATA iq4Mid<>+156(SB)/4, $0xc2a80000
DATA iq4Mid<>+160(SB)/4, $0xc2640000
DATA iq4Mid<>+164(SB)/4, $0xc2640000
DATA iq4Mid<>+168(SB)/4, $0xc2640000
DATA iq4Mid<>+172(SB)/4, $0xc2640000
DATA iq4Mid<>+176(SB)/4, $0xc2640000
DATA iq4Mid<>+180(SB)/4, $0xc2640000
DATA iq4Mid<>+184(SB)/4, $0xc2640000
DATA iq4Mid<>+188(SB)/4, $0xc2640000
DATA iq4Mid<>+192(SB)/4, $0xc2000000
DATA iq4Mid<>+196(SB)/4, $0xc2000000
DATA iq4Mid<>+200(SB)/4, $0xc2000000
DATA iq4Mid<>+204(SB)/4, $0xc2000000
DATA iq4Mid<>+208(SB)/4, $0xc2000000
DATA iq4Mid<>+212(SB)/4, $0xc2000000
DATA iq4Mid<>+216(SB)/4, $0xc2000000
DATA iq4Mid<>+220(SB)/4, $0xc2000000
DATA iq4Mid<>+224(SB)/4, $0xc1100000
DATA iq4Mid<>+228(SB)/4, $0xc1100000
DATA iq4Mid<>+232(SB)/4, $0xc1100000
DATA iq4Mid<>+236(SB)/4, $0xc1100000
DATA iq4Mid<>+240(SB)/4, $0xc1100000
DATA iq4Mid<>+244(SB)/4, $0xc1100000
DATA iq4Mid<>+248(SB)/4, $0xc1100000
DATA iq4Mid<>+252(SB)/4, $0xc1100000
DATA iq4Mid<>+256(SB)/4, $0x41600000
DATA iq4Mid<>+260(SB)/4, $0x41600000
DATA iq4Mid<>+264(SB)/4, $0x41600000
DATA iq4Mid<>+268(SB)/4, $0x41600000
DATA iq4Mid<>+272(SB)/4, $0x41600000
DATA iq4Mid<>+276(SB)/4, $0x41600000
DATA iq4Mid<>+280(SB)/4, $0x41600000
DATA iq4Mid<>+284(SB)/4, $0x41600000
DATA iq4Mid<>+288(SB)/4, $0x42180000
DATA iq4Mid<>+292(SB)/4, $0x42180000
DATA iq4Mid<>+296(SB)/4, $0x42180000
DATA iq4Mid<>+300(SB)/4, $0x42180000
DATA iq4Mid<>+304(SB)/4, $0x42180000
DATA iq4Mid<>+308(SB)/4, $0x42180000
DATA iq4Mid<>+312(SB)/4, $0x42180000
DATA iq4Mid<>+316(SB)/4, $0x42180000
DATA iq4Mid<>+320(SB)/4, $0x427c0000
DATA iq4Mid<>+324(SB)/4, $0x427c0000
DATA iq4Mid<>+328(SB)/4, $0x427c0000
DATA iq4Mid<>+332(SB)/4, $0x427c0000
DATA iq4Mid<>+336(SB)/4, $0x427c0000
DATA iq4Mid<>+340(SB)/4, $0x427c0000
DATA iq4Mid<>+344(SB)/4, $0x427c0000
DATA iq4Mid<>+348(SB)/4, $0x427c0000
DATA iq4Mid<>+352(SB)/4, $0x42b60000
DATA iq4Mid<>+356(SB)/4, $0x42b60000
DATA iq4Mid<>+360(SB)/4, $0x42b60000
DATA iq4Mid<>+364(SB)/4, $0x42b60000
DATA iq4Mid<>+368(SB)/4, $0x42b60000
DATA iq4Mid<>+372(SB)/4, $0x42b60000
DATA iq4Mid<>+376(SB)/4, $0x42b60000
DATA iq4Mid<>+380(SB)/4, $0x42b60000
DATA iq4Mid<>+384(SB)/4, $0x42f40000
DATA iq4Mid<>+388(SB)/4, $0x42f40000
DATA iq4Mid<>+392(SB)/4, $0x42f40000
DATA iq4Mid<>+396(SB)/4, $0x42f40000
DATA iq4Mid<>+400(SB)/4, $0x42f40000
DATA iq4Mid<>+404(SB)/4, $0x42f40000
DATA iq4Mid<>+408(SB)/4, $0x42f40000
DATA iq4Mid<>+412(SB)/4, $0x42f40000
DATA iq4Mid<>+416(SB)/4, $0x431e0000
DATA iq4Mid<>+420(SB)/4, $0x431e0000
DATA iq4Mid<>+424(SB)/4, $0x431e0000
DATA iq4Mid<>+428(SB)/4, $0x431e0000
DATA iq4Mid<>+432(SB)/4, $0x431e0000
DATA iq4Mid<>+436(SB)/4, $0x431e0000
DATA iq4Mid<>+440(SB)/4, $0x431e0000
DATA iq4Mid<>+444(SB)/4, $0x431e0000
DATA iq4Mid<>+448(SB)/4, $0x434a0000
DATA iq4Mid<>+452(SB)/4, $0x434a0000
DATA iq4Mid<>+456(SB)/4, $0x434a0000
DATA iq4Mid<>+460(SB)/4, $0x434a0000
DATA iq4Mid<>+464(SB)/4, $0x434a0000
DATA iq4Mid<>+468(SB)/4, $0x434a0000
DATA iq4Mid<>+472(SB)/4, $0x434a0000
DATA iq4Mid<>+476(SB)/4, $0x434a0000
GLOBL iq4Mid<>(SB), RODATA|NOPTR, $480

// iq4Lev holds the 16 IQ4_NL levels as float32, for two VPERMPS lookups.
DATA iq4Lev<>+0(SB)/4, $0xc2fe0000
DATA iq4Lev<>+4(SB)/4, $0xc2d00000
DATA iq4Lev<>+8(SB)/4, $0xc2a60000
DATA iq4Lev<>+12(SB)/4, $0xc2820000
DATA iq4Lev<>+16(SB)/4, $0xc2440000
DATA iq4Lev<>+20(SB)/4, $0xc20c0000
DATA iq4Lev<>+24(SB)/4, $0xc1b00000
DATA iq4Lev<>+28(SB)/4, $0xc1200000
DATA iq4Lev<>+32(SB)/4, $0x3f800000
DATA iq4Lev<>+36(SB)/4, $0x41500000
DATA iq4Lev<>+40(SB)/4, $0x41c80000
DATA iq4Lev<>+44(SB)/4, $0x42180000
DATA iq4Lev<>+48(SB)/4, $0x42540000
DATA iq4Lev<>+52(SB)/4, $0x428a0000
DATA iq4Lev<>+56(SB)/4, $0x42b20000
DATA iq4Lev<>+60(SB)/4, $0x42e20000
GLOBL iq4Lev<>(SB), RODATA|NOPTR, $64

// iota is 0..7, the lane numbers.
DATA iota<>+0(SB)/4, $0
DATA iota<>+4(SB)/4, $1
DATA iota<>+8(SB)/4, $2
DATA iota<>+12(SB)/4, $3
DATA iota<>+16(SB)/4, $4
DATA iota<>+20(SB)/4, $5
DATA iota<>+24(SB)/4, $6
DATA iota<>+28(SB)/4, $7
GLOBL iota<>(SB), RODATA|NOPTR, $32

// iq4Num holds the numerators itry + kvalues[0] of IQ4_NL's trial inverse
// scales, itry = -7..7, after an unused slot for the first trial.
DATA iq4Num<>+0(SB)/4, $0x0
DATA iq4Num<>+4(SB)/4, $0xc3060000
DATA iq4Num<>+8(SB)/4, $0xc3050000
DATA iq4Num<>+12(SB)/4, $0xc3040000
DATA iq4Num<>+16(SB)/4, $0xc3030000
DATA iq4Num<>+20(SB)/4, $0xc3020000
DATA iq4Num<>+24(SB)/4, $0xc3010000
DATA iq4Num<>+28(SB)/4, $0xc3000000
DATA iq4Num<>+32(SB)/4, $0xc2fe0000
DATA iq4Num<>+36(SB)/4, $0xc2fc0000
DATA iq4Num<>+40(SB)/4, $0xc2fa0000
DATA iq4Num<>+44(SB)/4, $0xc2f80000
DATA iq4Num<>+48(SB)/4, $0xc2f60000
DATA iq4Num<>+52(SB)/4, $0xc2f40000
DATA iq4Num<>+56(SB)/4, $0xc2f20000
DATA iq4Num<>+60(SB)/4, $0xc2f00000
GLOBL iq4Num<>(SB), RODATA|NOPTR, $64

// one is 1.0, for ggml's initial scale 1/iscale.
DATA one<>+0(SB)/4, $0x3f800000
GLOBL one<>(SB), RODATA|NOPTR, $4

// zero is eight zeros (int32 or float32), the lowest level.
DATA zero<>+0(SB)/8, $0
DATA zero<>+8(SB)/8, $0
DATA zero<>+16(SB)/8, $0
DATA zero<>+24(SB)/8, $0
GLOBL zero<>(SB), RODATA|NOPTR, $32
// NEARTERM adds to Y14 the terms of one coordinate of eight neighbours:
// their table indices (bytes at off(SI)) pick from the term table t.
#define NEARTERM(off, t) \
	VPMOVZXBD off(SI), Y15; \
	VPERMPS   t, Y15, Y15; \
	VADDPS    Y15, Y14, Y14

// NEARTABLE sets t to the terms (w·d)·d, d = scale·q - x, of the eight
// levels' q in Y0 for the coordinate x = off(DX), w = off(DI).
#define NEARTABLE(off, t) \
	VBROADCASTSS off(DX), Y5; \
	VSUBPS       Y5, Y0, Y5; \
	VBROADCASTSS off(DI), t; \
	VMULPS       Y5, t, t; \
	VMULPS       Y5, t, t

// NEARINIT starts a scan of n neighbours: Y7 the least distance of each
// lane, Y8 its position, Y9 the lanes' positions, Y10 the step, Y11 n.
#define NEARINIT(n) \
	VPBROADCASTD maxF32<>(SB), Y7; \
	VPXOR        Y8, Y8, Y8; \
	VMOVDQU      iota<>(SB), Y9; \
	VPBROADCASTD eight<>(SB), Y10; \
	VPBROADCASTD n, Y11

// NEARKEEP keeps, lane by lane, the distance Y14 where it is below the
// lane's least (false for NaN) and the position is below n.
#define NEARKEEP \
	VPCMPGTD  Y9, Y11, Y13; \
	VCMPPS    $0x11, Y7, Y14, Y15; \
	VPAND     Y13, Y15, Y15; \
	VBLENDVPS Y15, Y14, Y7, Y7; \
	VBLENDVPS Y15, Y9, Y8, Y8; \
	VPADDD    Y10, Y9, Y9

// NEARRESULT writes the position of the least distance over the lanes (the
// least position among equal distances; 0 where none is below float32's
// maximum) to ret.
#define NEARRESULT(ret) \
	VEXTRACTF128 $1, Y7, X13; \
	VMINPS       X13, X7, X13; \
	VSHUFPS      $0x4e, X13, X13, X14; \
	VMINPS       X14, X13, X13; \
	VSHUFPS      $0xb1, X13, X13, X14; \
	VMINPS       X14, X13, X13; \
	VBROADCASTSS X13, Y13; \
	VCMPPS       $0x00, Y13, Y7, Y14; \
	VPBROADCASTD maxI32<>(SB), Y15; \
	VBLENDVPS    Y14, Y8, Y15, Y15; \
	VEXTRACTI128 $1, Y15, X14; \
	VPMINSD      X14, X15, X15; \
	VPSHUFD      $0x4e, X15, X14; \
	VPMINSD      X14, X15, X15; \
	VPSHUFD      $0xb1, X15, X14; \
	VPMINSD      X14, X15, X15; \
	VMOVD        X15, AX; \
	MOVQ         AX, ret

// NEARTABLES4 sets Y1-Y4 to the term tables (NEARTABLE) of a 4-value
// group's coordinates 0-3 at 0(DX), 0(DI).
#define NEARTABLES4 \
	NEARTABLE(0, Y1); \
	NEARTABLE(4, Y2); \
	NEARTABLE(8, Y3); \
	NEARTABLE(12, Y4)

// NEARSCAN4 is the scan loop (label loop) over the CX neighbours at SI of
// a 4-value group, eight at a time: per eight, 4×8 table-index bytes,
// coordinate-major, picking from the tables Y1-Y4; NEARINIT must have run,
// NEARRESULT reads the outcome. Clobbers SI, CX, Y7-Y9, Y13-Y15.
#define NEARSCAN4(loop) \
loop: \
	VPMOVZXBD 0(SI), Y14; \
	VPERMPS   Y1, Y14, Y14; \
	NEARTERM(8, Y2); \
	NEARTERM(16, Y3); \
	NEARTERM(24, Y4); \
	NEARKEEP; \
	ADDQ      $32, SI; \
	SUBQ      $8, CX; \
	JGT       loop

// NEARSCAN8 is NEARSCAN4 for an 8-value group: per eight neighbours, 8×8
// bytes, coordinates 2p and 2p+1 picking from the same table Y(p+1).
#define NEARSCAN8(loop) \
loop: \
	VPMOVZXBD 0(SI), Y14; \
	VPERMPS   Y1, Y14, Y14; \
	NEARTERM(8, Y1); \
	NEARTERM(16, Y2); \
	NEARTERM(24, Y2); \
	NEARTERM(32, Y3); \
	NEARTERM(40, Y3); \
	NEARTERM(48, Y4); \
	NEARTERM(56, Y4); \
	NEARKEEP; \
	ADDQ      $64, SI; \
	SUBQ      $8, CX; \
	JGT       loop

// func nearLanesAVX2(x, w *float32, n int, lv *uint8, scale float32) int
//
// The weighted distances Σ w·(scale·q - x)² of n neighbours of a 4-value
// group on an 8-level grid (q = 2l+1), eight at a time, each lane adding
// its four terms in coordinate order as the scalar scan does; returns the
// position of the least (the first on ties; 0 where none is below
// float32's maximum). lv: per eight neighbours, 4×8 level bytes,
// coordinate-major.
TEXT ·nearLanesAVX2(SB), NOSPLIT, $0-48
	MOVQ         x+0(FP), DX
	MOVQ         w+8(FP), DI
	MOVQ         n+16(FP), CX
	MOVQ         lv+24(FP), SI
	VBROADCASTSS scale+32(FP), Y0
	VMULPS       oddQ<>(SB), Y0, Y0 // scale·(2l+1), l = 0..7
	NEARTABLES4
	NEARINIT(n+16(FP))
	NEARSCAN4(near4loop)
	NEARRESULT(ret+40(FP))
	VZEROUPPER
	RET

// func nearScan8AVX2(e *float32, n int, lv *uint8) int
//
// The distances of n neighbours of an 8-value group, each the sum in
// coordinate order of its eight terms e[4i + l] (coordinate i, level
// l < 4), eight neighbours at a time; returns the position of the least as
// nearLanesAVX2 does. lv: per eight neighbours, 8×8 bytes 4·(i%2) + l,
// coordinate-major (coordinates 2p and 2p+1 share the register of
// e[8p:8p+8]).
TEXT ·nearScan8AVX2(SB), NOSPLIT, $0-32
	MOVQ    e+0(FP), DX
	MOVQ    n+8(FP), CX
	MOVQ    lv+16(FP), SI
	VMOVUPS 0(DX), Y1
	VMOVUPS 32(DX), Y2
	VMOVUPS 64(DX), Y3
	VMOVUPS 96(DX), Y4
	NEARINIT(n+8(FP))
	NEARSCAN8(near8loop)
	NEARRESULT(ret+24(FP))
	VZEROUPPER
	RET

// IQ3LEVELS sets dst to the levels clamp(nearest_int(0.5·(id·x - 1)), 0,
// 7) of the eight values at off(R9), with Y6 = id, Y12 = 0, Y13 = 7,
// Y4 = 1, Y5 = 0.5.
#define IQ3LEVELS(off, dst) \
	VMULPS  off(R9), Y6, dst; \
	VSUBPS  Y4, dst, dst; \
	VMULPS  Y5, dst, dst; \
	NEAREST(dst); \
	VPMAXSD Y12, dst, dst; \
	VPMINSD Y13, dst, dst

// LTSTORE writes the trial's levels L into column slot of LT (LT[i][slot]
// at 992 + 128·i + 4·slot).
#define LTSTORE \
	MOVQ 5080(R9), R8; \
	LEAQ 728(R9)(R8*4), DX; \
	MOVL 512+0(R9), AX; \
	MOVL AX, 0(DX); \
	MOVL 512+4(R9), AX; \
	MOVL AX, 128(DX); \
	MOVL 512+8(R9), AX; \
	MOVL AX, 256(DX); \
	MOVL 512+12(R9), AX; \
	MOVL AX, 384(DX); \
	MOVL 512+16(R9), AX; \
	MOVL AX, 512(DX); \
	MOVL 512+20(R9), AX; \
	MOVL AX, 640(DX); \
	MOVL 512+24(R9), AX; \
	MOVL AX, 768(DX); \
	MOVL 512+28(R9), AX; \
	MOVL AX, 896(DX); \
	MOVL 512+32(R9), AX; \
	MOVL AX, 1024(DX); \
	MOVL 512+36(R9), AX; \
	MOVL AX, 1152(DX); \
	MOVL 512+40(R9), AX; \
	MOVL AX, 1280(DX); \
	MOVL 512+44(R9), AX; \
	MOVL AX, 1408(DX); \
	MOVL 512+48(R9), AX; \
	MOVL AX, 1536(DX); \
	MOVL 512+52(R9), AX; \
	MOVL AX, 1664(DX); \
	MOVL 512+56(R9), AX; \
	MOVL AX, 1792(DX); \
	MOVL 512+60(R9), AX; \
	MOVL AX, 1920(DX); \
	MOVL 512+64(R9), AX; \
	MOVL AX, 2048(DX); \
	MOVL 512+68(R9), AX; \
	MOVL AX, 2176(DX); \
	MOVL 512+72(R9), AX; \
	MOVL AX, 2304(DX); \
	MOVL 512+76(R9), AX; \
	MOVL AX, 2432(DX); \
	MOVL 512+80(R9), AX; \
	MOVL AX, 2560(DX); \
	MOVL 512+84(R9), AX; \
	MOVL AX, 2688(DX); \
	MOVL 512+88(R9), AX; \
	MOVL AX, 2816(DX); \
	MOVL 512+92(R9), AX; \
	MOVL AX, 2944(DX); \
	MOVL 512+96(R9), AX; \
	MOVL AX, 3072(DX); \
	MOVL 512+100(R9), AX; \
	MOVL AX, 3200(DX); \
	MOVL 512+104(R9), AX; \
	MOVL AX, 3328(DX); \
	MOVL 512+108(R9), AX; \
	MOVL AX, 3456(DX); \
	MOVL 512+112(R9), AX; \
	MOVL AX, 3584(DX); \
	MOVL 512+116(R9), AX; \
	MOVL AX, 3712(DX); \
	MOVL 512+120(R9), AX; \
	MOVL AX, 3840(DX); \
	MOVL 512+124(R9), AX; \
	MOVL AX, 3968(DX)

// TRIALLEVELS starts a scale trial (iq3TrialAVX2, iq2TrialAVX2), R9 = t:
// the levels L = clamp(nearest_int(0.5·(id·x - 1)), 0, max) of the 32
// values to 512(R9) (IQ3LEVELS, max the int32 at maxc), and the groups'
// packed indices u, each level shifted by the shifts at shiftc and the
// lanes summed pairwise, to Y8 (as VPHADDD leaves them). Sets Y4 = 1,
// Y5 = 0.5, Y6 = id, Y7 = the shifts, Y12 = 0, Y13 = max; clobbers Y9-Y11.
#define TRIALLEVELS(maxc, shiftc) \
	VBROADCASTSS 672(R9), Y6; \
	VPXOR        Y12, Y12, Y12; \
	VPBROADCASTD maxc<>(SB), Y13; \
	VBROADCASTSS oneF<>(SB), Y4; \
	VBROADCASTSS halfF<>(SB), Y5; \
	IQ3LEVELS(0, Y8); \
	IQ3LEVELS(32, Y9); \
	IQ3LEVELS(64, Y10); \
	IQ3LEVELS(96, Y11); \
	VMOVDQU      Y8, 512(R9); \
	VMOVDQU      Y9, 544(R9); \
	VMOVDQU      Y10, 576(R9); \
	VMOVDQU      Y11, 608(R9); \
	VMOVDQU      shiftc<>(SB), Y7; \
	VPSLLVD      Y7, Y8, Y8; \
	VPSLLVD      Y7, Y9, Y9; \
	VPSLLVD      Y7, Y10, Y10; \
	VPSLLVD      Y7, Y11, Y11; \
	VPHADDD      Y9, Y8, Y8; \
	VPHADDD      Y11, Y10, Y10; \
	VPHADDD      Y10, Y8, Y8

// ONGRID looks group BX's packed index u (AX) up in the grid's index table
// (R11): off-grid (negative) jumps to off; on-grid sets bit BX of the mask
// R10 and jumps to next. Clobbers CX.
#define ONGRID(off, next) \
	MOVL  (R11)(AX*4), CX; \
	TESTL CX, CX; \
	JS    off; \
	BTSQ  BX, R10; \
	JMP   next

// OFFGRID readies the neighbour scan of the off-grid group BX with packed
// index u (AX): SI and R12 = its neighbours' chunks, CX and X11 their
// number, R13 = BX<<shift (the group's byte offset), DX and DI its x and
// w (0(R9) and 128(R9) plus R13).
#define OFFGRID(shift) \
	MOVQ    704(R9), CX; \
	MOVLQSX (CX)(AX*4), SI; \
	ADDQ    696(R9), SI; \
	MOVQ    SI, R12; \
	MOVQ    712(R9), CX; \
	MOVLQSX (CX)(AX*4), CX; \
	VMOVD   CX, X11; \
	MOVQ    BX, R13; \
	SHLQ    $shift, R13; \
	LEAQ    0(R9)(R13*1), DX; \
	LEAQ    128(R9)(R13*1), DI

// NEIGHBOUR ends an off-grid group's scan: CX = the chosen neighbour's
// first byte in the chunks at R12 (chunks of 8 neighbours, 1<<shift bytes
// each; its coordinates' bytes 8 apart), DX = the group's levels in L
// (512(R9) plus R13). Clobbers AX, Y13-Y15.
#define NEIGHBOUR(shift) \
	NEARRESULT(AX); \
	MOVQ AX, CX; \
	SHRQ $3, CX; \
	SHLQ $shift, CX; \
	ADDQ R12, CX; \
	ANDQ $7, AX; \
	ADDQ AX, CX; \
	LEAQ 512(R9)(R13*1), DX

// TRIALEND is the groups' loop end (label next: BX+1, back to group while
// below ngroups) and the trial's end: the levels into LT (LTSTORE), the
// on-grid mask R10 to t.onGrid.
#define TRIALEND(next, ngroups, group) \
next: \
	INCQ BX; \
	CMPQ BX, ngroups; \
	JLT  group; \
	LTSTORE; \
	MOVL R10, 680(R9); \
	VZEROUPPER; \
	RET

// func iq3TrialAVX2(t *iqTrial)
//
// One scale trial of an IQ3 block (iqtrial.go): levels, packed indices,
// grid lookups and the off-grid groups' neighbour scans (as nearLanesAVX2);
// the trial's levels go to column t.slot of LT, the on-grid groups to
// t.onGrid.
TEXT ·iq3TrialAVX2(SB), NOSPLIT, $0-8
	MOVQ         t+0(FP), R9
	TRIALLEVELS(seven, shift3) // u of groups 0,2,4,6 | 1,3,5,7 in Y8
	VMOVDQU      Y8, 640(R9)
	VBROADCASTSS 676(R9), Y0
	VMULPS       oddQ<>(SB), Y0, Y0 // scale·(2l+1), l = 0..7
	XORQ         R10, R10           // on-grid mask
	XORQ         BX, BX             // group k
	MOVQ         688(R9), R11       // index

iq3group:
	MOVQ  BX, AX
	ANDQ  $1, AX
	SHLQ  $2, AX
	MOVQ  BX, CX
	SHRQ  $1, CX
	ADDQ  CX, AX
	MOVL  640(R9)(AX*4), AX // u
	ONGRID(iq3off, iq3next)

iq3off:
	OFFGRID(4) // 16·k: the group's byte offset
	NEARTABLES4
	NEARINIT(X11)
	NEARSCAN4(iq3scan)
	NEIGHBOUR(5)
	MOVBLZX 0(CX), AX
	MOVL    AX, 0(DX)
	MOVBLZX 8(CX), AX
	MOVL    AX, 4(DX)
	MOVBLZX 16(CX), AX
	MOVL    AX, 8(DX)
	MOVBLZX 24(CX), AX
	MOVL    AX, 12(DX)
	TRIALEND(iq3next, $8, iq3group)

// IQ2TABLE sets t to the terms (w·d)·d, d = scale·q - x, of coordinates
// 2p (lanes 0-3) and 2p+1 (lanes 4-7) at their four levels' q in Y0, the
// coordinates' x at xo, xo+4 (DX) and w at xo, xo+4 (DI).
#define IQ2TABLE(xo, xo4, t) \
	VBROADCASTSS xo(DX), Y5; \
	VBROADCASTSS xo4(DX), Y15; \
	VBLENDPS     $0xf0, Y15, Y5, Y5; \
	VSUBPS       Y5, Y0, Y5; \
	VBROADCASTSS xo(DI), t; \
	VBROADCASTSS xo4(DI), Y15; \
	VBLENDPS     $0xf0, Y15, t, t; \
	VMULPS       Y5, t, t; \
	VMULPS       Y5, t, t

// IQ2LEVEL stores the level of coordinate i of the chosen neighbour (its
// byte 4·(i%2) + l at 8i(CX)) to 4i(DX).
#define IQ2LEVEL(b, o) \
	MOVBLZX b(CX), AX; \
	ANDL    $3, AX; \
	MOVL    AX, o(DX)

// func iq2TrialAVX2(t *iqTrial)
//
// One scale trial of an IQ2 block of t.n = 16 or 32 values (groups of 8,
// levels 0..2, iqtrial.go), as iq3TrialAVX2 does for IQ3.
TEXT ·iq2TrialAVX2(SB), NOSPLIT, $0-8
	MOVQ         t+0(FP), R9
	TRIALLEVELS(two, shift2)
	VEXTRACTI128 $1, Y8, X9
	VPADDD       X9, X8, X8         // u of groups 0..3
	VMOVDQU      X8, 640(R9)
	VBROADCASTSS 676(R9), Y0
	VMULPS       oddQ2<>(SB), Y0, Y0 // scale·(2l+1), l = 0..3, twice
	XORQ         R10, R10            // on-grid mask
	XORQ         BX, BX              // group k
	MOVQ         688(R9), R11        // index
	MOVL         684(R9), R14
	SHRQ         $3, R14             // groups

iq2group:
	MOVL  640(R9)(BX*4), AX // u
	ONGRID(iq2off, iq2next)

iq2off:
	OFFGRID(5) // 32·k: the group's byte offset
	IQ2TABLE(0, 4, Y1)
	IQ2TABLE(8, 12, Y2)
	IQ2TABLE(16, 20, Y3)
	IQ2TABLE(24, 28, Y4)
	NEARINIT(X11)
	NEARSCAN8(iq2scan)
	NEIGHBOUR(6)
	IQ2LEVEL(0, 0)
	IQ2LEVEL(8, 4)
	IQ2LEVEL(16, 8)
	IQ2LEVEL(24, 12)
	IQ2LEVEL(32, 16)
	IQ2LEVEL(40, 20)
	IQ2LEVEL(48, 24)
	IQ2LEVEL(56, 28)
	TRIALEND(iq2next, R14, iq2group)

// shift2 shifts the levels of a group's eight values to their places in
// its packed index.
DATA shift2<>+0(SB)/4, $0
DATA shift2<>+4(SB)/4, $2
DATA shift2<>+8(SB)/4, $4
DATA shift2<>+12(SB)/4, $6
DATA shift2<>+16(SB)/4, $8
DATA shift2<>+20(SB)/4, $10
DATA shift2<>+24(SB)/4, $12
DATA shift2<>+28(SB)/4, $14
GLOBL shift2<>(SB), RODATA|NOPTR, $32

// oddQ2 holds the grid values 2l+1 of the levels l = 0..3, twice.
DATA oddQ2<>+0(SB)/4, $0x3f800000
DATA oddQ2<>+4(SB)/4, $0x40400000
DATA oddQ2<>+8(SB)/4, $0x40a00000
DATA oddQ2<>+12(SB)/4, $0x40e00000
DATA oddQ2<>+16(SB)/4, $0x3f800000
DATA oddQ2<>+20(SB)/4, $0x40400000
DATA oddQ2<>+24(SB)/4, $0x40a00000
DATA oddQ2<>+28(SB)/4, $0x40e00000
GLOBL oddQ2<>(SB), RODATA|NOPTR, $32

DATA two<>+0(SB)/4, $2
GLOBL two<>(SB), RODATA|NOPTR, $4

// SUMLANES adds value i's terms to 8 trials' sums, qx += (w·x)·q and
// q2 += (w·q)·q, q = 2L+1 for the trials' levels L at off(SI), with
// Y8 = w·x, Y9 = w, Y15 = 1 (int32).
#define SUMLANES(off, qx, q2) \
	VMOVDQU   off(SI), Y10; \
	VPADDD    Y10, Y10, Y10; \
	VPADDD    Y15, Y10, Y10; \
	VCVTDQ2PS Y10, Y10; \
	VMULPS    Y8, Y10, Y11; \
	VADDPS    Y11, qx, qx; \
	VMULPS    Y9, Y10, Y12; \
	VMULPS    Y10, Y12, Y12; \
	VADDPS    Y12, q2, q2

// func iqSumsAVX2(t *iqTrial)
//
// The sums Σ (w·x)·q and Σ (w·q)·q of 32 trials' levels (LT, one trial
// per lane), each lane adding the terms of values 0..n-1 in order as the
// scalar search does (iqtrial.go).
TEXT ·iqSumsAVX2(SB), NOSPLIT, $0-8
	MOVQ         t+0(FP), R9
	MOVL         684(R9), CX // n
	VPBROADCASTD oneI<>(SB), Y15
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	VXORPS       Y2, Y2, Y2
	VXORPS       Y3, Y3, Y3
	VXORPS       Y4, Y4, Y4
	VXORPS       Y5, Y5, Y5
	VXORPS       Y6, Y6, Y6
	VXORPS       Y7, Y7, Y7
	LEAQ         728(R9), SI
	XORQ         BX, BX

sumloop:
	VBROADCASTSS 256(R9)(BX*4), Y8
	VBROADCASTSS 384(R9)(BX*4), Y9
	SUMLANES(0, Y0, Y4)
	SUMLANES(32, Y1, Y5)
	SUMLANES(64, Y2, Y6)
	SUMLANES(96, Y3, Y7)
	ADDQ         $128, SI
	INCQ         BX
	CMPQ         BX, CX
	JLT          sumloop

	VMOVUPS Y0, 4824(R9)
	VMOVUPS Y1, 4856(R9)
	VMOVUPS Y2, 4888(R9)
	VMOVUPS Y3, 4920(R9)
	VMOVUPS Y4, 4952(R9)
	VMOVUPS Y5, 4984(R9)
	VMOVUPS Y6, 5016(R9)
	VMOVUPS Y7, 5048(R9)
	VZEROUPPER
	RET

// shift3 shifts the levels of a group's four values to their places in its
// packed index (two groups per register).
DATA shift3<>+0(SB)/4, $0
DATA shift3<>+4(SB)/4, $3
DATA shift3<>+8(SB)/4, $6
DATA shift3<>+12(SB)/4, $9
DATA shift3<>+16(SB)/4, $0
DATA shift3<>+20(SB)/4, $3
DATA shift3<>+24(SB)/4, $6
DATA shift3<>+28(SB)/4, $9
GLOBL shift3<>(SB), RODATA|NOPTR, $32

DATA oneF<>+0(SB)/4, $0x3f800000
GLOBL oneF<>(SB), RODATA|NOPTR, $4
DATA halfF<>+0(SB)/4, $0x3f000000
GLOBL halfF<>(SB), RODATA|NOPTR, $4
DATA oneI<>+0(SB)/4, $1
GLOBL oneI<>(SB), RODATA|NOPTR, $4
DATA seven<>+0(SB)/4, $7
GLOBL seven<>(SB), RODATA|NOPTR, $4

// oddQ holds the grid values 2l+1 of the levels l = 0..7.
DATA oddQ<>+0(SB)/4, $0x3f800000
DATA oddQ<>+4(SB)/4, $0x40400000
DATA oddQ<>+8(SB)/4, $0x40a00000
DATA oddQ<>+12(SB)/4, $0x40e00000
DATA oddQ<>+16(SB)/4, $0x41100000
DATA oddQ<>+20(SB)/4, $0x41300000
DATA oddQ<>+24(SB)/4, $0x41500000
DATA oddQ<>+28(SB)/4, $0x41700000
GLOBL oddQ<>(SB), RODATA|NOPTR, $32

DATA eight<>+0(SB)/4, $8
GLOBL eight<>(SB), RODATA|NOPTR, $4

// maxF32 is float32's largest finite value, maxI32 int32's.
DATA maxF32<>+0(SB)/4, $0x7f7fffff
GLOBL maxF32<>(SB), RODATA|NOPTR, $4
DATA maxI32<>+0(SB)/4, $0x7fffffff
GLOBL maxI32<>(SB), RODATA|NOPTR, $4
