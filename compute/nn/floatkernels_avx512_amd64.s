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

// BANDROW writes one output row's 32 values from s0..s3 (see winogradBand16).
#define BANDROW(s0, s1, s2, s3, dst) \
	VADDPS s1, s0, Z29; \
	VADDPS s2, Z29, Z29; \
	VADDPS Z24, Z29, Z29; \
	VADDPS Z25, Z29, Z29; \
	VSUBPS s2, s1, Z30; \
	VSUBPS s3, Z30, Z30; \
	VADDPS Z24, Z30, Z30; \
	VADDPS Z25, Z30, Z30; \
	CMPQ R13, $0; \
	JEQ  3(PC); \
	VCMPPS $0x16, Z25, Z29, K4; \
	VPANDD.Z Z26, Z29, K4, Z29; \
	CMPQ R13, $0; \
	JEQ  3(PC); \
	VCMPPS $0x16, Z25, Z30, K4; \
	VPANDD.Z Z26, Z30, K4, Z30; \
	VMOVAPS Z27, Z31; \
	VPERMI2PS Z30, Z29, Z31; \
	VMOVUPS Z31, K1, (dst); \
	VMOVAPS Z28, Z31; \
	VPERMI2PS Z30, Z29, Z31; \
	VMOVUPS Z31, K2, 64(dst)

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

// func winogradTiles16(cr, o0, o1, o2, o3 *float32, tw int)
//
// For tx < tw, with a, b, c, d = cr[2tx], cr[2tx+1], cr[2tx+2], cr[2tx+3]:
// o0 = a-c, o1 = b+c, o2 = c-b, o3 = b-d (Bᵀ across a band's tiles; cr
// holds 2tw+2 values). Sixteen tiles a step: cr[2tx:2tx+32] and
// cr[2tx+2:2tx+34] are split into their even (a, c) and odd (b, d) lanes.
TEXT ·winogradTiles16(SB), NOSPLIT, $0-48
	MOVQ cr+0(FP), SI
	MOVQ o0+8(FP), R8
	MOVQ o1+16(FP), R9
	MOVQ o2+24(FP), R10
	MOVQ o3+32(FP), R11
	MOVQ tw+40(FP), DX
	VMOVUPS ·evenLanes(SB), Z14
	VMOVUPS ·oddLanes(SB), Z15
	XORQ DI, DI
tiles:
	// K3: min(16, DX) tiles to store; K1, K2: the 2*that values of the
	// two 16-value halves to load
	MOVQ DX, CX
	CMPQ CX, $16
	JLE  tilesmask
	MOVQ $16, CX
tilesmask:
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K3
	SHLQ $1, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS.Z 64(SI), K2, Z1
	VMOVUPS.Z 8(SI), K1, Z2
	VMOVUPS.Z 72(SI), K2, Z3
	VMOVAPS Z14, Z4
	VPERMI2PS Z1, Z0, Z4 // a
	VMOVAPS Z15, Z5
	VPERMI2PS Z1, Z0, Z5 // b
	VMOVAPS Z14, Z6
	VPERMI2PS Z3, Z2, Z6 // c
	VMOVAPS Z15, Z7
	VPERMI2PS Z3, Z2, Z7 // d
	VSUBPS Z6, Z4, Z8    // a-c
	VADDPS Z6, Z5, Z9    // b+c
	VSUBPS Z5, Z6, Z10   // c-b
	VSUBPS Z7, Z5, Z11   // b-d
	VMOVUPS Z8, K3, (R8)(DI*4)
	VMOVUPS Z9, K3, (R9)(DI*4)
	VMOVUPS Z10, K3, (R10)(DI*4)
	VMOVUPS Z11, K3, (R11)(DI*4)
	ADDQ $128, SI
	ADDQ $16, DI
	SUBQ $16, DX
	JG tiles
	VZEROUPPER
	RET

DATA ·evenLanes+0(SB)/4, $0
DATA ·evenLanes+4(SB)/4, $2
DATA ·evenLanes+8(SB)/4, $4
DATA ·evenLanes+12(SB)/4, $6
DATA ·evenLanes+16(SB)/4, $8
DATA ·evenLanes+20(SB)/4, $10
DATA ·evenLanes+24(SB)/4, $12
DATA ·evenLanes+28(SB)/4, $14
DATA ·evenLanes+32(SB)/4, $16
DATA ·evenLanes+36(SB)/4, $18
DATA ·evenLanes+40(SB)/4, $20
DATA ·evenLanes+44(SB)/4, $22
DATA ·evenLanes+48(SB)/4, $24
DATA ·evenLanes+52(SB)/4, $26
DATA ·evenLanes+56(SB)/4, $28
DATA ·evenLanes+60(SB)/4, $30
GLOBL ·evenLanes(SB), RODATA|NOPTR, $64

