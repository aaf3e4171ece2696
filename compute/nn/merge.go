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
