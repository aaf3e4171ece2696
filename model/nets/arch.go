package nets

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"gorgonia.org/tensor"

	"itscope/compute"
	"itscope/compute/nn"
)

// archNet is a torchvision architecture built from compute/nn layers: a
// chain of stages, each a tap named as torchvision names its module, with
// the parameters named as in torchvision's state_dict.
type archNet struct {
	name     string
	identity string
	input    [3]int
	stages   []stage
	units    []*convUnit // every conv in state_dict order
	linears  []namedLinear
	init     archInit
	labels   []string

	mu       sync.Mutex
	tapsOnce sync.Once
	taps     []Tap
	tapsErr  error
}

// stage is one step of the forward pass; hidden stages are not taps (the
// stem's BatchNorm, ReLU and pooling in a ResNet, which torchvision names but
// the study does not read).
type stage struct {
	name   string
	hidden bool
	run    func(x *tensor.Dense) (*tensor.Dense, error)
}

// activation after a conv unit.
type activation = nn.Activation

const (
	actNone  = nn.ActNone
	actReLU  = nn.ActReLU
	actReLU6 = nn.ActReLU6
)

// convUnit is a conv, the BatchNorm after it (or none) and an activation.
// At load the BatchNorm is folded into the conv unless keepBN: the ResNet
// stem keeps bn1 so that the conv1 tap is conv1's own output.
type convUnit struct {
	name, bnName string
	conv         *nn.Conv2D
	bn           *nn.BatchNorm2D
	act          activation
	keepBN       bool
	folded       bool
}

type namedLinear struct {
	name string
	l    *nn.Linear
}

// archInit says how torchvision initialises an architecture's classifier.
type archInit int

const (
	initResNet archInit = iota // Linear: PyTorch's default uniform
	initNormal                 // Linear: normal(0, 0.01), bias 0 (VGG, MobileNetV2)
)

func newConvUnit(name, bnName string, spec nn.ConvSpec, act activation) (*convUnit, error) {
	c, err := nn.NewConv2D(spec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	u := &convUnit{name: name, bnName: bnName, conv: c, act: act}
	if bnName != "" {
		u.bn = nn.NewBatchNorm2D(spec.OutC)
	}
	return u, nil
}

func (u *convUnit) forward(x *tensor.Dense) (*tensor.Dense, error) {
	bnAfter := u.bn != nil && !u.folded && !u.keepBN
	act := u.act
	if bnAfter {
		act = actNone
	}
	y, err := u.conv.Infer(x, act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.name, err)
	}
	if bnAfter {
		if y, err = u.bn.Forward(y, false); err != nil {
			return nil, fmt.Errorf("%s: %w", u.bnName, err)
		}
		applyActivation(nn.Float32s(y), u.act)
	}
	return y, nil
}

func applyActivation(v []float32, act activation) {
	if act == actNone {
		return
	}
	inChunks(len(v), func(lo, hi int) {
		w := v[lo:hi]
		if act == actReLU {
			for i, x := range w {
				w[i] = max(x, 0)
			}
			return
		}
		for i, x := range w {
			w[i] = min(max(x, 0), 6)
		}
	})
}

// inChunks splits [0, n) into one contiguous chunk per core: the
// element-wise passes are memory-bound, and large enough to share.
func inChunks(n int, fn func(lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if n < 1<<15 || workers == 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, min(lo+step, n))
		}()
	}
	wg.Wait()
}

// params lists every tensor in state_dict order, viewing the layers' own
// storage.
func (n *archNet) params() []netParam {
	var ps []netParam
	add := func(name string, p *nn.Param) {
		ps = append(ps, netParam{Name: name, Shape: []int(p.Value.Shape()), Data: nn.Float32s(p.Value)})
	}
	for _, u := range n.units {
		add(u.name+".weight", u.conv.Weight)
		if u.conv.Bias != nil {
			add(u.name+".bias", u.conv.Bias)
		}
		if u.bn != nil {
			add(u.bnName+".weight", u.bn.Weight)
			add(u.bnName+".bias", u.bn.Bias)
			add(u.bnName+".running_mean", u.bn.RunningMean)
			add(u.bnName+".running_var", u.bn.RunningVar)
		}
	}
	for _, l := range n.linears {
		add(l.name+".weight", l.l.Weight)
		if l.l.Bias != nil {
			add(l.name+".bias", l.l.Bias)
		}
	}
	return ps
}

