//go:build !purego

#include "textflag.h"

// AVX-512 versions of floatkernels_amd64.s's passes, 16 values a step, any
// n > 0: the last step's loads and stores are masked (K1) to the n%16
// values left, so no Go tail loop runs and nothing past the end is touched.
// The operations and their order are the AVX2 ones; max(x, 0) is x where
// x is not <= 0 (K2), with the sign bit cleared (Z4 = 0x7fffffff).

// K1 = all 16 lanes while CX >= 16, else the low CX lanes.
#define TAILMASK(skip) \
	CMPQ CX, $16; \
	JGE  skip; \
	MOVL $1, AX; \
	SHLL CX, AX; \
	DECL AX; \
	KMOVW AX, K1; \
skip:

#define ALLLANES \
	MOVL $0xffff, AX; \
	KMOVW AX, K1

#define ABSMASK \
	VPTERNLOGD $0xff, Z4, Z4, Z4; \
	VPSRLD $1, Z4, Z4

// func biasReLU16(dst, src *float32, n int, b float32)
TEXT ·biasReLU16(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Z2
	VPXORD Z3, Z3, Z3
	ABSMASK
	ALLLANES
biasrelu:
	TAILMASK(biasrelubody)
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z2, Z0, Z0
	VCMPPS $0x16, Z3, Z0, K2
	VPANDD.Z Z4, Z0, K2, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JG biasrelu
	VZEROUPPER
	RET

// func biasAdd16(dst, src *float32, n int, b float32)
TEXT ·biasAdd16(SB), NOSPLIT, $0-28
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS b+24(FP), Z2
	ALLLANES
biasadd:
	TAILMASK(biasaddbody)
	VMOVUPS.Z (SI), K1, Z0
	VADDPS Z2, Z0, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JG biasadd
	VZEROUPPER
	RET

// func fill16(dst *float32, n int, v float32)
TEXT ·fill16(SB), NOSPLIT, $0-20
	MOVQ dst+0(FP), DI
	MOVQ n+8(FP), CX
	VBROADCASTSS v+16(FP), Z0
	ALLLANES
fill:
	TAILMASK(fillbody)
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, DI
	SUBQ $16, CX
	JG fill
	VZEROUPPER
	RET

// func addReLU16(dst, src *float32, n int)
TEXT ·addReLU16(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	VPXORD Z3, Z3, Z3
	ABSMASK
	ALLLANES
addrelu:
	TAILMASK(addrelubody)
	VMOVUPS.Z (DI), K1, Z0
	VMOVUPS.Z (SI), K1, Z1
	VADDPS Z1, Z0, Z0
	VCMPPS $0x16, Z3, Z0, K2
	VPANDD.Z Z4, Z0, K2, Z0
	VMOVUPS Z0, K1, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	SUBQ $16, CX
	JG addrelu
	VZEROUPPER
	RET

// func winogradCols16(r0, r1, r2, r3, d0, d1, d2, d3 *float32, n int)
TEXT ·winogradCols16(SB), NOSPLIT, $0-72
	MOVQ r0+0(FP), BX
	MOVQ r1+8(FP), DX
	MOVQ r2+16(FP), R13
	MOVQ r3+24(FP), R12
	MOVQ d0+32(FP), R8
	MOVQ d1+40(FP), R9
	MOVQ d2+48(FP), R10
	MOVQ d3+56(FP), R11
	MOVQ n+64(FP), CX
	XORQ SI, SI
	ALLLANES
cols:
	TAILMASK(colsbody)
	VMOVUPS.Z (BX)(SI*4), K1, Z0  // a
	VMOVUPS.Z (DX)(SI*4), K1, Z1  // b
	VMOVUPS.Z (R13)(SI*4), K1, Z2 // c
	VMOVUPS.Z (R12)(SI*4), K1, Z3 // d
	VSUBPS Z2, Z0, Z4             // a-c
	VADDPS Z2, Z1, Z5             // b+c
	VSUBPS Z1, Z2, Z6             // c-b
	VSUBPS Z3, Z1, Z7             // b-d
	VMOVUPS Z4, K1, (R8)(SI*4)
	VMOVUPS Z5, K1, (R9)(SI*4)
	VMOVUPS Z6, K1, (R10)(SI*4)
	VMOVUPS Z7, K1, (R11)(SI*4)
	ADDQ $16, SI
	SUBQ $16, CX
	JG cols
	VZEROUPPER
	RET

// func winogradRows16(m0, m1, m2, m3, t0, t1 *float32, n int)
TEXT ·winogradRows16(SB), NOSPLIT, $0-56
	MOVQ m0+0(FP), BX
	MOVQ m1+8(FP), DX
	MOVQ m2+16(FP), R13
	MOVQ m3+24(FP), R12
	MOVQ t0+32(FP), R8
	MOVQ t1+40(FP), R9
	MOVQ n+48(FP), CX
	XORQ SI, SI
	ALLLANES
rows:
	TAILMASK(rowsbody)
	VMOVUPS.Z (BX)(SI*4), K1, Z0  // a
	VMOVUPS.Z (DX)(SI*4), K1, Z1  // b
	VMOVUPS.Z (R13)(SI*4), K1, Z2 // c
	VMOVUPS.Z (R12)(SI*4), K1, Z3 // d
	VADDPS Z1, Z0, Z4             // a+b
	VADDPS Z2, Z4, Z4             // (a+b)+c
	VSUBPS Z2, Z1, Z5             // b-c
	VSUBPS Z3, Z5, Z5             // (b-c)-d
	VMOVUPS Z4, K1, (R8)(SI*4)
	VMOVUPS Z5, K1, (R9)(SI*4)
	ADDQ $16, SI
	SUBQ $16, CX
	JG rows
	VZEROUPPER
	RET
