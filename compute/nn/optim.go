package nn

import (
	"math"

	"itscope/compute/parallel"
)

// Optimizer updates parameters from their accumulated gradients.
type Optimizer interface {
	// Step applies one update from the current gradients.
	Step()
	// ZeroGrad clears the gradients before the next backward pass.
	ZeroGrad()
}

func zeroGrad(ps []*Param) {
	for _, p := range ps {
		if p.Grad != nil {
			clear(Float32s(p.Grad))
		}
	}
}

// trainable drops buffers (nil Grad) so optimisers can take State().
func trainable(ps []*Param) []*Param {
	var out []*Param
	for _, p := range ps {
		if p.Grad != nil {
			out = append(out, p)
		}
	}
	return out
}

// SGD is torch.optim.SGD with momentum and weight decay (dampening 0,
// no Nesterov): d = g + wd·p; buf = momentum·buf + d (buf = d at the first
// step); p -= lr·buf. The fields may be changed between steps.
type SGD struct {
	LR, Momentum, WeightDecay float64

	params []*Param
	buf    [][]float32
}

// NewSGD returns SGD over params.
func NewSGD(params []*Param, lr, momentum, weightDecay float64) *SGD {
	ps := trainable(params)
	return &SGD{LR: lr, Momentum: momentum, WeightDecay: weightDecay, params: ps, buf: make([][]float32, len(ps))}
}

// ZeroGrad clears the gradients.
func (o *SGD) ZeroGrad() { zeroGrad(o.params) }

// Step updates every parameter.
func (o *SGD) Step() {
	lr, mom, wd := float32(o.LR), float32(o.Momentum), float32(o.WeightDecay)
	for i, p := range o.params {
		w, g := Float32s(p.Value), Float32s(p.Grad)
		if o.Momentum == 0 {
			for j := range w {
				w[j] -= lr * (g[j] + wd*w[j])
			}
			continue
		}
		first := o.buf[i] == nil
		if first {
			o.buf[i] = make([]float32, len(w))
		}
		b := o.buf[i]
		for j := range w {
			d := g[j] + wd*w[j]
			if first {
				b[j] = d
			} else {
				b[j] = b[j]*mom + d
			}
			w[j] -= lr * b[j]
		}
	}
}

// Adam is torch.optim.Adam (Decoupled false: weight decay added to the
// gradient) or torch.optim.AdamW (Decoupled true: p *= 1 - lr·wd first),
// with PyTorch's bias corrections: p -= lr/(1-β1ᵗ) · m / (sqrt(v)/sqrt(1-β2ᵗ) + eps).
// The fields may be changed between steps.
type Adam struct {
	LR, Beta1, Beta2, Eps, WeightDecay float64
	Decoupled                          bool

	params []*Param
	m, v   [][]float32
	t      int
}

// NewAdam returns torch.optim.Adam(params, lr, weight_decay=wd) with betas
// (0.9, 0.999) and eps 1e-8.
func NewAdam(params []*Param, lr, weightDecay float64) *Adam {
	ps := trainable(params)
	return &Adam{LR: lr, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay,
		params: ps, m: make([][]float32, len(ps)), v: make([][]float32, len(ps))}
}

// NewAdamW returns torch.optim.AdamW(params, lr, weight_decay=wd).
func NewAdamW(params []*Param, lr, weightDecay float64) *Adam {
	a := NewAdam(params, lr, weightDecay)
	a.Decoupled = true
	return a
}

// ZeroGrad clears the gradients.
func (o *Adam) ZeroGrad() { zeroGrad(o.params) }

// Steps returns how many steps have been taken.
func (o *Adam) Steps() int { return o.t }

// Step updates every parameter.
func (o *Adam) Step() {
	o.t++
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	bc1 := 1 - math.Pow(o.Beta1, float64(o.t))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.t))
	stepSize := float32(o.LR / bc1)
	bc2Sqrt := float32(math.Sqrt(bc2))
	eps, wd := float32(o.Eps), float32(o.WeightDecay)
	decay := float32(1 - o.LR*o.WeightDecay)
	for i, p := range o.params {
		w, g := Float32s(p.Value), Float32s(p.Grad)
		if o.m[i] == nil {
			o.m[i], o.v[i] = make([]float32, len(w)), make([]float32, len(w))
		}
		m, v := o.m[i], o.v[i]
		parallel.Blocks(len(w), elementGrain, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				gj := g[j]
				if o.Decoupled {
					w[j] *= decay
				} else {
					gj += wd * w[j]
				}
				m[j] = m[j]*b1 + (1-b1)*gj
				v[j] = v[j]*b2 + (1-b2)*gj*gj
				denom := float32(math.Sqrt(float64(v[j])))/bc2Sqrt + eps
				w[j] -= stepSize * m[j] / denom
			}
		})
	}
}
