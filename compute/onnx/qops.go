package onnx

import (
	"fmt"
	"slices"

	"itscope/compute/parallel"
)

func init() {
	register("", "QuantizeLinear", 2, 3, prepareQuantize)
	register("", "DequantizeLinear", 2, 3, prepareDequantize)
	register("com.microsoft", "QLinearAdd", 7, 8, prepareQLinearAdd)
	register("com.microsoft", "QLinearGlobalAveragePool", 5, 5, prepareQLinearGAP)
	register("", "QLinearMatMul", 8, 8, prepareQLinearMatMul)
}

func prepareQuantize(m *Model, n *node) (kernel, error) {
	m.recordQuant(n, 1, 2)
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		if x.dt != Float32 {
			return nil, fmt.Errorf("input: want float32, found %v", x.dt)
		}
		s, err := ins[1].scalarF32("y_scale (per-axis QuantizeLinear is not supported)")
		if err != nil {
			return nil, err
		}
		dt, zp := Uint8, int32(0)
		if len(ins) > 2 && ins[2] != nil {
			if zp, err = ins[2].zeroPoint("y_zero_point"); err != nil {
				return nil, err
			}
			dt = ins[2].dt
		}
		if dt == Uint8 {
			y := newOutputU8(x.shape)
			p := quantParams{scale: s, lo: float32(0 - zp), hi: float32(255 - zp), zp: zp}
			parallel.Blocks(len(x.f32)/8, 4096, func(lo, hi int) {
				kern.quantize(x.f32[8*lo:], y.u8[8*lo:8*hi], &p)
			})
			kern.quantize(x.f32[len(x.f32)&^7:], y.u8[len(x.f32)&^7:], &p)
			return []*value{y}, nil
		}
		y := newValue(dt, x.shape)
		lo, hi := float32(-128-zp), float32(127-zp)
		for i, v := range x.f32 {
			f := v / s
			if !(f >= lo) {
				f = lo
			}
			f = min(f, hi)
			y.i8[i] = int8(min(max(cvtps2dq(f)+zp, -128), 127))
		}
		return []*value{y}, nil
	}), nil
}

func prepareDequantize(m *Model, n *node) (kernel, error) {
	axis := int(attrInt(n, "axis", 1))
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x, sv := ins[0], ins[1]
		if sv.dt != Float32 {
			return nil, fmt.Errorf("x_scale: want float32, found %v", sv.dt)
		}
		var zp *value
		if len(ins) > 2 {
			zp = ins[2]
		}
		// Per-tensor, or per-axis with 1-d scales along axis.
		inner, count := 1, len(sv.f32)
		if count > 1 {
			a := axis
			if a < 0 {
				a += len(x.shape)
			}
			if a < 0 || a >= len(x.shape) || x.shape[a] != count {
				return nil, fmt.Errorf("x_scale has %d values, want 1 or input dimension %d (shape %v)", count, axis, x.shape)
			}
			inner = numel(x.shape[a+1:])
		}
		zpAt := func(i int) int32 {
			switch {
			case zp == nil:
				return 0
			case zp.dt == Uint8:
				return int32(zp.u8[i%len(zp.u8)])
			case zp.dt == Int8:
				return int32(zp.i8[i%len(zp.i8)])
			case zp.dt == Int32:
				return zp.i32[i%len(zp.i32)]
			}
			return 0
		}
		if zp != nil && zp.len() != count {
			return nil, fmt.Errorf("x_zero_point has %d values, want %d", zp.len(), count)
		}
		y := newValue(Float32, x.shape)
		for i := range y.f32 {
			ch := (i / inner) % count
			var q int32
			switch x.dt {
			case Uint8:
				q = int32(x.u8[i])
			case Int8:
				q = int32(x.i8[i])
			case Int32:
				q = x.i32[i]
			default:
				return nil, fmt.Errorf("input: want uint8, int8 or int32, found %v", x.dt)
			}
			y.f32[i] = float32(q-zpAt(ch)) * sv.f32[ch]
		}
		return []*value{y}, nil
	}), nil
}

