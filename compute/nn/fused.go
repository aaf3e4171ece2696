package nn

import "itscope/compute/parallel"

// Activation is an elementwise function a layer applies in its own output
// pass at inference (Conv2D.Infer), saving a pass over the activations.
type Activation uint8

const (
	ActNone  Activation = iota
	ActReLU             // max(x, 0)
	ActReLU6            // min(max(x, 0), 6)
)

// apply sets dst[i] = act(src[i] + b); dst may be src. NaN passes through,
// as the ReLU layer passes it.
func (a Activation) apply(dst, src []float32, b float32) {
	switch a {
	case ActReLU:
		fkern.biasReLU(dst, src, b)
	case ActReLU6:
		dst = dst[:len(src)]
		for i, v := range src {
			dst[i] = min(max(v+b, 0), 6)
		}
	default:
		fkern.biasAdd(dst, src, b)
	}
}

// applyTo applies a in place, spread over the cores.
func (a Activation) applyTo(v []float32) {
	if a == ActNone {
		return
	}
	parallel.Blocks(len(v), elementGrain, func(lo, hi int) { a.apply(v[lo:hi], v[lo:hi], 0) })
}

// addInto sets dst[i] = a(dst[i] + src[i]), spread over the cores: a
// residual connection and its activation in one pass.
func (a Activation) addInto(dst, src []float32) {
	src = src[:len(dst)]
	parallel.Blocks(len(dst), elementGrain, func(lo, hi int) {
		d, s := dst[lo:hi], src[lo:hi]
		switch a {
		case ActReLU:
			fkern.addReLU(d, s)
		case ActReLU6:
			for i, v := range s {
				d[i] = min(max(d[i]+v, 0), 6)
			}
		default:
			for i, v := range s {
				d[i] += v
			}
		}
	})
}
