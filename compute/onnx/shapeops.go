package onnx

import (
	"fmt"
	"slices"
)

func init() {
	register("", "Shape", 1, 1, prepareShape)
	register("", "Gather", 2, 2, prepareGather)
	register("", "Unsqueeze", 1, 2, prepareUnsqueeze)
	register("", "Squeeze", 1, 2, prepareSqueeze)
	register("", "Concat", 1, -1, prepareConcat)
	register("", "Reshape", 2, 2, prepareReshape)
	register("", "Flatten", 1, 1, prepareFlatten)
	register("", "Constant", 0, 0, prepareConstant)
	register("", "Identity", 1, 1, prepareIdentity)
	register("", "Dropout", 1, 3, prepareIdentity) // inference: the identity
}

// copyRange copies n elements of the same type from src[so:] to dst[do:].
func copyRange(dst *value, do int, src *value, so, n int) {
	switch src.dt {
	case Float32:
		copy(dst.f32[do:do+n], src.f32[so:so+n])
	case Uint8:
		copy(dst.u8[do:do+n], src.u8[so:so+n])
	case Int8:
		copy(dst.i8[do:do+n], src.i8[so:so+n])
	case Int32:
		copy(dst.i32[do:do+n], src.i32[so:so+n])
	case Int64:
		copy(dst.i64[do:do+n], src.i64[so:so+n])
	}
}

func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

func prepareShape(m *Model, n *node) (kernel, error) {
	start, end := attrInt(n, "start", 0), attrInt(n, "end", 1<<31)
	return kernelFunc(func(ins []*value) ([]*value, error) {
		r := int64(len(ins[0].shape))
		s, e := start, end
		if s < 0 {
			s += r
		}
		if e < 0 {
			e += r
		}
		s, e = min(max(s, 0), r), min(max(e, 0), r)
		e = max(e, s)
		y := newValue(Int64, []int{int(e - s)})
		for i := s; i < e; i++ {
			y.i64[i-s] = int64(ins[0].shape[i])
		}
		return []*value{y}, nil
	}), nil
}

func prepareGather(m *Model, n *node) (kernel, error) {
	axis := int(attrInt(n, "axis", 0))
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		idx, err := ins[1].ints()
		if err != nil {
			return nil, fmt.Errorf("indices: %w", err)
		}
		a, err := normAxis(axis, len(x.shape))
		if err != nil {
			return nil, err
		}
		shape := slices.Concat(x.shape[:a], ins[1].shape, x.shape[a+1:])
		y := newValue(x.dt, shape)
		outer, inner, dim := numel(x.shape[:a]), numel(x.shape[a+1:]), x.shape[a]
		for o := 0; o < outer; o++ {
			for j, i := range idx {
				if i < 0 {
					i += int64(dim)
				}
				if i < 0 || i >= int64(dim) {
					return nil, fmt.Errorf("index %d out of range for dimension %d of size %d", idx[j], a, dim)
				}
				copyRange(y, (o*len(idx)+j)*inner, x, (o*dim+int(i))*inner, inner)
			}
		}
		return []*value{y}, nil
	}), nil
}

// axesOf reads axes from the attribute (opset < 13) or the second input.
func axesOf(n *node, ins []*value) ([]int64, error) {
	if len(ins) > 1 && ins[1] != nil {
		return ins[1].ints()
	}
	return attrInts(n, "axes"), nil
}

func prepareUnsqueeze(m *Model, n *node) (kernel, error) {
	return kernelFunc(func(ins []*value) ([]*value, error) {
		axes, err := axesOf(n, ins)
		if err != nil {
			return nil, fmt.Errorf("axes: %w", err)
		}
		r := len(ins[0].shape) + len(axes)
		put := make([]bool, r)
		for _, ax := range axes {
			a, err := normAxis(int(ax), r)
			if err != nil {
				return nil, err
			}
			put[a] = true
		}
		var shape []int
		j := 0
		for i := 0; i < r; i++ {
			if put[i] {
				shape = append(shape, 1)
			} else {
				shape = append(shape, ins[0].shape[j])
				j++
			}
		}
		return []*value{ins[0].reshaped(shape)}, nil
	}), nil
}

