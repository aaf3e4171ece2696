//go:build !purego

#include "textflag.h"

// AVX-512 VNNI kernels (F, BW, VL, VBMI, VNNI). Accumulation is exact in
// int32 as in kernels_amd64.s, and requantization is the same instruction
// sequence on 16 lanes, so the bits are the AVX2 kernels' (and MLAS's).
// The last step, int32 to uint8, is VPACKSSDW + VPACKUSWB in qgemmVNNI, and
// elsewhere VPMAXSD with 0 then VPMOVUSDB: the same clamp to [0, 255].

// reqPerm: byte o of qgemmVNNI's two packed rows comes from byte reqPerm[o].
DATA ·reqPerm+0(SB)/8, $0x1312111003020100
DATA ·reqPerm+8(SB)/8, $0x3332313023222120
DATA ·reqPerm+16(SB)/8, $0x1716151407060504
DATA ·reqPerm+24(SB)/8, $0x3736353427262524
DATA ·reqPerm+32(SB)/8, $0x1b1a19180b0a0908
DATA ·reqPerm+40(SB)/8, $0x3b3a39382b2a2928
DATA ·reqPerm+48(SB)/8, $0x1f1e1d1c0f0e0d0c
DATA ·reqPerm+56(SB)/8, $0x3f3e3d3c2f2e2d2c
GLOBL ·reqPerm(SB), RODATA|NOPTR, $64

// func qgemmVNNI(w *int32, x *uint8, xstride int, kq int, nblk int, out *uint8, ldo int, post *requant8)
//
// For nblk blocks of 32 pixels: 8 output rows x 32 pixels, summing over kq
// input quads. w holds, per quad, 8 int32 = 4 int8 weights of each row; x
// holds per quad xstride bytes: 4 input bytes per pixel.
TEXT ·qgemmVNNI(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ xstride+16(FP), BX
	MOVQ kq+24(FP), CX
	MOVQ nblk+32(FP), R8
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), R9
	MOVQ post+56(FP), R10
	VBROADCASTSS 64(R10), Z26
	VBROADCASTSS 68(R10), Z27
	VPBROADCASTD 72(R10), Z28
	VMOVDQU64 ·reqPerm(SB), Z29
	TESTQ R8, R8
	JZ vdone

vblock:
	// The sums start from the bias (integer sums: the order does not
	// change them).
	VPBROADCASTD 0(R10), Z0
	VPBROADCASTD 4(R10), Z2
	VPBROADCASTD 8(R10), Z4
	VPBROADCASTD 12(R10), Z6
	VPBROADCASTD 16(R10), Z8
	VPBROADCASTD 20(R10), Z10
	VPBROADCASTD 24(R10), Z12
	VPBROADCASTD 28(R10), Z14
	VMOVDQA32 Z0, Z1
	VMOVDQA32 Z2, Z3
	VMOVDQA32 Z4, Z5
	VMOVDQA32 Z6, Z7
	VMOVDQA32 Z8, Z9
	VMOVDQA32 Z10, Z11
	VMOVDQA32 Z12, Z13
	VMOVDQA32 Z14, Z15
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ CX, R13

vk:
	VMOVDQU32 (R12), Z16
	VMOVDQU32 64(R12), Z17
	ADDQ BX, R12
	VPBROADCASTD (R11), Z18
	VPBROADCASTD 4(R11), Z19
	VPDPBUSD Z18, Z16, Z0
	VPDPBUSD Z18, Z17, Z1
	VPDPBUSD Z19, Z16, Z2
	VPDPBUSD Z19, Z17, Z3
	VPBROADCASTD 8(R11), Z20
	VPBROADCASTD 12(R11), Z21
	VPDPBUSD Z20, Z16, Z4
	VPDPBUSD Z20, Z17, Z5
	VPDPBUSD Z21, Z16, Z6
	VPDPBUSD Z21, Z17, Z7
	VPBROADCASTD 16(R11), Z18
	VPBROADCASTD 20(R11), Z19
	VPDPBUSD Z18, Z16, Z8
	VPDPBUSD Z18, Z17, Z9
	VPDPBUSD Z19, Z16, Z10
	VPDPBUSD Z19, Z17, Z11
	VPBROADCASTD 24(R11), Z20
	VPBROADCASTD 28(R11), Z21
	VPDPBUSD Z20, Z16, Z12
	VPDPBUSD Z20, Z17, Z13
	VPDPBUSD Z21, Z16, Z14
	VPDPBUSD Z21, Z17, Z15
	ADDQ $32, R11
	DECQ R13
	JNZ vk

	MOVQ DX, R14

