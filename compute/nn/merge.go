package nn

import (
	"fmt"
	"slices"

	"gorgonia.org/tensor"

	"itscope/compute/parallel"
)

// Add sums inputs of the same shape.
type Add struct {
	n       int
	trained bool
}

// Forward returns the elementwise sum of xs (at least one).
func (a *Add) Forward(xs []*tensor.Dense, train bool) (*tensor.Dense, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("add: no inputs")
	}
	for i, x := range xs {
		if err := checkInput(fmt.Sprintf("add: input %d", i), x); err != nil {
			return nil, err
		}
	}
	y := New(xs[0].Shape()...)
	ys := Float32s(y)
	for i, x := range xs {
		if !slices.Equal(x.Shape(), xs[0].Shape()) {
			return nil, fmt.Errorf("add: input %d has shape %v, input 0 has %v", i, []int(x.Shape()), []int(xs[0].Shape()))
		}
		src := Float32s(x)
		parallel.Blocks(len(ys), elementGrain, func(lo, hi int) {
			for j, v := range src[lo:hi] {
				ys[lo+j] += v
			}
		})
	}
	if train || a.trained {
		a.n, a.trained = len(xs), train
	}
	return y, nil
}

// Backward returns dy for every input; the gradients share dy's storage.
func (a *Add) Backward(dy *tensor.Dense) ([]*tensor.Dense, error) {
	if !a.trained {
		return nil, noForward("add")
	}
	out := make([]*tensor.Dense, a.n)
	for i := range out {
		out[i] = dy
	}
	return out, nil
}

// Concat joins inputs along Axis (1 for channels in NCHW); the other sizes
// must agree.
type Concat struct {
	Axis   int
	shapes [][]int
}

// Forward returns the inputs joined along Axis.
func (c *Concat) Forward(xs []*tensor.Dense, train bool) (*tensor.Dense, error) {
	if len(xs) == 0 {
		return nil, fmt.Errorf("concat: no inputs")
	}
	for i, x := range xs {
		if err := checkInput(fmt.Sprintf("concat: input %d", i), x); err != nil {
			return nil, err
		}
	}
	s0 := []int(xs[0].Shape())
	ax := c.Axis
	if ax < 0 {
		ax += len(s0)
	}
	if ax < 0 || ax >= len(s0) {
		return nil, fmt.Errorf("concat: axis %d out of range for shape %v", c.Axis, s0)
	}
	outer, inner := 1, 1
	for _, d := range s0[:ax] {
		outer *= d
	}
	for _, d := range s0[ax+1:] {
		inner *= d
	}
	total := 0
	shapes := make([][]int, len(xs))
	for i, x := range xs {
		s := []int(x.Shape())
		if len(s) != len(s0) {
			return nil, fmt.Errorf("concat: input %d has shape %v, input 0 has %v", i, s, s0)
		}
		for k := range s {
			if k != ax && s[k] != s0[k] {
				return nil, fmt.Errorf("concat: input %d has shape %v, input 0 has %v (only axis %d may differ)", i, s, s0, ax)
			}
		}
		shapes[i] = append([]int(nil), s...)
		total += s[ax]
	}
	shape := append([]int(nil), s0...)
	shape[ax] = total
	y := New(shape...)
	ys := Float32s(y)
	off := 0
	for i, x := range xs {
		w := shapes[i][ax] * inner
		src := Float32s(x)
		for o := range outer {
			copy(ys[o*total*inner+off:][:w], src[o*w:][:w])
		}
		off += w
	}
	if train {
		c.shapes = shapes
	} else if c.shapes != nil {
		c.shapes = nil
	}
	return y, nil
}

// Backward splits dy back into one gradient per input.
func (c *Concat) Backward(dy *tensor.Dense) ([]*tensor.Dense, error) {
	if c.shapes == nil {
		return nil, noForward("concat")
	}
	s0 := c.shapes[0]
	ax := c.Axis
	if ax < 0 {
		ax += len(s0)
	}
	outer, inner, total := 1, 1, 0
	for _, d := range s0[:ax] {
		outer *= d
	}
	for _, d := range s0[ax+1:] {
		inner *= d
	}
	for _, s := range c.shapes {
		total += s[ax]
	}
	dys := Float32s(dy)
	if len(dys) != outer*total*inner {
		return nil, fmt.Errorf("concat: gradient shape %v does not match the output's %d values", []int(dy.Shape()), outer*total*inner)
	}
	out := make([]*tensor.Dense, len(c.shapes))
	off := 0
	for i, s := range c.shapes {
		dx := New(s...)
		dst := Float32s(dx)
		w := s[ax] * inner
		for o := range outer {
			copy(dst[o*w:][:w], dys[o*total*inner+off:][:w])
		}
		off += w
		out[i] = dx
	}
	return out, nil
}
