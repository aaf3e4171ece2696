package nn

import "gorgonia.org/tensor"

// ReuseBuffers, on, lets the training passes of l and its descendants write
// their outputs and input gradients into buffers each layer keeps from one
// step to the next, rather than allocating (and the runtime zeroing) fresh
// ones every step. It is for a training loop that runs Forward(x, true) then
// Backward once per step and keeps neither result past the next step: a
// training output or gradient is overwritten by the same layer's next one.
// Inference passes (Forward(x, false)) always return fresh tensors. Off
// drops the buffers.
func ReuseBuffers(l Layer, on bool) {
	Walk(l, func(_ string, l Layer) {
		if r, ok := l.(reuser); ok {
			r.setReuse(on)
		}
	})
}

type reuser interface{ setReuse(on bool) }

// stepBuffers holds a layer's reused output and input-gradient storage.
type stepBuffers struct {
	reuse     bool
	out, grad []float32
}

func (b *stepBuffers) setReuse(on bool) {
	b.reuse = on
	if !on {
		b.out, b.grad = nil, nil
	}
}

// output returns a tensor of shape for a Forward to fill: the kept buffer
// (stale contents unless zero) in a reusing training pass, else a fresh
// zeroed one.
func (b *stepBuffers) output(train, zero bool, shape ...int) *tensor.Dense {
	if !train || !b.reuse {
		return New(shape...)
	}
	return reused(&b.out, zero, shape)
}

// gradient is output for Backward's dL/dx.
func (b *stepBuffers) gradient(zero bool, shape ...int) *tensor.Dense {
	if !b.reuse {
		return New(shape...)
	}
	return reused(&b.grad, zero, shape)
}

func reused(buf *[]float32, zero bool, shape []int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if cap(*buf) < n {
		*buf = make([]float32, n)
	} else if zero {
		clear((*buf)[:n])
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking((*buf)[:n]))
}
