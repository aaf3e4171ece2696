package nn

import (
	"fmt"
	"math"
	"slices"

	"gorgonia.org/tensor"

	"itscope/compute/parallel"
)

// BatchNorm2D normalises each channel as torch.nn.BatchNorm2d: in training
// with the batch's mean and biased variance, updating the running statistics
// with Momentum (unbiased variance, as PyTorch); in eval with the running
// statistics. With UseRunningStats, training passes normalise with the
// running statistics and leave them alone (a frozen BatchNorm that still
// passes gradients, as a PyTorch module in eval mode inside a training step).
type BatchNorm2D struct {
	C               int
	Eps, Momentum   float64
	UseRunningStats bool

	Weight, Bias            *Param // (C)
	RunningMean, RunningVar *Param // (C), Grad nil

	x      *tensor.Dense // cached by Forward(x, true)
	mean   []float64
	invstd []float64
	stepBuffers
}

// NewBatchNorm2D returns PyTorch's defaults: weight 1, bias 0, running mean
// 0 and variance 1, eps 1e-5, momentum 0.1.
func NewBatchNorm2D(c int) *BatchNorm2D {
	bn := &BatchNorm2D{C: c, Eps: 1e-5, Momentum: 0.1,
		Weight: newParam("weight", c), Bias: newParam("bias", c),
		RunningMean: &Param{Name: "running_mean", Value: New(c)},
		RunningVar:  &Param{Name: "running_var", Value: New(c)},
	}
	fill(Float32s(bn.Weight.Value), 1)
	fill(Float32s(bn.RunningVar.Value), 1)
	return bn
}

// sumAndDot returns Σa and Σa·b in float64. Four running sums of each break
// the chain of dependent additions that bounds a single sum's speed.
func sumAndDot(a, b []float32) (sum, dot float64) {
	b = b[:len(a)]
	var s0, s1, s2, s3, d0, d1, d2, d3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		a0, a1, a2, a3 := float64(a[i]), float64(a[i+1]), float64(a[i+2]), float64(a[i+3])
		s0, s1, s2, s3 = s0+a0, s1+a1, s2+a2, s3+a3
		d0 += a0 * float64(b[i])
		d1 += a1 * float64(b[i+1])
		d2 += a2 * float64(b[i+2])
		d3 += a3 * float64(b[i+3])
	}
	for ; i < len(a); i++ {
		s0 += float64(a[i])
		d0 += float64(a[i]) * float64(b[i])
	}
	return (s0 + s1) + (s2 + s3), (d0 + d1) + (d2 + d3)
}

// sum4 is Σv over four running sums, which unlike one sum do not wait on
// each other's additions.
func sum4(v []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(v); i += 4 {
		s0, s1, s2, s3 = s0+v[i], s1+v[i+1], s2+v[i+2], s3+v[i+3]
	}
	for ; i < len(v); i++ {
		s0 += v[i]
	}
	return (s0 + s1) + (s2 + s3)
}

func fill(s []float32, v float32) { fkern.fill(s, v) }

// Params returns weight and bias.
func (bn *BatchNorm2D) Params() []*Param { return []*Param{bn.Weight, bn.Bias} }

// Buffers returns the running mean and variance.
func (bn *BatchNorm2D) Buffers() []*Param { return []*Param{bn.RunningMean, bn.RunningVar} }

// Forward normalises x (N,C,H,W).
func (bn *BatchNorm2D) Forward(x *tensor.Dense, train bool) (*tensor.Dense, error) {
	n, c, h, w, err := dims4("batchnorm", x)
	if err != nil {
		return nil, err
	}
	if c != bn.C {
		return nil, fmt.Errorf("batchnorm: want %d channels, found shape %v", bn.C, []int(x.Shape()))
	}
	hw, m := h*w, n*h*w
	batchStats := train && !bn.UseRunningStats
	if batchStats && m < 2 {
		return nil, fmt.Errorf("batchnorm: training needs more than one value per channel, found shape %v", []int(x.Shape()))
	}
	xs := Float32s(x)
	y := bn.output(train, false, n, c, h, w)
	ys := Float32s(y)
	gamma, beta := Float32s(bn.Weight.Value), Float32s(bn.Bias.Value)
	rm, rv := Float32s(bn.RunningMean.Value), Float32s(bn.RunningVar.Value)
	mean, invstd := make([]float64, c), make([]float64, c)
	parallel.For(c, func(ch int) {
		var mu, v float64
		if batchStats {
			// One pass: float64 sums of float32 data lose nothing that
			// matters in E[x²] - E[x]².
			var s, sq float64
			for i := range n {
				plane := xs[(i*c+ch)*hw:][:hw]
				ps, psq := sumAndDot(plane, plane)
				s, sq = s+ps, sq+psq
			}
			mu = s / float64(m)
			ss := max(0, sq-s*mu)
			v = ss / float64(m)
			mom := bn.Momentum
			rm[ch] = float32((1-mom)*float64(rm[ch]) + mom*mu)
			rv[ch] = float32((1-mom)*float64(rv[ch]) + mom*ss/float64(m-1))
		} else {
			mu, v = float64(rm[ch]), float64(rv[ch])
		}
		is := 1 / math.Sqrt(v+bn.Eps)
		mean[ch], invstd[ch] = mu, is
		scale := float32(float64(gamma[ch]) * is)
		shift := float32(float64(beta[ch]) - mu*float64(gamma[ch])*is)
		for i := range n {
			off := (i*c + ch) * hw
			dst := ys[off:][:hw]
			for j, e := range xs[off:][:hw] {
				dst[j] = e*scale + shift
			}
		}
	})
	if train {
		bn.x, bn.mean, bn.invstd = x, mean, invstd
	} else if bn.x != nil {
		bn.x = nil
	}
	return y, nil
}

