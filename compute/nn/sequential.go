package nn

import (
	"fmt"
	"slices"
	"unsafe"

	"gorgonia.org/tensor"

	"itscope/compute/parallel"
)

// Sequential runs named children in order, as torch.nn.Sequential (children
// "0", "1", ...) or a torchvision model's top level ("conv1", "layer1", ...).
type Sequential struct {
	children []Child
	reuse    bool
	arena    arena // with reuse: the training step's short-lived values
}

func (s *Sequential) setReuse(on bool) {
	s.reuse = on
	s.arena = arena{}
}

// lend hands child i the arena slot besides t for its next output or
// gradient, when reusing buffers; the returned func ends an unused loan.
func (s *Sequential) lend(i int, t *tensor.Dense) (settle func()) {
	l := s.children[i].Layer
	st, ok := l.(stepper)
	if !s.reuse || !ok || !st.steps().reuse {
		return func() {}
	}
	st.steps().lent = s.arena.slotBesides(t)
	return func() { st.steps().lent = nil }
}

// NewSequential returns a Sequential of the given children.
func NewSequential(children ...Child) *Sequential {
	return &Sequential{children: append([]Child(nil), children...)}
}

// Append adds a named child and returns s.
func (s *Sequential) Append(name string, l Layer) *Sequential {
	s.children = append(s.children, Child{Name: name, Layer: l})
	return s
}

// Children returns the children in order.
func (s *Sequential) Children() []Child { return s.children }

// Replace swaps the child named name for l.
func (s *Sequential) Replace(name string, l Layer) error {
	for i := range s.children {
		if s.children[i].Name == name {
			s.children[i].Layer = l
			return nil
		}
	}
	return fmt.Errorf("sequential: no child named %q", name)
}

// Params returns the children's parameters, named "child.param".
func (s *Sequential) Params() []*Param {
	var out []*Param
	for _, ch := range s.children {
		out = append(out, prefixed(ch.Name, ch.Layer.Params())...)
	}
	return out
}

// Buffers returns the children's buffers, named "child.buffer".
func (s *Sequential) Buffers() []*Param {
	var out []*Param
	for _, ch := range s.children {
		out = append(out, prefixed(ch.Name, Buffers(ch.Layer))...)
	}
	return out
}

// Forward runs the children in order. At inference a Conv2D followed by a
// ReLU or ReLU6 (with only Identity layers, such as folded BatchNorms,
// between them) runs as one Conv2D.Infer, the activation riding along the
// conv's own output pass.
func (s *Sequential) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	y, _, err := s.forward("", x, train)
	return y, err
}

// Backward runs the children's backward passes in reverse.
func (s *Sequential) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	var err error
	for i := len(s.children) - 1; i >= 0; i-- {
		settle := s.lend(i, dy)
		dy, err = s.children[i].Layer.Backward(dy)
		settle()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.children[i].Name, err)
		}
		if dy == nil && i > 0 {
			return nil, fmt.Errorf("%s: no input gradient (NoInputGrad) but layers before it need one", s.children[i].Name)
		}
	}
	return dy, nil
}

// nested is a container whose errors name its descendants by dotted path.
// Its forward also reports whether the output is its own (made by its
// layers, held by no one else), which the caller may free once read.
type nested interface {
	forward(prefix string, x *tensor.Dense, train bool) (y *tensor.Dense, own bool, err error)
}