func prepareSqueeze(m *Model, n *node) (kernel, error) {
	return kernelFunc(func(ins []*value) ([]*value, error) {
		axes, err := axesOf(n, ins)
		if err != nil {
			return nil, fmt.Errorf("axes: %w", err)
		}
		x := ins[0]
		drop := make([]bool, len(x.shape))
		for _, ax := range axes {
			a, err := normAxis(int(ax), len(x.shape))
			if err != nil {
				return nil, err
			}
			if x.shape[a] != 1 {
				return nil, fmt.Errorf("cannot squeeze dimension %d of size %d", a, x.shape[a])
			}
			drop[a] = true
		}
		var shape []int
		for i, d := range x.shape {
			if (len(axes) == 0 && d == 1) || drop[i] {
				continue
			}
			shape = append(shape, d)
		}
		return []*value{x.reshaped(shape)}, nil
	}), nil
}

func prepareConcat(m *Model, n *node) (kernel, error) {
	if _, ok := n.attrs["axis"]; !ok {
		return nil, fmt.Errorf("missing attribute axis")
	}
	axis := int(attrInt(n, "axis", 0))
	return kernelFunc(func(ins []*value) ([]*value, error) {
		first := ins[0]
		a, err := normAxis(axis, max(len(first.shape), 1))
		if err != nil {
			return nil, err
		}
		shape := slices.Clone(first.shape)
		if len(shape) == 0 {
			return nil, fmt.Errorf("cannot concatenate scalars")
		}
		shape[a] = 0
		for i, x := range ins {
			if x.dt != first.dt || len(x.shape) != len(first.shape) {
				return nil, fmt.Errorf("input %d: %v %v does not match input 0: %v %v", i, x.dt, x.shape, first.dt, first.shape)
			}
			for d := range x.shape {
				if d != a && x.shape[d] != first.shape[d] {
					return nil, fmt.Errorf("input %d: shape %v does not match input 0's %v off axis %d", i, x.shape, first.shape, a)
				}
			}
			shape[a] += x.shape[a]
		}
		if err := checkActivation(shape); err != nil {
			return nil, err
		}
		y := newValue(first.dt, shape)
		outer, inner := numel(shape[:a]), numel(shape[a+1:])
		off := 0
		for o := 0; o < outer; o++ {
			for _, x := range ins {
				blk := x.shape[a] * inner
				copyRange(y, off, x, o*blk, blk)
				off += blk
			}
		}
		return []*value{y}, nil
	}), nil
}

func prepareReshape(m *Model, n *node) (kernel, error) {
	allowZero := attrInt(n, "allowzero", 0) != 0
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		want, err := ins[1].ints()
		if err != nil {
			return nil, fmt.Errorf("shape: %w", err)
		}
		shape := make([]int, len(want))
		infer := -1
		known := 1
		for i, d := range want {
			switch {
			case d == 0 && !allowZero:
				if i >= len(x.shape) {
					return nil, fmt.Errorf("shape %v copies dimension %d of input %v, which has none", want, i, x.shape)
				}
				shape[i] = x.shape[i]
			case d == -1:
				if infer >= 0 {
					return nil, fmt.Errorf("shape %v has more than one -1", want)
				}
				infer = i
				continue
			case d < 0:
				return nil, fmt.Errorf("shape %v has a negative dimension", want)
			default:
				shape[i] = int(d)
			}
			known *= shape[i]
		}
		total := x.len()
		if infer >= 0 {
			if known == 0 || total%known != 0 {
				return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", x.shape, total, want)
			}
			shape[infer] = total / known
		}
		if numel(shape) != total {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", x.shape, total, shape)
		}
		return []*value{x.reshaped(shape)}, nil
	}), nil
}

