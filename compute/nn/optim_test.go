package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"
)

// refOptim is a float64 transcription of torch.optim's update formulas.
type refOptim func(w, g []float64, step int)

func refSGD(lr, mom, wd float64) refOptim {
	var buf []float64
	return func(w, g []float64, step int) {
		if buf == nil {
			buf = make([]float64, len(w))
		}
		for j := range w {
			d := g[j] + wd*w[j]
			if step == 1 {
				buf[j] = d
			} else {
				buf[j] = mom*buf[j] + d
			}
			w[j] -= lr * buf[j]
		}
	}
}

func refAdam(lr, wd float64, decoupled bool) refOptim {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	var m, v []float64
	return func(w, g []float64, step int) {
		if m == nil {
			m, v = make([]float64, len(w)), make([]float64, len(w))
		}
		for j := range w {
			gj := g[j]
			if decoupled {
				w[j] *= 1 - lr*wd
			} else {
				gj += wd * w[j]
			}
			m[j] = b1*m[j] + (1-b1)*gj
			v[j] = b2*v[j] + (1-b2)*gj*gj
			mhat := m[j] / (1 - math.Pow(b1, float64(step)))
			vhat := v[j] / (1 - math.Pow(b2, float64(step)))
			w[j] -= lr * mhat / (math.Sqrt(vhat) + eps)
		}
	}
}

// TestOptimizerSteps runs each optimiser for four steps on fixed gradients
// and compares the parameters after every step with the float64 formulas.
func TestOptimizerSteps(t *testing.T) {
	cases := []struct {
		name string
		make func([]*Param) Optimizer
		ref  refOptim
	}{
		{"sgd", func(ps []*Param) Optimizer { return NewSGD(ps, 0.1, 0, 0) }, refSGD(0.1, 0, 0)},
		{"sgd momentum wd", func(ps []*Param) Optimizer { return NewSGD(ps, 0.05, 0.9, 1e-2) }, refSGD(0.05, 0.9, 1e-2)},
		{"adam", func(ps []*Param) Optimizer { return NewAdam(ps, 1e-2, 0) }, refAdam(1e-2, 0, false)},
		{"adam wd", func(ps []*Param) Optimizer { return NewAdam(ps, 1e-2, 0.1) }, refAdam(1e-2, 0.1, false)},
		{"adamw", func(ps []*Param) Optimizer { return NewAdamW(ps, 1e-2, 0.1) }, refAdam(1e-2, 0.1, true)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(9, 9))
			p := newParam("w", 3, 4)
			buffer := &Param{Name: "running_mean", Value: New(2)} // must be skipped
			ws := Float32s(p.Value)
			ref := make([]float64, len(ws))
			for i := range ws {
				ws[i] = float32(rng.NormFloat64())
				ref[i] = float64(ws[i])
			}
			opt := c.make([]*Param{p, buffer})
			for step := 1; step <= 4; step++ {
				opt.ZeroGrad()
				g := make([]float64, len(ws))
				for i := range g {
					Float32s(p.Grad)[i] += float32(rng.NormFloat64())
					g[i] = float64(Float32s(p.Grad)[i])
				}
				opt.Step()
				c.ref(ref, g, step)
				got := make([]float32, len(ws))
				want := make([]float32, len(ws))
				for i := range ws {
					got[i], want[i] = ws[i], float32(ref[i])
				}
				if e := relErr(got, want); e > 1e-6 {
					t.Errorf("step %d: relative error %.3g", step, e)
				}
			}
			if Float32s(buffer.Value)[0] != 0 {
				t.Errorf("optimiser changed a buffer")
			}
		})
	}
}

// TestOneEpochMatchesPyTorch trains the fixed small CNN for one epoch (four
// batches of four, fixed order, MSE) from PyTorch's initial weights and
// compares every step's loss and the final parameters and running
// statistics with torch.optim's.
func TestOneEpochMatchesPyTorch(t *testing.T) {
	f := openFixtures(t, "epoch")
	x, target := f.get("x"), f.get("target")
	var order []int
	for _, v := range Float32s(f.get("order")) {
		order = append(order, int(v))
	}
	opts := map[string]func([]*Param) Optimizer{
		"sgd":   func(ps []*Param) Optimizer { return NewSGD(ps, 0.05, 0.9, 1e-3) },
		"adam":  func(ps []*Param) Optimizer { return NewAdam(ps, 1e-3, 1e-3) },
		"adamw": func(ps []*Param) Optimizer { return NewAdamW(ps, 1e-3, 1e-2) },
	}
	for _, name := range []string{"sgd", "adam", "adamw"} {
		t.Run(name, func(t *testing.T) {
			net := smallCNN(t)
			for _, p := range State(net) {
				w := f.get("init." + p.Name)
				check(t, LoadParam(p, Float32s(w), w.Shape()))
			}
			opt := opts[name](net.Params())
			wantLoss := Float32s(f.get(name + ".losses"))
			worstLoss := 0.0
			for step := range len(order) / 4 {
				xb, tb := gather(x, order[step*4:step*4+4]), gather(target, order[step*4:step*4+4])
				opt.ZeroGrad()
				y, err := net.Forward(xb, true)
				check(t, err)
				loss, dy, err := MSELoss(y, tb)
				check(t, err)
				_, err = net.Backward(dy)
				check(t, err)
				opt.Step()
				e := math.Abs(loss-float64(wantLoss[step])) / float64(wantLoss[step])
				worstLoss = max(worstLoss, e)
				if e > 1e-4 {
					t.Errorf("step %d: loss %v, PyTorch %v (relative error %.2g)", step, loss, wantLoss[step], e)
				}
			}
			worstW, worstDelta := 0.0, 0.0
			for _, p := range State(net) {
				want := f.get(name + ".final." + p.Name)
				worstW = max(worstW, assertClose(t, p.Name, p.Value, want, 1e-4))
				// The update alone, so small learning rates cannot hide errors.
				init := Float32s(f.get("init." + p.Name))
				got, ref := make([]float32, len(init)), make([]float32, len(init))
				for i := range init {
					got[i] = Float32s(p.Value)[i] - init[i]
					ref[i] = Float32s(want)[i] - init[i]
				}
				if e := relErr(got, ref); e > 1e-3 {
					t.Errorf("%s: update relative error %.2g", p.Name, e)
				} else {
					worstDelta = max(worstDelta, e)
				}
			}
			t.Logf("max relative error: loss %.2g, final weights %.2g, weight updates %.2g", worstLoss, worstW, worstDelta)
		})
	}
}

// gather stacks the rows idx of x (N, ...) into a new batch.
func gather(x *tensor.Dense, idx []int) *tensor.Dense {
	shape := append([]int{len(idx)}, x.Shape()[1:]...)
	per := x.Shape().TotalSize() / x.Shape()[0]
	out := New(shape...)
	for i, j := range idx {
		copy(Float32s(out)[i*per:], Float32s(x)[j*per:][:per])
	}
	return out
}
