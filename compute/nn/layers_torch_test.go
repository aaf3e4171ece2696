package nn

import (
	"fmt"
	"testing"

	"gorgonia.org/tensor"
)

// torchCase builds the Go layer for a fixture case of layers.npz.
type torchCase struct {
	name  string
	build func(t *testing.T) Layer
}

func conv(t *testing.T, s ConvSpec) Layer {
	t.Helper()
	c, err := NewConv2D(s)
	check(t, err)
	return c
}

func maxPool(t *testing.T, s PoolSpec) Layer {
	t.Helper()
	p, err := NewMaxPool2D(s)
	check(t, err)
	return p
}

func avgPool(t *testing.T, s PoolSpec, inc bool) Layer {
	t.Helper()
	p, err := NewAvgPool2D(s, inc)
	check(t, err)
	return p
}

var torchCases = []torchCase{
	{"conv_basic", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true})
	}},
	{"conv_batch5", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true})
	}},
	{"conv_stride", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 4, OutC: 6, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	}},
	{"conv_dilated", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 3, OutC: 5, Kernel: [2]int{3, 3}, Dilation: [2]int{2, 2}, Pad: [4]int{2, 2, 2, 2}, Bias: true})
	}},
	{"conv_grouped", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 4, OutC: 6, Kernel: [2]int{3, 3}, Groups: 2, Pad: [4]int{1, 1, 1, 1}, Bias: true})
	}},
	{"conv_depthwise", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 4, OutC: 8, Kernel: [2]int{3, 3}, Groups: 4, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, Bias: true})
	}},
	{"conv_pointwise", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 6, OutC: 5, Kernel: [2]int{1, 1}, Bias: true})
	}},
	{"conv_rect", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 1}, Stride: [2]int{1, 2}, Pad: [4]int{1, 0, 1, 0}, Bias: true})
	}},
	{"conv_asympad", func(t *testing.T) Layer {
		return conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{2, 3}, Stride: [2]int{2, 1}, Pad: [4]int{2, 1, 1, 0}, Bias: true})
	}},
	{"bn_train", func(t *testing.T) Layer { return NewBatchNorm2D(4) }},
	{"bn_eval", func(t *testing.T) Layer { bn := NewBatchNorm2D(4); bn.UseRunningStats = true; return bn }},
	{"relu", func(t *testing.T) Layer { return NewReLU() }},
	{"relu6", func(t *testing.T) Layer { return NewReLU6() }},
	{"maxpool_k3s2p1", func(t *testing.T) Layer {
		return maxPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	}},
	{"maxpool_k2", func(t *testing.T) Layer { return maxPool(t, PoolSpec{Kernel: [2]int{2, 2}}) }},
	{"maxpool_ceil", func(t *testing.T) Layer {
		return maxPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, CeilMode: true})
	}},
	{"avgpool_incpad", func(t *testing.T) Layer {
		return avgPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, true)
	}},
	{"avgpool_excpad", func(t *testing.T) Layer {
		return avgPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, false)
	}},
	{"avgpool_ceil", func(t *testing.T) Layer {
		return avgPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}, CeilMode: true}, true)
	}},
	{"gap", func(t *testing.T) Layer { return &GlobalAvgPool{} }},
	{"linear", func(t *testing.T) Layer { l, err := NewLinear(12, 5, true); check(t, err); return l }},
	{"softmax", func(t *testing.T) Layer { return &Softmax{} }},
	{"softmax4d", func(t *testing.T) Layer { return &Softmax{} }},
	{"basicblock", func(t *testing.T) Layer { return basicBlock(t, 4, 8, 2) }},
	{"bottleneck", func(t *testing.T) Layer { return bottleneck(t, 8, 2) }},
}

// basicBlock is torchvision's BasicBlock with a conv1x1+BN downsample.
func basicBlock(t *testing.T, in, out, stride int) *Residual {
	s := [2]int{stride, stride}
	body := NewSequential().
		Append("conv1", conv(t, ConvSpec{InC: in, OutC: out, Kernel: [2]int{3, 3}, Stride: s, Pad: [4]int{1, 1, 1, 1}})).
		Append("bn1", NewBatchNorm2D(out)).
		Append("relu", NewReLU()).
		Append("conv2", conv(t, ConvSpec{InC: out, OutC: out, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})).
		Append("bn2", NewBatchNorm2D(out))
	down := NewSequential().
		Append("0", conv(t, ConvSpec{InC: in, OutC: out, Kernel: [2]int{1, 1}, Stride: s})).
		Append("1", NewBatchNorm2D(out))
	return NewResidual(body, down, NewReLU())
}

// bottleneck is torchvision's Bottleneck(in, planes) without downsample.
func bottleneck(t *testing.T, in, planes int) *Residual {
	out := planes * 4
	body := NewSequential().
		Append("conv1", conv(t, ConvSpec{InC: in, OutC: planes, Kernel: [2]int{1, 1}})).
		Append("bn1", NewBatchNorm2D(planes)).
		Append("relu1", NewReLU()).
		Append("conv2", conv(t, ConvSpec{InC: planes, OutC: planes, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})).
		Append("bn2", NewBatchNorm2D(planes)).
		Append("relu2", NewReLU()).
		Append("conv3", conv(t, ConvSpec{InC: planes, OutC: out, Kernel: [2]int{1, 1}})).
		Append("bn3", NewBatchNorm2D(out))
	return NewResidual(body, nil, NewReLU())
}

