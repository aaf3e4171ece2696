package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"gorgonia.org/tensor"
)

// tinyResNet is conv1-bn1-relu-maxpool then layer1 of two BasicBlocks (the
// first with a downsample), named as torchvision names a ResNet.
func tinyResNet(t *testing.T) *Sequential {
	t.Helper()
	layer1 := NewSequential().
		Append("0", basicBlock(t, 4, 6, 2)).
		Append("1", basicBlock(t, 6, 6, 1))
	layer1.children[1].Layer.(*Residual).Shortcut = nil
	return NewSequential().
		Append("conv1", conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})).
		Append("bn1", NewBatchNorm2D(4)).
		Append("relu", NewReLU()).
		Append("maxpool", maxPool(t, PoolSpec{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pad: [4]int{1, 1, 1, 1}})).
		Append("layer1", layer1)
}

func TestNamesFollowTorchvision(t *testing.T) {
	net := tinyResNet(t)
	var names []string
	for _, p := range State(net) {
		names = append(names, p.Name)
	}
	for _, want := range []string{"conv1.weight", "bn1.running_var", "layer1.0.conv1.weight",
		"layer1.0.downsample.0.weight", "layer1.0.downsample.1.running_mean", "layer1.1.bn2.bias"} {
		if !slices.Contains(names, want) {
			t.Errorf("no parameter %q in %v", want, names)
		}
	}
	if l, ok := layerAt(net, "layer1.0.downsample.1"); !ok {
		t.Errorf("layerAt(layer1.0.downsample.1) not found")
	} else if _, isBN := l.(*BatchNorm2D); !isBN {
		t.Errorf("layerAt(layer1.0.downsample.1) = %T, want *BatchNorm2D", l)
	}
	if _, ok := layerAt(net, "layer1.7"); ok {
		t.Errorf("layerAt(layer1.7) found a layer that does not exist")
	}
}

func TestFoldBatchNormKeepsEvalOutput(t *testing.T) {
	net := tinyResNet(t)
	initRandom(net, 2)
	x := randTensor(rand.New(rand.NewPCG(2, 2)), 2, 3, 12, 12)
	before, err := net.Forward(x, false)
	check(t, err)
	n, err := FoldBatchNorm(net)
	check(t, err)
	if n != 6 {
		t.Errorf("folded %d BatchNorms, want 6", n)
	}
	after, err := net.Forward(x, false)
	check(t, err)
	if e := relErr(Float32s(after), Float32s(before)); e > 1e-5 {
		t.Errorf("folded network differs by %.2g", e)
	}
	if l, _ := layerAt(net, "layer1.0.bn2"); l != (Identity{}) {
		t.Errorf("layer1.0.bn2 is %T after folding, want Identity", l)
	}
}

func TestInitDistributions(t *testing.T) {
	c := conv(t, ConvSpec{InC: 64, OutC: 128, Kernel: [2]int{3, 3}, Bias: true}).(*Conv2D)
	lin, err := NewLinear(500, 300, true)
	check(t, err)
	net := NewSequential().Append("conv", c).Append("fc", lin)
	std := func(s []float32) float64 {
		var ss float64
		for _, v := range s {
			ss += float64(v) * float64(v)
		}
		return math.Sqrt(ss / float64(len(s)))
	}
	maxAbs := func(s []float32) float64 {
		m := 0.0
		for _, v := range s {
			m = max(m, math.Abs(float64(v)))
		}
		return m
	}
	cases := []struct {
		name              string
		init              func(Layer, *rand.Rand)
		convStd, linStd   float64
		convBias, linBias float64 // largest |bias| allowed
	}{
		// U(±b) has std b/√3; PyTorch's default bound is 1/√fan_in.
		{"default", InitDefault, 1 / math.Sqrt(64*9) / math.Sqrt(3), 1 / math.Sqrt(500) / math.Sqrt(3), 1 / math.Sqrt(64*9), 1 / math.Sqrt(500)},
		{"resnet", InitResNet, math.Sqrt(2.0 / (128 * 9)), 1 / math.Sqrt(500) / math.Sqrt(3), 0, 1 / math.Sqrt(500)},
		{"vgg", InitVGG, math.Sqrt(2.0 / (128 * 9)), 0.01, 0, 0},
	}
	for _, tc := range cases {
		tc.init(net, NewRand(3))
		if s := std(Float32s(c.Weight.Value)); math.Abs(s/tc.convStd-1) > 0.03 {
			t.Errorf("%s: conv weight std %.4g, want %.4g", tc.name, s, tc.convStd)
		}
		if s := std(Float32s(lin.Weight.Value)); math.Abs(s/tc.linStd-1) > 0.03 {
			t.Errorf("%s: linear weight std %.4g, want %.4g", tc.name, s, tc.linStd)
		}
		if m := maxAbs(Float32s(c.Bias.Value)); m > tc.convBias || (tc.convBias > 0 && m < tc.convBias/2) {
			t.Errorf("%s: conv bias max |b| %.4g, want about %.4g", tc.name, m, tc.convBias)
		}
		if m := maxAbs(Float32s(lin.Bias.Value)); m > tc.linBias || (tc.linBias > 0 && m < tc.linBias/2) {
			t.Errorf("%s: linear bias max |b| %.4g, want about %.4g", tc.name, m, tc.linBias)
		}
	}
	a, b := slices.Clone(Float32s(c.Weight.Value)), []float32(nil)
	InitVGG(net, NewRand(3))
	b = Float32s(c.Weight.Value)
	if !slices.Equal(a, b) {
		t.Errorf("the same seed gave different weights")
	}
	InitVGG(net, NewRand(4))
	if slices.Equal(a, Float32s(c.Weight.Value)) {
		t.Errorf("different seeds gave the same weights")
	}
}

