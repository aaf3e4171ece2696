package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
)

// floatTestLengths cover empty, tail-only, whole-block and block+tail runs.
var floatTestLengths = []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 56, 63, 64, 100, 203}

// floatGuard values past each destination's end must survive a kernel.
const floatGuard = 16

// specialFloats: signed zeros, NaNs with payloads, infinities and values
// whose sum with a bias rounds.
var specialFloats = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.NaN()), math.Float32frombits(0x7fc01234),
	math.Float32frombits(0xffc00042), float32(math.Inf(1)), float32(math.Inf(-1)), 1e-45, -1e-45,
	3.4e38, -3.4e38, 0.1, -0.1, 1, -1, 16777217,
}

func floatTestInput(rng *rand.Rand, n, seed int) []float32 {
	v := make([]float32, n)
	for i := range v {
		if (i+seed)%5 == 0 {
			v[i] = specialFloats[(i+seed)%len(specialFloats)]
		} else {
			v[i] = float32(rng.NormFloat64())
		}
	}
	return v
}

// guarded returns n values (copied from init when given) followed by a
// guard area, and the n-value slice.
func guarded(n int, init []float32) (all, head []float32) {
	all = make([]float32, n+floatGuard)
	copy(all, init)
	for i := n; i < len(all); i++ {
		all[i] = -7777
	}
	return all, all[:n]
}

