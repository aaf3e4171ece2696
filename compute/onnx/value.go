package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	"gorgonia.org/tensor"

	"itscope/compute/onnx/onnxpb"
)

// DType is an ONNX element type (onnx.TensorProto.DataType); the executor
// handles Float32, Uint8, Int8, Int32 and Int64.
type DType int32

// The element types the executor computes with.
const (
	Float32 = DType(onnxpb.TensorProto_FLOAT)
	Uint8   = DType(onnxpb.TensorProto_UINT8)
	Int8    = DType(onnxpb.TensorProto_INT8)
	Int32   = DType(onnxpb.TensorProto_INT32)
	Int64   = DType(onnxpb.TensorProto_INT64)
)

func (d DType) String() string {
	if n, ok := onnxpb.TensorProto_DataType_name[int32(d)]; ok {
		return n
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// value is a tensor inside the executor: a shape and one typed slice. Kernels
// never modify their inputs, so graph inputs and initializers are shared.
type value struct {
	dt    DType
	shape []int
	f32   []float32
	u8    []uint8
	i8    []int8
	i32   []int32
	i64   []int64

	pooled bool // u8 came from newOutputU8 and may go back when dropped
}

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

func newValue(dt DType, shape []int) *value {
	v := &value{dt: dt, shape: append([]int(nil), shape...)}
	n := numel(shape)
	switch dt {
	case Float32:
		v.f32 = make([]float32, n)
	case Uint8:
		v.u8 = make([]uint8, n)
	case Int8:
		v.i8 = make([]int8, n)
	case Int32:
		v.i32 = make([]int32, n)
	case Int64:
		v.i64 = make([]int64, n)
	}
	return v
}

func (v *value) len() int {
	switch v.dt {
	case Float32:
		return len(v.f32)
	case Uint8:
		return len(v.u8)
	case Int8:
		return len(v.i8)
	case Int32:
		return len(v.i32)
	case Int64:
		return len(v.i64)
	}
	return 0
}

// reshaped shares v's data under another shape.
func (v *value) reshaped(shape []int) *value {
	w := *v
	w.shape = append([]int(nil), shape...)
	return &w
}

// ints reads an integer tensor (shape arguments, indices, axes) as []int64.
func (v *value) ints() ([]int64, error) {
	switch v.dt {
	case Int64:
		return v.i64, nil
	case Int32:
		out := make([]int64, len(v.i32))
		for i, x := range v.i32 {
			out[i] = int64(x)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want an int64 or int32 tensor, found %v", v.dt)
}

// scalarF32 reads a scale: a float32 scalar or one-element tensor.
func (v *value) scalarF32(what string) (float32, error) {
	if v.dt != Float32 || len(v.f32) != 1 {
		return 0, fmt.Errorf("%s: want a float32 scalar, found %v %v", what, v.dt, v.shape)
	}
	return v.f32[0], nil
}

// zeroPoint reads an 8-bit zero point (uint8 or int8) as int32.
func (v *value) zeroPoint(what string) (int32, error) {
	switch {
	case v.dt == Uint8 && len(v.u8) == 1:
		return int32(v.u8[0]), nil
	case v.dt == Int8 && len(v.i8) == 1:
		return int32(v.i8[0]), nil
	}
	return 0, fmt.Errorf("%s: want a uint8 or int8 scalar, found %v %v", what, v.dt, v.shape)
}

// toDense wraps v's data (no copy) in a gorgonia tensor.
func (v *value) toDense() *tensor.Dense {
	shape := v.shape
	var back any
	switch v.dt {
	case Float32:
		back = v.f32
	case Uint8:
		back = v.u8
	case Int8:
		back = v.i8
	case Int32:
		back = v.i32
	case Int64:
		back = v.i64
	}
	if len(shape) == 0 {
		// gorgonia has no rank-0 tensor with a backing slice; a scalar is (1).
		shape = []int{1}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(back))
}

// fromDense views a gorgonia tensor as a value (no copy unless it is a view).
func fromDense(t *tensor.Dense) (*value, error) {
	if t == nil {
		return nil, fmt.Errorf("nil tensor")
	}
	if t.IsMaterializable() {
		m, ok := t.Materialize().(*tensor.Dense)
		if !ok {
			return nil, fmt.Errorf("cannot materialise a view")
		}
		t = m
	}
	v := &value{shape: append([]int(nil), t.Shape()...)}
	if t.IsScalar() {
		v.shape = nil
	}
	switch d := t.Data().(type) {
	case []float32:
		v.dt, v.f32 = Float32, d
	case []uint8:
		v.dt, v.u8 = Uint8, d
	case []int8:
		v.dt, v.i8 = Int8, d
	case []int32:
		v.dt, v.i32 = Int32, d
	case []int64:
		v.dt, v.i64 = Int64, d
	case float32:
		v.dt, v.f32 = Float32, []float32{d}
	case uint8:
		v.dt, v.u8 = Uint8, []uint8{d}
	case int64:
		v.dt, v.i64 = Int64, []int64{d}
	default:
		return nil, fmt.Errorf("unsupported element type %v (want float32, uint8, int8, int32 or int64)", t.Dtype())
	}
	if v.len() != numel(v.shape) {
		return nil, fmt.Errorf("tensor has %d elements for shape %v", v.len(), v.shape)
	}
	return v, nil
}

// Limits on what a file may declare, checked before anything is allocated,
// so a forged header of a few bytes cannot ask for gigabytes.
const (
	// maxRank bounds a tensor's number of dimensions: vision graphs use
	// rank 6 at most (a channel shuffle reshapes to 5-d).
	maxRank = 8
	// maxTensorElements bounds one initializer or Constant: 1<<30 float32s
	// are 4 GiB, ten times VGG-19's largest weight (fc6, 102.8M values), and
	// protobuf cannot hold a larger tensor in one file (2 GiB limit).
	maxTensorElements = 1 << 30
)

// checkedShape converts ONNX dims to a shape, checking the rank, that no
// dimension is negative and that their product (computed without
// overflow) is at most limit. It returns the shape and the element count.
func checkedShape(dims []int64, limit int) ([]int, int, error) {
	if len(dims) > maxRank {
		return nil, 0, fmt.Errorf("dims %v: want at most %d dimensions, found %d", dims, maxRank, len(dims))
	}
	shape := make([]int, len(dims))
	n := 1
	for i, d := range dims {
		if d < 0 {
			return nil, 0, fmt.Errorf("dims %v: want non-negative dimensions, found %d", dims, d)
		}
		if d > int64(limit) || (d > 0 && n > limit/int(d)) {
			return nil, 0, fmt.Errorf("dims %v: want at most %d elements, found %.4g", dims, limit, floatProduct(dims))
		}
		shape[i] = int(d)
		n *= int(d)
	}
	return shape, n, nil
}

// floatProduct is the element count of dims for an error message, where the
// integer product may overflow.
func floatProduct(dims []int64) float64 {
	p := 1.0
	for _, d := range dims {
		p *= float64(d)
	}
	return p
}

// elemSize is the byte width of each element type in raw_data.
var elemSize = map[DType]int{Float32: 4, Uint8: 1, Int8: 1, Int32: 4, Int64: 8}

// tensorFromProto decodes an initializer or a Constant's value. Both the
// raw_data and the typed repeated fields are accepted, as ONNX allows. The
// declared dims are checked against maxTensorElements and against the bytes
// or values present before the tensor is allocated.
func tensorFromProto(t *onnxpb.TensorProto) (*value, error) {
	if t.GetDataLocation() == onnxpb.TensorProto_EXTERNAL || len(t.GetExternalData()) > 0 {
		return nil, fmt.Errorf("tensor %q: external data is not supported (save the model with its weights inside)", t.GetName())
	}
	shape, n, err := checkedShape(t.GetDims(), maxTensorElements)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	dt := DType(t.GetDataType())
	size := elemSize[dt]
	if size == 0 {
		return nil, fmt.Errorf("tensor %q: element type %v is not supported (want FLOAT, UINT8, INT8, INT32 or INT64)", t.GetName(), dt)
	}
	if raw := t.GetRawData(); raw != nil {
		if len(raw) != n*size {
			return nil, fmt.Errorf("tensor %q: raw_data holds %d bytes, want %d for %v %v (truncated or corrupt)", t.GetName(), len(raw), n*size, dt, shape)
		}
		v := newValue(dt, shape)
		le := binary.LittleEndian
		for i := 0; i < n; i++ {
			switch dt {
			case Float32:
				v.f32[i] = math.Float32frombits(le.Uint32(raw[4*i:]))
			case Uint8:
				v.u8[i] = raw[i]
			case Int8:
				v.i8[i] = int8(raw[i])
			case Int32:
				v.i32[i] = int32(le.Uint32(raw[4*i:]))
			case Int64:
				v.i64[i] = int64(le.Uint64(raw[8*i:]))
			}
		}
		return v, nil
	}
	field, got := "int32_data", len(t.GetInt32Data()) // uint8, int8 and int32 are all stored there
	switch dt {
	case Float32:
		field, got = "float_data", len(t.GetFloatData())
	case Int64:
		field, got = "int64_data", len(t.GetInt64Data())
	}
	if got != n {
		return nil, fmt.Errorf("tensor %q: %s holds %d values, want %d for %v %v (truncated or corrupt)", t.GetName(), field, got, n, dt, shape)
	}
	v := newValue(dt, shape)
	switch dt {
	case Float32:
		copy(v.f32, t.GetFloatData())
	case Int64:
		copy(v.i64, t.GetInt64Data())
	default:
		for i, x := range t.GetInt32Data() {
			switch dt {
			case Uint8:
				v.u8[i] = uint8(x)
			case Int8:
				v.i8[i] = int8(x)
			case Int32:
				v.i32[i] = x
			}
		}
	}
	return v, nil
}

// Float32Tensor decodes a FLOAT TensorProto (an initializer, or a Constant
// node's value) to its shape and row-major data, with the loader's checks:
// bounded dims, and the declared element count matched to the bytes or
// values present before anything is allocated. Errors name the tensor.
func Float32Tensor(t *onnxpb.TensorProto) (shape []int, data []float32, err error) {
	if dt := DType(t.GetDataType()); dt != Float32 {
		return nil, nil, fmt.Errorf("tensor %q: want FLOAT, found %v", t.GetName(), dt)
	}
	v, err := tensorFromProto(t)
	if err != nil {
		return nil, nil, err
	}
	return v.shape, v.f32, nil
}