DATA ·oddLanes+0(SB)/4, $1
DATA ·oddLanes+4(SB)/4, $3
DATA ·oddLanes+8(SB)/4, $5
DATA ·oddLanes+12(SB)/4, $7
DATA ·oddLanes+16(SB)/4, $9
DATA ·oddLanes+20(SB)/4, $11
DATA ·oddLanes+24(SB)/4, $13
DATA ·oddLanes+28(SB)/4, $15
DATA ·oddLanes+32(SB)/4, $17
DATA ·oddLanes+36(SB)/4, $19
DATA ·oddLanes+40(SB)/4, $21
DATA ·oddLanes+44(SB)/4, $23
DATA ·oddLanes+48(SB)/4, $25
DATA ·oddLanes+52(SB)/4, $27
DATA ·oddLanes+56(SB)/4, $29
DATA ·oddLanes+60(SB)/4, $31
GLOBL ·oddLanes(SB), RODATA|NOPTR, $64

// func winogradPairs16(q0, q1, q2, q3, pairs *float32, b float32, tiles int)
//
// For tx < tiles: pairs[2tx] = q0+q1+q2+b, pairs[2tx+1] = q1-q2-q3+b (one
// output row's two columns of Aᵀ m A per tile), sixteen tiles a step, the
// two results interleaved by VPERMI2PS.
TEXT ·winogradPairs16(SB), NOSPLIT, $0-56
	MOVQ q0+0(FP), BX
	MOVQ q1+8(FP), DX
	MOVQ q2+16(FP), R13
	MOVQ q3+24(FP), R12
	MOVQ pairs+32(FP), DI
	VBROADCASTSS b+40(FP), Z12
	MOVQ tiles+48(FP), R8
	VMOVUPS ·interleaveLo(SB), Z14
	VMOVUPS ·interleaveHi(SB), Z15
	XORQ SI, SI
pairs:
	// K3: min(16, R8) tiles to load; K1, K2: the 2*that values to store
	MOVQ R8, CX
	CMPQ CX, $16
	JLE  pairsmask
	MOVQ $16, CX
pairsmask:
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K3
	SHLQ $1, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	VMOVUPS.Z (BX)(SI*4), K3, Z0
	VMOVUPS.Z (DX)(SI*4), K3, Z1
	VMOVUPS.Z (R13)(SI*4), K3, Z2
	VMOVUPS.Z (R12)(SI*4), K3, Z3
	VADDPS Z1, Z0, Z4  // q0+q1
	VADDPS Z2, Z4, Z4  // +q2
	VADDPS Z12, Z4, Z4 // +b
	VSUBPS Z2, Z1, Z5  // q1-q2
	VSUBPS Z3, Z5, Z5  // -q3
	VADDPS Z12, Z5, Z5 // +b
	VMOVAPS Z14, Z6
	VPERMI2PS Z5, Z4, Z6
	VMOVAPS Z15, Z7
	VPERMI2PS Z5, Z4, Z7
	VMOVUPS Z6, K1, (DI)
	VMOVUPS Z7, K2, 64(DI)
	ADDQ $128, DI
	ADDQ $16, SI
	SUBQ $16, R8
	JG pairs
	VZEROUPPER
	RET

DATA ·interleaveLo+0(SB)/4, $0
DATA ·interleaveLo+4(SB)/4, $16
DATA ·interleaveLo+8(SB)/4, $1
DATA ·interleaveLo+12(SB)/4, $17
DATA ·interleaveLo+16(SB)/4, $2
DATA ·interleaveLo+20(SB)/4, $18
DATA ·interleaveLo+24(SB)/4, $3
DATA ·interleaveLo+28(SB)/4, $19
DATA ·interleaveLo+32(SB)/4, $4
DATA ·interleaveLo+36(SB)/4, $20
DATA ·interleaveLo+40(SB)/4, $5
DATA ·interleaveLo+44(SB)/4, $21
DATA ·interleaveLo+48(SB)/4, $6
DATA ·interleaveLo+52(SB)/4, $22
DATA ·interleaveLo+56(SB)/4, $7
DATA ·interleaveLo+60(SB)/4, $23
GLOBL ·interleaveLo(SB), RODATA|NOPTR, $64

