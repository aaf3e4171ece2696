package onnx

import (
	"fmt"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"itscope/compute/nn" // its import of itscope/compute puts OpenBLAS behind blas32
)

// The float operators of torchvision-style CNNs. Convolution, batch norm,
// activations and pooling are compute/nn's layers (inference forward passes);
// the rest are small enough to live here.

func init() {
	register("", "Conv", 2, 3, prepareConv)
	register("", "BatchNormalization", 5, 5, prepareBatchNorm)
	register("", "Relu", 1, 1, func(*Model, *node) (kernel, error) { return layerKernel(nn.NewReLU()), nil })
	register("", "Clip", 1, 3, prepareClip)
	register("", "MaxPool", 1, 1, preparePool)
	register("", "AveragePool", 1, 1, preparePool)
	register("", "GlobalAveragePool", 1, 1, func(*Model, *node) (kernel, error) { return layerKernel(&nn.GlobalAvgPool{}), nil })
	register("", "Add", 2, 2, prepareAdd)
	register("", "Gemm", 2, 3, prepareGemm)
	register("", "MatMul", 2, 2, prepareMatMul)
	register("", "Softmax", 1, 1, prepareSoftmax)
}

// layerKernel runs an nn layer's inference forward pass. nn layers keep
// per-call state, so one lock per node keeps concurrent Runs safe. The
// output's size is checked before the layer allocates it.
func layerKernel(l nn.Layer) kernel {
	var mu sync.Mutex
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		if x.dt != Float32 {
			return nil, fmt.Errorf("input: want float32, found %v", x.dt)
		}
		if shape, grows := outputShape(l, x.shape); grows {
			if err := checkActivation(shape); err != nil {
				return nil, err
			}
		}
		mu.Lock()
		y, err := l.Forward(x.toDense(), false)
		mu.Unlock()
		if err != nil {
			return nil, err
		}
		v, err := fromDense(y)
		if err != nil {
			return nil, err
		}
		return []*value{v}, nil
	})
}

// outputShape is the shape l gives the NCHW input shape x, for the layers
// whose output can outgrow their input (convolutions and pools); grows is
// false for the others (element-wise, batch norm, global pooling), whose
// output is at most their input's size.
func outputShape(l nn.Layer, x []int) (shape []int, grows bool) {
	if len(x) != 4 {
		return nil, false
	}
	switch l := l.(type) {
	case *nn.Conv2D:
		oh, ow := l.OutSize(x[2], x[3])
		return []int{x[0], l.Spec.OutC, oh, ow}, true
	case *nn.MaxPool2D:
		oh, ow := l.Spec.OutSize(x[2], x[3])
		return []int{x[0], x[1], oh, ow}, true
	case *nn.AvgPool2D:
		oh, ow := l.Spec.OutSize(x[2], x[3])
		return []int{x[0], x[1], oh, ow}, true
	}
	return nil, false
}

func constF32(m *Model, n *node, i int, what string) (*value, error) {
	v := m.constInput(n, i)
	if v == nil {
		return nil, fmt.Errorf("%s %q must be an initializer", what, n.Inputs[i])
	}
	if v.dt != Float32 {
		return nil, fmt.Errorf("%s %q: want float32, found %v", what, n.Inputs[i], v.dt)
	}
	return v, nil
}

func prepareConv(m *Model, n *node) (kernel, error) {
	w, err := constF32(m, n, 1, "weight")
	if err != nil {
		return nil, err
	}
	if len(w.shape) != 4 {
		return nil, fmt.Errorf("weight %q: want 4-d (M,C/group,kH,kW) for a 2-d convolution, found %v", n.Inputs[1], w.shape)
	}
	g, err := convGeomFrom(n, w.shape[2], w.shape[3])
	if err != nil {
		return nil, err
	}
	spec := nn.ConvSpec{InC: w.shape[1] * g.group, OutC: w.shape[0], Kernel: [2]int{g.kh, g.kw},
		Stride: [2]int{g.sh, g.sw}, Pad: [4]int{g.pt, g.pl, g.pb, g.pr}, Dilation: [2]int{g.dh, g.dw},
		Groups: g.group, Bias: len(n.Inputs) > 2 && n.Inputs[2] != ""}
	conv, err := nn.NewConv2D(spec)
	if err != nil {
		return nil, err
	}
	if err := nn.LoadParam(conv.Weight, w.f32, w.shape); err != nil {
		return nil, err
	}
	if spec.Bias {
		b, err := constF32(m, n, 2, "bias")
		if err != nil {
			return nil, err
		}
		if err := nn.LoadParam(conv.Bias, b.f32, b.shape); err != nil {
			return nil, err
		}
	}
	return layerKernel(conv), nil
}