func prepareFlatten(m *Model, n *node) (kernel, error) {
	axis := int(attrInt(n, "axis", 1))
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		a := axis
		if a < 0 {
			a += len(x.shape)
		}
		if a < 0 || a > len(x.shape) {
			return nil, fmt.Errorf("axis %d out of range for rank %d", axis, len(x.shape))
		}
		return []*value{x.reshaped([]int{numel(x.shape[:a]), numel(x.shape[a:])})}, nil
	}), nil
}

func prepareConstant(m *Model, n *node) (kernel, error) {
	var v *value
	switch {
	case n.attrs["value"] != nil:
		var err error
		if v, err = tensorFromProto(n.attrs["value"].GetT()); err != nil {
			return nil, err
		}
	case n.attrs["value_float"] != nil:
		v = &value{dt: Float32, f32: []float32{n.attrs["value_float"].GetF()}}
	case n.attrs["value_floats"] != nil:
		f := n.attrs["value_floats"].GetFloats()
		v = &value{dt: Float32, f32: f, shape: []int{len(f)}}
	case n.attrs["value_int"] != nil:
		v = &value{dt: Int64, i64: []int64{n.attrs["value_int"].GetI()}}
	case n.attrs["value_ints"] != nil:
		i := n.attrs["value_ints"].GetInts()
		v = &value{dt: Int64, i64: i, shape: []int{len(i)}}
	default:
		return nil, fmt.Errorf("no supported value attribute (want value, value_float(s) or value_int(s))")
	}
	m.consts[n.Outputs[0]] = v // later nodes may pack it as a weight
	return kernelFunc(func([]*value) ([]*value, error) { return []*value{v}, nil }), nil
}

func prepareIdentity(m *Model, n *node) (kernel, error) {
	return kernelFunc(func(ins []*value) ([]*value, error) {
		out := []*value{ins[0]}
		if len(n.Outputs) > 1 { // Dropout's mask: all kept
			mask := newValue(Uint8, ins[0].shape) // bool stored as bytes
			for i := range mask.u8 {
				mask.u8[i] = 1
			}
			out = append(out, mask)
		}
		return out, nil
	}), nil
}

func init() { register("", "Cast", 1, 1, prepareCast) }

// prepareCast converts between float32, int64, int32, uint8 and int8, as a
// C static_cast (float to integer truncates toward zero).
func prepareCast(m *Model, n *node) (kernel, error) {
	to := DType(attrInt(n, "to", 0))
	switch to {
	case Float32, Int64, Int32, Uint8, Int8:
	default:
		return nil, fmt.Errorf("cast to %v is not supported (want FLOAT, INT64, INT32, UINT8 or INT8)", to)
	}
	return kernelFunc(func(ins []*value) ([]*value, error) {
		x := ins[0]
		if x.dt == to {
			return []*value{x}, nil
		}
		get := func(i int) float64 {
			switch x.dt {
			case Float32:
				return float64(x.f32[i])
			case Int64:
				return float64(x.i64[i])
			case Int32:
				return float64(x.i32[i])
			case Uint8:
				return float64(x.u8[i])
			case Int8:
				return float64(x.i8[i])
			}
			return 0
		}
		y := newValue(to, x.shape)
		for i := 0; i < x.len(); i++ {
			switch to {
			case Float32:
				if x.dt == Int64 {
					y.f32[i] = float32(x.i64[i])
				} else {
					y.f32[i] = float32(get(i))
				}
			case Int64:
				if x.dt == Int64 {
					y.i64[i] = x.i64[i]
				} else {
					y.i64[i] = int64(get(i))
				}
			case Int32:
				y.i32[i] = int32(int64(get(i)))
			case Uint8:
				y.u8[i] = uint8(int64(get(i)))
			case Int8:
				y.i8[i] = int8(int64(get(i)))
			}
		}
		return []*value{y}, nil
	}), nil
}