DATA ·interleaveHi+0(SB)/4, $8
DATA ·interleaveHi+4(SB)/4, $24
DATA ·interleaveHi+8(SB)/4, $9
DATA ·interleaveHi+12(SB)/4, $25
DATA ·interleaveHi+16(SB)/4, $10
DATA ·interleaveHi+20(SB)/4, $26
DATA ·interleaveHi+24(SB)/4, $11
DATA ·interleaveHi+28(SB)/4, $27
DATA ·interleaveHi+32(SB)/4, $12
DATA ·interleaveHi+36(SB)/4, $28
DATA ·interleaveHi+40(SB)/4, $13
DATA ·interleaveHi+44(SB)/4, $29
DATA ·interleaveHi+48(SB)/4, $14
DATA ·interleaveHi+52(SB)/4, $30
DATA ·interleaveHi+56(SB)/4, $15
DATA ·interleaveHi+60(SB)/4, $31
GLOBL ·interleaveHi(SB), RODATA|NOPTR, $64

// func winogradBand16(m *float32, xiStride, tw int, b float32, relu int, row0, row1 *float32, ow, nrows int)
//
// One band of output tiles, Aᵀ m A + b and the activation, straight from the
// 16 products (m[xi*xiStride+tx]) into nrows (1 or 2) output rows of ow
// values: per tile column q, s0 = m[q]+m[4+q]+m[8+q] and s1 =
// m[4+q]-m[8+q]-m[12+q]; per row, ((s[0]+s[1])+s[2])+b and
// ((s[1]-s[2])-s[3])+b, then +0 and max(x, 0) as act.apply does after
// them, interleaved. Sixteen tiles (32 values) a step, masked at the end.
TEXT ·winogradBand16(SB), NOSPLIT, $0-72
	MOVQ m+0(FP), SI
	MOVQ xiStride+8(FP), R8
	SHLQ $2, R8
	MOVQ tw+16(FP), DX
	VBROADCASTSS b+24(FP), Z24
	MOVQ relu+32(FP), R13
	MOVQ row0+40(FP), DI
	MOVQ row1+48(FP), R9
	MOVQ ow+56(FP), R10
	MOVQ nrows+64(FP), R11
	VPXORD Z25, Z25, Z25
	VPTERNLOGD $0xff, Z26, Z26, Z26
	VPSRLD $1, Z26, Z26
	VMOVUPS ·interleaveLo(SB), Z27
	VMOVUPS ·interleaveHi(SB), Z28
band:
	// K3: min(16, DX) tiles to load; K1, K2: min(32, R10) values to store
	MOVQ DX, CX
	CMPQ CX, $16
	JLE  bandtiles
	MOVQ $16, CX
bandtiles:
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K3
	MOVQ R10, CX
	CMPQ CX, $32
	JLE  bandvalues
	MOVQ $32, CX
bandvalues:
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	MOVQ SI, AX
	VMOVUPS.Z (AX), K3, Z0
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z1
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z2
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z3
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z4
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z5
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z6
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z7
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z8
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z9
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z10
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z11
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z12
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z13
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z14
	ADDQ R8, AX
	VMOVUPS.Z (AX), K3, Z15
	// s0[q] = (m[q]+m[4+q])+m[8+q] in Z16..Z19
	VADDPS Z4, Z0, Z16
	VADDPS Z8, Z16, Z16
	VADDPS Z5, Z1, Z17
	VADDPS Z9, Z17, Z17
	VADDPS Z6, Z2, Z18
	VADDPS Z10, Z18, Z18
	VADDPS Z7, Z3, Z19
	VADDPS Z11, Z19, Z19
	// s1[q] = (m[4+q]-m[8+q])-m[12+q] in Z20..Z23
	VSUBPS Z8, Z4, Z20
	VSUBPS Z12, Z20, Z20
	VSUBPS Z9, Z5, Z21
	VSUBPS Z13, Z21, Z21
	VSUBPS Z10, Z6, Z22
	VSUBPS Z14, Z22, Z22
	VSUBPS Z11, Z7, Z23
	VSUBPS Z15, Z23, Z23
	BANDROW(Z16, Z17, Z18, Z19, DI)
	CMPQ R11, $2
	JLT  bandnext
	BANDROW(Z20, Z21, Z22, Z23, R9)
bandnext:
	ADDQ $64, SI
	ADDQ $128, DI
	ADDQ $128, R9
	SUBQ $32, R10
	SUBQ $16, DX
	JG band
	VZEROUPPER
	RET
