package onnx

import "sync"

// uint8 activations are recycled between nodes and runs: a network's layers
// allocate the same few sizes over and over, and fresh buffers would cost a
// zeroing pass and garbage collection each time.
var u8pools sync.Map // int (length) -> *sync.Pool of *[]uint8

// newOutputU8 returns a uint8 value whose contents are garbage: only for
// kernels that write every element.
func newOutputU8(shape []int) *value {
	n := numel(shape)
	v := &value{dt: Uint8, shape: append([]int(nil), shape...), pooled: true}
	if p, ok := u8pools.Load(n); ok {
		if b, ok := p.(*sync.Pool).Get().(*[]uint8); ok {
			v.u8 = *b
			return v
		}
	}
	v.u8 = make([]uint8, n)
	return v
}

func recycleU8(b []uint8) {
	if len(b) < 4096 {
		return
	}
	p, _ := u8pools.LoadOrStore(len(b), new(sync.Pool))
	p.(*sync.Pool).Put(&b)
}

// release recycles v's buffer unless a live value shares it.
func release(v *value, live ...map[string]*value) {
	if v == nil || v.dt != Uint8 || len(v.u8) == 0 || !v.pooled {
		return
	}
	for _, env := range live {
		for _, o := range env {
			if o.dt == Uint8 && len(o.u8) > 0 && &o.u8[0] == &v.u8[0] {
				return
			}
		}
	}
	recycleU8(v.u8)
}
