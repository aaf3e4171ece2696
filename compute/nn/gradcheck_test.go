package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// Gradient checks: each layer's Backward against central finite differences
// of L = Σ y·r (r fixed random), in float32 with the loss summed in float64.
// Inputs to kinked layers (ReLU, Clip, MaxPool) keep clear of the kinks by
// more than the step, so the differences see a smooth function.

func randTensor(rng *rand.Rand, shape ...int) *tensor.Dense {
	x := New(shape...)
	xs := Float32s(x)
	for i := range xs {
		xs[i] = float32(rng.NormFloat64())
	}
	return x
}

// awayFrom returns values with |v - k| >= gap for every kink k.
func awayFrom(rng *rand.Rand, gap float64, scale float64, kinks []float64, shape ...int) *tensor.Dense {
	x := New(shape...)
	xs := Float32s(x)
	for i := range xs {
	again:
		v := rng.NormFloat64() * scale
		for _, k := range kinks {
			if math.Abs(v-k) < gap {
				goto again
			}
		}
		xs[i] = float32(v)
	}
	return x
}

// distinct returns a shuffled ramp: every pair of values differs by >= step,
// so a max-pool's winner cannot change under a smaller perturbation.
func distinct(rng *rand.Rand, step float64, shape ...int) *tensor.Dense {
	x := New(shape...)
	xs := Float32s(x)
	for i, j := range rng.Perm(len(xs)) {
		xs[i] = float32(float64(j-len(xs)/2) * step)
	}
	return x
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// sample picks up to k indices of [0,n), always including the ends.
func sample(rng *rand.Rand, n, k int) []int {
	if n <= k {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = i
		}
		return idx
	}
	idx := []int{0, n - 1}
	for len(idx) < k {
		idx = append(idx, rng.IntN(n))
	}
	return idx
}

// numericGrad is (L(v+h) - L(v-h)) / 2h at each sampled entry of vs.
func numericGrad(vs []float32, idx []int, h float64, loss func() float64) []float32 {
	out := make([]float32, len(idx))
	for k, i := range idx {
		orig := vs[i]
		vs[i] = orig + float32(h)
		lp := loss()
		vs[i] = orig - float32(h)
		lm := loss()
		vs[i] = orig
		// the perturbation actually applied, after float32 rounding
		step := float64(orig+float32(h)) - float64(orig-float32(h))
		out[k] = float32((lp - lm) / step)
	}
	return out
}

func pick(vs []float32, idx []int) []float32 {
	out := make([]float32, len(idx))
	for k, i := range idx {
		out[k] = vs[i]
	}
	return out
}

const gradTol = 2e-3

// gradErr is max|ana-num| over max(max|num|, 1e-2): relative to the
// gradient's scale, with a floor for gradients that are exactly zero in
// theory (a conv bias before a training BatchNorm).
func gradErr(ana, num []float32) float64 {
	var diff, scale float64
	for i := range num {
		diff = max(diff, math.Abs(float64(ana[i])-float64(num[i])))
		scale = max(scale, math.Abs(float64(num[i])))
	}
	return diff / max(scale, 1e-2)
}

// gradCheck compares l's Backward with finite differences at x.
func gradCheck(t *testing.T, l Layer, x *tensor.Dense, h float64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	y, err := l.Forward(x, true)
	if err != nil {
		t.Fatal(err)
	}
	r := randTensor(rng, y.Shape()...)
	for _, p := range l.Params() {
		clear(Float32s(p.Grad))
	}
	if _, err = l.Forward(x, true); err != nil {
		t.Fatal(err)
	}
	dx, err := l.Backward(r)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(dx.Shape(), x.Shape()) {
		t.Fatalf("dx shape %v, want %v", []int(dx.Shape()), []int(x.Shape()))
	}
	loss := func() float64 {
		y, err := l.Forward(x, true)
		if err != nil {
			t.Fatal(err)
		}
		return dot(Float32s(y), Float32s(r))
	}
	compare := func(what string, vs, grad []float32, k int) float64 {
		idx := sample(rng, len(vs), k)
		e := gradErr(pick(grad, idx), numericGrad(vs, idx, h, loss))
		if e > gradTol {
			t.Errorf("%s: relative error %.3g against finite differences", what, e)
		}
		return e
	}
	worst := compare("dx", Float32s(x), Float32s(dx), 60)
	for _, p := range l.Params() {
		ana := append([]float32(nil), Float32s(p.Grad)...)
		worst = max(worst, compare("d"+p.Name, Float32s(p.Value), ana, 40))
	}
	t.Logf("max relative error %.2g", worst)
}