// forward runs the children; at inference it frees each output of its own
// once the next child has read it (unless that child's output is the same
// storage), so the next pass's layers reuse the memory.
func (s *Sequential) forward(prefix string, x *tensor.Dense, train bool) (*tensor.Dense, bool, error) {
	own := false // x is the caller's
	for i := 0; i < len(s.children); i++ {
		ch := s.children[i]
		name := join(prefix, ch.Name)
		var (
			y    *tensor.Dense
			yOwn bool
			err  error
		)
		conv, isConv := ch.Layer.(*Conv2D)
		act, skip := ActNone, 0
		if isConv && !train {
			act, skip = fusedActivation(s.children[i+1:])
		}
		switch n, isNested := ch.Layer.(nested); {
		case act != ActNone:
			y, err = conv.Infer(x, act)
			yOwn = true
			i += skip
		case isNested:
			if y, yOwn, err = n.forward(name, x, train); err != nil {
				return nil, false, err
			}
		case train && diesYoung(ch.Layer, s.children[i+1:]):
			settle := s.lend(i, x)
			y, err = ch.Layer.Forward(x, train)
			settle()
		default:
			y, err = ch.Layer.Forward(x, train)
			yOwn = freshOutput(ch.Layer)
		}
		if err != nil {
			return nil, false, fmt.Errorf("%s: %w", name, err)
		}
		switch {
		case sharesStorage(x, y): // Identity, Dropout or Flatten: still x
			yOwn = own
		case own && !train:
			free(x)
		}
		x, own = y, yOwn
	}
	return x, own, nil
}

// fusedActivation is the activation that rest (the layers after a conv)
// starts with, skipping Identity layers, and how many layers it covers.
func fusedActivation(rest []Child) (Activation, int) {
	for k, ch := range rest {
		switch l := ch.Layer.(type) {
		case Identity:
			continue
		case *ReLU:
			return ActReLU, k + 1
		case *Clip:
			if l.Min == 0 && l.Max == 6 {
				return ActReLU6, k + 1
			}
		}
		return ActNone, 0
	}
	return ActNone, 0
}

// Residual is y = Act(Body(x) + Shortcut(x)), a ResNet block. A nil
// Shortcut is the identity; a nil Act is none. Body's children appear at the
// block's level ("conv1", "bn1", ...) and the shortcut as ShortcutName
// ("downsample", so "layer1.0.downsample.0" as in torchvision).
type Residual struct {
	Body         *Sequential
	Shortcut     *Sequential
	ShortcutName string
	Act          Layer

	add Add
}

// NewResidual returns a block with torchvision's "downsample" shortcut name.
func NewResidual(body, shortcut *Sequential, act Layer) *Residual {
	return &Residual{Body: body, Shortcut: shortcut, ShortcutName: "downsample", Act: act}
}

// Children returns the body's children then the shortcut.
func (r *Residual) Children() []Child {
	out := append([]Child(nil), r.Body.Children()...)
	if r.Shortcut != nil {
		out = append(out, Child{Name: r.ShortcutName, Layer: r.Shortcut})
	}
	return out
}

// Params returns the body's then the shortcut's parameters.
func (r *Residual) Params() []*Param {
	out := r.Body.Params()
	if r.Shortcut != nil {
		out = append(out, prefixed(r.ShortcutName, r.Shortcut.Params())...)
	}
	return out
}

// Buffers returns the body's then the shortcut's buffers.
func (r *Residual) Buffers() []*Param {
	out := r.Body.Buffers()
	if r.Shortcut != nil {
		out = append(out, prefixed(r.ShortcutName, r.Shortcut.Buffers())...)
	}
	return out
}

// Forward computes Act(Body(x) + Shortcut(x)). At inference a ReLU, ReLU6
// or no Act is applied while the shortcut is added into the body's output,
// in one pass and without a new tensor.
func (r *Residual) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	y, _, err := r.forward("", x, train)
	return y, err
}

