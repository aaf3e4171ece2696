package nets

import (
	"fmt"
	"strconv"
	"strings"

	"itscope/compute/nn"
)

// trainableStages builds, as float layers with backward passes, the stages
// of net's trunk from tap on (up to the pooling before the classifier),
// holding the network's weights. frozenTap is the tap that feeds them.
func TrainableStages(net Network, tap string, seed uint64) (trunk *nn.Sequential, frozenTap, note string, err error) {
	var arch *archNet
	switch n := net.(type) {
	case *archNet:
		arch = n
	default:
		if strings.TrimSuffix(net.Name(), "-random") != "mobilenetv2" {
			return nil, "", "", fmt.Errorf("cotrain: network %s: want mobilenetv2, resnet18 or resnet50 (or their -random variants)", net.Name())
		}
		if arch, err = newMobileNetV2Float(1000); err != nil {
			return nil, "", "", err
		}
		if err := arch.setWeights(seed, ""); err != nil {
			return nil, "", "", err
		}
		note = "mobilenetv2 is int8: frozen stages run int8; the trainable stages start from torchvision's initialisation (seed " + strconv.FormatUint(seed, 10) + ")"
	}
	base := strings.TrimSuffix(arch.name, "-random")
	if base != "mobilenetv2" && base != "resnet18" && base != "resnet50" {
		return nil, "", "", fmt.Errorf("cotrain: network %s: want mobilenetv2, resnet18 or resnet50 (or their -random variants)", arch.name)
	}
	first, end := -1, len(arch.stages)
	var names []string
	for i, s := range arch.stages {
		switch s.name {
		case "avgpool", "fc", "classifier":
			end = min(end, i)
		}
		if s.name == tap && !s.hidden {
			first = i
		}
	}
	for _, s := range arch.stages[:end] {
		if !s.hidden {
			names = append(names, s.name)
		}
	}
	if first < 0 || first >= end {
		return nil, "", "", fmt.Errorf("cotrain: network %s has no trunk stage %q; trainable taps are %s", arch.name, tap, strings.Join(names[1:], ", "))
	}
	if first == 0 || arch.stages[first-1].hidden {
		return nil, "", "", fmt.Errorf("cotrain: %s cannot be the first trainable stage of %s (nothing frozen feeds it as a tap); trainable taps are %s",
			tap, arch.name, strings.Join(names[1:], ", "))
	}
	frozenTap = arch.stages[first-1].name
	trunk = nn.NewSequential()
	for _, s := range arch.stages[first:end] {
		layer, err := stageLayer(arch, s.name)
		if err != nil {
			return nil, "", "", err
		}
		trunk.Append(s.name, layer)
	}
	return trunk, frozenTap, note, nil
}

// stageLayer rebuilds one named stage from the network's conv units.
func stageLayer(arch *archNet, name string) (nn.Layer, error) {
	var units []*convUnit
	for _, u := range arch.units {
		if strings.HasPrefix(u.name, name+".") {
			units = append(units, u)
		}
	}
	if len(units) == 0 {
		return nil, fmt.Errorf("cotrain: stage %s has no convolutions", name)
	}
	if strings.HasPrefix(name, "layer") { // ResNet: residual blocks layerK.B
		seq := nn.NewSequential()
		var blocks []string
		byBlock := map[string][]*convUnit{}
		for _, u := range units {
			b := strings.SplitN(strings.TrimPrefix(u.name, name+"."), ".", 2)[0]
			if _, ok := byBlock[b]; !ok {
				blocks = append(blocks, b)
			}
			byBlock[b] = append(byBlock[b], u)
		}
		for _, b := range blocks {
			body, short := nn.NewSequential(), (*nn.Sequential)(nil)
			for _, u := range byBlock[b] {
				rest := strings.TrimPrefix(u.name, name+"."+b+".")
				if strings.HasPrefix(rest, "downsample") {
					short = nn.NewSequential()
					if err := appendUnit(short, "0", u); err != nil {
						return nil, err
					}
					continue
				}
				if err := appendUnit(body, rest, u); err != nil {
					return nil, err
				}
			}
			seq.Append(b, nn.NewResidual(body, short, nn.NewReLU()))
		}
		return seq, nil
	}
	body := nn.NewSequential()
	for k, u := range units {
		if err := appendUnit(body, strconv.Itoa(k), u); err != nil {
			return nil, err
		}
	}
	// A MobileNetV2 inverted residual adds its input when shapes agree.
	firstSpec, lastSpec := units[0].conv.Spec, units[len(units)-1].conv.Spec
	stride1 := true
	for _, u := range units {
		stride1 = stride1 && u.conv.Spec.Stride == [2]int{1, 1}
	}
	if strings.Contains(units[0].name, ".conv.") && stride1 && firstSpec.InC == lastSpec.OutC {
		return nn.NewResidual(body, nil, nil), nil
	}
	return body, nil
}

// appendUnit adds a trainable copy of u's (BatchNorm-folded) conv and its
// activation to seq.
func appendUnit(seq *nn.Sequential, name string, u *convUnit) error {
	if u.bn != nil && !u.folded {
		return fmt.Errorf("cotrain: %s: batchnorm not folded", u.name)
	}
	spec := u.conv.Spec
	spec.Bias = true
	c, err := nn.NewConv2D(spec)
	if err != nil {
		return fmt.Errorf("%s: %w", u.name, err)
	}
	copy(nn.Float32s(c.Weight.Value), nn.Float32s(u.conv.Weight.Value))
	if u.conv.Bias != nil {
		copy(nn.Float32s(c.Bias.Value), nn.Float32s(u.conv.Bias.Value))
	}
	seq.Append(name, c)
	switch u.act {
	case actReLU:
		seq.Append(name+"_relu", nn.NewReLU())
	case actReLU6:
		seq.Append(name+"_relu6", nn.NewReLU6())
	}
	return nil
}
