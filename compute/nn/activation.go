package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/tensor"

	"itscope/compute/parallel"
)

// ReLU is max(x, 0). For Backward it keeps one byte per value (whether the
// output was positive) rather than the output itself: a quarter of the
// memory while training.
type ReLU struct {
	positive []bool
	shape    []int
	posBuf   []bool // positive's storage, kept when reusing buffers
	stepBuffers
}

// NewReLU returns a ReLU.
func NewReLU() *ReLU { return &ReLU{} }

// Params returns nil.
func (*ReLU) Params() []*Param { return nil }

// Forward returns max(x, 0).
func (r *ReLU) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	if err := checkInput("relu", x); err != nil {
		return nil, err
	}
	y := r.output(train, false, x.Shape()...)
	ys, xs := Float32s(y), Float32s(x)
	var pos []bool
	switch {
	case train && r.reuse && cap(r.posBuf) >= len(xs):
		pos = r.posBuf[:len(xs)]
	case train:
		pos = make([]bool, len(xs))
		if r.reuse {
			r.posBuf = pos
		}
	}
	parallel.Blocks(len(xs), elementGrain, func(lo, hi int) {
		if pos == nil {
			for i, v := range xs[lo:hi] {
				ys[lo+i] = max(v, 0)
			}
			return
		}
		dst, p := ys[lo:hi], pos[lo:hi]
		for i, v := range xs[lo:hi] {
			// masked rather than branched, as in Backward; NaN passes
			// through as max(v, 0) would pass it
			m := uint32(0)
			if v > 0 {
				m = ^uint32(0)
			}
			p[i] = v > 0
			dst[i] = math.Float32frombits(math.Float32bits(v) & m)
			if v != v {
				dst[i] = v
			}
		}
	})
	if train || r.positive != nil {
		r.positive, r.shape = pos, nil
		if train {
			r.shape = append([]int(nil), x.Shape()...)
		}
	}
	return y, nil
}

// Backward passes dy where the output was positive.
func (r *ReLU) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if r.positive == nil {
		return nil, noForward("relu")
	}
	if !slices.Equal(dy.Shape(), r.shape) {
		return nil, fmt.Errorf("relu: gradient shape %v does not match output shape %v", []int(dy.Shape()), r.shape)
	}
	dx := r.gradient(false, dy.Shape()...)
	dxs, dys, pos := Float32s(dx), Float32s(dy), r.positive
	parallel.Blocks(len(dys), elementGrain, func(lo, hi int) {
		// A mask rather than a branch: the signs of a layer's outputs are
		// as unpredictable as coin tosses.
		dst, p := dxs[lo:hi], pos[lo:hi]
		for i, d := range dys[lo:hi] {
			m := uint32(0)
			if p[i] {
				m = ^uint32(0)
			}
			dst[i] = math.Float32frombits(math.Float32bits(d) & m)
		}
	})
	return dx, nil
}

// Clip limits x to [Min, Max] (ONNX Clip, PyTorch Hardtanh; ReLU6 is 0..6).
type Clip struct {
	Min, Max float32
	x        *tensor.Dense
}

// NewClip returns a Clip to [lo, hi].
func NewClip(lo, hi float32) *Clip { return &Clip{Min: lo, Max: hi} }

// NewReLU6 returns Clip(0, 6).
func NewReLU6() *Clip { return NewClip(0, 6) }

// Params returns nil.
func (*Clip) Params() []*Param { return nil }

// Forward returns x clipped to [Min, Max].
func (c *Clip) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	if err := checkInput("clip", x); err != nil {
		return nil, err
	}
	y := New(x.Shape()...)
	ys, xs := Float32s(y), Float32s(x)
	parallel.Blocks(len(xs), elementGrain, func(lo, hi int) {
		for i, v := range xs[lo:hi] {
			ys[lo+i] = min(max(v, c.Min), c.Max)
		}
	})
	if train || c.x != nil {
		c.x = trainOnly(train, x)
	}
	return y, nil
}

// Backward passes dy strictly inside (Min, Max), as PyTorch's hardtanh.
func (c *Clip) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if c.x == nil {
		return nil, noForward("clip")
	}
	if !slices.Equal(dy.Shape(), c.x.Shape()) {
		return nil, fmt.Errorf("clip: gradient shape %v does not match output shape %v", []int(dy.Shape()), []int(c.x.Shape()))
	}
	dx := New(dy.Shape()...)
	dxs, xs := Float32s(dx), Float32s(c.x)
	for i, d := range Float32s(dy) {
		if xs[i] > c.Min && xs[i] < c.Max {
			dxs[i] = d
		}
	}
	return dx, nil
}

// Identity returns its input (a folded BatchNorm, an eval Dropout).
type Identity struct{}

// Params returns nil.
func (Identity) Params() []*Param { return nil }

// Forward returns x itself.
func (Identity) Forward(x *tensor.Dense, _ bool) (*tensor.Dense, error) { return x, nil }

