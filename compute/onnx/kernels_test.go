package onnx

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"
)

// TestKernelsAsmMatchGo: on random data, including saturating values, the
// assembly kernels give exactly what the Go versions give.
func TestKernelsAsmMatchGo(t *testing.T) {
	if !useAsm {
		t.Skip("no AVX2 kernels on this machine")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	u8 := func(n int) []uint8 {
		s := make([]uint8, n)
		for i := range s {
			s[i] = uint8(rng.IntN(256))
		}
		return s
	}
	// qgemm: 8 rows, kp pairs, 3 blocks.
	const kp, nblk, plane = 37, 3, 40
	w := make([]int32, kp*8)
	for i := range w {
		w[i] = int32(uint32(uint16(int16(rng.IntN(511)-255))) | uint32(uint16(int16(rng.IntN(511)-255)))<<16)
	}
	x := u8(2 * kp * plane)
	post := requant8{lo: -100, hi: 155, zp: 100}
	for r := range 8 {
		post.bias[r] = int32(rng.IntN(200000) - 100000)
		post.scale[r] = float32(rng.Float64() * 1e-3)
	}
	post.scale[3] = 1 // saturates both ways
	got, want := make([]uint8, 8*plane), make([]uint8, 8*plane)
	qgemm8x8(&w[0], &x[0], plane, kp, nblk, &got[0], plane, &post)
	qgemm8x8Go(w, x, plane, kp, nblk, want, plane, &post)
	if !slices.Equal(got, want) {
		t.Errorf("qgemm8x8 differs from the Go version")
	}
	// dwconv: 9 taps over 64 outputs.
	base := u8(512)
	offs := []int{0, 1, 2, 30, 31, 32, 60, 61, 62}
	wt := make([]int32, 9)
	for i := range wt {
		wt[i] = int32(rng.IntN(255) - 127)
	}
	p1 := requant1{bias: -3000, scale: 0.01, lo: -7, hi: 248, zp: 7}
	g1, w1 := make([]uint8, 64), make([]uint8, 64)
	dwconv8(&g1[0], &base[0], &offs[0], &wt[0], 9, 64, &p1)
	dwconv8Go(w1, base, offs, wt, 64, &p1)
	if !slices.Equal(g1, w1) {
		t.Errorf("dwconv8 differs from the Go version")
	}
	clear(g1)
	dwconv(g1, base, offs, wt, 64, &p1) // the paired 3x3 kernel
	if !slices.Equal(g1, w1) {
		t.Errorf("dwconv3x3 differs from the Go version")
	}
	// qadd and quantize, with values that land on .5 and out of range.
	a, b := u8(1024), u8(1024)
	pa := addParams{rA: 0.75, rB: 1.3, fixed: -60.5}
	g2, w2 := make([]uint8, 1024), make([]uint8, 1024)
	qadd8(&a[0], &b[0], &g2[0], 1024, &pa)
	qadd8Go(a, b, w2, &pa)
	if !slices.Equal(g2, w2) {
		t.Errorf("qadd8 differs from the Go version")
	}
	f := make([]float32, 1024)
	for i := range f {
		f[i] = float32(rng.NormFloat64() * 3)
	}
	f[0], f[1], f[2] = float32(math.NaN()), 1e30, -1e30
	f[3], f[4] = 0.5*0.02, 1.5*0.02
	pq := quantParams{scale: 0.02, lo: -114, hi: 141, zp: 114}
	g3, w3 := make([]uint8, 1024), make([]uint8, 1024)
	quantize8(&f[0], &g3[0], 1024, &pq)
	quantize8Go(f, w3, &pq)
	if !slices.Equal(g3, w3) {
		t.Errorf("quantize8 differs from the Go version: %v vs %v", g3[:8], w3[:8])
	}
}

// TestFma32: the emulated fused multiply-add rounds once, including at
// float32 halfway points where rounding through float64 would round twice.
func TestFma32(t *testing.T) {
	for _, c := range []struct{ a, b, c float32 }{
		{1.5, 2.25, -0.125}, {0.1, 0.2, 0.3}, {3, 1.0 / 3, -1},
		// a*b = 1 + 2^-24 + 2^-48: halfway plus a little; must round up.
		{1 + 0x1p-24, 1 + 0x1p-24, -0x1p-24},
	} {
		want := float32(new(bigFloat).fma(c.a, c.b, c.c))
		if got := fma32(c.a, c.b, c.c); got != want {
			t.Errorf("fma32(%g, %g, %g) = %g, want %g", c.a, c.b, c.c, got, want)
		}
	}
}

// TestKernelParamOffsets pins the field offsets kernels_amd64.s reads.
func TestKernelParamOffsets(t *testing.T) {
	var r8 requant8
	var r1 requant1
	var a addParams
	var q quantParams
	for _, c := range []struct {
		what      string
		got, want uintptr
	}{
		{"requant8.scale", unsafe.Offsetof(r8.scale), 32}, {"requant8.lo", unsafe.Offsetof(r8.lo), 64},
		{"requant8.hi", unsafe.Offsetof(r8.hi), 68}, {"requant8.zp", unsafe.Offsetof(r8.zp), 72},
		{"requant1.scale", unsafe.Offsetof(r1.scale), 4}, {"requant1.lo", unsafe.Offsetof(r1.lo), 8},
		{"requant1.hi", unsafe.Offsetof(r1.hi), 12}, {"requant1.zp", unsafe.Offsetof(r1.zp), 16},
		{"addParams.rB", unsafe.Offsetof(a.rB), 4}, {"addParams.fixed", unsafe.Offsetof(a.fixed), 8},
		{"quantParams.lo", unsafe.Offsetof(q.lo), 4}, {"quantParams.hi", unsafe.Offsetof(q.hi), 8},
		{"quantParams.zp", unsafe.Offsetof(q.zp), 12},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, the assembly reads %d", c.what, c.got, c.want)
		}
	}
}