// setWeights draws torchvision's initialisation from seed (weights "") or
// loads an ONNX export, then folds the BatchNorms.
func (n *archNet) setWeights(seed uint64, weights string) error {
	if weights == "" {
		n.randomInit(seed)
		n.identity = fmt.Sprintf("random-seed-%d", seed)
		n.name += "-random"
	} else {
		if err := n.loadONNX(weights); err != nil {
			return err
		}
		sum, err := fileSHA256(weights)
		if err != nil {
			return err
		}
		n.identity = "sha256-" + sum
	}
	for _, u := range n.units {
		if u.bn != nil && !u.keepBN {
			if err := u.bn.FoldInto(u.conv); err != nil {
				return fmt.Errorf("%s: %w", u.name, err)
			}
			u.folded = true
		}
	}
	return nil
}

// randomInit is torchvision's: convs kaiming_normal_(mode="fan_out",
// nonlinearity="relu") with zero bias, BatchNorm weight 1 and bias 0, and the
// Linear layers per archInit.
func (n *archNet) randomInit(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, u := range n.units {
		w := nn.Float32s(u.conv.Weight.Value)
		s := u.conv.Spec
		std := math.Sqrt(2 / float64(s.OutC*s.Kernel[0]*s.Kernel[1]))
		for i := range w {
			w[i] = float32(rng.NormFloat64() * std)
		}
		if u.conv.Bias != nil {
			clear(nn.Float32s(u.conv.Bias.Value))
		}
		if u.bn != nil {
			fresh := nn.NewBatchNorm2D(u.bn.C)
			copy(nn.Float32s(u.bn.Weight.Value), nn.Float32s(fresh.Weight.Value))
			copy(nn.Float32s(u.bn.Bias.Value), nn.Float32s(fresh.Bias.Value))
			copy(nn.Float32s(u.bn.RunningMean.Value), nn.Float32s(fresh.RunningMean.Value))
			copy(nn.Float32s(u.bn.RunningVar.Value), nn.Float32s(fresh.RunningVar.Value))
		}
	}
	for _, l := range n.linears {
		w := nn.Float32s(l.l.Weight.Value)
		bound := 1 / math.Sqrt(float64(l.l.In))
		for i := range w {
			if n.init == initNormal {
				w[i] = float32(rng.NormFloat64() * 0.01)
			} else {
				w[i] = float32((2*rng.Float64() - 1) * bound)
			}
		}
		if l.l.Bias != nil {
			b := nn.Float32s(l.l.Bias.Value)
			for i := range b {
				b[i] = 0
				if n.init == initResNet {
					b[i] = float32((2*rng.Float64() - 1) * bound)
				}
			}
		}
	}
}

// loadONNX copies the weights of a torchvision export, by name and shape;
// an export whose BatchNorms torch folded is matched conv by conv in order.
func (n *archNet) loadONNX(path string) error {
	w, err := readONNXWeights(path)
	if err != nil {
		return err
	}
	named := n.params()
	firstConv := n.units[0].name + ".weight"
	if _, ok := w.byName[firstConv]; ok || w.hasBN {
		return w.loadNamed(named)
	}
	var convs []foldedConv
	var rest []netParam
	byName := map[string]netParam{}
	for _, p := range named {
		byName[p.Name] = p
	}
	for _, u := range n.units {
		fc := foldedConv{Weight: byName[u.name+".weight"]}
		if u.conv.Bias != nil {
			b := byName[u.name+".bias"]
			fc.Bias = &b
		}
		if u.bn != nil {
			pw, pb := byName[u.bnName+".weight"], byName[u.bnName+".bias"]
			pm, pv := byName[u.bnName+".running_mean"], byName[u.bnName+".running_var"]
			fc.BNWeight, fc.BNBias, fc.BNMean, fc.BNVar = &pw, &pb, &pm, &pv
			fc.BNEps = float32(u.bn.Eps)
		}
		convs = append(convs, fc)
	}
	for _, l := range n.linears {
		rest = append(rest, byName[l.name+".weight"])
		if l.l.Bias != nil {
			rest = append(rest, byName[l.name+".bias"])
		}
	}
	return w.loadFolded(convs, rest)
}