func initRandom(l Layer, seed uint64) {
	InitDefault(l, NewRand(seed))
	// BatchNorm's defaults (1, 0) would hide errors in their gradients.
	rng := NewRand(seed + 1)
	Walk(l, func(_ string, l Layer) {
		if bn, ok := l.(*BatchNorm2D); ok {
			for i := range Float32s(bn.Weight.Value) {
				Float32s(bn.Weight.Value)[i] = float32(1 + 0.3*rng.NormFloat64())
				Float32s(bn.Bias.Value)[i] = float32(0.3 * rng.NormFloat64())
				Float32s(bn.RunningMean.Value)[i] = float32(0.2 * rng.NormFloat64())
				Float32s(bn.RunningVar.Value)[i] = float32(1 + 0.3*rng.Float64())
			}
		}
	})
}

func TestGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	convCase := func(s ConvSpec, shape ...int) func(*testing.T) (Layer, *tensor.Dense, float64) {
		return func(t *testing.T) (Layer, *tensor.Dense, float64) {
			return conv(t, s), randTensor(rng, shape...), 1e-2
		}
	}
	frozen := NewBatchNorm2D(3)
	frozen.UseRunningStats = true
	drop, _ := NewDropout(0.4, 3)
	drop.reuseMask = true
	cases := []struct {
		name  string
		build func(*testing.T) (Layer, *tensor.Dense, float64)
	}{
		{"conv", convCase(ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true}, 2, 3, 6, 5)},
		{"conv strided", convCase(ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, 2, 3, 7, 8)},
		{"conv dilated", convCase(ConvSpec{InC: 2, OutC: 3, Kernel: [2]int{3, 3}, Dilation: [2]int{2, 1}, Pad: [4]int{2, 1, 2, 1}, Bias: true}, 2, 2, 7, 6)},
		{"conv grouped", convCase(ConvSpec{InC: 4, OutC: 6, Kernel: [2]int{3, 3}, Groups: 2, Pad: [4]int{1, 1, 1, 1}, Bias: true}, 2, 4, 5, 5)},
		{"conv depthwise", convCase(ConvSpec{InC: 3, OutC: 6, Kernel: [2]int{3, 3}, Groups: 3, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, Bias: true}, 2, 3, 7, 7)},
		{"conv pointwise", convCase(ConvSpec{InC: 5, OutC: 4, Kernel: [2]int{1, 1}, Bias: true}, 2, 5, 3, 4)},
		{"conv asymmetric pads", convCase(ConvSpec{InC: 2, OutC: 3, Kernel: [2]int{2, 3}, Stride: [2]int{2, 1}, Pad: [4]int{2, 1, 0, 3}}, 2, 2, 6, 5)},
		{"batchnorm train", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return NewBatchNorm2D(3), randTensor(rng, 4, 3, 3, 2), 1e-2
		}},
		{"batchnorm running stats", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return frozen, randTensor(rng, 2, 3, 3, 2), 1e-2
		}},
		{"relu", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return NewReLU(), awayFrom(rng, 0.05, 1, []float64{0}, 2, 3, 4, 4), 1e-3
		}},
		{"relu6", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return NewReLU6(), awayFrom(rng, 0.05, 4, []float64{0, 6}, 2, 3, 4, 4), 1e-3
		}},
		{"maxpool", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			return maxPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}), distinct(rng, 0.01, 2, 2, 7, 6), 1e-3
		}},
		{"maxpool ceil", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			return maxPool(t, PoolSpec{Kernel: [2]int{2, 2}, CeilMode: true}), distinct(rng, 0.01, 2, 2, 5, 5), 1e-3
		}},
		{"avgpool include pad", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			return avgPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, true), randTensor(rng, 2, 2, 7, 6), 1e-2
		}},
		{"avgpool exclude pad", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			return avgPool(t, PoolSpec{Kernel: [2]int{3, 2}, Stride: [2]int{1, 2}, Pad: [4]int{1, 0, 1, 1}}, false), randTensor(rng, 2, 2, 5, 6), 1e-2
		}},
		{"global avgpool", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return &GlobalAvgPool{}, randTensor(rng, 2, 3, 4, 5), 1e-2
		}},
		{"linear", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			l, err := NewLinear(6, 4, true)
			check(t, err)
			return l, randTensor(rng, 3, 6), 1e-2
		}},
		{"linear on 4-d input", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			l, err := NewLinear(12, 3, false)
			check(t, err)
			return l, randTensor(rng, 2, 3, 2, 2), 1e-2
		}},
		{"dropout fixed mask", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return drop, randTensor(rng, 2, 3, 4, 4), 1e-2
		}},
		{"flatten", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return &Flatten{}, randTensor(rng, 2, 3, 2, 2), 1e-2
		}},
		{"softmax", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return &Softmax{}, randTensor(rng, 3, 5), 1e-2
		}},
		{"softmax 4-d", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return &Softmax{}, randTensor(rng, 2, 3, 2, 2), 1e-2
		}},
		{"identity", func(*testing.T) (Layer, *tensor.Dense, float64) {
			return Identity{}, randTensor(rng, 2, 3), 1e-2
		}},
		// Composites of smooth layers: finite differences across a network
		// of ReLUs and max-pools keep crossing kinks in float32, and those
		// layers are checked above; this checks the wiring. The ResNet
		// blocks themselves are checked against PyTorch's autograd.
		{"residual", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			body := NewSequential().
				Append("conv1", conv(t, ConvSpec{InC: 2, OutC: 3, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})).
				Append("bn1", NewBatchNorm2D(3)).
				Append("softmax", &Softmax{}).
				Append("conv2", conv(t, ConvSpec{InC: 3, OutC: 3, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}}))
			down := NewSequential().
				Append("0", conv(t, ConvSpec{InC: 2, OutC: 3, Kernel: [2]int{1, 1}, Stride: [2]int{2, 2}})).
				Append("1", NewBatchNorm2D(3))
			return NewResidual(body, down, &Softmax{}), randTensor(rng, 3, 2, 6, 6), 1e-2
		}},
		{"residual identity shortcut", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			body := NewSequential().
				Append("conv1", conv(t, ConvSpec{InC: 3, OutC: 3, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true})).
				Append("bn1", NewBatchNorm2D(3))
			return NewResidual(body, nil, nil), randTensor(rng, 2, 3, 4, 4), 1e-2
		}},
		{"sequential", func(t *testing.T) (Layer, *tensor.Dense, float64) {
			lin, err := NewLinear(8, 5, true)
			check(t, err)
			return NewSequential().
				Append("0", conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true})).
				Append("1", NewBatchNorm2D(4)).
				Append("2", avgPool(t, PoolSpec{Kernel: [2]int{2, 2}}, true)).
				Append("3", conv(t, ConvSpec{InC: 4, OutC: 8, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Bias: true})).
				Append("4", &GlobalAvgPool{}).
				Append("5", &Flatten{}).
				Append("6", lin), randTensor(rng, 2, 3, 8, 8), 1e-2
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l, x, h := c.build(t)
			initRandom(l, uint64(i))
			gradCheck(t, l, x, h)
		})
	}
}