// TestLayersMatchPyTorch runs each layer forward (train mode, as the
// fixtures) and backward on PyTorch's inputs and compares every output and
// gradient, with parameters and buffers loaded by their PyTorch names.
func TestLayersMatchPyTorch(t *testing.T) {
	f := openFixtures(t, "layers")
	defaultCol := maxColFloats
	for _, chunk := range []int{defaultCol, 60, 2000} {
		for _, tc := range torchCases {
			if chunk != defaultCol && !isConvCase(tc.name) {
				continue
			}
			t.Run(fmt.Sprintf("%s/col%d", tc.name, chunk), func(t *testing.T) {
				defer setMaxColFloats(chunk)()
				if chunk != defaultCol {
					// and 1x1 convolutions straight on the input
					defer func(old int) { pointwiseMinP = old }(pointwiseMinP)
					pointwiseMinP = 0
				}
				l := tc.build(t)
				pre := tc.name + "."
				if tc.name == "bn_train" {
					pre += "before_"
				}
				for _, p := range State(l) {
					key := pre + p.Name
					if !f.has(key) {
						key = tc.name + "." + p.Name
					}
					w := f.get(key)
					if err := LoadParam(p, Float32s(w), w.Shape()); err != nil {
						t.Fatal(err)
					}
				}
				y, err := l.Forward(f.get(tc.name+".x"), true)
				if err != nil {
					t.Fatal(err)
				}
				worst := assertClose(t, "y", y, f.get(tc.name+".y"), 1e-5)
				dx, err := l.Backward(f.get(tc.name + ".dy"))
				if err != nil {
					t.Fatal(err)
				}
				worst = max(worst, assertClose(t, "dx", dx, f.get(tc.name+".dx"), 1e-5))
				for _, p := range l.Params() {
					worst = max(worst, assertClose(t, "d"+p.Name, p.Grad, f.get(tc.name+".d"+p.Name), 1e-5))
				}
				// after Backward: an inference pass drops what training kept
				worst = max(worst, checkInference(t, l, f.get(tc.name+".x"), f.get(tc.name+".y")))
				if tc.name == "bn_train" {
					for _, p := range Buffers(l) {
						worst = max(worst, assertClose(t, p.Name, p.Value, f.get(tc.name+"."+p.Name), 1e-6))
					}
				}
				t.Logf("max relative error %.2g", worst)
			})
		}
	}
}

// checkInference runs the inference paths of the layers that have their own
// (max pooling without argmax, convolution with a fused activation) against
// the same PyTorch output; it returns the worst relative error.
func checkInference(t *testing.T, l Layer, x, want *tensor.Dense) float64 {
	t.Helper()
	switch l := l.(type) {
	case *MaxPool2D:
		y, err := l.Forward(x, false)
		if err != nil {
			t.Fatal(err)
		}
		return assertClose(t, "y (inference)", y, want, 1e-5)
	case *Conv2D:
		worst := 0.0
		for _, act := range []Activation{ActNone, ActReLU, ActReLU6} {
			y, err := l.Infer(x, act)
			if err != nil {
				t.Fatal(err)
			}
			w := New(want.Shape()...)
			for i, v := range Float32s(want) {
				switch act {
				case ActReLU:
					v = max(v, 0)
				case ActReLU6:
					v = min(max(v, 0), 6)
				}
				Float32s(w)[i] = v
			}
			worst = max(worst, assertClose(t, fmt.Sprintf("y (inference, act %d)", act), y, w, 1e-5))
		}
		return worst
	}
	return 0
}

func isConvCase(name string) bool {
	return len(name) > 4 && name[:4] == "conv" || name == "basicblock" || name == "bottleneck"
}

// setMaxColFloats shrinks the im2col buffer so that images are split over
// several GEMM batches; it returns the restore function.
func setMaxColFloats(n int) func() {
	old, oldBand := maxColFloats, bandColFloats
	maxColFloats, bandColFloats = n, n/2
	return func() { maxColFloats, bandColFloats = old, oldBand }
}

func TestLossesMatchPyTorch(t *testing.T) {
	f := openFixtures(t, "layers")
	loss, grad, err := MSELoss(f.get("mse.pred"), f.get("mse.target"))
	if err != nil {
		t.Fatal(err)
	}
	want := float64(Float32s(f.get("mse.loss"))[0])
	if e := abs(loss-want) / want; e > 1e-6 {
		t.Errorf("mse loss %v, want %v (rel %.2g)", loss, want, e)
	}
	assertClose(t, "mse grad", grad, f.get("mse.dpred"), 1e-6)

	var labels []int
	for _, v := range Float32s(f.get("ce.labels")) {
		labels = append(labels, int(v))
	}
	loss, grad, err = CrossEntropyLoss(f.get("ce.logits"), labels)
	if err != nil {
		t.Fatal(err)
	}
	want = float64(Float32s(f.get("ce.loss"))[0])
	if e := abs(loss-want) / want; e > 1e-6 {
		t.Errorf("cross-entropy loss %v, want %v (rel %.2g)", loss, want, e)
	}
	assertClose(t, "cross-entropy grad", grad, f.get("ce.dlogits"), 1e-6)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