// Two rows (A, B: row r's 32 pixels; C, D: row r+1's): scale, clamp,
// round, add the zero point, then VPACKSSDW + VPACKUSWB saturate to bytes as
// the AVX2 kernel does, leaving per 128-bit lane 4 bytes each of A, B, C, D;
// VPERMB (reqPerm) puts row r's 32 bytes low and row r+1's high.
#define VREQUANT_ROWS(A, B, C, D, soff0, soff1) \
	VBROADCASTSS soff0(R10), Z20; \
	VBROADCASTSS soff1(R10), Z21; \
	VCVTDQ2PS A, A; \
	VCVTDQ2PS B, B; \
	VCVTDQ2PS C, C; \
	VCVTDQ2PS D, D; \
	VMULPS Z20, A, A; \
	VMULPS Z20, B, B; \
	VMULPS Z21, C, C; \
	VMULPS Z21, D, D; \
	VMAXPS Z26, A, A; \
	VMAXPS Z26, B, B; \
	VMAXPS Z26, C, C; \
	VMAXPS Z26, D, D; \
	VMINPS Z27, A, A; \
	VMINPS Z27, B, B; \
	VMINPS Z27, C, C; \
	VMINPS Z27, D, D; \
	VCVTPS2DQ A, A; \
	VCVTPS2DQ B, B; \
	VCVTPS2DQ C, C; \
	VCVTPS2DQ D, D; \
	VPADDD Z28, A, A; \
	VPADDD Z28, B, B; \
	VPADDD Z28, C, C; \
	VPADDD Z28, D, D; \
	VPACKSSDW B, A, A; \
	VPACKSSDW D, C, C; \
	VPACKUSWB C, A, A; \
	VPERMB A, Z29, A; \
	VEXTRACTI64X4 $1, A, Y22; \
	VMOVDQU64 Y22, (R14)(R9*1); \
	LEAQ (R14)(R9*2), AX

	VREQUANT_ROWS(Z0, Z1, Z2, Z3, 32, 36)
	VMOVDQU64 Y0, (R14)
	MOVQ AX, R14
	VREQUANT_ROWS(Z4, Z5, Z6, Z7, 40, 44)
	VMOVDQU64 Y4, (R14)
	MOVQ AX, R14
	VREQUANT_ROWS(Z8, Z9, Z10, Z11, 48, 52)
	VMOVDQU64 Y8, (R14)
	MOVQ AX, R14
	VREQUANT_ROWS(Z12, Z13, Z14, Z15, 56, 60)
	VMOVDQU64 Y12, (R14)

	ADDQ $32, DX
	ADDQ $128, DI
	DECQ R8
	JNZ vblock

vdone:
	VZEROUPPER
	RET

