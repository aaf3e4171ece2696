package nn

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
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
					maxPool2x2(&g, 0, xs, ys, arg, false)
					if math.Float32bits(ys[0]) != math.Float32bits(best) || int(arg[0]) != bi {
						t.Fatalf("window %v: got %v at %d, want %v at %d", xs, ys[0], arg[0], best, bi)
					}
					// Fused ReLU: the pool of the ReLU's outputs, with gradient
					// only through a winner the ReLU passed.
					relu := make([]float32, 4)
					for i, v := range xs {
						relu[i] = v
						if !(v > 0) && v == v {
							relu[i] = 0
						}
					}
					best, bi = relu[0], 0
					for i, v := range relu[1:] {
						if v > best || v != v {
							best, bi = v, i+1
						}
					}
					maxPool2x2(&g, 0, xs, ys, arg, true)
					passes := xs[bi] > 0
					if math.Float32bits(ys[0]) != math.Float32bits(best) || (arg[0] >= 0) != passes ||
						passes && int(arg[0]) != bi {
						t.Fatalf("window %v with ReLU: got %v at %#x, want %v at %d (gradient %v)", xs, ys[0], arg[0], best, bi, passes)
					}
				}
			}
		}
	}
}

// TestFuseReLUMaxPool checks that a fused ReLU+MaxPool gives the unfused
// pair's outputs and input gradients bit for bit, training and inference.
func TestFuseReLUMaxPool(t *testing.T) {
	specs := []PoolSpec{
		{Kernel: [2]int{2, 2}},
		{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}},
		{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true},
	}
	rng := NewRand(7)
	for _, spec := range specs {
		build := func() *Sequential {
			pool, err := NewMaxPool2D(spec)
			if err != nil {
				t.Fatal(err)
			}
			return NewSequential().Append("0", NewReLU()).Append("1", pool)
		}
		plain, fused := build(), build()
		if n := FuseReLUMaxPool(fused); n != 1 {
			t.Fatalf("%v: fused %d pairs, want 1", spec, n)
		}
		x := New(2, 3, 9, 8)
		for i := range Float32s(x) {
			Float32s(x)[i] = float32(rng.NormFloat64())
		}
		Float32s(x)[5] = 0 // a zero and a negative zero, to tie with the clamp
		Float32s(x)[77] = float32(math.Copysign(0, -1))
		for _, train := range []bool{true, false} {
			want, err := plain.Forward(x, train)
			if err != nil {
				t.Fatal(err)
			}
			got, err := fused.Forward(x, train)
			if err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, "y", got, want)
			if !train {
				continue
			}
			dy := New(want.Shape()...)
			for i := range Float32s(dy) {
				Float32s(dy)[i] = float32(rng.NormFloat64())
			}
			wantDx, err := plain.Backward(dy)
			if err != nil {
				t.Fatal(err)
			}
			gotDx, err := fused.Backward(dy)
			if err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, "dx", gotDx, wantDx)
		}
	}
}

func assertSameBits(t *testing.T, what string, got, want *tensor.Dense) {
	t.Helper()
	g, w := Float32s(got), Float32s(want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d values, want %d", what, len(g), len(w))
	}
	for i := range g {
		if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, g[i], w[i])
		}
	}
}
