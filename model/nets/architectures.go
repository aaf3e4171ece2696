package nets

import (
	"fmt"

	"itscope/compute/nn"
)

// ResNetConfig chooses a ResNet: torchvision's resnet18 is BasicBlock
// [2,2,2,2] width 64, resnet50 Bottleneck [3,4,6,3] width 64. Smaller widths
// and depths serve tests against reduced PyTorch models with the same names.
type ResNetConfig struct {
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

// layers builds a Sequential as torchvision's nn.Sequential: children "0",
// "1", ... Constructors' errors stop it.
type layers struct {
	seq *nn.Sequential
	err error
}

func newLayers() *layers { return &layers{seq: nn.NewSequential()} }

func (b *layers) add(name string, l nn.Layer) *layers {
	b.seq.Append(name, l)
	return b
}

// conv appends a conv under name, and, if bn is not "", a BatchNorm2D.
func (b *layers) conv(name string, spec nn.ConvSpec, bn string) *layers {
	c, err := nn.NewConv2D(spec)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", name, err)
		return b
	}
	b.seq.Append(name, c)
	if bn != "" {
		b.seq.Append(bn, nn.NewBatchNorm2D(spec.OutC))
	}
	return b
}

func (b *layers) linear(name string, in, out int) *layers {
	l, err := nn.NewLinear(in, out, true)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", name, err)
		return b
	}
	b.seq.Append(name, l)
	return b
}

func (b *layers) maxPool(name string, spec nn.PoolSpec) *layers {
	p, err := nn.NewMaxPool2D(spec)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", name, err)
		return b
	}
	b.seq.Append(name, p)
	return b
}

func (b *layers) dropout(name string, p float64) *layers {
	d, err := nn.NewDropout(p, 0)
	if err != nil {
		b.err = fmt.Errorf("%s: %w", name, err)
		return b
	}
	b.seq.Append(name, d)
	return b
}

// convBNAct is torchvision's Conv2dNormActivation: "0" conv, "1" BatchNorm,
// "2" ReLU6.
func convBNAct(spec nn.ConvSpec) (*nn.Sequential, error) {
	b := newLayers().conv("0", spec, "1").add("2", nn.NewReLU6())
	return b.seq, b.err
}

// NewResNet builds torchvision's ResNet with taps conv1 (the conv's own
// output, before bn1), layer1..layer4, avgpool and fc: torchvision's
// initialisation drawn from seed when weights is "", else the weights of
// that ONNX export.
func NewResNet(name string, cfg ResNetConfig, seed uint64, weights string) (*Net, error) {
	n, err := newResNet(name, cfg)
	if err != nil {
		return nil, err
	}
	return n, n.setWeights(seed, weights)
}

