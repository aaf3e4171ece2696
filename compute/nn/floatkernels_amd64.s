//go:build !purego

#include "textflag.h"

// AVX2 float32 passes, 8 values a step. Each does the Go loop's operations
// in the same order, so the bits match. max(x, 0) is what Go's compiler
// makes of it (-min(-x, -0) by MINSS and POR): x where x > 0 or x is NaN,
// else +0, with the sign bit cleared, so -0 becomes +0 and a NaN passes
// through positive. Here: a mask where x is not <= 0 (VCMPPS predicate
// 0x16, true when unordered), shifted right one bit to drop the sign, ANDed
// with x.

// func biasReLU8(dst, src *float32, n int, b float32)
TEXT ·biasReLU8(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y2
	VXORPS Y3, Y3, Y3
biasrelu:
	VMOVUPS (SI), Y0
	VADDPS Y2, Y0, Y0
	VCMPPS $0x16, Y3, Y0, Y1
	VPSRLD $1, Y1, Y1
	VANDPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ biasrelu
	VZEROUPPER
	RET

// func biasAdd8(dst, src *float32, n int, b float32)
TEXT ·biasAdd8(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Y2
biasadd:
	VMOVUPS (SI), Y0
	VADDPS Y2, Y0, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ biasadd
	VZEROUPPER
	RET

// func addReLU8(dst, src *float32, n int)
TEXT ·addReLU8(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y3, Y3, Y3
addrelu:
	VMOVUPS (DI), Y0
	VADDPS (SI), Y0, Y0
	VCMPPS $0x16, Y3, Y0, Y1
	VPSRLD $1, Y1, Y1
	VANDPS Y0, Y1, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ addrelu
	VZEROUPPER
	RET

// func winogradCols8(r0, r1, r2, r3, d0, d1, d2, d3 *float32, n int)
TEXT ·winogradCols8(SB), NOSPLIT, $0-72
	MOVQ r0+0(FP), AX
	MOVQ r1+8(FP), BX
	MOVQ r2+16(FP), CX
	MOVQ r3+24(FP), DX
	MOVQ d0+32(FP), R8
	MOVQ d1+40(FP), R9
	MOVQ d2+48(FP), R10
	MOVQ d3+56(FP), R11
	MOVQ n+64(FP), R12
	XORQ SI, SI
cols:
	VMOVUPS (AX)(SI*4), Y0 // a
	VMOVUPS (BX)(SI*4), Y1 // b
	VMOVUPS (CX)(SI*4), Y2 // c
	VMOVUPS (DX)(SI*4), Y3 // d
	VSUBPS Y2, Y0, Y4      // a-c
	VADDPS Y2, Y1, Y5      // b+c
	VSUBPS Y1, Y2, Y6      // c-b
	VSUBPS Y3, Y1, Y7      // b-d
	VMOVUPS Y4, (R8)(SI*4)
	VMOVUPS Y5, (R9)(SI*4)
	VMOVUPS Y6, (R10)(SI*4)
	VMOVUPS Y7, (R11)(SI*4)
	ADDQ $8, SI
	CMPQ SI, R12
	JLT cols
	VZEROUPPER
	RET

// func winogradRows8(m0, m1, m2, m3, t0, t1 *float32, n int)
TEXT ·winogradRows8(SB), NOSPLIT, $0-56
	MOVQ m0+0(FP), AX
	MOVQ m1+8(FP), BX
	MOVQ m2+16(FP), CX
	MOVQ m3+24(FP), DX
	MOVQ t0+32(FP), R8
	MOVQ t1+40(FP), R9
	MOVQ n+48(FP), R12
	XORQ SI, SI
rows:
	VMOVUPS (AX)(SI*4), Y0 // a
	VMOVUPS (BX)(SI*4), Y1 // b
	VMOVUPS (CX)(SI*4), Y2 // c
	VMOVUPS (DX)(SI*4), Y3 // d
	VADDPS Y1, Y0, Y4      // a+b
	VADDPS Y2, Y4, Y4      // (a+b)+c
	VSUBPS Y2, Y1, Y5      // b-c
	VSUBPS Y3, Y5, Y5      // (b-c)-d
	VMOVUPS Y4, (R8)(SI*4)
	VMOVUPS Y5, (R9)(SI*4)
	ADDQ $8, SI
	CMPQ SI, R12
	JLT rows
	VZEROUPPER
	RET

// func fill8(dst *float32, n int, v float32)
TEXT ·fill8(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS v+16(FP), Y0
fill:
	VMOVUPS Y0, (DI)
	ADDQ $32, DI
	SUBQ $8, CX
	JNZ fill
	VZEROUPPER
	RET