// forward reports its output as its own only when the shortcut is added
// into the body's own output in place.
func (r *Residual) forward(prefix string, x *tensor.Dense, train bool) (*tensor.Dense, bool, error) {
	a, aOwn, err := r.Body.forward(prefix, x, train)
	if err != nil {
		return nil, false, err
	}
	b, bOwn := x, false
	if r.Shortcut != nil {
		if b, bOwn, err = r.Shortcut.forward(join(prefix, r.ShortcutName), x, train); err != nil {
			return nil, false, err
		}
	}
	if act, ok := residualActivation(r.Act); ok && !train && !sharesStorage(a, x) && !sharesStorage(a, b) {
		if !slices.Equal(a.Shape(), b.Shape()) {
			return nil, false, fmt.Errorf("%s: body output %v and shortcut output %v differ", prefix, []int(a.Shape()), []int(b.Shape()))
		}
		act.addInto(Float32s(a), Float32s(b))
		if bOwn && !sharesStorage(b, x) {
			free(b)
		}
		return a, aOwn, nil
	}
	y, err := r.add.Forward([]*tensor.Dense{a, b}, train)
	if err != nil {
		return nil, false, fmt.Errorf("%s: body output %v and shortcut output %v differ: %w", prefix, []int(a.Shape()), []int(b.Shape()), err)
	}
	if r.Act != nil {
		if y, err = r.Act.Forward(y, train); err != nil {
			return nil, false, fmt.Errorf("%s: %w", prefix, err)
		}
	}
	return y, false, nil
}

// residualActivation is act as an Activation, if it is one.
func residualActivation(act Layer) (Activation, bool) {
	switch l := act.(type) {
	case nil:
		return ActNone, true
	case *ReLU:
		return ActReLU, true
	case *Clip:
		return ActReLU6, l.Min == 0 && l.Max == 6
	}
	return ActNone, false
}

// sharesStorage reports whether a and b are backed by overlapping memory
// (a body made only of Identity layers returns its input; Flatten returns a
// view of it).
func sharesStorage(a, b *tensor.Dense) bool {
	as, bs := Float32s(a), Float32s(b)
	if len(as) == 0 || len(bs) == 0 {
		return false
	}
	a0, b0 := uintptr(unsafe.Pointer(&as[0])), uintptr(unsafe.Pointer(&bs[0]))
	return a0 < b0+uintptr(len(bs))*4 && b0 < a0+uintptr(len(as))*4
}

// Backward returns dL/dx through both branches.
func (r *Residual) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	var err error
	if r.Act != nil {
		if dy, err = r.Act.Backward(dy); err != nil {
			return nil, err
		}
	}
	da, err := r.Body.Backward(dy)
	if err != nil {
		return nil, err
	}
	db := dy
	if r.Shortcut != nil {
		if db, err = r.Shortcut.Backward(dy); err != nil {
			return nil, fmt.Errorf("%s: %w", r.ShortcutName, err)
		}
	}
	dx := New(da.Shape()...)
	dxs, as, bs := Float32s(dx), Float32s(da), Float32s(db)
	parallel.Blocks(len(dxs), elementGrain, func(lo, hi int) {
		for i, v := range as[lo:hi] {
			dxs[lo+i] = v + bs[lo+i]
		}
	})
	return dx, nil
}

// FoldBatchNorm folds every BatchNorm2D that directly follows a Conv2D in a
// Sequential (at any depth) into that conv, replacing the BatchNorm by
// Identity under the same name so taps keep working. It is for inference
// only: load weights first, since the folded BatchNorm's parameters are gone.
// It returns how many were folded.
func FoldBatchNorm(l Layer) (int, error) {
	folded := 0
	var err error
	Walk(l, func(name string, l Layer) {
		if err != nil {
			return
		}
		var n int
		switch c := l.(type) {
		case *Sequential:
			n, err = c.foldBatchNorm(name)
		case *Residual:
			n, err = c.Body.foldBatchNorm(name)
		}
		folded += n
	})
	return folded, err
}

func (s *Sequential) foldBatchNorm(prefix string) (int, error) {
	folded := 0
	for i := 1; i < len(s.children); i++ {
		conv, ok1 := s.children[i-1].Layer.(*Conv2D)
		bn, ok2 := s.children[i].Layer.(*BatchNorm2D)
		if !ok1 || !ok2 {
			continue
		}
		if err := bn.FoldInto(conv); err != nil {
			return folded, fmt.Errorf("%s: %w", join(prefix, s.children[i].Name), err)
		}
		s.children[i].Layer = Identity{}
		folded++
	}
	return folded, nil
}