func newResNet(name string, cfg ResNetConfig) (*Net, error) {
	size := cfg.InputSize
	if size == 0 {
		size = 224
	}
	top := newLayers().conv("conv1", nn.ConvSpec{InC: 3, OutC: cfg.Width, Kernel: [2]int{7, 7},
		Stride: [2]int{2, 2}, Pad: [4]int{3, 3, 3, 3}}, "")
	// The stem's bn1, relu and maxpool are one untapped stage: the study
	// reads conv1's own output, so bn1 is not folded into it.
	stem := newLayers().add("bn1", nn.NewBatchNorm2D(cfg.Width)).add("relu", nn.NewReLU()).
		maxPool("maxpool", nn.PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	if stem.err != nil {
		return nil, stem.err
	}
	top.add("", stem.seq)
	expansion := 1
	if cfg.Bottleneck {
		expansion = 4
	}
	inplanes := cfg.Width
	for li, blocks := range cfg.Layers {
		planes := cfg.Width << li
		layer := nn.NewSequential()
		for k := range blocks {
			stride := 1
			if k == 0 && li > 0 {
				stride = 2
			}
			body := newLayers()
			if cfg.Bottleneck {
				body.conv("conv1", conv1x1(inplanes, planes, 1), "bn1").add("relu1", nn.NewReLU()).
					conv("conv2", conv3(planes, planes, stride), "bn2").add("relu2", nn.NewReLU()).
					conv("conv3", conv1x1(planes, planes*expansion, 1), "bn3")
			} else {
				body.conv("conv1", conv3(inplanes, planes, stride), "bn1").add("relu1", nn.NewReLU()).
					conv("conv2", conv3(planes, planes, 1), "bn2")
			}
			if body.err != nil {
				return nil, body.err
			}
			var down *nn.Sequential
			if stride != 1 || inplanes != planes*expansion {
				d := newLayers().conv("0", conv1x1(inplanes, planes*expansion, stride), "1")
				if d.err != nil {
					return nil, d.err
				}
				down = d.seq
			}
			layer.Append(fmt.Sprint(k), nn.NewResidual(body.seq, down, nn.NewReLU()))
			inplanes = planes * expansion
		}
		top.add(fmt.Sprintf("layer%d", li+1), layer)
	}
	top.add("avgpool", &nn.GlobalAvgPool{}).linear("fc", inplanes, cfg.Classes)
	if top.err != nil {
		return nil, top.err
	}
	n, err := newNet(name, [3]int{3, size, size}, nn.InitResNet, "avgpool", top.seq)
	if err != nil {
		return nil, err
	}
	n.build = func() (*Net, error) { return newResNet(name, cfg) }
	return n, nil
}

// newVGG19 builds torchvision's vgg19 (configuration "E", no BatchNorm):
// taps features.0..36, avgpool and classifier.0..6. Each ReLU is its own
// tap, after the conv's pre-activation one.
func newVGG19(classes int) (*Net, error) {
	top := newLayers()
	cfg := []int{64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0, 512, 512, 512, 512, 0, 512, 512, 512, 512, 0}
	in, idx := 3, 0
	for _, c := range cfg {
		if c == 0 {
			top.maxPool(fmt.Sprintf("features.%d", idx), nn.PoolSpec{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
			idx++
			continue
		}
		spec := conv3(in, c, 1)
		spec.Bias = true
		top.conv(fmt.Sprintf("features.%d", idx), spec, "").add(fmt.Sprintf("features.%d", idx+1), nn.NewReLU())
		idx += 2
		in = c
	}
	// AdaptiveAvgPool2d((7, 7)) is the identity on the 7x7 maps of the
	// network's 224x224 input.
	top.add("avgpool", nn.Identity{})
	sizes := []int{512 * 7 * 7, 4096, 4096, classes}
	for k := range 3 {
		top.linear(fmt.Sprintf("classifier.%d", 3*k), sizes[k], sizes[k+1])
		if k < 2 {
			top.add(fmt.Sprintf("classifier.%d", 3*k+1), nn.NewReLU()).dropout(fmt.Sprintf("classifier.%d", 3*k+2), 0.5)
		}
	}
	if top.err != nil {
		return nil, top.err
	}
	n, err := newNet("vgg19", [3]int{3, 224, 224}, nn.InitVGG, "avgpool", top.seq)
	if err != nil {
		return nil, err
	}
	n.build = func() (*Net, error) { return newVGG19(classes) }
	return n, nil
}

// newMobileNetV2Float builds torchvision's mobilenet_v2 in float32 (for
// mobilenetv2-random, float exports and co-training the embedded int8
// model): taps features.0..18, avgpool (the pooling torchvision does in
// forward) and classifier.
func newMobileNetV2Float(classes int) (*Net, error) {
	top := newLayers()
	first, err := convBNAct(nn.ConvSpec{InC: 3, OutC: 32, Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})
	if err != nil {
		return nil, err
	}
	top.add("features.0", first)
	settings := [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	in, idx := 32, 1
	for _, s := range settings {
		t, c, reps, stride0 := s[0], s[1], s[2], s[3]
		for r := range reps {
			stride := 1
			if r == 0 {
				stride = stride0
			}
			block, err := invertedResidual(in, c, stride, t)
			if err != nil {
				return nil, fmt.Errorf("features.%d: %w", idx, err)
			}
			top.add(fmt.Sprintf("features.%d", idx), block)
			in = c
			idx++
		}
	}
	last, err := convBNAct(conv1x1(320, 1280, 1))
	if err != nil {
		return nil, err
	}
	top.add("features.18", last).add("avgpool", &nn.GlobalAvgPool{})
	classifier := newLayers().dropout("0", 0.2).linear("1", 1280, classes)
	if classifier.err != nil {
		return nil, classifier.err
	}
	top.add("classifier", classifier.seq)
	n, err := newNet("mobilenetv2", [3]int{3, 224, 224}, nn.InitVGG, "avgpool", top.seq)
	if err != nil {
		return nil, err
	}
	n.build = func() (*Net, error) { return newMobileNetV2Float(classes) }
	return n, nil
}

// invertedResidual is torchvision's InvertedResidual: "conv" holds the 1x1
// expansion (unless t is 1), the depthwise 3x3 and the 1x1 projection with
// its BatchNorm; the input is added back when shapes agree.
func invertedResidual(in, out, stride, t int) (nn.Layer, error) {
	hidden := in * t
	conv := newLayers()
	k := 0
	if t != 1 {
		expand, err := convBNAct(conv1x1(in, hidden, 1))
		if err != nil {
			return nil, err
		}
		conv.add("0", expand)
		k = 1
	}
	dw := conv3(hidden, hidden, stride)
	dw.Groups = hidden
	depthwise, err := convBNAct(dw)
	if err != nil {
		return nil, err
	}
	conv.add(fmt.Sprint(k), depthwise).conv(fmt.Sprint(k+1), conv1x1(hidden, out, 1), fmt.Sprint(k+2))
	if conv.err != nil {
		return nil, conv.err
	}
	body := nn.NewSequential(nn.Child{Name: "conv", Layer: conv.seq})
	if stride == 1 && in == out {
		return nn.NewResidual(body, nil, nil), nil
	}
	return body, nil
}