func (n *archNet) Name() string     { return n.name }
func (n *archNet) Identity() string { return n.identity }
func (n *archNet) Input() [3]int    { return n.input }
func (n *archNet) Labels() []string { return n.labels }

// Taps runs one zero image through the network once to learn each tap's
// shape, which is then exact by construction.
func (n *archNet) Taps() []Tap {
	n.tapsOnce.Do(func() {
		x := make([]float32, n.input[0]*n.input[1]*n.input[2])
		n.mu.Lock()
		defer n.mu.Unlock()
		n.tapsErr = n.run(x, 1, nil, func(name string, y *tensor.Dense) {
			n.taps = append(n.taps, Tap{Name: name, Shape: append([]int(nil), y.Shape()[1:]...)})
		})
	})
	return n.taps
}

// Forward runs the stages up to the last requested tap.
func (n *archNet) Forward(x []float32, count int, taps []string) (map[string][]float32, error) {
	if err := FindTaps(n.name, n.Taps(), taps); err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, t := range taps {
		want[t] = true
	}
	out := map[string][]float32{}
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.run(x, count, want, func(name string, y *tensor.Dense) {
		if want[name] {
			out[name] = append([]float32(nil), nn.Float32s(y)...)
		}
	})
	return out, err
}

// run calls visit with each tap's output; with want non-nil it stops after
// the last wanted tap.
func (n *archNet) run(x []float32, count int, want map[string]bool, visit func(string, *tensor.Dense)) error {
	c, h, w := n.input[0], n.input[1], n.input[2]
	if count <= 0 || len(x) != count*c*h*w {
		return fmt.Errorf("%s: want input (%d, %d, %d, %d), found %d floats", n.name, count, c, h, w, len(x))
	}
	y, err := nn.FromSlice(x, count, c, h, w)
	if err != nil {
		return err
	}
	defer forwardBLAS()()
	left := len(want)
	for _, s := range n.stages {
		if y, err = s.run(y); err != nil {
			return fmt.Errorf("%s: %s: %w", n.name, s.name, err)
		}
		if s.hidden {
			continue
		}
		visit(s.name, y)
		if want != nil && want[s.name] {
			if left--; left == 0 {
				return nil
			}
		}
	}
	return nil
}

// forwardBLAS runs OpenBLAS single-threaded for a forward pass, whose
// layers split their products over the cores themselves: a pass makes
// hundreds of products with Go work between them, and OpenBLAS's own worker
// either spins through that work or, asleep, is slow to wake for the next
// product (BENCHMARKS.md). It returns the restore function.
func forwardBLAS() (restore func()) { return compute.SingleThreadBLAS() }

// chain runs layers one after the other.
func chain(fns ...func(*tensor.Dense) (*tensor.Dense, error)) func(*tensor.Dense) (*tensor.Dense, error) {
	return func(x *tensor.Dense) (*tensor.Dense, error) {
		var err error
		for _, f := range fns {
			if x, err = f(x); err != nil {
				return nil, err
			}
		}
		return x, nil
	}
}

func eval(l nn.Layer) func(*tensor.Dense) (*tensor.Dense, error) {
	return func(x *tensor.Dense) (*tensor.Dense, error) { return l.Forward(x, false) }
}

// addInPlace sets y += x then applies act (a residual connection).
func addInPlace(y, x *tensor.Dense, act activation) error {
	ys, xs := nn.Float32s(y), nn.Float32s(x)
	if len(ys) != len(xs) {
		return fmt.Errorf("residual add: shapes %v and %v differ", []int(y.Shape()), []int(x.Shape()))
	}
	inChunks(len(ys), func(lo, hi int) {
		a, b := ys[lo:hi], xs[lo:hi]
		switch act {
		case actReLU:
			for i := range a {
				a[i] = max(a[i]+b[i], 0)
			}
		case actReLU6:
			for i := range a {
				a[i] = min(max(a[i]+b[i], 0), 6)
			}
		default:
			for i := range a {
				a[i] += b[i]
			}
		}
	})
	return nil
}