func sameBits(t *testing.T, name string, got, want []float32, n int) {
	t.Helper()
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: value %d = %v (%#x), the Go kernel gives %v (%#x)", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
	for i := n; i < len(got); i++ {
		if got[i] != -7777 {
			t.Fatalf("%s: guard value %d past the end was overwritten: %v", name, i-n, got[i])
		}
	}
}

// TestFloatKernelsMatchGo runs every path this CPU has against the Go loops,
// bit for bit, over tail lengths, special values and a guard area.
func TestFloatKernelsMatchGo(t *testing.T) {
	rng := NewRand(11)
	for _, k := range supportedFloatKernels {
		for _, n := range floatTestLengths {
			src, dst0 := floatTestInput(rng, n, 0), floatTestInput(rng, n, 3)
			for _, b := range []float32{0, float32(math.Copysign(0, -1)), 0.25, -1.5} {
				for _, op := range []struct {
					name   string
					k, gok func(dst, src []float32, b float32)
				}{{"biasReLU", k.biasReLU, goFloatKernels.biasReLU}, {"biasAdd", k.biasAdd, goFloatKernels.biasAdd}} {
					name := fmt.Sprintf("%s %s n=%d b=%v", k.name, op.name, n, b)
					got, gotHead := guarded(n, nil)
					want, wantHead := guarded(n, nil)
					op.k(gotHead, src, b)
					op.gok(wantHead, src, b)
					sameBits(t, name, got, want, n)
					// in place, as the layers call it
					got, gotHead = guarded(n, src)
					op.k(gotHead, gotHead, b)
					sameBits(t, name+" in place", got, want, n)
				}
			}
			for _, v := range []float32{float32(math.Copysign(0, -1)), 0.5} {
				got, gotHead := guarded(n, dst0)
				want, wantHead := guarded(n, nil)
				k.fill(gotHead, v)
				goFloatKernels.fill(wantHead, v)
				sameBits(t, fmt.Sprintf("%s fill n=%d v=%v", k.name, n, v), got, want, n)
			}
			got, gotHead := guarded(n, dst0)
			want, wantHead := guarded(n, dst0)
			k.addReLU(gotHead, src)
			goFloatKernels.addReLU(wantHead, src)
			sameBits(t, fmt.Sprintf("%s addReLU n=%d", k.name, n), got, want, n)

			var r, m [4][]float32
			var gotAll, wantAll [6][]float32
			var gotD, wantD [4][]float32
			for j := range 4 {
				r[j], m[j] = floatTestInput(rng, n, j), floatTestInput(rng, n, j+4)
				gotAll[j], gotD[j] = guarded(n, nil)
				wantAll[j], wantD[j] = guarded(n, nil)
			}
			k.winogradCols(r, gotD)
			goFloatKernels.winogradCols(r, wantD)
			for j := range 4 {
				sameBits(t, fmt.Sprintf("%s winogradCols n=%d row %d", k.name, n, j), gotAll[j], wantAll[j], n)
			}
			cr := floatTestInput(rng, 2*n+2, 1)
			k.winogradTiles(cr, gotD)
			goFloatKernels.winogradTiles(cr, wantD)
			for j := range 4 {
				sameBits(t, fmt.Sprintf("%s winogradTiles n=%d output %d", k.name, n, j), gotAll[j], wantAll[j], n)
			}
			for _, b := range []float32{0, -0.75} {
				got, gotHead := guarded(2*n, nil)
				want, wantHead := guarded(2*n, nil)
				k.winogradPairs(m, gotHead, b)
				goFloatKernels.winogradPairs(m, wantHead, b)
				sameBits(t, fmt.Sprintf("%s winogradPairs n=%d b=%v", k.name, n, b), got, want, 2*n)
			}
			if n > 0 {
				testWinogradBand(t, k, rng, n)
			}
			var gotT, wantT [2][]float32
			for j := range 2 {
				gotAll[4+j], gotT[j] = guarded(n, nil)
				wantAll[4+j], wantT[j] = guarded(n, nil)
			}
			k.winogradRows(m, gotT[0], gotT[1])
			goFloatKernels.winogradRows(m, wantT[0], wantT[1])
			for j := range 2 {
				sameBits(t, fmt.Sprintf("%s winogradRows n=%d row %d", k.name, n, j), gotAll[4+j], wantAll[4+j], n)
			}
		}
	}
}

// TestFloatKernelPathsSameConv forces each path in turn through a Winograd
// convolution with bias and ReLU and a residual add+ReLU: the same bits as
// the Go path.
func TestFloatKernelPathsSameConv(t *testing.T) {
	defer func(old *floatKernels) { fkern = old }(fkern)
	defer func(old int) { winogradMinP = old }(winogradMinP)
	winogradMinP = 4
	rng := NewRand(5)
	c, err := NewConv2D(ConvSpec{InC: 16, OutC: 8, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	InitDefault(c, rng)
	x := New(2, 16, 19, 21)
	for i := range Float32s(x) {
		Float32s(x)[i] = float32(rng.NormFloat64())
	}
	run := func(name string) []float32 {
		if err := setFloatKernel(name); err != nil {
			t.Fatal(err)
		}
		y, err := c.Infer(x, ActReLU)
		if err != nil {
			t.Fatal(err)
		}
		out := append([]float32(nil), Float32s(y)...)
		ActReLU.addInto(out, Float32s(x)[:len(out)])
		return out
	}
	want := run("go")
	for _, k := range supportedFloatKernels {
		got := run(k.name)
		if len(got) != len(want) {
			t.Fatalf("%s: %d outputs, the Go path gives %d", k.name, len(got), len(want))
		}
		sameBits(t, k.name+" conv", got, want, len(got))
	}
}

func TestFloatKernelChoice(t *testing.T) {
	if os.Getenv(FloatKernelEnv) == "" && fkern != supportedFloatKernels[0] {
		t.Errorf("float kernel path %q, want the fastest, %q", fkern.name, supportedFloatKernels[0].name)
	}
	if supportedFloatKernels[len(supportedFloatKernels)-1] != goFloatKernels {
		t.Errorf("the Go path is not the last fallback")
	}
	defer func(old *floatKernels) { fkern = old }(fkern)
	if err := setFloatKernel("avx9000"); err == nil {
		t.Errorf("setFloatKernel(avx9000) = nil, want an error naming the paths")
	}
}

// testWinogradBand checks k's output band of tw tiles against the Go path
// over even and odd widths, one and two rows and every activation.
func testWinogradBand(t *testing.T, k *floatKernels, rng *rand.Rand, tw int) {
	t.Helper()
	stride := tw + 3
	m := floatTestInput(rng, 16*stride, tw)
	scratch := func() (s [2][4][]float32) {
		for r := range 2 {
			for q := range 4 {
				s[r][q] = make([]float32, tw)
			}
		}
		return s
	}
	for _, ow := range []int{2 * tw, 2*tw - 1} {
		if ow == 0 {
			continue
		}
		for _, nrows := range []int{1, 2} {
			for _, act := range []Activation{ActNone, ActReLU, ActReLU6} {
				for _, b := range []float32{0, 0.5} {
					name := fmt.Sprintf("%s winogradBand tw=%d ow=%d rows=%d act=%d b=%v", k.name, tw, ow, nrows, act, b)
					var got, want [2][]float32
					var gotOut, wantOut [2][]float32
					for r := range nrows {
						got[r], gotOut[r] = guarded(ow, nil)
						want[r], wantOut[r] = guarded(ow, nil)
					}
					k.winogradBand(m, stride, scratch(), b, act, gotOut)
					goFloatKernels.winogradBand(m, stride, scratch(), b, act, wantOut)
					for r := range nrows {
						sameBits(t, fmt.Sprintf("%s row %d", name, r), got[r], want[r], ow)
					}
				}
			}
		}
	}
}