// func packQuads(dst *uint8, src *uint8, plane int, dstStride int, nquads int, npx int, ngroups int)
//
// For quad q < nquads and group g < ngroups: pixels 16g..16g+15 of planes
// 4q..4q+3 (plane bytes apart from src) go to dst + q*dstStride + 64g as
// 4 bytes per pixel, plane order. Pixels from npx on are zeros (and not
// read).
TEXT ·packQuads(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ plane+16(FP), BX
	MOVQ dstStride+24(FP), DX
	MOVQ nquads+32(FP), CX
	MOVQ npx+40(FP), R8
	MOVQ ngroups+48(FP), R13
	LEAQ (BX)(BX*2), R9
	MOVQ R8, AX
	SHRQ $4, R8 // full groups
	ANDQ $15, AX // pixels in the partial group
	SUBQ R8, R13 // groups after the full ones
	MOVQ CX, R14
	MOVQ AX, CX
	MOVL $1, R15
	SHLL CX, R15
	DECL R15
	KMOVW R15, K1
	MOVQ R14, CX
	VPXORD Z12, Z12, Z12
	TESTQ CX, CX
	JZ pdone

#define PACK_GROUP \
	VPUNPCKLBW X1, X0, X4; \
	VPUNPCKHBW X1, X0, X5; \
	VPUNPCKLBW X3, X2, X6; \
	VPUNPCKHBW X3, X2, X7; \
	VPUNPCKLWD X6, X4, X8; \
	VPUNPCKHWD X6, X4, X9; \
	VPUNPCKLWD X7, X5, X10; \
	VPUNPCKHWD X7, X5, X11; \
	VMOVDQU X8, (R11); \
	VMOVDQU X9, 16(R11); \
	VMOVDQU X10, 32(R11); \
	VMOVDQU X11, 48(R11); \
	ADDQ $64, R11

pquad:
	MOVQ SI, R10
	MOVQ DI, R11
	MOVQ R8, R12
	TESTQ R12, R12
	JZ ppartial

pgroup:
	VMOVDQU (R10), X0
	VMOVDQU (R10)(BX*1), X1
	VMOVDQU (R10)(BX*2), X2
	VMOVDQU (R10)(R9*1), X3
	PACK_GROUP
	ADDQ $16, R10
	DECQ R12
	JNZ pgroup

ppartial:
	MOVQ R13, R12
	TESTQ AX, AX
	JZ pzeros
	VMOVDQU8.Z (R10), K1, X0
	VMOVDQU8.Z (R10)(BX*1), K1, X1
	VMOVDQU8.Z (R10)(BX*2), K1, X2
	VMOVDQU8.Z (R10)(R9*1), K1, X3
	PACK_GROUP
	DECQ R12

pzeros:
	TESTQ R12, R12
	JLE pnext
	VMOVDQU64 Z12, (R11)
	ADDQ $64, R11
	DECQ R12
	JMP pzeros

pnext:
	LEAQ (SI)(BX*4), SI
	ADDQ DX, DI
	DECQ CX
	JNZ pquad

pdone:
	VZEROUPPER
	RET

// func copyRows(dst *uint8, src *uint8, w int, h int, dstStride int)
//
// Copies h rows of w bytes, src packed, dst dstStride bytes apart, the
// last partial 64 bytes of each row under a mask (no byte outside is
// read or written).
TEXT ·copyRows(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ w+16(FP), BX
	MOVQ h+24(FP), R8
	MOVQ dstStride+32(FP), DX
	MOVQ BX, CX
	ANDQ $63, CX
	MOVQ $-1, AX
	SHLQ CX, AX
	NOTQ AX
	KMOVQ AX, K1
	MOVQ BX, R9
	SHRQ $6, R9
	TESTQ R8, R8
	JZ cdone

crow:
	XORQ R10, R10
	MOVQ R9, R11
	TESTQ R11, R11
	JZ ctail

cfull:
	VMOVDQU8 (SI)(R10*1), Z0
	VMOVDQU8 Z0, (DI)(R10*1)
	ADDQ $64, R10
	DECQ R11
	JNZ cfull

ctail:
	TESTQ CX, CX
	JZ cnext
	VMOVDQU8.Z (SI)(R10*1), K1, Z0
	VMOVDQU8 Z0, K1, (DI)(R10*1)

cnext:
	ADDQ BX, SI
	ADDQ DX, DI
	DECQ R8
	JNZ crow

cdone:
	VZEROUPPER
	RET

// func dw3x3VNNI(out *uint8, in *uint8, a *dwArgs)
//
// A 3x3 depthwise convolution of one channel: in is its plane bordered with
// the input zero point, a.pw bytes a row. Output row oy, block b, lane i
// reads the 3 bytes at in + oy*rowStep + ky*pw + b*colStep + stride*i for
// kernel row ky, brought in line by VPERMB (a.idx), times a.w[ky].
TEXT ·dw3x3VNNI(SB), NOSPLIT, $0-24
	MOVQ out+0(FP), DI
	MOVQ in+8(FP), SI
	MOVQ a+16(FP), R15
	VPBROADCASTD 0(R15), Z10
	VPBROADCASTD 4(R15), Z11
	VPBROADCASTD 8(R15), Z12
	MOVQ 16(R15), BX
	MOVQ 24(R15), R8
	MOVQ 32(R15), R9
	MOVQ 40(R15), R11
	MOVQ 48(R15), CX
	MOVQ 56(R15), R13
	VPBROADCASTD 72(R15), Z13
	VBROADCASTSS 76(R15), Z14
	VBROADCASTSS 80(R15), Z15
	VBROADCASTSS 84(R15), Z16
	VPBROADCASTD 88(R15), Z17
	VMOVDQU8 104(R15), Z18
	VPXORD Z19, Z19, Z19
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	TESTQ R13, R13
	JZ wdone

#define DW_BLOCK \
	VPERMB (R12), Z18, Z1; \
	VPERMB (R12)(BX*1), Z18, Z2; \
	VPERMB (R12)(BX*2), Z18, Z3; \
	VMOVDQA32 Z13, Z0; \
	VPDPBUSD Z10, Z1, Z0; \
	VPDPBUSD Z11, Z2, Z0; \
	VPDPBUSD Z12, Z3, Z0; \
	VCVTDQ2PS Z0, Z0; \
	VMULPS Z14, Z0, Z0; \
	VMAXPS Z15, Z0, Z0; \
	VMINPS Z16, Z0, Z0; \
	VCVTPS2DQ Z0, Z0; \
	VPADDD Z17, Z0, Z0; \
	VPMAXSD Z19, Z0, Z0

wrow:
	MOVQ SI, R12
	MOVQ DI, R14
	MOVQ R11, R10
	TESTQ R10, R10
	JZ wtail

wblock:
	DW_BLOCK
	VPMOVUSDB Z0, (R14)
	ADDQ R9, R12
	ADDQ $16, R14
	DECQ R10
	JNZ wblock

wtail:
	TESTQ CX, CX
	JZ wnext
	DW_BLOCK
	VPMOVUSDB Z0, K1, (R14)

wnext:
	ADDQ R8, SI
	ADDQ 64(R15), DI
	DECQ R13
	JNZ wrow

wdone:
	VZEROUPPER
	RET

// func qgemvVNNI(w *int32, a *uint8, kq int, out *uint8, post *requant16)
//
// 16 columns of one row: out[c] = requant(sum_q a[4q..4q+3] . w[q][c]),
// w holding per quad 16 int32s of 4 int8 weights. Four accumulators take
// the quads in turn (integer sums, so the order does not change them).
TEXT ·qgemvVNNI(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ kq+16(FP), CX
	MOVQ out+24(FP), DX
	MOVQ post+32(FP), R10
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	CMPQ CX, $4
	JLT gvone

gvfour:
	VPBROADCASTD (DI), Z4
	VPBROADCASTD 4(DI), Z5
	VPBROADCASTD 8(DI), Z6
	VPBROADCASTD 12(DI), Z7
	VPDPBUSD (SI), Z4, Z0
	VPDPBUSD 64(SI), Z5, Z1
	VPDPBUSD 128(SI), Z6, Z2
	VPDPBUSD 192(SI), Z7, Z3
	ADDQ $16, DI
	ADDQ $256, SI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE gvfour

gvone:
	TESTQ CX, CX
	JZ gvsum
	VPBROADCASTD (DI), Z4
	VPDPBUSD (SI), Z4, Z0
	ADDQ $4, DI
	ADDQ $64, SI
	DECQ CX
	JMP gvone

gvsum:
	VPADDD Z1, Z0, Z0
	VPADDD Z3, Z2, Z2
	VPADDD Z2, Z0, Z0
	VMOVDQU32 0(R10), Z1
	VPADDD Z1, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMOVUPS 64(R10), Z1
	VMULPS Z1, Z0, Z0
	VBROADCASTSS 128(R10), Z1
	VMAXPS Z1, Z0, Z0
	VBROADCASTSS 132(R10), Z1
	VMINPS Z1, Z0, Z0
	VCVTPS2DQ Z0, Z0
	VPBROADCASTD 136(R10), Z1
	VPADDD Z1, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPMAXSD Z1, Z0, Z0
	VPMOVUSDB Z0, (DX)
	VZEROUPPER
	RET

// func evenBytes(dst *uint8, src *uint8, n int)
//
// dst[i] = src[2i] for i < n: VPMOVWB keeps the low byte of each word.
// The last 32 under a mask: src is read up to byte 2(n-1), no further.
TEXT ·evenBytes(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), DX

ebfull:
	CMPQ DX, $32
	JLT ebtail
	VMOVDQU16 (SI), Z0
	VPMOVWB Z0, (DI)
	ADDQ $64, SI
	ADDQ $32, DI
	SUBQ $32, DX
	JMP ebfull

ebtail:
	TESTQ DX, DX
	JZ ebdone
	MOVQ DX, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVD AX, K1
	VMOVDQU16.Z (SI), K1, Z0
	VPMOVWB Z0, K1, (DI)

ebdone:
	VZEROUPPER
	RET

// The element-wise int8 operators and the global average pool on 16 lanes:
// the AVX2 kernels' (and MLAS's) arithmetic, the last n%16 values under a
// mask (no byte outside the slices is read or written). Z19 holds zeros
// for the final clamp, VPMAXSD then VPMOVUSDB.

// REQUANT16 is requantization as in DW_BLOCK: Z0 = sat(round(float(Z0) *
// Z14 clamped to [Z15, Z16]) + Z17).
#define REQUANT16 \
	VCVTDQ2PS Z0, Z0; \
	VMULPS Z14, Z0, Z0; \
	VMAXPS Z15, Z0, Z0; \
	VMINPS Z16, Z0, Z0; \
	VCVTPS2DQ Z0, Z0; \
	VPADDD Z17, Z0, Z0; \
	VPMAXSD Z19, Z0, Z0

// LOAD_REQUANT1 loads a requant1 at R10 into Z13 (bias) and Z14-Z17.
#define LOAD_REQUANT1 \
	VPBROADCASTD 0(R10), Z13; \
	VBROADCASTSS 4(R10), Z14; \
	VBROADCASTSS 8(R10), Z15; \
	VBROADCASTSS 12(R10), Z16; \
	VPBROADCASTD 16(R10), Z17

// TAIL_MASK sets K1 to the low (n & 15) lanes of n in CX, AX scratch.
#define TAIL_MASK \
	ANDQ $15, CX; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1

// QADD16 is qadd8's arithmetic on the 16 bytes in X0 and X1, into Z0.
#define QADD16 \
	VPMOVZXBD X0, Z0; \
	VPMOVZXBD X1, Z1; \
	VCVTDQ2PS Z0, Z0; \
	VCVTDQ2PS Z1, Z1; \
	VFMADD213PS Z12, Z11, Z1; \
	VFMADD213PS Z1, Z10, Z0; \
	VCVTPS2DQ Z0, Z0; \
	VPMAXSD Z19, Z0, Z0

// func qadd16(a, b, out *uint8, n int, p *addParams)
TEXT ·qadd16(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ p+32(FP), R10
	VBROADCASTSS 0(R10), Z10
	VBROADCASTSS 4(R10), Z11
	VBROADCASTSS 8(R10), Z12
	VPXORD Z19, Z19, Z19
	MOVQ CX, R8
	SHRQ $4, R8
	JZ atail

afull:
	VMOVDQU (SI), X0
	VMOVDQU (DI), X1
	QADD16
	VPMOVUSDB Z0, (DX)
	ADDQ $16, SI
	ADDQ $16, DI
	ADDQ $16, DX
	DECQ R8
	JNZ afull

atail:
	TAIL_MASK
	JZ a16done
	VMOVDQU8.Z (SI), K1, X0
	VMOVDQU8.Z (DI), K1, X1
	QADD16
	VPMOVUSDB Z0, K1, (DX)

a16done:
	VZEROUPPER
	RET

// QUANT16 is quantize8's arithmetic on the 16 floats in Z0.
#define QUANT16 \
	VDIVPS Z10, Z0, Z0; \
	VMAXPS Z11, Z0, Z0; \
	VMINPS Z12, Z0, Z0; \
	VCVTPS2DQ Z0, Z0; \
	VPADDD Z13, Z0, Z0; \
	VPMAXSD Z19, Z0, Z0

// func quantize16(in *float32, out *uint8, n int, p *quantParams)
TEXT ·quantize16(SB), NOSPLIT, $0-32
	MOVQ in+0(FP), SI
	MOVQ out+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ p+24(FP), R10
	VBROADCASTSS 0(R10), Z10
	VBROADCASTSS 4(R10), Z11
	VBROADCASTSS 8(R10), Z12
	VPBROADCASTD 12(R10), Z13
	VPXORD Z19, Z19, Z19
	MOVQ CX, R8
	SHRQ $4, R8
	JZ qtail

qfull:
	VMOVUPS (SI), Z0
	QUANT16
	VPMOVUSDB Z0, (DX)
	ADDQ $64, SI
	ADDQ $16, DX
	DECQ R8
	JNZ qfull

qtail:
	TAIL_MASK
	JZ q16done
	VMOVUPS.Z (SI), K1, Z0
	QUANT16
	VPMOVUSDB Z0, K1, (DX)

q16done:
	VZEROUPPER
	RET

// func avgPlanes16(x *uint8, size int, n int, out *uint8, post *requant1)
//
// out[i] = requant(sum of the size bytes at x + i*size + bias) for i < n.
// Each plane is summed by VPSADBW into 8 quadwords, 64 bytes at a time (the
// last size%64 under the mask K2), folded into one, and merged into lane i%16
// of Z0 by a broadcast under the one-lane mask K3; each 16 planes are
// requantized together.
TEXT ·avgPlanes16(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ size+8(FP), BX
	MOVQ n+16(FP), R8
	MOVQ out+24(FP), DX
	MOVQ post+32(FP), R10
	LOAD_REQUANT1
	VPXORD Z19, Z19, Z19
	MOVQ BX, CX
	ANDQ $63, CX
	MOVQ $-1, AX
	SHLQ CX, AX
	NOTQ AX
	KMOVQ AX, K2
	MOVQ BX, R9
	SHRQ $6, R9
	TESTQ R8, R8
	JZ gpdone

gpgroup:
	MOVQ R8, R12
	CMPQ R12, $16
	JLE gpcount
	MOVQ $16, R12

gpcount:
	MOVL $1, AX
	KMOVW AX, K3
	MOVQ R12, R13
	VPXORD Z0, Z0, Z0

gpplane:
	VPXORQ Z1, Z1, Z1
	MOVQ R9, R11
	TESTQ R11, R11
	JZ gptail

gpfull:
	VMOVDQU8 (SI), Z2
	VPSADBW Z19, Z2, Z2
	VPADDQ Z2, Z1, Z1
	ADDQ $64, SI
	DECQ R11
	JNZ gpfull

gptail:
	TESTQ CX, CX
	JZ gpfold
	VMOVDQU8.Z (SI), K2, Z2
	VPSADBW Z19, Z2, Z2
	VPADDQ Z2, Z1, Z1
	ADDQ CX, SI

gpfold:
	VEXTRACTI64X4 $1, Z1, Y2
	VPADDQ Y2, Y1, Y1
	VEXTRACTI128 $1, Y1, X2
	VPADDQ X2, X1, X1
	VPSHUFD $0x4e, X1, X2
	VPADDQ X2, X1, X1
	VPBROADCASTD X1, K3, Z0
	KSHIFTLW $1, K3, K3
	DECQ R13
	JNZ gpplane

	VPADDD Z13, Z0, Z0
	REQUANT16
	MOVQ R12, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K1
	VPMOVUSDB Z0, K1, (DX)
	MOVQ BX, CX
	ANDQ $63, CX
	ADDQ R12, DX
	SUBQ R12, R8
	JNZ gpgroup

gpdone:
	VZEROUPPER
	RET

// func avgRows16(x *uint8, size int, c int, out *uint8, post *requant1)
//
// The channels_last pool of one image: out[j] = requant(sum over the size
// rows of c bytes at x of byte j + bias), 16 channels at a time, the last
// c%16 under the mask K1.
TEXT ·avgRows16(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ size+8(FP), BX
	MOVQ c+16(FP), R9
	MOVQ out+24(FP), DX
	MOVQ post+32(FP), R10
	LOAD_REQUANT1
	VPXORD Z19, Z19, Z19
	MOVQ R9, R8
	MOVL $0xffff, AX
	KMOVW AX, K1
	TESTQ BX, BX
	JZ grdone

grgroup:
	TESTQ R8, R8
	JZ grdone
	CMPQ R8, $16
	JGE grsum
	MOVQ R8, CX
	TAIL_MASK

grsum:
	VMOVDQA32 Z13, Z0
	MOVQ SI, R11
	MOVQ BX, R12

grrow:
	VMOVDQU8.Z (R11), K1, X1
	VPMOVZXBD X1, Z1
	VPADDD Z1, Z0, Z0
	ADDQ R9, R11
	DECQ R12
	JNZ grrow

	REQUANT16
	VPMOVUSDB Z0, K1, (DX)
	ADDQ $16, SI
	ADDQ $16, DX
	SUBQ $16, R8
	JG grgroup

grdone:
	VZEROUPPER
	RET