// TestMultiInputGradients checks Add's per-input gradients.
func TestMultiInputGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct {
		name  string
		layer MultiInput
		xs    []*tensor.Dense
	}{
		{"add", &Add{}, []*tensor.Dense{randTensor(rng, 2, 3, 2, 2), randTensor(rng, 2, 3, 2, 2), randTensor(rng, 2, 3, 2, 2)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			y, err := c.layer.Forward(c.xs, true)
			check(t, err)
			r := randTensor(rng, y.Shape()...)
			dxs, err := c.layer.Backward(r)
			check(t, err)
			loss := func() float64 {
				y, err := c.layer.Forward(c.xs, true)
				check(t, err)
				return dot(Float32s(y), Float32s(r))
			}
			for i, x := range c.xs {
				idx := sample(rng, len(Float32s(x)), 50)
				num := numericGrad(Float32s(x), idx, 1e-2, loss)
				if e := gradErr(pick(Float32s(dxs[i]), idx), num); e > gradTol {
					t.Errorf("input %d: relative error %.3g", i, e)
				}
			}
		})
	}
}

func TestLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pred, target := randTensor(rng, 4, 3), randTensor(rng, 4, 3)
	_, g, err := MSELoss(pred, target)
	check(t, err)
	idx := sample(rng, 12, 12)
	num := numericGrad(Float32s(pred), idx, 1e-2, func() float64 {
		l, _, _ := MSELoss(pred, target)
		return l
	})
	if e := gradErr(pick(Float32s(g), idx), num); e > gradTol {
		t.Errorf("mse: relative error %.3g", e)
	}

	logits := randTensor(rng, 5, 4)
	labels := []int{1, -1, 3, 0, 2}
	_, g, err = CrossEntropyLoss(logits, labels)
	check(t, err)
	idx = sample(rng, 20, 20)
	num = numericGrad(Float32s(logits), idx, 1e-2, func() float64 {
		l, _, _ := CrossEntropyLoss(logits, labels)
		return l
	})
	if e := gradErr(pick(Float32s(g), idx), num); e > gradTol {
		t.Errorf("cross-entropy: relative error %.3g", e)
	}
	for j := range 4 {
		if v := Float32s(g)[4+j]; v != 0 {
			t.Errorf("ignored sample has gradient %v", v)
		}
	}
}

// smallCNN is the network of the one-epoch PyTorch fixture, named as
// torch.nn.Sequential names it.
func smallCNN(t *testing.T) *Sequential {
	t.Helper()
	lin, err := NewLinear(8, 5, true)
	check(t, err)
	return NewSequential().
		Append("0", conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})).
		Append("1", NewBatchNorm2D(4)).
		Append("2", NewReLU()).
		Append("3", maxPool(t, PoolSpec{Kernel: [2]int{2, 2}})).
		Append("4", conv(t, ConvSpec{InC: 4, OutC: 8, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Bias: true})).
		Append("5", NewReLU()).
		Append("6", &GlobalAvgPool{}).
		Append("7", &Flatten{}).
		Append("8", lin)
}
