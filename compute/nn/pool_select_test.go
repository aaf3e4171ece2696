package nn

import (
	"math"
	"testing"
)

// TestMaxPool2x2Select checks the branch-free 2x2 pool against the rule it
// keeps (first maximum wins ties; a NaN wins, the last NaN of a window
// most), over windows made of ties, zeros, infinities and NaNs.
func TestMaxPool2x2Select(t *testing.T) {
	nan := float32(math.NaN())
	negNaN := math.Float32frombits(0xffc00000)
	inf := float32(math.Inf(1))
	vals := []float32{0, 1, -1, inf, -inf, nan, negNaN, 1}
	g := poolGeom{n: 1, c: 1, h: 2, w: 2, oh: 1, ow: 1}
	for a := range vals {
		for b := range vals {
			for c := range vals {
				for d := range vals {
					xs := []float32{vals[a], vals[b], vals[c], vals[d]}
					best, bi := xs[0], 0
					for i, v := range xs[1:] {
						if v > best || v != v {
							best, bi = v, i+1
						}
					}
					ys, arg := make([]float32, 1), make([]int32, 1)
					maxPool2x2(&g, 0, xs, ys, arg)
					if math.Float32bits(ys[0]) != math.Float32bits(best) || int(arg[0]) != bi {
						t.Fatalf("window %v: got %v at %d, want %v at %d", xs, ys[0], arg[0], best, bi)
					}
				}
			}
		}
	}
}
