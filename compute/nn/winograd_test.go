package nn

import (
	"fmt"
	"math"
	"testing"
)

// TestWinogradMatchesIm2col checks the F(2x2, 3x3) path against the im2col
// GEMM path (itself checked against PyTorch) over odd and even sizes, every
// padding shape, with and without bias and a fused activation, and batches
// split over several transforms.
func TestWinogradMatchesIm2col(t *testing.T) {
	rng := NewRand(3)
	cases := []struct {
		n, in, out, h, w int
		pad              [4]int
	}{
		{2, 16, 8, 8, 8, [4]int{1, 1, 1, 1}},
		{3, 17, 5, 7, 9, [4]int{1, 1, 1, 1}},
		{1, 16, 4, 6, 5, [4]int{}},
		{2, 20, 6, 9, 6, [4]int{0, 2, 1, 0}},
		{5, 32, 16, 3, 3, [4]int{1, 1, 1, 1}},
	}
	defer func(old, oldP int) { winogradMaxFloats, winogradMinP = old, oldP }(winogradMaxFloats, winogradMinP)
	winogradMinP = 4
	for _, tc := range cases {
		for _, bias := range []bool{false, true} {
			for _, act := range []Activation{ActNone, ActReLU} {
				for _, maxFloats := range []int{2 << 20, 16 * tc.in * 4} {
					name := fmt.Sprintf("%dx%dx%dx%d-%d pad%v bias=%v act=%d max=%d", tc.n, tc.in, tc.h, tc.w, tc.out, tc.pad, bias, act, maxFloats)
					winogradMaxFloats = maxFloats
					c, err := NewConv2D(ConvSpec{InC: tc.in, OutC: tc.out, Kernel: [2]int{3, 3}, Pad: tc.pad, Bias: bias})
					if err != nil {
						t.Fatal(err)
					}
					InitDefault(c, rng)
					x := New(tc.n, tc.in, tc.h, tc.w)
					for i := range Float32s(x) {
						Float32s(x)[i] = float32(rng.NormFloat64())
					}
					g, err := c.geom(x)
					if err != nil {
						t.Fatal(err)
					}
					if !c.useWinograd(&g) {
						t.Fatalf("%s: Winograd not chosen", name)
					}
					got, err := c.Infer(x, act)
					if err != nil {
						t.Fatal(err)
					}
					want := New(got.Shape()...)
					var b []float32
					if bias {
						b = Float32s(c.Bias.Value)
					}
					c.gemmForward(&g, Float32s(x), Float32s(c.Weight.Value), b, Float32s(want), act)
					scale := 0.0
					for _, v := range Float32s(want) {
						scale = max(scale, math.Abs(float64(v)))
					}
					for i, v := range Float32s(got) {
						w := Float32s(want)[i]
						if e := math.Abs(float64(v-w)) / scale; e > 1e-5 || v != v {
							t.Fatalf("%s: output %d = %v, im2col gives %v (error %.2g of the largest output)", name, i, v, w, e)
						}
					}
				}
			}
		}
	}
}