func prepareBatchNorm(m *Model, n *node) (kernel, error) {
	var vs [4]*value
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		v, err := constF32(m, n, i+1, what)
		if err != nil {
			return nil, err
		}
		vs[i] = v
	}
	c := vs[0].len()
	bn := nn.NewBatchNorm2D(c)
	bn.Eps = float64(attrFloat(n, "epsilon", 1e-5))
	for i, p := range []*nn.Param{bn.Weight, bn.Bias, bn.RunningMean, bn.RunningVar} {
		if err := nn.LoadParam(p, vs[i].f32, []int{vs[i].len()}); err != nil {
			return nil, fmt.Errorf("input %q: %w", n.Inputs[i+1], err)
		}
	}
	return layerKernel(bn), nil
}

// prepareClip reads min and max from attributes (opset < 11) or from
// inputs, which exporters often compute (Constant -> Cast), so per run.
func prepareClip(m *Model, n *node) (kernel, error) {
	attrLo, attrHi := attrFloat(n, "min", float32(math.Inf(-1))), attrFloat(n, "max", float32(math.Inf(1)))
	return kernelFunc(func(ins []*value) ([]*value, error) {
		lo, hi := attrLo, attrHi
		for i, dst := range []*float32{&lo, &hi} {
			if len(ins) > i+1 && ins[i+1] != nil {
				v, err := ins[i+1].scalarF32([]string{"min", "max"}[i])
				if err != nil {
					return nil, err
				}
				*dst = v
			}
		}
		return layerKernel(nn.NewClip(lo, hi)).run(ins[:1])
	}), nil
}

func preparePool(m *Model, n *node) (kernel, error) {
	ks := attrInts(n, "kernel_shape")
	if len(ks) != 2 {
		return nil, fmt.Errorf("kernel_shape %v: want two values (2-d pooling)", ks)
	}
	g, err := convGeomFrom(n, int(ks[0]), int(ks[1]))
	if err != nil {
		return nil, err
	}
	if g.dh != 1 || g.dw != 1 {
		return nil, fmt.Errorf("dilations %v are not supported in pooling", attrInts(n, "dilations"))
	}
	spec := nn.PoolSpec{Kernel: [2]int{g.kh, g.kw}, Stride: [2]int{g.sh, g.sw},
		Pad: [4]int{g.pt, g.pl, g.pb, g.pr}, CeilMode: attrInt(n, "ceil_mode", 0) != 0}
	if n.OpType == "MaxPool" {
		if len(n.Outputs) > 1 && n.Outputs[1] != "" {
			return nil, fmt.Errorf("the Indices output is not supported")
		}
		p, err := nn.NewMaxPool2D(spec)
		if err != nil {
			return nil, err
		}
		return layerKernel(p), nil
	}
	p, err := nn.NewAvgPool2D(spec, attrInt(n, "count_include_pad", 0) != 0)
	if err != nil {
		return nil, err
	}
	return layerKernel(p), nil
}

// prepareAdd adds float tensors with numpy broadcasting (int64 too, for
// shape arithmetic).
func prepareAdd(m *Model, n *node) (kernel, error) {
	return kernelFunc(func(ins []*value) ([]*value, error) {
		a, b := ins[0], ins[1]
		if a.dt != b.dt || (a.dt != Float32 && a.dt != Int64) {
			return nil, fmt.Errorf("inputs: want two float32 (or int64) tensors, found %v and %v", a.dt, b.dt)
		}
		shape, err := broadcastShape(a.shape, b.shape)
		if err == nil {
			err = checkActivation(shape)
		}
		if err != nil {
			return nil, err
		}
		y := newValue(a.dt, shape)
		if a.dt == Int64 {
			ia, ib := broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)
			for i := range y.i64 {
				y.i64[i] = a.i64[ia[i]] + b.i64[ib[i]]
			}
			return []*value{y}, nil
		}
		switch {
		case slices.Equal(a.shape, b.shape):
			for i := range y.f32 {
				y.f32[i] = a.f32[i] + b.f32[i]
			}
		default:
			ia, ib := broadcastIndex(a.shape, shape), broadcastIndex(b.shape, shape)
			for i := range y.f32 {
				y.f32[i] = a.f32[ia[i]] + b.f32[ib[i]]
			}
		}
		return []*value{y}, nil
	}), nil
}

