//go:build !purego

#include "textflag.h"

// Integer kernels for the quantized operators (AVX2 + FMA). Each mirrors the
// arithmetic ONNX Runtime's MLAS uses on x86-64, so results are bit-identical:
// exact int32 accumulation, float32 requantization, round half to even by
// VCVTPS2DQ, saturation by packs.

// func qgemm8x8(w *int32, x *uint8, plane int, kp int, nblk int, out *uint8, ldo int, post *requant8)
//
// For nblk blocks of 8 pixels: 8 output rows (channels) x 8 pixels, summing over
// kp channel pairs. w holds, per pair, 8 int32 = (w[r][2k] | w[r][2k+1]<<16)
// as int16s; x points at channel 0, pixel 0 of uint8 planes plane bytes apart.
TEXT ·qgemm8x8(SB), NOSPLIT, $0-64
	MOVQ w+0(FP), SI
	MOVQ x+8(FP), DI
	MOVQ plane+16(FP), BX
	MOVQ kp+24(FP), CX
	MOVQ nblk+32(FP), R8
	MOVQ out+40(FP), DX
	MOVQ ldo+48(FP), R9
	MOVQ post+56(FP), R10
	VBROADCASTSS 64(R10), Y11
	VBROADCASTSS 68(R10), Y12
	VPBROADCASTD 72(R10), Y13
	TESTQ R8, R8
	JZ gdone

gblock:
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1
	VPXOR Y2, Y2, Y2
	VPXOR Y3, Y3, Y3
	VPXOR Y4, Y4, Y4
	VPXOR Y5, Y5, Y5
	VPXOR Y6, Y6, Y6
	VPXOR Y7, Y7, Y7
	MOVQ SI, R11
	MOVQ DI, R12
	MOVQ CX, R13

