package nets

import (
	"fmt"

	"gorgonia.org/tensor"

	"itscope/compute/nn"
)

// resNetConfig chooses a ResNet: torchvision's resnet18 is BasicBlock
// [2,2,2,2] width 64, resnet50 Bottleneck [3,4,6,3] width 64. Smaller widths
// and depths serve tests against reduced PyTorch models with the same names.
type resNetConfig struct {
	Bottleneck bool
	Layers     [4]int
	Width      int // channels of the stem; layerK has Width*2^(K-1) planes
	Classes    int
	InputSize  int // default 224
}

func conv3(in, out, stride int) nn.ConvSpec {
	return nn.ConvSpec{InC: in, OutC: out, Kernel: [2]int{3, 3}, Stride: [2]int{stride, stride}, Pad: [4]int{1, 1, 1, 1}}
}

func conv1x1(in, out, stride int) nn.ConvSpec {
	return nn.ConvSpec{InC: in, OutC: out, Kernel: [2]int{1, 1}, Stride: [2]int{stride, stride}}
}

// newResNet builds torchvision's ResNet with taps conv1 (the conv's own
// output, before bn1), layer1..layer4, avgpool and fc.
func newResNet(name string, cfg resNetConfig) (*archNet, error) {
	size := cfg.InputSize
	if size == 0 {
		size = 224
	}
	n := &archNet{name: name, input: [3]int{3, size, size}, init: initResNet}
	stem, err := newConvUnit("conv1", "bn1", nn.ConvSpec{InC: 3, OutC: cfg.Width, Kernel: [2]int{7, 7},
		Stride: [2]int{2, 2}, Pad: [4]int{3, 3, 3, 3}}, actNone)
	if err != nil {
		return nil, err
	}
	stem.keepBN = true
	n.units = append(n.units, stem)
	pool, err := nn.NewMaxPool2D(nn.PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	if err != nil {
		return nil, err
	}
	n.stages = append(n.stages,
		stage{name: "conv1", run: stem.forward},
		stage{name: "bn1", hidden: true, run: func(x *tensor.Dense) (*tensor.Dense, error) {
			y, err := stem.bn.Forward(x, false)
			if err != nil {
				return nil, err
			}
			applyActivation(nn.Float32s(y), actReLU)
			return pool.Forward(y, false)
		}})

	expansion := 1
	if cfg.Bottleneck {
		expansion = 4
	}
	inplanes := cfg.Width
	for li, blocks := range cfg.Layers {
		planes := cfg.Width << li
		var runs []func(*tensor.Dense) (*tensor.Dense, error)
		for b := range blocks {
			stride := 1
			if b == 0 && li > 0 {
				stride = 2
			}
			prefix := fmt.Sprintf("layer%d.%d.", li+1, b)
			var body []*convUnit
			if cfg.Bottleneck {
				specs := []nn.ConvSpec{conv1x1(inplanes, planes, 1), conv3(planes, planes, stride), conv1x1(planes, planes*expansion, 1)}
				for k, s := range specs {
					act := actReLU
					if k == 2 {
						act = actNone
					}
					u, err := newConvUnit(fmt.Sprintf("%sconv%d", prefix, k+1), fmt.Sprintf("%sbn%d", prefix, k+1), s, act)
					if err != nil {
						return nil, err
					}
					body = append(body, u)
				}
			} else {
				specs := []nn.ConvSpec{conv3(inplanes, planes, stride), conv3(planes, planes, 1)}
				for k, s := range specs {
					act := actReLU
					if k == 1 {
						act = actNone
					}
					u, err := newConvUnit(fmt.Sprintf("%sconv%d", prefix, k+1), fmt.Sprintf("%sbn%d", prefix, k+1), s, act)
					if err != nil {
						return nil, err
					}
					body = append(body, u)
				}
			}
			n.units = append(n.units, body...)
			var down *convUnit
			if stride != 1 || inplanes != planes*expansion {
				if down, err = newConvUnit(prefix+"downsample.0", prefix+"downsample.1", conv1x1(inplanes, planes*expansion, stride), actNone); err != nil {
					return nil, err
				}
				n.units = append(n.units, down)
			}
			inplanes = planes * expansion
			runs = append(runs, residualBlock(body, down))
		}
		n.stages = append(n.stages, stage{name: fmt.Sprintf("layer%d", li+1), run: chain(runs...)})
	}
	fc, err := nn.NewLinear(inplanes, cfg.Classes, true)
	if err != nil {
		return nil, err
	}
	n.linears = append(n.linears, namedLinear{"fc", fc})
	n.stages = append(n.stages,
		stage{name: "avgpool", run: eval(&nn.GlobalAvgPool{})},
		stage{name: "fc", run: eval(fc)})
	return n, nil
}

// residualBlock is relu(body(x) + shortcut(x)), shortcut the identity or the
// downsample conv.
func residualBlock(body []*convUnit, down *convUnit) func(*tensor.Dense) (*tensor.Dense, error) {
	return func(x *tensor.Dense) (*tensor.Dense, error) {
		y := x
		var err error
		for _, u := range body {
			if y, err = u.forward(y); err != nil {
				return nil, err
			}
		}
		short := x
		if down != nil {
			if short, err = down.forward(x); err != nil {
				return nil, err
			}
		}
		return y, addInPlace(y, short, actReLU)
	}
}

// newVGG19 builds torchvision's vgg19 (configuration "E", no BatchNorm):
// taps features.0..36, avgpool and classifier.0..6.
func newVGG19(classes int) (*archNet, error) {
	n := &archNet{name: "vgg19", input: [3]int{3, 224, 224}, init: initNormal}
	cfg := []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0}
	in, idx := 3, 0
	for _, c := range cfg {
		if c == 0 {
			pool, err := nn.NewMaxPool2D(nn.PoolSpec{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
			if err != nil {
				return nil, err
			}
			n.stages = append(n.stages, stage{name: fmt.Sprintf("features.%d", idx), run: eval(pool)})
			idx++
			continue
		}
		spec := conv3(in, c, 1)
		spec.Bias = true
		u, err := newConvUnit(fmt.Sprintf("features.%d", idx), "", spec, actNone)
		if err != nil {
			return nil, err
		}
		n.units = append(n.units, u)
		n.stages = append(n.stages,
			stage{name: u.name, run: u.forward},
			stage{name: fmt.Sprintf("features.%d", idx+1), run: reluStage})
		idx += 2
		in = c
	}
	// AdaptiveAvgPool2d((7, 7)) is the identity on the 7x7 maps of a 224 input.
	n.stages = append(n.stages, stage{name: "avgpool", run: func(x *tensor.Dense) (*tensor.Dense, error) {
		if s := x.Shape(); s[2] != 7 || s[3] != 7 {
			return nil, fmt.Errorf("avgpool: want 7x7 maps (224x224 input), found %dx%d", s[2], s[3])
		}
		return x, nil
	}})
	sizes := []int{512 * 7 * 7, 4096, 4096, classes}
	for k := range 3 {
		l, err := nn.NewLinear(sizes[k], sizes[k+1], true)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("classifier.%d", 3*k)
		n.linears = append(n.linears, namedLinear{name, l})
		n.stages = append(n.stages, stage{name: name, run: eval(l)})
		if k < 2 {
			n.stages = append(n.stages,
				stage{name: fmt.Sprintf("classifier.%d", 3*k+1), run: reluStage},
				stage{name: fmt.Sprintf("classifier.%d", 3*k+2), run: identityStage})
		}
	}
	return n, nil
}

// reluStage is a ReLU as its own tap: it copies, so the tap before it keeps
// its pre-activation values (unlike a forward hook before torchvision's
// in-place ReLU).
func reluStage(x *tensor.Dense) (*tensor.Dense, error) {
	y := nn.New(x.Shape()...)
	ys := nn.Float32s(y)
	copy(ys, nn.Float32s(x))
	applyActivation(ys, actReLU)
	return y, nil
}

// identityStage is Dropout at inference.
func identityStage(x *tensor.Dense) (*tensor.Dense, error) { return x, nil }

// newMobileNetV2Float builds torchvision's mobilenet_v2 in float32 (for
// mobilenetv2-random and float exports): taps features.0..18, avgpool
// (the pooling torchvision does in forward) and classifier.
func newMobileNetV2Float(classes int) (*archNet, error) {
	n := &archNet{name: "mobilenetv2", input: [3]int{3, 224, 224}, init: initNormal}
	first, err := newConvUnit("features.0.0", "features.0.1", nn.ConvSpec{InC: 3, OutC: 32, Kernel: [2]int{3, 3},
		Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}}, actReLU6)
	if err != nil {
		return nil, err
	}
	n.units = append(n.units, first)
	n.stages = append(n.stages, stage{name: "features.0", run: first.forward})
	settings := [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	in, idx := 32, 1
	for _, s := range settings {
		t, c, reps, stride0 := s[0], s[1], s[2], s[3]
		for r := range reps {
			stride := 1
			if r == 0 {
				stride = stride0
			}
			prefix := fmt.Sprintf("features.%d.conv.", idx)
			hidden := in * t
			var body []*convUnit
			k := 0
			if t != 1 {
				u, err := newConvUnit(prefix+"0.0", prefix+"0.1", conv1x1(in, hidden, 1), actReLU6)
				if err != nil {
					return nil, err
				}
				body = append(body, u)
				k = 1
			}
			dw := conv3(hidden, hidden, stride)
			dw.Groups = hidden
			u, err := newConvUnit(fmt.Sprintf("%s%d.0", prefix, k), fmt.Sprintf("%s%d.1", prefix, k), dw, actReLU6)
			if err != nil {
				return nil, err
			}
			body = append(body, u)
			proj, err := newConvUnit(fmt.Sprintf("%s%d", prefix, k+1), fmt.Sprintf("%s%d", prefix, k+2), conv1x1(hidden, c, 1), actNone)
			if err != nil {
				return nil, err
			}
			body = append(body, proj)
			n.units = append(n.units, body...)
			residual := stride == 1 && in == c
			n.stages = append(n.stages, stage{name: fmt.Sprintf("features.%d", idx), run: invertedResidual(body, residual)})
			in = c
			idx++
		}
	}
	last, err := newConvUnit("features.18.0", "features.18.1", conv1x1(320, 1280, 1), actReLU6)
	if err != nil {
		return nil, err
	}
	n.units = append(n.units, last)
	fc, err := nn.NewLinear(1280, classes, true)
	if err != nil {
		return nil, err
	}
	n.linears = append(n.linears, namedLinear{"classifier.1", fc})
	n.stages = append(n.stages,
		stage{name: "features.18", run: last.forward},
		stage{name: "avgpool", run: eval(&nn.GlobalAvgPool{})},
		stage{name: "classifier", run: eval(fc)})
	return n, nil
}

func invertedResidual(body []*convUnit, residual bool) func(*tensor.Dense) (*tensor.Dense, error) {
	return func(x *tensor.Dense) (*tensor.Dense, error) {
		y := x
		var err error
		for _, u := range body {
			if y, err = u.forward(y); err != nil {
				return nil, err
			}
		}
		if residual {
			return y, addInPlace(y, x, actNone)
		}
		return y, nil
	}
}
