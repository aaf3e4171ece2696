package nets

import (
	"context"
	"fmt"
	"slices"

	"gorgonia.org/tensor"

	"itscope/compute/nn"
	"itscope/compute/onnx"
)

// onnxNet runs an ONNX graph through compute/onnx. Its taps are node outputs,
// under their own names (onnx:PATH) or under torchvision's module names
// (the embedded MobileNetV2); quantized taps read as real values.
type onnxNet struct {
	name, identity string
	m              *onnx.Model
	input          string
	inShape        [3]int
	taps           []Tap
	tensorOf       map[string]string // tap name -> node output
	labels         []string
}

// openONNXNetwork loads any ONNX image model; every node output with a batch
// dimension is a tap.
func openONNXNetwork(path string) (Network, error) {
	m, err := onnx.LoadFile(path)
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	n, err := newONNXNet("onnx:"+path, "sha256-"+sum, m)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, node := range m.Nodes() {
		for _, o := range node.Outputs {
			if o != "" {
				names = append(names, o)
			}
		}
	}
	if err := n.setTaps(names, names); err != nil {
		return nil, err
	}
	// An ImageNet classifier's logits get the class names.
	switch last := n.taps[len(n.taps)-1].Shape; {
	case len(last) == 1 && last[0] == 1000:
		n.labels = ImageNetLabels()
	case len(last) == 1 && last[0] == 1001:
		n.labels = append([]string{"background"}, ImageNetLabels()...)
	}
	return n, nil
}

// newONNXNet checks the graph has one image input (N, C, H, W); dynamic
// height and width mean 224.
func newONNXNet(name, identity string, m *onnx.Model) (*onnxNet, error) {
	ins := m.Inputs()
	if len(ins) != 1 || len(ins[0].Dims) != 4 {
		return nil, fmt.Errorf("%s: want one image input (N, C, H, W), found %d inputs %v", name, len(ins), ins)
	}
	in := ins[0]
	if in.Type != onnx.Float32 {
		return nil, fmt.Errorf("%s: input %q: want float32, found %v", name, in.Name, in.Type)
	}
	shape := [3]int{in.Dims[1], in.Dims[2], in.Dims[3]}
	for i, d := range shape {
		if d <= 0 {
			shape[i] = []int{3, 224, 224}[i]
		}
	}
	return &onnxNet{name: name, identity: identity, m: m, input: in.Name, inShape: shape, tensorOf: map[string]string{}}, nil
}

// setTaps names tensors as taps, keeping those with a batch dimension (not
// the shape arithmetic between them).
func (n *onnxNet) setTaps(taps, tensors []string) error {
	shapes, err := n.m.Shapes(context.Background(), map[string][]int{n.input: {1, n.inShape[0], n.inShape[1], n.inShape[2]}}, tensors...)
	if err != nil {
		return err
	}
	for i, t := range tensors {
		s := shapes[t]
		if len(s) < 2 || s[0] != 1 {
			continue
		}
		n.taps = append(n.taps, Tap{Name: taps[i], Shape: s[1:]})
		n.tensorOf[taps[i]] = t
	}
	if len(n.taps) == 0 {
		return fmt.Errorf("%s: no node output has a batch dimension", n.name)
	}
	return nil
}

func (n *onnxNet) Name() string     { return n.name }
func (n *onnxNet) Identity() string { return n.identity }
func (n *onnxNet) Input() [3]int    { return n.inShape }
func (n *onnxNet) Taps() []Tap      { return n.taps }
func (n *onnxNet) Labels() []string { return n.labels }

func (n *onnxNet) Forward(x []float32, count int, taps []string) (map[string][]float32, error) {
	if err := FindTaps(n.name, n.taps, taps); err != nil {
		return nil, err
	}
	c, h, w := n.inShape[0], n.inShape[1], n.inShape[2]
	in, err := nn.FromSlice(x, count, c, h, w)
	if err != nil || count <= 0 {
		return nil, fmt.Errorf("%s: want input (%d, %d, %d, %d), found %d floats", n.name, count, c, h, w, len(x))
	}
	names := make([]string, len(taps))
	for i, t := range taps {
		names[i] = n.tensorOf[t]
	}
	restore := forwardBLAS()
	outs, err := n.m.Run(context.Background(), map[string]*tensor.Dense{n.input: in}, slices.Compact(slices.Clone(names))...)
	restore()
	if err != nil {
		return nil, err
	}
	res := make(map[string][]float32, len(taps))
	for i, t := range taps {
		v, err := n.m.Dequantize(names[i], outs[names[i]])
		if err != nil {
			return nil, err
		}
		res[t] = append([]float32(nil), nn.Float32s(v)...)
	}
	return res, nil
}
