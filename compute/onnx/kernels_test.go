package onnx

import (
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"unsafe"
)

// forEachKernel runs test once on every int8 kernel path this CPU has,
// forcing each in turn.
func forEachKernel(t *testing.T, name string, test func(t *testing.T)) {
	t.Helper()
	saved := kern
	defer func() { kern = saved }()
	for _, k := range supportedKernels {
		t.Run(name+"/"+k.name, func(t *testing.T) {
			if err := setInt8Kernel(k.name); err != nil {
				t.Fatal(err)
			}
			test(t)
		})
	}
}

// TestKernelsMatchGo: on random data, including saturating values, every
// path's kernels give exactly what the Go versions give.
func TestKernelsMatchGo(t *testing.T) {
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
	want := make([]uint8, 8*plane)
	qgemm8x8Go(w, x, plane, kp, nblk, want, plane, &post)
	// dwconv: 9 taps (the paired 3x3 kernel) and 5 taps over 64 outputs.
	base := u8(512)
	offs9 := []int{0, 1, 2, 30, 31, 32, 60, 61, 62}
	offs5 := []int{0, 2, 31, 33, 64}
	wt := make([]int32, 9)
	for i := range wt {
		wt[i] = int32(rng.IntN(255) - 127)
	}
	p1 := requant1{bias: -3000, scale: 0.01, lo: -7, hi: 248, zp: 7}
	want9, want5 := make([]uint8, 64), make([]uint8, 64)
	dwconv8Go(want9, base, offs9, wt, 64, &p1)
	dwconv8Go(want5, base, offs5, wt[:5], 64, &p1)
	// qadd and quantize, with values that land on .5 and out of range, and
	// lengths that leave a tail.
	a, b := u8(1021), u8(1021)
	pa := addParams{rA: 0.75, rB: 1.3, fixed: -60.5}
	wantAdd := make([]uint8, 1021)
	qadd8Go(a, b, wantAdd, &pa)
	f := make([]float32, 1021)
	for i := range f {
		f[i] = float32(rng.NormFloat64() * 3)
	}
	f[0], f[1], f[2] = float32(math.NaN()), 1e30, -1e30
	f[3], f[4] = 0.5*0.02, 1.5*0.02
	pq := quantParams{scale: 0.02, lo: -114, hi: 141, zp: 114}
	wantQ := make([]uint8, 1021)
	quantize8Go(f, wantQ, &pq)

	for _, k := range supportedKernels {
		for _, n := range []int{1, 2, 31, 32, 33, 64, 70} {
			for _, stride := range []int{2, 3} {
				src := u8((n-1)*stride + 1) // ends on the last byte taken
				got, want := make([]uint8, n), make([]uint8, n)
				k.subsample(got, src, stride)
				subsampleGo(want, src, stride)
				if !slices.Equal(got, want) {
					t.Errorf("%s: subsample of %d at stride %d differs from the Go version", k.name, n, stride)
				}
			}
		}
		got := make([]uint8, 8*plane)
		k.qgemm8x8(w, x, plane, kp, nblk, got, plane, &post)
		if !slices.Equal(got, want) {
			t.Errorf("%s: qgemm8x8 differs from the Go version", k.name)
		}
		g9, g5 := make([]uint8, 64), make([]uint8, 64)
		k.dwconv(g9, base, offs9, wt, 64, &p1)
		k.dwconv(g5, base, offs5, wt[:5], 64, &p1)
		if !slices.Equal(g9, want9) || !slices.Equal(g5, want5) {
			t.Errorf("%s: dwconv differs from the Go version", k.name)
		}
		gAdd := make([]uint8, 1021)
		k.qadd(a, b, gAdd, &pa)
		if !slices.Equal(gAdd, wantAdd) {
			t.Errorf("%s: qadd differs from the Go version", k.name)
		}
		gQ := make([]uint8, 1021)
		k.quantize(f, gQ, &pq)
		if !slices.Equal(gQ, wantQ) {
			t.Errorf("%s: quantize differs from the Go version: %v vs %v", k.name, gQ[:8], wantQ[:8])
		}
	}
}

// TestInt8KernelChoice: the fastest path is the default, every supported
// one can be forced, and an unknown or unsupported one is refused.
func TestInt8KernelChoice(t *testing.T) {
	if got := Int8Kernel(); os.Getenv(Int8KernelEnv) == "" && got != supportedKernels[0].name {
		t.Errorf("Int8Kernel() = %q, want the fastest path %q", got, supportedKernels[0].name)
	}
	if supportedKernels[len(supportedKernels)-1] != goKernels {
		t.Errorf("the portable path is not the last resort")
	}
	forEachKernel(t, "force", func(t *testing.T) {
		if !strings.HasPrefix(Int8Kernel(), kern.name) {
			t.Errorf("Int8Kernel() = %q after forcing %q", Int8Kernel(), kern.name)
		}
	})
	if err := setInt8Kernel("sse9"); err == nil || !strings.Contains(err.Error(), "go") {
		t.Errorf("setInt8Kernel(sse9): error %v, want one listing the paths", err)
	}
}

// TestInt8KernelEnv runs the test binary again with ITSCOPE_INT8_KERNEL
// set, since the variable is read once when the package loads.
func TestInt8KernelEnv(t *testing.T) {
	if want := os.Getenv("ITSCOPE_TEST_WANT_KERNEL"); want != "" {
		if got := Int8Kernel(); !strings.HasPrefix(got, want) {
			t.Fatalf("Int8Kernel() = %q, want it to start with %q", got, want)
		}
		return
	}
	for _, c := range []struct{ env, want string }{
		{"go", "go (forced by " + Int8KernelEnv},
		{"bogus", supportedKernels[0].name + "; " + Int8KernelEnv + `="bogus" ignored`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestInt8KernelEnv$", "-test.count=1")
		cmd.Env = append(os.Environ(), Int8KernelEnv+"="+c.env, "ITSCOPE_TEST_WANT_KERNEL="+c.want)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s=%s: %v\n%s", Int8KernelEnv, c.env, err, out)
		}
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
	var d dwArgs
	var r16 requant16
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
		{"dwArgs.pw", unsafe.Offsetof(d.pw), 16}, {"dwArgs.rowStep", unsafe.Offsetof(d.rowStep), 24},
		{"dwArgs.colStep", unsafe.Offsetof(d.colStep), 32}, {"dwArgs.nfull", unsafe.Offsetof(d.nfull), 40},
		{"dwArgs.tail", unsafe.Offsetof(d.tail), 48}, {"dwArgs.oh", unsafe.Offsetof(d.oh), 56},
		{"dwArgs.ow", unsafe.Offsetof(d.ow), 64}, {"dwArgs.post", unsafe.Offsetof(d.post), 72},
		{"dwArgs.idx", unsafe.Offsetof(d.idx), 104}, {"requant1 size", unsafe.Sizeof(r1), 32},
		{"requant16.scale", unsafe.Offsetof(r16.scale), 64}, {"requant16.lo", unsafe.Offsetof(r16.lo), 128},
		{"requant16.hi", unsafe.Offsetof(r16.hi), 132}, {"requant16.zp", unsafe.Offsetof(r16.zp), 136},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d, the assembly reads %d", c.what, c.got, c.want)
		}
	}
}