gk:
	VMOVQ (R12), X8
	VMOVQ (R12)(BX*1), X9
	VPUNPCKLBW X9, X8, X8
	VPMOVZXBW X8, Y8
	LEAQ (R12)(BX*2), R12
	VPBROADCASTD (R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y0, Y0
	VPBROADCASTD 4(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y1, Y1
	VPBROADCASTD 8(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y2, Y2
	VPBROADCASTD 12(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y3, Y3
	VPBROADCASTD 16(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y4, Y4
	VPBROADCASTD 20(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y5, Y5
	VPBROADCASTD 24(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y6, Y6
	VPBROADCASTD 28(R11), Y9
	VPMADDWD Y9, Y8, Y10
	VPADDD Y10, Y7, Y7
	ADDQ $32, R11
	DECQ R13
	JNZ gk

	MOVQ DX, R14

#define REQUANT_ROW(Y, X, boff, soff) \
	VPBROADCASTD boff(R10), Y9; \
	VPADDD Y9, Y, Y; \
	VCVTDQ2PS Y, Y; \
	VBROADCASTSS soff(R10), Y9; \
	VMULPS Y9, Y, Y; \
	VMAXPS Y11, Y, Y; \
	VMINPS Y12, Y, Y; \
	VCVTPS2DQ Y, Y; \
	VPADDD Y13, Y, Y; \
	VEXTRACTI128 $1, Y, X9; \
	VPACKSSDW X9, X, X; \
	VPACKUSWB X, X, X; \
	VMOVQ X, (R14); \
	ADDQ R9, R14

	REQUANT_ROW(Y0, X0, 0, 32)
	REQUANT_ROW(Y1, X1, 4, 36)
	REQUANT_ROW(Y2, X2, 8, 40)
	REQUANT_ROW(Y3, X3, 12, 44)
	REQUANT_ROW(Y4, X4, 16, 48)
	REQUANT_ROW(Y5, X5, 20, 52)
	REQUANT_ROW(Y6, X6, 24, 56)
	REQUANT_ROW(Y7, X7, 28, 60)

	ADDQ $8, DX
	ADDQ $8, DI
	DECQ R8
	JNZ gblock

gdone:
	VZEROUPPER
	RET

// func dwconv8(out *uint8, base *uint8, offs *int, w *int32, ntaps int, n int, post *requant1)
//
// out[i] = requant(sum_t w[t] * base[offs[t]+i]) for i < n, n a multiple of 8.
TEXT ·dwconv8(SB), NOSPLIT, $0-56
	MOVQ out+0(FP), DX
	MOVQ base+8(FP), SI
	MOVQ offs+16(FP), BX
	MOVQ w+24(FP), R8
	MOVQ ntaps+32(FP), CX
	MOVQ n+40(FP), R9
	MOVQ post+48(FP), R10
	VPBROADCASTD 0(R10), Y10
	VBROADCASTSS 4(R10), Y14
	VBROADCASTSS 8(R10), Y11
	VBROADCASTSS 12(R10), Y12
	VPBROADCASTD 16(R10), Y13
	XORQ AX, AX
	TESTQ R9, R9
	JZ ddone

dblock:
	VPXOR Y0, Y0, Y0
	XORQ R11, R11

dtap:
	MOVQ (BX)(R11*8), R12
	ADDQ SI, R12
	VPMOVZXBD (R12)(AX*1), Y1
	VPBROADCASTD (R8)(R11*4), Y2
	VPMULLD Y2, Y1, Y1
	VPADDD Y1, Y0, Y0
	INCQ R11
	CMPQ R11, CX
	JLT dtap

	VPADDD Y10, Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS Y14, Y0, Y0
	VMAXPS Y11, Y0, Y0
	VMINPS Y12, Y0, Y0
	VCVTPS2DQ Y0, Y0
	VPADDD Y13, Y0, Y0
	VEXTRACTI128 $1, Y0, X9
	VPACKSSDW X9, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVQ X0, (DX)(AX*1)
	ADDQ $8, AX
	CMPQ AX, R9
	JLT dblock

ddone:
	VZEROUPPER
	RET

// func qadd8(a, b, out *uint8, n int, p *addParams)
//
// MlasQLinearAdd's AVX2 arithmetic: fma(a, rA, fma(b, rB, fixed)), rounded
// half to even, saturated by packs. n is a multiple of 8.
TEXT ·qadd8(SB), NOSPLIT, $0-40
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ n+24(FP), CX
	MOVQ p+32(FP), R10
	VBROADCASTSS 0(R10), Y10
	VBROADCASTSS 4(R10), Y11
	VBROADCASTSS 8(R10), Y12
	XORQ AX, AX
	TESTQ CX, CX
	JZ adone

aloop:
	VPMOVZXBD (SI)(AX*1), Y0
	VPMOVZXBD (DI)(AX*1), Y1
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VFMADD213PS Y12, Y11, Y1
	VFMADD213PS Y1, Y10, Y0
	VCVTPS2DQ Y0, Y0
	VEXTRACTI128 $1, Y0, X9
	VPACKSSDW X9, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVQ X0, (DX)(AX*1)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT aloop

adone:
	VZEROUPPER
	RET

// func quantize8(in *float32, out *uint8, n int, p *quantParams)
//
// MlasQuantizeLinear: x / scale, clamped to [0-zp, 255-zp], rounded half to
// even, plus zp. n is a multiple of 8.
TEXT ·quantize8(SB), NOSPLIT, $0-32
	MOVQ in+0(FP), SI
	MOVQ out+8(FP), DX
	MOVQ n+16(FP), CX
	MOVQ p+24(FP), R10
	VBROADCASTSS 0(R10), Y10
	VBROADCASTSS 4(R10), Y11
	VBROADCASTSS 8(R10), Y12
	VPBROADCASTD 12(R10), Y13
	XORQ AX, AX
	TESTQ CX, CX
	JZ qdone

qloop:
	VMOVUPS (SI)(AX*4), Y0
	VDIVPS Y10, Y0, Y0
	VMAXPS Y11, Y0, Y0
	VMINPS Y12, Y0, Y0
	VCVTPS2DQ Y0, Y0
	VPADDD Y13, Y0, Y0
	VEXTRACTI128 $1, Y0, X9
	VPACKSSDW X9, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVQ X0, (DX)(AX*1)
	ADDQ $8, AX
	CMPQ AX, CX
	JLT qloop

qdone:
	VZEROUPPER
	RET

// func dwconv3x3(out *uint8, base *uint8, offs *int, w *int32, n int, post *requant1)
//
// dwconv8 for 9 taps, 16 outputs at a time: the taps are paired, their
// bytes widened to int16 and interleaved, and VPMADDWD sums two taps per
// instruction. w holds 5 pairs (w0|w1<<16, ..., w8). n is a multiple of 16.
TEXT ·dwconv3x3(SB), NOSPLIT, $0-48
	MOVQ offs+16(FP), R14
	MOVQ base+8(FP), R15
	MOVQ 0(R14), BX
	ADDQ R15, BX
	MOVQ 8(R14), CX
	ADDQ R15, CX
	MOVQ 16(R14), DX
	ADDQ R15, DX
	MOVQ 24(R14), SI
	ADDQ R15, SI
	MOVQ 32(R14), DI
	ADDQ R15, DI
	MOVQ 40(R14), R8
	ADDQ R15, R8
	MOVQ 48(R14), R9
	ADDQ R15, R9
	MOVQ 56(R14), R10
	ADDQ R15, R10
	MOVQ 64(R14), R11
	ADDQ R15, R11
	MOVQ w+24(FP), R14
	VPBROADCASTD 0(R14), Y2
	VPBROADCASTD 4(R14), Y3
	VPBROADCASTD 8(R14), Y4
	VPBROADCASTD 12(R14), Y5
	VPBROADCASTD 16(R14), Y6
	MOVQ out+0(FP), R12
	MOVQ n+32(FP), R13
	MOVQ post+40(FP), R15
	VPBROADCASTD 0(R15), Y15
	VBROADCASTSS 4(R15), Y14
	VBROADCASTSS 8(R15), Y11
	VBROADCASTSS 12(R15), Y12
	VPBROADCASTD 16(R15), Y13
	VPXOR Y10, Y10, Y10
	XORQ AX, AX
	TESTQ R13, R13
	JZ d3done

d3loop:
	VPMOVZXBW (BX)(AX*1), Y7
	VPMOVZXBW (CX)(AX*1), Y8
	VPUNPCKLWD Y8, Y7, Y0
	VPUNPCKHWD Y8, Y7, Y1
	VPMADDWD Y2, Y0, Y0
	VPMADDWD Y2, Y1, Y1

	VPMOVZXBW (DX)(AX*1), Y7
	VPMOVZXBW (SI)(AX*1), Y8
	VPUNPCKLWD Y8, Y7, Y9
	VPUNPCKHWD Y8, Y7, Y7
	VPMADDWD Y3, Y9, Y9
	VPMADDWD Y3, Y7, Y7
	VPADDD Y9, Y0, Y0
	VPADDD Y7, Y1, Y1

	VPMOVZXBW (DI)(AX*1), Y7
	VPMOVZXBW (R8)(AX*1), Y8
	VPUNPCKLWD Y8, Y7, Y9
	VPUNPCKHWD Y8, Y7, Y7
	VPMADDWD Y4, Y9, Y9
	VPMADDWD Y4, Y7, Y7
	VPADDD Y9, Y0, Y0
	VPADDD Y7, Y1, Y1

	VPMOVZXBW (R9)(AX*1), Y7
	VPMOVZXBW (R10)(AX*1), Y8
	VPUNPCKLWD Y8, Y7, Y9
	VPUNPCKHWD Y8, Y7, Y7
	VPMADDWD Y5, Y9, Y9
	VPMADDWD Y5, Y7, Y7
	VPADDD Y9, Y0, Y0
	VPADDD Y7, Y1, Y1

	VPMOVZXBW (R11)(AX*1), Y7
	VPUNPCKLWD Y10, Y7, Y9
	VPUNPCKHWD Y10, Y7, Y7
	VPMADDWD Y6, Y9, Y9
	VPMADDWD Y6, Y7, Y7
	VPADDD Y9, Y0, Y0
	VPADDD Y7, Y1, Y1

	VPADDD Y15, Y0, Y0
	VPADDD Y15, Y1, Y1
	VCVTDQ2PS Y0, Y0
	VCVTDQ2PS Y1, Y1
	VMULPS Y14, Y0, Y0
	VMULPS Y14, Y1, Y1
	VMAXPS Y11, Y0, Y0
	VMAXPS Y11, Y1, Y1
	VMINPS Y12, Y0, Y0
	VMINPS Y12, Y1, Y1
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VPADDD Y13, Y0, Y0
	VPADDD Y13, Y1, Y1
	VPACKSSDW Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X7
	VPACKUSWB X7, X0, X0
	VMOVDQU X0, (R12)(AX*1)
	ADDQ $16, AX
	CMPQ AX, R13
	JLT d3loop

d3done:
	VZEROUPPER
	RET

// tailBytes: 32 zero bytes then 32 0xff; the 32 from offset t keep a
// block's last t bytes.
DATA ·tailBytes+0(SB)/8, $0
DATA ·tailBytes+8(SB)/8, $0
DATA ·tailBytes+16(SB)/8, $0
DATA ·tailBytes+24(SB)/8, $0
DATA ·tailBytes+32(SB)/8, $-1
DATA ·tailBytes+40(SB)/8, $-1
DATA ·tailBytes+48(SB)/8, $-1
DATA ·tailBytes+56(SB)/8, $-1
GLOBL ·tailBytes(SB), RODATA|NOPTR, $64

// func avgPlanes8(x *uint8, size int, n int, out *uint8, post *requant1)
//
// out[i] = requant(sum of the size bytes at x + i*size + bias) for i < n,
// n a multiple of 8 and size >= 32. VPSADBW sums each plane 32 bytes at a
// time; the last size%32 come from the plane's last 32 bytes with the ones
// already counted masked off. Each 8 planes' sums go through the stack to
// be requantized together.
TEXT ·avgPlanes8(SB), NOSPLIT, $32-40
	MOVQ x+0(FP), SI
	MOVQ size+8(FP), BX
	MOVQ n+16(FP), R8
	MOVQ out+24(FP), DX
	MOVQ post+32(FP), R10
	VPBROADCASTD 0(R10), Y13
	VBROADCASTSS 4(R10), Y14
	VBROADCASTSS 8(R10), Y11
	VBROADCASTSS 12(R10), Y12
	VPBROADCASTD 16(R10), Y15
	VPXOR Y10, Y10, Y10
	MOVQ BX, CX
	ANDQ $31, CX
	LEAQ ·tailBytes(SB), AX
	VMOVDQU (AX)(CX*1), Y9
	MOVQ BX, R9
	SHRQ $5, R9
	LEAQ sums-32(SP), R13
	TESTQ R8, R8
	JZ p8done

p8group:
	XORQ R12, R12

p8plane:
	VPXOR Y1, Y1, Y1
	MOVQ R9, R11
	MOVQ SI, DI

p8full:
	VMOVDQU (DI), Y2
	VPSADBW Y10, Y2, Y2
	VPADDQ Y2, Y1, Y1
	ADDQ $32, DI
	DECQ R11
	JNZ p8full
	TESTQ CX, CX
	JZ p8fold
	VMOVDQU -32(SI)(BX*1), Y2
	VPAND Y9, Y2, Y2
	VPSADBW Y10, Y2, Y2
	VPADDQ Y2, Y1, Y1

p8fold:
	VEXTRACTI128 $1, Y1, X2
	VPADDQ X2, X1, X1
	VPSHUFD $0x4e, X1, X2
	VPADDQ X2, X1, X1
	VMOVD X1, AX
	MOVL AX, (R13)(R12*4)
	ADDQ BX, SI
	INCQ R12
	CMPQ R12, $8
	JLT p8plane

	VMOVDQU (R13), Y0
	VPADDD Y13, Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS Y14, Y0, Y0
	VMAXPS Y11, Y0, Y0
	VMINPS Y12, Y0, Y0
	VCVTPS2DQ Y0, Y0
	VPADDD Y15, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPACKSSDW X1, X0, X0
	VPACKUSWB X0, X0, X0
	VMOVQ X0, (DX)
	ADDQ $8, DX
	SUBQ $8, R8
	JNZ p8group

p8done:
	VZEROUPPER
	RET
