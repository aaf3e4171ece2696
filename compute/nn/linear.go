package nn

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gorgonia.org/tensor"
)

// Linear is y = x Wᵀ + b with W (Out, In) as torch.nn.Linear. An input
// (N, ...) is read as (N, In) when its trailing sizes multiply to In.
type Linear struct {
	In, Out int
	Weight  *Param // (Out, In)
	Bias    *Param // (Out) or nil

	x *tensor.Dense
	stepBuffers
}

// NewLinear returns a Linear with zero weights (see InitDefault).
func NewLinear(in, out int, bias bool) (*Linear, error) {
	if in <= 0 || out <= 0 {
		return nil, fmt.Errorf("linear: want positive sizes, found in=%d out=%d", in, out)
	}
	l := &Linear{In: in, Out: out, Weight: newParam("weight", out, in)}
	if bias {
		l.Bias = newParam("bias", out)
	}
	return l, nil
}

// Params returns weight and, if present, bias.
func (l *Linear) Params() []*Param {
	if l.Bias == nil {
		return []*Param{l.Weight}
	}
	return []*Param{l.Weight, l.Bias}
}

func (l *Linear) rows(x *tensor.Dense) (int, error) {
	if err := checkInput("linear", x); err != nil {
		return 0, err
	}
	s := x.Shape()
	if len(s) < 1 || s[0] == 0 || s.TotalSize()/s[0] != l.In || s.TotalSize()%s[0] != 0 {
		return 0, fmt.Errorf("linear: want (N, %d) input, found shape %v", l.In, []int(s))
	}
	return s[0], nil
}

// Forward returns x Wᵀ + b as (N, Out).
func (l *Linear) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	n, err := l.rows(x)
	if err != nil {
		return nil, err
	}
	y := l.output(train, l.Bias == nil, n, l.Out)
	ys := Float32s(y)
	if l.Bias != nil {
		b := Float32s(l.Bias.Value)
		for i := range n {
			copy(ys[i*l.Out:], b)
		}
	}
	gemm(blas.NoTrans, blas.Trans, 1,
		blas32.General{Rows: n, Cols: l.In, Stride: l.In, Data: Float32s(x)},
		blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: Float32s(l.Weight.Value)},
		1, blas32.General{Rows: n, Cols: l.Out, Stride: l.Out, Data: ys})
	if train || l.x != nil {
		l.x = trainOnly(train, x)
	}
	return y, nil
}

// Backward returns dL/dx in x's shape and adds dL/dW, dL/db.
func (l *Linear) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if l.x == nil {
		return nil, noForward("linear")
	}
	n, _ := l.rows(l.x)
	if !slices.Equal(dy.Shape(), []int{n, l.Out}) {
		return nil, fmt.Errorf("linear: gradient shape %v does not match output shape %v", []int(dy.Shape()), []int{n, l.Out})
	}
	dys := Float32s(dy)
	g := blas32.General{Rows: n, Cols: l.Out, Stride: l.Out, Data: dys}
	gemm(blas.Trans, blas.NoTrans, 1, g,
		blas32.General{Rows: n, Cols: l.In, Stride: l.In, Data: Float32s(l.x)},
		1, blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: Float32s(l.Weight.Grad)})
	if l.Bias != nil {
		db := Float32s(l.Bias.Grad)
		for i := range n {
			for j, d := range dys[i*l.Out:][:l.Out] {
				db[j] += d
			}
		}
	}
	dx := l.gradient(false, l.x.Shape()...)
	gemm(blas.NoTrans, blas.NoTrans, 1, g,
		blas32.General{Rows: l.Out, Cols: l.In, Stride: l.In, Data: Float32s(l.Weight.Value)},
		0, blas32.General{Rows: n, Cols: l.In, Stride: l.In, Data: Float32s(dx)})
	return dx, nil
}

// Dropout zeroes each value with probability P in training and scales the
// rest by 1/(1-P), as torch.nn.Dropout; in eval it is the identity. The mask
// comes from its own seeded generator, so the same seed gives the same run.
type Dropout struct {
	P    float64
	rng  *rand.Rand
	mask []float32 // 0 or 1/(1-P), from the last training Forward

	reuseMask bool // tests: keep the mask for finite differences
}

// NewDropout returns a Dropout with drop probability p in [0, 1).
func NewDropout(p float64, seed uint64) (*Dropout, error) {
	if !(p >= 0 && p < 1) {
		return nil, fmt.Errorf("dropout: want probability in [0,1), found %v", p)
	}
	return &Dropout{P: p, rng: rand.New(rand.NewPCG(seed, seed))}, nil
}

// Params returns nil.
func (*Dropout) Params() []*Param { return nil }

// Forward masks x in training and returns it unchanged in eval.
func (d *Dropout) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	if err := checkInput("dropout", x); err != nil {
		return nil, err
	}
	if !train {
		if d.mask != nil {
			d.mask = nil
		}
		return x, nil
	}
	if d.P == 0 {
		d.mask = []float32{} // identity, but Backward is valid
		return x, nil
	}
	xs := Float32s(x)
	if !d.reuseMask || len(d.mask) != len(xs) {
		d.mask = make([]float32, len(xs))
		keep := float32(1 / (1 - d.P))
		for i := range d.mask {
			if d.rng.Float64() >= d.P {
				d.mask[i] = keep
			}
		}
	}
	y := New(x.Shape()...)
	ys := Float32s(y)
	for i, v := range xs {
		ys[i] = v * d.mask[i]
	}
	return y, nil
}

// Backward applies the same mask to dy.
func (d *Dropout) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if d.mask == nil {
		return nil, noForward("dropout")
	}
	if len(d.mask) == 0 {
		return dy, nil
	}
	dys := Float32s(dy)
	if len(dys) != len(d.mask) {
		return nil, fmt.Errorf("dropout: gradient shape %v does not match the output's %d values", []int(dy.Shape()), len(d.mask))
	}
	dx := New(dy.Shape()...)
	dxs := Float32s(dx)
	for i, v := range dys {
		dxs[i] = v * d.mask[i]
	}
	return dx, nil
}

// setReuse also forgets, when turned off, what Forward kept for Backward.
func (l *Linear) setReuse(on bool) {
	l.stepBuffers.setReuse(on)
	if !on {
		l.x = nil
	}
}
