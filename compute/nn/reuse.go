package nn

import "gorgonia.org/tensor"

// ReuseBuffers, on, lets the training passes of l and its descendants write
// their outputs and input gradients into buffers each layer keeps from one
// step to the next, rather than allocating (and the runtime zeroing) fresh
// ones every step. It is for a training loop that runs Forward(x, true) then
// Backward once per step and keeps neither result past the next step: a
// training output or gradient is overwritten by the same layer's next one.
// Inference passes (Forward(x, false)) always return fresh tensors. Off
// drops the buffers and what the last training pass kept for Backward
// (which mostly lives in them), so that memory is free for what comes next,
// such as a validation pass.
func ReuseBuffers(l Layer, on bool) {
	Walk(l, func(_ string, l Layer) {
		if r, ok := l.(reuser); ok {
			r.setReuse(on)
		}
	})
}

type reuser interface{ setReuse(on bool) }

// stepBuffers holds a layer's reused output and input-gradient storage.
// The enclosing Sequential may lend it a slot of its arena for the next
// output or gradient instead (lent), which that call then uses and returns.
type stepBuffers struct {
	reuse     bool
	out, grad []float32
	lent      *[]float32
}

func (b *stepBuffers) setReuse(on bool) {
	b.reuse = on
	if !on {
		b.out, b.grad, b.lent = nil, nil, nil
	}
}

func (b *stepBuffers) steps() *stepBuffers { return b }

// stepper is a layer with stepBuffers, which an arena can lend to.
type stepper interface{ steps() *stepBuffers }

// arena is a Sequential's storage for the values of a training step that
// die young: an output only the next layer reads and does not keep for its
// Backward (a BatchNorm's output into a ReLU, a ReLU's into a max pool), and
// every input gradient, which the layer before consumes at once. Such a
// value needs to outlive only the one it is computed from, so two slots,
// taken in turn, serve the whole network, forward and backward; each
// layer's own buffers would keep a copy of every one for the whole step.
type arena struct{ slots [2][]float32 }

// slotBesides returns the slot that does not hold t (the value the next one
// is computed from).
func (a *arena) slotBesides(t *tensor.Dense) *[]float32 {
	if s := a.slots[0]; len(s) > 0 && len(Float32s(t)) > 0 && &Float32s(t)[0] == &s[0] {
		return &a.slots[1]
	}
	return &a.slots[0]
}

// diesYoung reports whether the output of from, read by the layers after
// it (rest), is needed by nothing else in a training step: the next layer
// that is not an Identity keeps no reference to its input (a ReLU keeps a
// sign mask, a max pool its argmax) and from keeps none to its output.
func diesYoung(from Layer, rest []Child) bool {
	switch from.(type) {
	case *Conv2D, *BatchNorm2D, *ReLU:
	default:
		return false
	}
	for _, ch := range rest {
		switch ch.Layer.(type) {
		case Identity:
			continue
		case *ReLU, *MaxPool2D:
			return true
		}
		return false
	}
	return false
}

// take returns the lent slot, if any, else own, and ends the loan.
func (b *stepBuffers) take(own *[]float32) *[]float32 {
	if b.lent == nil {
		return own
	}
	buf := b.lent
	b.lent = nil
	return buf
}

// output returns a tensor of shape for a Forward to fill: the kept buffer
// (stale contents unless zero) in a reusing training pass, a freed one (the
// same) at inference, else a fresh zeroed one.
func (b *stepBuffers) output(train, zero bool, shape ...int) *tensor.Dense {
	switch {
	case !train:
		return outputTensor(zero, shape)
	case !b.reuse:
		return New(shape...)
	}
	return reused(b.take(&b.out), zero, shape)
}

// gradient is output for Backward's dL/dx.
func (b *stepBuffers) gradient(zero bool, shape ...int) *tensor.Dense {
	if !b.reuse {
		return New(shape...)
	}
	return reused(b.take(&b.grad), zero, shape)
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
