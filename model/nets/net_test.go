package nets

import (
	"math/rand/v2"
	"testing"

	"itscope/compute/nn"
)

func randomImages(seed uint64, n int, input [3]int) []float32 {
	rng := rand.New(rand.NewPCG(seed, seed))
	x := make([]float32, n*input[0]*input[1]*input[2])
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	return x
}

// TestTrainingForwardMatchesInference builds a ResNet once and runs it both
// ways: the inference pass (folded BatchNorms, convs fused with their ReLU,
// Winograd, residual adds in place) and the training-mode forward of the
// same stages (plain GEMM convs, separate ReLU layers, the stem's bn1 on its
// frozen running statistics). Every tap agrees within 1e-6 of its scale.
func TestTrainingForwardMatchesInference(t *testing.T) {
	for _, tc := range []struct {
		name   string
		open   func() (*Net, error)
		images int
	}{
		// The fixture's BatchNorms have non-trivial statistics.
		{"resnet_basic.onnx", func() (*Net, error) {
			return NewResNet("small", ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 64}, 0, "../../testdata/nets/resnet_basic.onnx")
		}, 3},
		{"resnet_bottleneck.onnx", func() (*Net, error) {
			return NewResNet("small", ResNetConfig{Bottleneck: true, Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 64}, 0, "../../testdata/nets/resnet_bottleneck.onnx")
		}, 3},
		// Full width at 224: Winograd and the batched GEMM paths run.
		{"resnet18-random", func() (*Net, error) {
			n, err := OpenNetwork("resnet18-random", NetOptions{Seed: 5})
			if err != nil {
				return nil, err
			}
			return n.(*Net), nil
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if raceEnabled && tc.images == 1 {
				t.Skip("full-size forward passes are too slow under -race")
			}
			n, err := tc.open()
			if err != nil {
				t.Fatal(err)
			}
			x := randomImages(1, tc.images, n.Input())
			var names []string
			for _, tap := range n.Taps() {
				names = append(names, tap.Name)
			}
			want, err := n.Forward(x, tc.images, names)
			if err != nil {
				t.Fatal(err)
			}
			in := n.Input()
			y, err := nn.FromSlice(append([]float32(nil), x...), tc.images, in[0], in[1], in[2])
			if err != nil {
				t.Fatal(err)
			}
			seen, worst := 0, 0.0
			for _, s := range n.Stages().Children() {
				if y, err = s.Layer.Forward(y, true); err != nil {
					t.Fatalf("%s: %v", s.Name, err)
				}
				if s.Name == "" {
					continue
				}
				seen++
				e := maxRelErr(nn.Float32s(y), want[s.Name])
				if !(e <= 1e-6) {
					t.Errorf("%s: training-mode forward differs from inference by %.3g of the scale, want <= 1e-6", s.Name, e)
				}
				worst = max(worst, e)
			}
			t.Logf("largest difference over %d taps: %.3g of the tap's scale", seen, worst)
			if seen != len(names) {
				t.Errorf("compared %d taps, the network has %d", seen, len(names))
			}
		})
	}
}

// TestTrainableStagesAreACopy: the trainable stages from layer3 on, fed
// the network's own layer2 tap, give its avgpool input (layer4), and
// training them leaves the network alone.
func TestTrainableStagesAreACopy(t *testing.T) {
	n, err := NewResNet("small", ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 64}, 0, "../../testdata/nets/resnet_basic.onnx")
	if err != nil {
		t.Fatal(err)
	}
	trunk, frozen, _, err := TrainableStages(n, "layer3")
	if err != nil {
		t.Fatal(err)
	}
	if frozen != "layer2" {
		t.Fatalf("frozen tap %q, want layer2", frozen)
	}
	x := randomImages(2, 2, n.Input())
	before, err := n.Forward(x, 2, []string{"layer2", "layer4"})
	if err != nil {
		t.Fatal(err)
	}
	in, err := nn.FromSlice(before["layer2"], append([]int{2}, n.Taps()[2].Shape...)...)
	if err != nil {
		t.Fatal(err)
	}
	y, err := trunk.Forward(in, true)
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRelErr(nn.Float32s(y), before["layer4"]); e > 1e-6 {
		t.Errorf("trainable stages' output differs from the layer4 tap by %.3g", e)
	}
	for _, p := range trunk.Params() {
		w := nn.Float32s(p.Value)
		for i := range w {
			w[i] = 0
		}
	}
	after, err := n.Forward(x, 2, []string{"layer4"})
	if err != nil {
		t.Fatal(err)
	}
	if e := maxRelErr(after["layer4"], before["layer4"]); e != 0 {
		t.Errorf("changing the trainable stages changed the network's layer4 by %.3g", e)
	}
	if _, _, _, err := TrainableStages(n, "layer1"); err == nil {
		t.Error("layer1 (fed by the untapped stem): no error")
	}
}

// TestReLUTapsSurviveFusion: a ReLU followed by a max pool is fused into
// the pool only inside a stage; as a stage of its own (VGG's features.35
// before features.36) it is a tap and keeps its output.
func TestReLUTapsSurviveFusion(t *testing.T) {
	pool, err := nn.NewMaxPool2D(nn.PoolSpec{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	n, err := newNet("relu-pool", [3]int{1, 4, 4}, nn.InitVGG, "head", nn.NewSequential(
		nn.Child{Name: "relu", Layer: nn.NewReLU()}, nn.Child{Name: "pool", Layer: pool},
		nn.Child{Name: "head", Layer: &nn.GlobalAvgPool{}}))
	if err != nil {
		t.Fatal(err)
	}
	if err := n.fold(); err != nil {
		t.Fatal(err)
	}
	x := randomImages(3, 1, n.Input())
	got, err := n.Forward(x, 1, []string{"relu", "pool"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x {
		if got["relu"][i] != max(v, 0) {
			t.Fatalf("relu tap %d: %v, want max(%v, 0)", i, got["relu"][i], v)
		}
	}
	if _, stillReLU := n.Stages().Children()[0].Layer.(*nn.ReLU); !stillReLU {
		t.Error("the relu stage was replaced")
	}
}