// Backward returns dL/dx and adds dL/dweight, dL/dbias.
func (bn *BatchNorm2D) Backward(dy *tensor.Dense) (*tensor.Dense, error) {
	if bn.x == nil {
		return nil, noForward("batchnorm")
	}
	if !slices.Equal(dy.Shape(), bn.x.Shape()) {
		return nil, fmt.Errorf("batchnorm: gradient shape %v does not match output shape %v", []int(dy.Shape()), []int(bn.x.Shape()))
	}
	s := bn.x.Shape()
	n, c, hw := s[0], s[1], s[2]*s[3]
	m := float64(n * hw)
	xs, dys := Float32s(bn.x), Float32s(dy)
	dx := bn.gradient(false, s...)
	dxs := Float32s(dx)
	gamma := Float32s(bn.Weight.Value)
	dgamma, dbeta := Float32s(bn.Weight.Grad), Float32s(bn.Bias.Grad)
	parallel.For(c, func(ch int) {
		mu, is := bn.mean[ch], bn.invstd[ch]
		// Σdy·xhat = (Σdy·x - mu·Σdy)·is, with float64 sums.
		var sumDy, sumDyX float64
		for i := range n {
			off := (i*c + ch) * hw
			ps, pdot := sumAndDot(dys[off:][:hw], xs[off:][:hw])
			sumDy, sumDyX = sumDy+ps, sumDyX+pdot
		}
		sumDyXhat := (sumDyX - mu*sumDy) * is
		dgamma[ch] += float32(sumDyXhat)
		dbeta[ch] += float32(sumDy)
		g := float64(gamma[ch]) * is
		if bn.UseRunningStats {
			k := float32(g)
			for i := range n {
				off := (i*c + ch) * hw
				dst := dxs[off:][:hw]
				for j, d := range dys[off:][:hw] {
					dst[j] = d * k
				}
			}
			return
		}
		// dx = g/m * (m*dy - Σdy - xhat*Σ(dy*xhat))
		// which is a·dy + b·x + k per element.
		meanDy, meanDyXhat := sumDy/m, sumDyXhat/m
		a := float32(g)
		b := float32(-g * is * meanDyXhat)
		k := float32(g * (mu*is*meanDyXhat - meanDy))
		for i := range n {
			off := (i*c + ch) * hw
			xr, dst := xs[off:][:hw], dxs[off:][:hw]
			for j, d := range dys[off:][:hw] {
				dst[j] = a*d + b*xr[j] + k
			}
		}
	})
	return dx, nil
}

// FoldInto folds this BatchNorm's eval-mode transform into conv, the
// convolution feeding it, giving conv a bias if it had none. Afterwards the
// BatchNorm must be dropped (FoldBatchNorm replaces it by Identity).
func (bn *BatchNorm2D) FoldInto(conv *Conv2D) error {
	if conv.Spec.OutC != bn.C {
		return fmt.Errorf("batchnorm: cannot fold %d channels into a conv with %d outputs", bn.C, conv.Spec.OutC)
	}
	if conv.Bias == nil {
		conv.Bias = newParam("bias", bn.C)
		conv.Spec.Bias = true
	}
	w, b := Float32s(conv.Weight.Value), Float32s(conv.Bias.Value)
	gamma, beta := Float32s(bn.Weight.Value), Float32s(bn.Bias.Value)
	rm, rv := Float32s(bn.RunningMean.Value), Float32s(bn.RunningVar.Value)
	per := len(w) / bn.C
	for o := range bn.C {
		scale := float64(gamma[o]) / math.Sqrt(float64(rv[o])+bn.Eps)
		for i := range per {
			w[o*per+i] = float32(float64(w[o*per+i]) * scale)
		}
		b[o] = float32((float64(b[o])-float64(rm[o]))*scale + float64(beta[o]))
	}
	return nil
}

// setReuse also forgets, when turned off, what Forward kept for Backward.
func (bn *BatchNorm2D) setReuse(on bool) {
	bn.stepBuffers.setReuse(on)
	if !on {
		bn.x, bn.mean, bn.invstd = nil, nil, nil
	}
}
