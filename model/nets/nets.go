package nets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Tap is a point inside a network whose output can be read, named as
// torchvision names the module (or, for onnx:PATH, the node output).
type Tap struct {
	Name  string
	Shape []int // one image's output shape: (C, H, W) or (D)
}

// Size is the number of floats in one image's output.
func (t Tap) Size() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Network is an image network with taps. Forward is safe for concurrent use
// (calls are serialised; each one already keeps both cores busy).
type Network interface {
	// Name is the spec: "resnet50", "resnet50-random", "mobilenetv2", "onnx:PATH".
	Name() string
	// Identity names the weights for the feature cache: a file hash, the
	// random seed, or the embedded file's hash.
	Identity() string
	// Input is one image's (C, H, W).
	Input() [3]int
	// Taps lists the taps in forward order.
	Taps() []Tap
	// Forward runs a batch of n images, x (n, C, H, W) NCHW float32, and
	// returns, for each requested tap, its n outputs concatenated.
	Forward(x []float32, n int, taps []string) (map[string][]float32, error)
	// Labels names the classes of the last tap, or is nil.
	Labels() []string
}

// NetOptions choose a network's weights.
type NetOptions struct {
	// Weights is an ONNX export of the torchvision network (resnet18,
	// resnet50, vgg19); required for those, refused for the others.
	Weights string
	// Seed draws the weights of NAME-random networks.
	Seed uint64
}

// NetworkNames lists the built-in network names (besides onnx:PATH).
func NetworkNames() []string {
	return []string{"mobilenetv2", "mobilenetv2-random", "resnet18", "resnet18-random",
		"resnet50", "resnet50-random", "vgg19", "vgg19-random"}
}

// OpenNetwork builds the network a user named: "mobilenetv2" (the embedded
// int8 model), "resnet18", "resnet50", "vgg19" or "mobilenetv2" with
// opt.Weights (a torchvision ONNX export, loaded into the float
// architecture), any of those with "-random" (torchvision's initialisation
// drawn from opt.Seed), or "onnx:PATH".
func OpenNetwork(spec string, opt NetOptions) (Network, error) {
	if path, ok := strings.CutPrefix(spec, "onnx:"); ok {
		if opt.Weights != "" {
			return nil, fmt.Errorf("network %q: --weights is for torchvision architectures; onnx:PATH carries its own", spec)
		}
		return openONNXNetwork(path)
	}
	base, random := strings.CutSuffix(spec, "-random")
	if !slices.Contains(NetworkNames(), base) || strings.HasSuffix(base, "-random") {
		return nil, fmt.Errorf("unknown network %q: want one of %s or onnx:PATH", spec, strings.Join(NetworkNames(), ", "))
	}
	if random && opt.Weights != "" {
		return nil, fmt.Errorf("network %q: random weights need no --weights file; use %q with --weights", spec, base)
	}
	switch {
	case base == "mobilenetv2" && !random && opt.Weights == "":
		return openMobileNetV2()
	case random:
		return newArchitecture(base, opt.Seed, "")
	case opt.Weights == "":
		return nil, fmt.Errorf("network %q needs --weights FILE.onnx (export it with scripts/export_torchvision.py), or use %s-random", spec, spec)
	default:
		return newArchitecture(base, opt.Seed, opt.Weights)
	}
}

// newArchitecture builds a torchvision architecture: seeded random weights
// when weights is "", else the weights of that ONNX export.
func newArchitecture(name string, seed uint64, weights string) (Network, error) {
	var (
		n   *Net
		err error
	)
	switch name {
	case "resnet18":
		n, err = NewResNet(name, ResNetConfig{Bottleneck: false, Layers: [4]int{2, 2, 2, 2}, Width: 64, Classes: 1000}, seed, weights)
	case "resnet50":
		n, err = NewResNet(name, ResNetConfig{Bottleneck: true, Layers: [4]int{3, 4, 6, 3}, Width: 64, Classes: 1000}, seed, weights)
	case "vgg19", "mobilenetv2":
		build := newVGG19
		if name == "mobilenetv2" {
			build = newMobileNetV2Float
		}
		if n, err = build(1000); err == nil {
			err = n.setWeights(seed, weights)
		}
	default:
		return nil, fmt.Errorf("unknown architecture %q", name)
	}
	if err != nil {
		return nil, err
	}
	n.labels = ImageNetLabels()
	return n, nil
}

// fileSHA256 is the hex sha256 of a file's content.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// findTaps checks requested tap names against a network's taps.
func FindTaps(net string, all []Tap, names []string) error {
	for _, n := range names {
		if !slices.ContainsFunc(all, func(t Tap) bool { return t.Name == n }) {
			list := make([]string, len(all))
			for i, t := range all {
				list[i] = t.Name
			}
			if len(list) > 12 {
				list = append(list[:12], "...")
			}
			return fmt.Errorf("network %s has no tap %q; taps: %s (itscope layers --net %s lists them)", net, n, strings.Join(list, ", "), net)
		}
	}
	return nil
}