// Backward returns dy itself.
func (Identity) Backward(dy *tensor.Dense) (*tensor.Dense, error) { return dy, nil }

// Flatten reshapes (N, ...) to (N, prod(...)), sharing x's storage.
type Flatten struct {
	shape []int
}

// Params returns nil.
func (*Flatten) Params() []*Param { return nil }

// Forward flattens all but the first axis.
func (f *Flatten) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	if err := checkInput("flatten", x); err != nil {
		return nil, err
	}
	s := x.Shape()
	if len(s) < 1 {
		return nil, fmt.Errorf("flatten: want at least a 1-d input, found shape %v", []int(s))
	}
	if train || f.shape != nil {
		f.shape = nil
		if train {
			f.shape = append([]int(nil), s...)
		}
	}
	return FromSlice(Float32s(x), s[0], s.TotalSize()/max(1, s[0]))
}

// Backward reshapes dy back to the input's shape.
func (f *Flatten) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if f.shape == nil {
		return nil, noForward("flatten")
	}
	dx, err := FromSlice(Float32s(dy), f.shape...)
	if err != nil {
		return nil, fmt.Errorf("flatten: gradient shape %v does not match output of input %v", []int(dy.Shape()), f.shape)
	}
	return dx, nil
}

// Softmax normalises over axis 1 of (N, C, ...), as torch.softmax(x, dim=1).
type Softmax struct {
	y *tensor.Dense
}

// Params returns nil.
func (*Softmax) Params() []*Param { return nil }

func softmaxDims(x *tensor.Dense) (n, c, inner int, err error) {
	if err := checkInput("softmax", x); err != nil {
		return 0, 0, 0, err
	}
	s := x.Shape()
	if len(s) < 2 {
		return 0, 0, 0, fmt.Errorf("softmax: want (N, C, ...), found shape %v", []int(s))
	}
	return s[0], s[1], s.TotalSize() / (s[0] * s[1]), nil
}

// Forward returns exp(x) / sum_c exp(x), computed stably.
func (sm *Softmax) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	n, c, inner, err := softmaxDims(x)
	if err != nil {
		return nil, err
	}
	y := New(x.Shape()...)
	xs, ys := Float32s(x), Float32s(y)
	for i := range n {
		for k := range inner {
			base := i*c*inner + k
			mx := float32(math.Inf(-1))
			for j := range c {
				mx = max(mx, xs[base+j*inner])
			}
			var sum float64
			for j := range c {
				e := math.Exp(float64(xs[base+j*inner] - mx))
				ys[base+j*inner] = float32(e)
				sum += e
			}
			for j := range c {
				ys[base+j*inner] = float32(float64(ys[base+j*inner]) / sum)
			}
		}
	}
	if train || sm.y != nil {
		sm.y = trainOnly(train, y)
	}
	return y, nil
}

// Backward returns y * (dy - sum_c dy*y).
func (sm *Softmax) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if sm.y == nil {
		return nil, noForward("softmax")
	}
	if !slices.Equal(dy.Shape(), sm.y.Shape()) {
		return nil, fmt.Errorf("softmax: gradient shape %v does not match output shape %v", []int(dy.Shape()), []int(sm.y.Shape()))
	}
	n, c, inner, _ := softmaxDims(sm.y)
	dx := New(dy.Shape()...)
	ys, dys, dxs := Float32s(sm.y), Float32s(dy), Float32s(dx)
	for i := range n {
		for k := range inner {
			base := i*c*inner + k
			var dot float64
			for j := range c {
				dot += float64(dys[base+j*inner]) * float64(ys[base+j*inner])
			}
			for j := range c {
				o := base + j*inner
				dxs[o] = float32(float64(ys[o]) * (float64(dys[o]) - dot))
			}
		}
	}
	return dx, nil
}

// FuseReLUMaxPool hands every ReLU that a MaxPool2D directly follows in s
// (or in a Sequential inside it) to that pool, which takes max(x, 0) of its
// windows' maxima (the same values and gradients, since max commutes with
// max(x, 0)): one pass over the activations fewer each way, and the clamp on
// a quarter of them for a 2x2 pool. The ReLU becomes an Identity, so a tap
// on it would see its input; it returns how many pairs it fused.
func FuseReLUMaxPool(s *Sequential) int {
	fused := 0
	for i, c := range s.children {
		if inner, ok := c.Layer.(*Sequential); ok {
			fused += FuseReLUMaxPool(inner)
			continue
		}
		if _, ok := c.Layer.(*ReLU); !ok || i+1 == len(s.children) {
			continue
		}
		if pool, ok := s.children[i+1].Layer.(*MaxPool2D); ok && !pool.ReLU {
			pool.ReLU = true
			s.children[i].Layer = Identity{}
			fused++
		}
	}
	return fused
}

// setReuse also forgets, when turned off, what Forward kept for Backward.
func (r *ReLU) setReuse(on bool) {
	r.stepBuffers.setReuse(on)
	if !on {
		r.positive, r.posBuf, r.shape = nil, nil, nil
	}
}