// sgemm is C = alpha*op(A)*op(B) + beta*C on row-major slices.
func sgemm(ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t := func(x bool) blas.Transpose {
		if x {
			return blas.Trans
		}
		return blas.NoTrans
	}
	ra, ca := m, k
	if ta {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tb {
		rb, cb = n, k
	}
	blas32.Gemm(t(ta), t(tb), alpha,
		blas32.General{Rows: ra, Cols: ca, Stride: lda, Data: a},
		blas32.General{Rows: rb, Cols: cb, Stride: ldb, Data: b},
		beta, blas32.General{Rows: m, Cols: n, Stride: ldc, Data: c})
}

func prepareGemm(m *Model, n *node) (kernel, error) {
	ta, tb := attrInt(n, "transA", 0) != 0, attrInt(n, "transB", 0) != 0
	alpha, beta := attrFloat(n, "alpha", 1), attrFloat(n, "beta", 1)
	return kernelFunc(func(ins []*value) ([]*value, error) {
		a, b := ins[0], ins[1]
		if a.dt != Float32 || b.dt != Float32 || len(a.shape) != 2 || len(b.shape) != 2 {
			return nil, fmt.Errorf("A and B: want 2-d float32, found %v %v and %v %v", a.dt, a.shape, b.dt, b.shape)
		}
		rows, k := a.shape[0], a.shape[1]
		if ta {
			rows, k = k, rows
		}
		kb, cols := b.shape[0], b.shape[1]
		if tb {
			kb, cols = cols, kb
		}
		if k != kb {
			return nil, fmt.Errorf("A %v and B %v (transA=%v transB=%v) do not multiply", a.shape, b.shape, ta, tb)
		}
		if err := checkActivation([]int{rows, cols}); err != nil {
			return nil, err
		}
		y := newValue(Float32, []int{rows, cols})
		if len(ins) > 2 && ins[2] != nil && beta != 0 {
			c := ins[2]
			if c.dt != Float32 {
				return nil, fmt.Errorf("C: want float32, found %v", c.dt)
			}
			if _, err := broadcastShape(c.shape, y.shape); err != nil {
				return nil, fmt.Errorf("C: %w", err)
			}
			idx := broadcastIndex(c.shape, y.shape)
			for i := range y.f32 {
				y.f32[i] = c.f32[idx[i]]
			}
		} else {
			beta = 0
		}
		sgemm(ta, tb, rows, cols, k, alpha, a.f32, a.shape[1], b.f32, b.shape[1], beta, y.f32, cols)
		return []*value{y}, nil
	}), nil
}

func prepareMatMul(m *Model, n *node) (kernel, error) {
	return kernelFunc(func(ins []*value) ([]*value, error) {
		a, b := ins[0], ins[1]
		if a.dt != Float32 || b.dt != Float32 || len(a.shape) < 2 || len(b.shape) != 2 {
			return nil, fmt.Errorf("want float32 A (...,K) and 2-d B (K,N), found %v %v and %v %v", a.dt, a.shape, b.dt, b.shape)
		}
		k := a.shape[len(a.shape)-1]
		if b.shape[0] != k {
			return nil, fmt.Errorf("A %v and B %v do not multiply", a.shape, b.shape)
		}
		rows := a.len() / k
		shape := slices.Clone(a.shape)
		shape[len(shape)-1] = b.shape[1]
		if err := checkActivation(shape); err != nil {
			return nil, err
		}
		y := newValue(Float32, shape)
		sgemm(false, false, rows, b.shape[1], k, 1, a.f32, k, b.f32, b.shape[1], 0, y.f32, b.shape[1])
		return []*value{y}, nil
	}), nil
}

func prepareSoftmax(m *Model, n *node) (kernel, error) {
	// Before opset 13 the default axis was 1 and the input was read as 2-d
	// (dimensions before axis, dimensions from it); since, one axis, default -1.
	flatten := m.opset < 13
	axis := int(attrInt(n, "axis", map[bool]int64{true: 1, false: -1}[flatten]))
	softmax := layerKernel(&nn.Softmax{})
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		a, err := normAxis(axis, len(x.shape))
		if err != nil {
			return nil, err
		}
		outer, dim, inner := numel(x.shape[:a]), x.shape[a], numel(x.shape[a+1:])
		if flatten {
			dim, inner = dim*inner, 1
		}
		// nn.Softmax normalises axis 1 of (N, C, ...): view x as (outer, dim, inner).
		view := *x
		view.shape = []int{outer, dim, inner}
		out, err := softmax.run([]*value{&view})
		if err != nil {
			return nil, err
		}
		out[0].shape = append([]int(nil), x.shape...)
		return out, nil
	}), nil
}
