package nets

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"

	"gorgonia.org/tensor"

	"itscope/compute"
	"itscope/compute/nn"
)

// Net is a torchvision architecture built from compute/nn layers, one
// structure for feature extraction and training. Its stages are the
// top-level children of one nn.Sequential, named as torchvision names its
// modules; every stage but an unnamed one is a tap, and nn.State gives the
// parameters under torchvision's state_dict names. After the weights are set
// each BatchNorm that follows a conv is folded into it (nn.FoldBatchNorm);
// the ResNet stem's bn1 stays, so that the conv1 tap is conv1's own output,
// and normalises with its running statistics in training too.
type Net struct {
	name     string
	identity string
	input    [3]int
	labels   []string
	stages   *nn.Sequential
	head     int // index of the first stage after the trunk (the pooling)
	init     func(nn.Layer, *rand.Rand)
	// build makes the same architecture afresh, for Clone.
	build func() (*Net, error)

	mu       sync.Mutex
	tapsOnce sync.Once
	taps     []Tap
}

// newNet starts a network of the given stages; head names the first stage
// after the trunk.
func newNet(name string, input [3]int, init func(nn.Layer, *rand.Rand), head string, stages *nn.Sequential) (*Net, error) {
	n := &Net{name: name, input: input, init: init, stages: stages, head: -1}
	for i, s := range stages.Children() {
		if s.Name == head {
			n.head = i
		}
	}
	if n.head < 0 {
		return nil, fmt.Errorf("%s: no stage %q", name, head)
	}
	return n, nil
}

func (n *Net) Name() string     { return n.name }
func (n *Net) Identity() string { return n.identity }
func (n *Net) Input() [3]int    { return n.input }
func (n *Net) Labels() []string { return n.labels }

// Stages is the network as one layer, stage by stage: its training-mode
// Forward is the network's with frozen BatchNorm statistics.
func (n *Net) Stages() *nn.Sequential { return n.stages }

// setWeights draws torchvision's initialisation from seed (weights "") or
// loads an ONNX export, then folds the BatchNorms.
func (n *Net) setWeights(seed uint64, weights string) error {
	if weights == "" {
		n.init(n.stages, nn.NewRand(seed))
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
	return n.fold()
}

// fold folds the BatchNorms into their convs, freezes the statistics of
// those that stay, and hands each ReLU a max pool follows inside a stage to
// the pool.
func (n *Net) fold() error {
	if _, err := nn.FoldBatchNorm(n.stages); err != nil {
		return fmt.Errorf("%s: %w", n.name, err)
	}
	nn.Walk(n.stages, func(_ string, l nn.Layer) {
		if bn, ok := l.(*nn.BatchNorm2D); ok {
			bn.UseRunningStats = true
		}
	})
	// Only inside a stage: a ReLU that is a tap of its own (VGG's
	// features.35 before the pool features.36) must keep its output.
	for _, s := range n.stages.Children() {
		if seq, ok := s.Layer.(*nn.Sequential); ok {
			nn.FuseReLUMaxPool(seq)
		}
	}
	return nil
}

// Clone is an independent copy of n (same architecture and weights), to
// train without touching n.
func (n *Net) Clone() (*Net, error) {
	c, err := n.build()
	if err != nil {
		return nil, err
	}
	if err := c.fold(); err != nil {
		return nil, err
	}
	src, dst := nn.State(n.stages), nn.State(c.stages)
	if len(src) != len(dst) {
		return nil, fmt.Errorf("%s: clone has %d tensors, want %d", n.name, len(dst), len(src))
	}
	for i, p := range src {
		if err := nn.LoadParam(dst[i], nn.Float32s(p.Value), p.Value.Shape()); err != nil {
			return nil, fmt.Errorf("%s: clone: %w", n.name, err)
		}
	}
	c.name, c.identity, c.labels = n.name, n.identity, n.labels
	return c, nil
}

// Taps runs one zero image through the network once to learn each tap's
// shape, which is then exact by construction.
func (n *Net) Taps() []Tap {
	n.tapsOnce.Do(func() {
		x := make([]float32, n.input[0]*n.input[1]*n.input[2])
		n.mu.Lock()
		defer n.mu.Unlock()
		n.run(x, 1, nil, func(name string, y *tensor.Dense) {
			n.taps = append(n.taps, Tap{Name: name, Shape: append([]int(nil), y.Shape()[1:]...)})
		})
	})
	return n.taps
}

// Forward runs the stages up to the last requested tap.
func (n *Net) Forward(x []float32, count int, taps []string) (map[string][]float32, error) {
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
func (n *Net) run(x []float32, count int, want map[string]bool, visit func(string, *tensor.Dense)) error {
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
	for _, s := range n.stages.Children() {
		if y, err = s.Layer.Forward(y, false); err != nil {
			return fmt.Errorf("%s: %s: %w", n.name, s.Name, err)
		}
		if s.Name == "" {
			continue
		}
		visit(s.Name, y)
		if want != nil && want[s.Name] {
			if left--; left == 0 {
				return nil
			}
		}
	}
	return nil
}

// Trunk returns the trunk's stages from tap on (up to the pooling before
// the classifier) as one layer sharing n's, and the tap that feeds them.
func (n *Net) Trunk(tap string) (trunk *nn.Sequential, frozenTap string, err error) {
	stages := n.stages.Children()
	var names []string
	first := -1
	for i, s := range stages[:n.head] {
		if s.Name == tap && s.Name != "" {
			first = i
		}
		if i > 0 && s.Name != "" && stages[i-1].Name != "" {
			names = append(names, s.Name)
		}
	}
	if first < 0 {
		return nil, "", fmt.Errorf("cotrain: network %s has no trunk stage %q; trainable taps are %s", n.name, tap, strings.Join(names, ", "))
	}
	if first == 0 || stages[first-1].Name == "" {
		return nil, "", fmt.Errorf("cotrain: %s cannot be the first trainable stage of %s (nothing frozen feeds it as a tap); trainable taps are %s",
			tap, n.name, strings.Join(names, ", "))
	}
	return nn.NewSequential(stages[first:n.head]...), stages[first-1].Name, nil
}

// forwardBLAS runs OpenBLAS single-threaded for a forward pass, whose
// layers split their products over the cores themselves: a pass makes
// hundreds of products with Go work between them, and OpenBLAS's own worker
// either spins through that work or, asleep, is slow to wake for the next
// product (BENCHMARKS.md). It returns the restore function.
func forwardBLAS() (restore func()) { return compute.SingleThreadBLAS() }
