package train

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"itscope/compute/nn"
	"itscope/model/nets"
	"itscope/model/runs"
)

// TestCotrainStepMatchesPyTorch co-trains a reduced ResNet from layer3 for
// one step, on the network's own layer2 features, and compares the loss and
// every parameter afterwards with PyTorch's
// (testdata/train/make_cotrain_fixture.py: the same export, BatchNorms
// folded by torch's fuse_conv_bn_eval, the same head, loss and Adam step).
func TestCotrainStepMatchesPyTorch(t *testing.T) {
	const dir = "../../testdata/train/"
	tensors, meta, err := runs.ReadSafetensors(dir + "cotrain_step.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	fix := map[string]runs.NamedTensor{}
	for _, x := range tensors {
		fix[x.Name] = x
	}
	neurons, _ := strconv.Atoi(meta["neurons"])
	classes, _ := strconv.Atoi(meta["classes"])
	lambda, _ := strconv.ParseFloat(meta["lambda"], 64)
	lr, _ := strconv.ParseFloat(meta["lr"], 64)
	decay, _ := strconv.ParseFloat(meta["weight_decay"], 64)
	n, err := nets.NewResNet("small", nets.ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 32}, 0, dir+"cotrain_resnet.onnx")
	if err != nil {
		t.Fatal(err)
	}
	trunk, frozen, _, err := nets.TrainableStages(n, "layer3")
	if err != nil {
		t.Fatal(err)
	}
	images := fix["images"]
	count := images.Shape[0]
	f, err := n.Forward(images.Data, count, []string{frozen})
	if err != nil {
		t.Fatal(err)
	}
	shape := []int{count}
	for _, tap := range n.Taps() {
		if tap.Name == frozen {
			shape = append(shape, tap.Shape...)
		}
	}
	in, err := nn.FromSlice(f[frozen], shape...)
	if err != nil {
		t.Fatal(err)
	}
	net, head, err := cotrainNet(trunk, 32, neurons+classes)
	if err != nil {
		t.Fatal(err)
	}
	copy(nn.Float32s(head.Weight.Value), fix["start.weight"].Data)
	copy(nn.Float32s(head.Bias.Value), fix["start.bias"].Data)
	labels := make([]int, count)
	for i, v := range fix["labels"].Data {
		labels[i] = int(v)
	}

	opt := newOptimizer(TrainConfig{Optimizer: "adam", LR: lr, WeightDecay: decay}, net.Params())
	opt.ZeroGrad()
	y, err := net.Forward(in, true)
	if err != nil {
		t.Fatal(err)
	}
	loss, _, dy, err := cotrainLoss(y, fix["targets"].Data, neurons, labels, lambda)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := net.Backward(dy); err != nil {
		t.Fatal(err)
	}
	opt.Step()

	if want := float64(fix["loss"].Data[0]); math.Abs(loss-want) > 1e-5*(1+math.Abs(want)) {
		t.Errorf("loss %.7g, PyTorch %.7g", loss, want)
	}
	state := nn.State(net)
	worst := 0.0
	for _, p := range state {
		want, ok := fix["after."+p.Name]
		if !ok {
			t.Errorf("%s: not in the fixture", p.Name)
			continue
		}
		got := nn.Float32s(p.Value)
		if len(got) != len(want.Data) {
			t.Fatalf("%s: %d values, PyTorch %d", p.Name, len(got), len(want.Data))
		}
		for i, w := range want.Data {
			d := math.Abs(float64(got[i] - w))
			worst = max(worst, d/(1+math.Abs(float64(w))))
			if d > 1e-4*(1+math.Abs(float64(w))) {
				t.Errorf("%s[%d]: %g after the step, PyTorch %g", p.Name, i, got[i], w)
				break
			}
		}
	}
	after := 0
	for name := range fix {
		if strings.HasPrefix(name, "after.") {
			after++
		}
	}
	if after != len(state) {
		t.Errorf("compared %d tensors, PyTorch's model has %d", len(state), after)
	}
	t.Logf("loss %.7g; largest parameter difference after the step %.3g (relative to 1+|value|)", loss, worst)
}
