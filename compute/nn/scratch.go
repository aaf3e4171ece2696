package nn

import (
	"sync"

	"gorgonia.org/tensor"
)

// scratch hands out reusable float32 buffers; it is safe for concurrent use,
// so inference through one network from several goroutines shares no buffer.
var scratch sync.Pool

// getScratch returns a buffer of length n (contents undefined).
func getScratch(n int) *[]float32 {
	if v, ok := scratch.Get().(*[]float32); ok && cap(*v) >= n {
		*v = (*v)[:n]
		return v
	}
	b := make([]float32, n)
	return &b
}

func putScratch(b *[]float32) { scratch.Put(b) }

// elementGrain is the smallest block of an elementwise loop worth its own
// goroutine; smaller tensors stay on one.
const elementGrain = 1 << 15

// freed holds inference outputs no longer read, one pool per length: a
// network's feature maps come in a few sizes, and the next pass's layers
// take them back instead of the runtime zeroing fresh memory (and the
// kernel faulting it in) for every output of every pass.
var freed sync.Map // int -> *sync.Pool of *[]float32

// outputTensor returns a tensor of shape for an inference output, backed
// by a freed buffer when one of its size is waiting: zeroed when zero is
// set, else with stale contents the layer overwrites.
func outputTensor(zero bool, shape []int) *tensor.Dense {
	n := 1
	for _, d := range shape {
		n *= d
	}
	if p, ok := freed.Load(n); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]float32); ok {
			if zero {
				clear(*b)
			}
			return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(*b))
		}
	}
	return New(shape...)
}

// free hands t's storage to later outputTensor calls; nothing may read t
// afterwards.
func free(t *tensor.Dense) {
	b := Float32s(t)
	if len(b) == 0 {
		return
	}
	p, _ := freed.LoadOrStore(len(b), new(sync.Pool))
	p.(*sync.Pool).Put(&b)
}

// freshOutput reports whether l's inference Forward returns a tensor of its
// own (from outputTensor) that no one else holds.
func freshOutput(l Layer) bool {
	switch l.(type) {
	case *Conv2D, *BatchNorm2D, *ReLU, *MaxPool2D, *Linear:
		return true
	}
	return false
}