// broadcastShape is numpy's broadcast of two shapes.
func broadcastShape(a, b []int) ([]int, error) {
	n := max(len(a), len(b))
	out := make([]int, n)
	for i := range n {
		da, db := 1, 1
		if j := i - (n - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (n - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db, db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// broadcastIndex maps each output element to an element of a tensor of
// shape in, broadcast to out (numpy rules).
func broadcastIndex(in, out []int) []int {
	idx := make([]int, numel(out))
	strides := make([]int, len(out))
	s := 1
	for i := len(in) - 1; i >= 0; i-- {
		j := i + len(out) - len(in)
		if in[i] != 1 {
			strides[j] = s
		}
		s *= in[i]
	}
	coord := make([]int, len(out))
	for o := range idx {
		off := 0
		for d := range out {
			off += coord[d] * strides[d]
		}
		idx[o] = off
		for d := len(out) - 1; d >= 0; d-- {
			if coord[d]++; coord[d] < out[d] {
				break
			}
			coord[d] = 0
		}
	}
	return idx
}

// expand materialises x broadcast to shape (for uint8 operands).
func expandU8(x *value, shape []int) []uint8 {
	if slices.Equal(x.shape, shape) {
		return x.u8
	}
	idx := broadcastIndex(x.shape, shape)
	out := make([]uint8, len(idx))
	for i, j := range idx {
		out[i] = x.u8[j]
	}
	return out
}

// addFixed is MLAS's VectorFixedPart, zC - (rA*zA + rB*zB), as GCC compiles
// it for the AVX2 kernel (-mfma, contracting a*b + c*d to fma(a, b, c*d)).
// Rounding each step instead, or fusing the other product, gives the same
// logits on all 12 ONNX Runtime references, so they do not pin this down.
func addFixed(rA, rB float32, zA, zB, zC int32) float32 {
	return float32(zC) - fma32(rA, float32(zA), float32(rB*float32(zB)))
}

func prepareQLinearAdd(m *Model, n *node) (kernel, error) {
	m.recordQuant(n, 6, 7)
	return kernelFunc(func(ins []*value) ([]*value, error) {
		a, b := ins[0], ins[3]
		if a.dt != Uint8 || b.dt != Uint8 {
			return nil, fmt.Errorf("inputs: want uint8 and uint8, found %v and %v", a.dt, b.dt)
		}
		sa, err := ins[1].scalarF32("A_scale")
		if err != nil {
			return nil, err
		}
		sb, err := ins[4].scalarF32("B_scale")
		if err != nil {
			return nil, err
		}
		sc, err := ins[6].scalarF32("C_scale")
		if err != nil {
			return nil, err
		}
		var za, zb, zc int32
		if ins[2] != nil {
			if za, err = ins[2].zeroPoint("A_zero_point"); err != nil {
				return nil, err
			}
		}
		if ins[5] != nil {
			if zb, err = ins[5].zeroPoint("B_zero_point"); err != nil {
				return nil, err
			}
		}
		if len(ins) > 7 && ins[7] != nil {
			if zc, err = ins[7].zeroPoint("C_zero_point"); err != nil {
				return nil, err
			}
		}
		shape, err := broadcastShape(a.shape, b.shape)
		if err != nil {
			return nil, err
		}
		rA, rB := sa/sc, sb/sc
		p := addParams{rA: rA, rB: rB, fixed: addFixed(rA, rB, za, zb, zc)}
		y := newOutputU8(shape)
		switch {
		case len(a.u8) == 1 && len(y.u8) > 1:
			// MLAS folds a scalar operand into the constant term first.
			fixed := p.fixed + float32(float32(a.u8[0])*rA)
			for i, v := range expandU8(b, shape) {
				y.u8[i] = satU8(cvtps2dq(fma32(float32(v), rB, fixed)))
			}
		case len(b.u8) == 1 && len(y.u8) > 1:
			fixed := p.fixed + float32(float32(b.u8[0])*rB)
			for i, v := range expandU8(a, shape) {
				y.u8[i] = satU8(cvtps2dq(fma32(float32(v), rA, fixed)))
			}
		default:
			av, bv := expandU8(a, shape), expandU8(b, shape)
			parallel.Blocks(len(y.u8)/8, 2048, func(lo, hi int) {
				kern.qadd(av[8*lo:], bv[8*lo:], y.u8[8*lo:8*hi], &p)
			})
			t := len(y.u8) &^ 7
			kern.qadd(av[t:], bv[t:], y.u8[t:], &p)
		}
		return []*value{y}, nil
	}), nil
}

func prepareQLinearGAP(m *Model, n *node) (kernel, error) {
	m.recordQuant(n, 3, 4)
	last := attrInt(n, "channels_last", 0) != 0
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		if x.dt != Uint8 || len(x.shape) < 3 {
			return nil, fmt.Errorf("input: want uint8 of rank >= 3, found %v %v", x.dt, x.shape)
		}
		xs, err := ins[1].scalarF32("x_scale")
		if err != nil {
			return nil, err
		}
		xz, err := ins[2].zeroPoint("x_zero_point")
		if err != nil {
			return nil, err
		}
		ys, err := ins[3].scalarF32("y_scale")
		if err != nil {
			return nil, err
		}
		yz, err := ins[4].zeroPoint("y_zero_point")
		if err != nil {
			return nil, err
		}
		nb := x.shape[0]
		var c, size int
		oshape := slices.Clone(x.shape)
		if last {
			c = x.shape[len(x.shape)-1]
			size = numel(x.shape[1 : len(x.shape)-1])
			for i := 1; i < len(oshape)-1; i++ {
				oshape[i] = 1
			}
		} else {
			c = x.shape[1]
			size = numel(x.shape[2:])
			for i := 2; i < len(oshape); i++ {
				oshape[i] = 1
			}
		}
		// MLAS: one float32 scale for the mean and the requantization.
		scale := xs / (ys * float32(size))
		if size >= 1<<24 || scale < 0x1p-32 || scale >= 256 {
			return nil, fmt.Errorf("scale %g or image size %d out of the supported range (as ONNX Runtime)", scale, size)
		}
		y := newValue(Uint8, oshape)
		post := requant1{bias: -xz * int32(size), scale: scale, lo: float32(0 - yz), hi: float32(255 - yz), zp: yz}
		if !last {
			kern.avgPlanes(x.u8, size, y.u8, &post)
			return []*value{y}, nil
		}
		for img := range nb {
			kern.avgRows(x.u8[img*size*c:(img+1)*size*c], size, y.u8[img*c:(img+1)*c], &post)
		}
		return []*value{y}, nil
	}), nil
}

type qmatmul struct {
	k, nOut int
	w       *qweights // rows = output columns of B
	cols    []int32   // on VNNI machines, for qgemvVNNI (see packCols16)
	scales  []float32 // see qconv.scales
}

func prepareQLinearMatMul(m *Model, n *node) (kernel, error) {
	m.recordQuant(n, 6, 7)
	bv := m.constInput(n, 3)
	if bv == nil || len(bv.shape) != 2 {
		return nil, fmt.Errorf("B %q must be a 2-d initializer", n.Inputs[3])
	}
	zpv := m.constInput(n, 5)
	if zpv == nil || zpv.dt != bv.dt {
		return nil, fmt.Errorf("B zero point %q must be an initializer of B's type %v", n.Inputs[5], bv.dt)
	}
	kk, no := bv.shape[0], bv.shape[1]
	if zpv.len() != 1 && zpv.len() != no {
		return nil, fmt.Errorf("B zero point %q: want 1 or %d values, found %v", n.Inputs[5], no, zpv.shape)
	}
	var at func(i int) int32
	var zpAt func(i int) int32
	switch bv.dt {
	case Int8:
		at = func(i int) int32 { return int32(bv.i8[i]) }
		zpAt = func(i int) int32 { return int32(zpv.i8[i%len(zpv.i8)]) }
	case Uint8:
		at = func(i int) int32 { return int32(bv.u8[i]) }
		zpAt = func(i int) int32 { return int32(zpv.u8[i%len(zpv.u8)]) }
	default:
		return nil, fmt.Errorf("B %q: want int8 or uint8, found %v", n.Inputs[3], bv.dt)
	}
	// Pack B transposed (rows = output columns), each column's zero point removed.
	w := packQWeights(no, kk, 1, false, func(i int) int32 {
		r, c := i/kk, i%kk
		return at(c*no+r) - zpAt(r)
	}, 0)
	scales, err := constScales(m, n, no)
	if err != nil {
		return nil, err
	}
	return &qmatmul{k: kk, nOut: no, w: w, cols: packCols16(w), scales: scales}, nil
}

func (q *qmatmul) run(ins []*value) ([]*value, error) {
	a := ins[0]
	if a.dt != Uint8 || len(a.shape) < 1 || a.shape[len(a.shape)-1] != q.k {
		return nil, fmt.Errorf("A: want uint8 (...,%d), found %v %v", q.k, a.dt, a.shape)
	}
	az, err := ins[2].zeroPoint("a_zero_point")
	if err != nil {
		return nil, err
	}
	yz, err := ins[7].zeroPoint("y_zero_point")
	if err != nil {
		return nil, err
	}
	scales := q.scales
	if scales == nil {
		if scales, err = outputScales(ins[1], ins[4], ins[6], q.nOut); err != nil {
			return nil, err
		}
	}
	shape := slices.Clone(a.shape)
	shape[len(shape)-1] = q.nOut
	y := newValue(Uint8, shape)
	rows := len(a.u8) / q.k
	if kern.vnni && q.cols != nil {
		q.rowsVNNI(a.u8, rows, az, scales, yz, y.u8)
		return []*value{y}, nil
	}
	rpad := (rows + 7) &^ 7
	kpad := 2 * q.w.kp
	// A transposed into K planes of rpad "pixels" (padding with the zero point).
	at := make([]uint8, kpad*rpad)
	for i := range at {
		at[i] = uint8(az)
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < q.k; c++ {
			at[c*rpad+r] = a.u8[r*q.k+c]
		}
	}
	bias := make([]int32, q.nOut)
	for r := range bias {
		bias[r] = -az * q.w.rowSum[r]
	}
	outT := make([]uint8, q.nOut*rpad)
	kern.multiply(q.w, 0, gemmIO{in: at, out: outT, p: rpad, planes: kpad, nb: 1}, q.w.posts(bias, scales, float32(0-yz), float32(255-yz), yz))
	for r := 0; r < rows; r++ {
		for c := 0; c < q.nOut; c++ {
			y.u8[r*q.nOut+c] = outT[c*rpad+r]
		}
	}
	return []*value{y}, nil
}