func TestBadInputsGiveErrors(t *testing.T) {
	c := conv(t, ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}})
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"conv channels", func() error { _, err := c.Forward(New(1, 2, 5, 5), false); return err }, "want 3 input channels"},
		{"conv too small", func() error { _, err := c.Forward(New(1, 3, 2, 2), false); return err }, "too small"},
		{"conv not 4-d", func() error { _, err := c.Forward(New(3, 5, 5), false); return err }, "4-d"},
		{"backward before forward", func() error { _, err := NewReLU().Backward(New(2)); return err }, "without a preceding Forward"},
		{"backward after eval forward", func() error {
			c.Forward(New(1, 3, 5, 5), false)
			_, err := c.Backward(New(1, 4, 3, 3))
			return err
		}, "without a preceding Forward"},
		{"backward wrong shape", func() error {
			c.Forward(New(1, 3, 5, 5), true)
			_, err := c.Backward(New(1, 4, 2, 3))
			return err
		}, "does not match output shape"},
		{"groups", func() error {
			_, err := NewConv2D(ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{1, 1}, Groups: 2})
			return err
		}, "groups 2"},
		{"batchnorm one value", func() error { _, err := NewBatchNorm2D(2).Forward(New(1, 2, 1, 1), true); return err }, "more than one value"},
		{"linear size", func() error {
			l, _ := NewLinear(4, 2, true)
			_, err := l.Forward(New(2, 5), false)
			return err
		}, "want (N, 4)"},
		{"mse shapes", func() error { _, _, err := MSELoss(New(2, 3), New(3, 2)); return err }, "does not match"},
		{"cross-entropy label", func() error { _, _, err := CrossEntropyLoss(New(2, 3), []int{0, 3}); return err }, "label 3 of sample 1"},
		{"load shape", func() error { return LoadParam(c.Params()[0], make([]float32, 108), []int{4, 3, 9}) }, "weight: want shape [4 3 3 3]"},
		{"add shapes", func() error { _, err := (&Add{}).Forward([]*tensor.Dense{New(2, 3), New(3, 2)}, false); return err }, "input 1 has shape"},
		{"float64 input", func() error {
			_, err := NewReLU().Forward(tensor.New(tensor.WithShape(2), tensor.WithBacking([]float64{1, 2})), false)
			return err
		}, "want a float32 tensor"},
		{"nil input", func() error { _, err := c.Forward(nil, false); return err }, "nil input"},
		{"dropout p", func() error { _, err := NewDropout(1, 0); return err }, "probability"},
		{"sequential names the child", func() error {
			s := NewSequential().Append("features", NewSequential().Append("3", c))
			_, err := s.Forward(New(1, 2, 5, 5), false)
			return err
		}, "features.3: conv"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestConcurrentInference runs one network from several goroutines in eval
// mode, which must neither race (go test -race) nor mix up results.
func TestConcurrentInference(t *testing.T) {
	net := tinyResNet(t)
	initRandom(net, 5)
	x := randTensor(rand.New(rand.NewPCG(5, 5)), 3, 3, 16, 16)
	want, err := net.Forward(x, false)
	check(t, err)
	var wg sync.WaitGroup
	errs := make([]float64, 4)
	for g := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			y, err := net.Forward(x, false)
			if err != nil {
				errs[g] = math.Inf(1)
				return
			}
			errs[g] = relErr(Float32s(y), Float32s(want))
		}()
	}
	wg.Wait()
	for g, e := range errs {
		if e != 0 {
			t.Errorf("goroutine %d: output differs by %.2g", g, e)
		}
	}
}

