package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"
)

// Param is a trainable tensor and its gradient, which Backward accumulates.
// A buffer (BatchNorm's running statistics) is a Param with a nil Grad.
type Param struct {
	Name  string
	Value *tensor.Dense
	Grad  *tensor.Dense
}

// Layer is a single-input layer. Backward is only valid after Forward(x, true):
// it returns dL/dx and adds dL/dparam into each Param's Grad.
type Layer interface {
	Forward(x *tensor.Dense, train bool) (*tensor.Dense, error)
	Backward(dy *tensor.Dense) (*tensor.Dense, error)
	Params() []*Param
}

// MultiInput is a layer with several inputs (Add). Backward returns
// one gradient per input, in the order of Forward's inputs.
type MultiInput interface {
	Forward(xs []*tensor.Dense, train bool) (*tensor.Dense, error)
	Backward(dy *tensor.Dense) ([]*tensor.Dense, error)
}

// Stateful layers hold saved but untrained tensors (BatchNorm2D's running
// statistics), returned with nil Grad.
type Stateful interface {
	Buffers() []*Param
}

// Child is a named layer inside a composite.
type Child struct {
	Name  string
	Layer Layer
}

// Container is a layer made of named children (Sequential, Residual).
type Container interface {
	Layer
	Children() []Child
}

// New returns a zeroed float32 tensor of the given shape.
func New(shape ...int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(make([]float32, n)))
}

// FromSlice wraps data (not copied) as a tensor of the given shape.
func FromSlice(data []float32, shape ...int) (*tensor.Dense, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("nn: negative dimension in shape %v", shape)
		}
		n *= d
	}
	if n != len(data) {
		return nil, fmt.Errorf("nn: shape %v needs %d values, found %d", shape, n, len(data))
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data)), nil
}

// Float32s returns t's backing slice (row-major, contiguous). It panics only
// on a non-float32 tensor, which this package never makes.
func Float32s(t *tensor.Dense) []float32 {
	return t.Data().([]float32)
}

// Buffers returns the untrained saved state (running statistics) of l and
// its descendants, with dotted names.
func Buffers(l Layer) []*Param {
	if s, ok := l.(Stateful); ok {
		return s.Buffers()
	}
	return nil
}

// State returns Params then Buffers: everything to save or load, like
// PyTorch's state_dict (without num_batches_tracked).
func State(l Layer) []*Param {
	return append(l.Params(), Buffers(l)...)
}

// LoadParam copies data into p.Value after checking its length, naming the
// parameter and the shapes on a mismatch.
func LoadParam(p *Param, data []float32, shape []int) error {
	want := p.Value.Shape()
	if shape != nil && !slices.Equal(want, shape) {
		return fmt.Errorf("%s: want shape %v, found %v", p.Name, []int(want), shape)
	}
	dst := Float32s(p.Value)
	if len(dst) != len(data) {
		return fmt.Errorf("%s: want %d values (shape %v), found %d", p.Name, len(dst), []int(want), len(data))
	}
	copy(dst, data)
	return nil
}

// Walk calls fn for l and every descendant, depth first, with dotted names
// ("" for l itself).
func Walk(l Layer, fn func(name string, l Layer)) {
	walk("", l, fn)
}

func walk(prefix string, l Layer, fn func(string, Layer)) {
	fn(prefix, l)
	if c, ok := l.(Container); ok {
		for _, ch := range c.Children() {
			walk(join(prefix, ch.Name), ch.Layer, fn)
		}
	}
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	if name == "" {
		return prefix
	}
	return prefix + "." + name
}

func prefixed(prefix string, ps []*Param) []*Param {
	out := make([]*Param, len(ps))
	for i, p := range ps {
		out[i] = &Param{Name: join(prefix, p.Name), Value: p.Value, Grad: p.Grad}
	}
	return out
}

// newParam makes a named parameter with a zeroed value and gradient.
func newParam(name string, shape ...int) *Param {
	return &Param{Name: name, Value: New(shape...), Grad: New(shape...)}
}

// checkInput rejects what the layers cannot read as a flat float32 slice.
func checkInput(what string, x *tensor.Dense) error {
	switch {
	case x == nil:
		return fmt.Errorf("%s: nil input", what)
	case x.Dtype() != tensor.Float32:
		return fmt.Errorf("%s: want a float32 tensor, found %v", what, x.Dtype())
	case x.IsMaterializable():
		return fmt.Errorf("%s: input is a view or transposed tensor; Materialize it first", what)
	case x.DataSize() != x.Shape().TotalSize():
		return fmt.Errorf("%s: shape %v needs %d values, found %d", what, []int(x.Shape()), x.Shape().TotalSize(), x.DataSize())
	}
	return nil
}

// dims4 checks x is a float32 (N,C,H,W) and returns the four sizes.
func dims4(what string, x *tensor.Dense) (n, c, h, w int, err error) {
	if err := checkInput(what, x); err != nil {
		return 0, 0, 0, 0, err
	}
	s := x.Shape()
	if len(s) != 4 {
		return 0, 0, 0, 0, fmt.Errorf("%s: want a 4-d (N,C,H,W) input, found shape %v", what, []int(s))
	}
	return s[0], s[1], s[2], s[3], nil
}

// trainOnly is what a layer caches for Backward: v after a training
// Forward, nothing after an inference one. Layers assign it only when the
// cache changes, so eval passes write nothing and one network can serve
// concurrent inference.
func trainOnly(train bool, v *tensor.Dense) *tensor.Dense {
	if train {
		return v
	}
	return nil
}

func noForward(what string) error {
	return fmt.Errorf("%s: Backward called without a preceding Forward(x, true)", what)
}