// TestNoInputGrad checks a first-layer conv gives the same weight gradients
// without computing dL/dx.
func TestNoInputGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	for _, s := range []ConvSpec{
		{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true},
		{InC: 3, OutC: 6, Kernel: [2]int{3, 3}, Groups: 3},
		{InC: 3, OutC: 4, Kernel: [2]int{1, 1}},
	} {
		x := randTensor(rng, 2, 3, 5, 5)
		var grads [2][]float32
		for i, skip := range []bool{false, true} {
			c := conv(t, s).(*Conv2D)
			InitDefault(c, NewRand(1))
			c.NoInputGrad = skip
			y, err := c.Forward(x, true)
			check(t, err)
			dx, err := c.Backward(randTensor(rand.New(rand.NewPCG(1, 1)), y.Shape()...))
			check(t, err)
			if (dx == nil) != skip {
				t.Errorf("%+v NoInputGrad=%v: dx nil is %v", s, skip, dx == nil)
			}
			grads[i] = Float32s(c.Weight.Grad)
		}
		if !slices.Equal(grads[0], grads[1]) {
			t.Errorf("%+v: weight gradients differ with NoInputGrad", s)
		}
	}
}

// TestResidualInferenceInPlace: at inference a Residual adds the shortcut
// into the body's output and applies its activation in the same pass; a
// body that returns its own input (only Identity layers) must not be
// written through, so x stays as it was.
func TestResidualInferenceInPlace(t *testing.T) {
	x := randTensor(rand.New(rand.NewPCG(5, 5)), 2, 3, 4, 4)
	orig := slices.Clone(Float32s(x))
	for _, tc := range []struct {
		name string
		act  Layer
		f    func(float32) float32
	}{
		{"relu", NewReLU(), func(v float32) float32 { return max(v, 0) }},
		{"relu6", NewReLU6(), func(v float32) float32 { return min(max(v, 0), 6) }},
		{"none", nil, func(v float32) float32 { return v }},
	} {
		r := NewResidual(NewSequential().Append("id", Identity{}), nil, tc.act)
		inf, err := r.Forward(x, false)
		check(t, err)
		tr, err := r.Forward(x, true)
		check(t, err)
		for i, v := range orig {
			if want := tc.f(2 * v); Float32s(inf)[i] != want || Float32s(tr)[i] != want {
				t.Fatalf("%s: output %d: inference %v, training %v, want %v", tc.name, i, Float32s(inf)[i], Float32s(tr)[i], want)
			}
		}
		if !slices.Equal(Float32s(x), orig) {
			t.Fatalf("%s: the inference pass wrote into its input", tc.name)
		}
	}
}

// layerAt is the descendant of l at the dotted path, as Walk names it.
func layerAt(l Layer, path string) (found Layer, ok bool) {
	Walk(l, func(name string, d Layer) {
		if name == path && !ok {
			found, ok = d, true
		}
	})
	return found, ok
}

// TestInferenceFreesOnlyDeadOutputs: an inference pass frees each
// intermediate output once read, for later passes to reuse; the output and
// input the caller holds must survive later passes, every pass must give
// what its top-level layers give run one by one, and the freed buffers
// must come back (an output of the same size with stale contents).
func TestInferenceFreesOnlyDeadOutputs(t *testing.T) {
	for _, fold := range []bool{false, true} {
		net := tinyResNet(t)
		initRandom(net, 6)
		if fold {
			if _, err := FoldBatchNorm(net); err != nil {
				t.Fatal(err)
			}
		}
		rng := rand.New(rand.NewPCG(6, 6))
		var held []*tensor.Dense
		var copies [][]float32
		for pass := range 4 {
			x := randTensor(rng, 2, 3, 16, 16)
			xCopy := slices.Clone(Float32s(x))
			y, err := net.Forward(x, false)
			check(t, err)
			// the same pass layer by layer, every output kept
			want := x
			for _, ch := range net.Children() {
				if want, err = ch.Layer.Forward(want, false); err != nil {
					t.Fatal(err)
				}
			}
			if e := relErr(Float32s(y), Float32s(want)); e != 0 {
				t.Fatalf("fold %v pass %d: output differs by %.2g from the layers run one by one", fold, pass, e)
			}
			if !slices.Equal(Float32s(x), xCopy) {
				t.Fatalf("fold %v pass %d: the input was written", fold, pass)
			}
			held = append(held, y, x)
			copies = append(copies, slices.Clone(Float32s(y)), xCopy)
		}
		for i, h := range held {
			if !slices.Equal(Float32s(h), copies[i]) {
				t.Fatalf("fold %v: held tensor %d changed by later passes", fold, i)
			}
		}
	}
	// A freed buffer is handed out again, its contents stale (a few tries:
	// the race detector makes sync.Pool drop some at random).
	reused := false
	for range 20 {
		stale := New(3, 5, 7, 11)
		fill(Float32s(stale), 42)
		free(stale)
		if reused = Float32s(outputTensor(false, []int{3, 5, 7, 11}))[0] == 42; reused {
			break
		}
	}
	if !reused {
		t.Error("freed buffers are never handed out again")
	}
	for range 20 {
		stale := New(3, 5, 7, 11)
		fill(Float32s(stale), 42)
		free(stale)
		if got := Float32s(outputTensor(true, []int{3, 5, 7, 11}))[0]; got != 0 {
			t.Fatalf("zeroed output from a freed buffer starts with %v", got)
		}
	}
}
