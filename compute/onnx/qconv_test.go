package onnx

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"itscope/compute/onnx/onnxpb"
)

// rawTensor makes an initializer from a Go slice (raw_data, little-endian).
func rawTensor(name string, dims []int64, data any) *onnxpb.TensorProto {
	t := &onnxpb.TensorProto{Name: proto.String(name), Dims: dims}
	var raw []byte
	switch d := data.(type) {
	case []float32:
		t.DataType = proto.Int32(int32(onnxpb.TensorProto_FLOAT))
		for _, v := range d {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
	case []uint8:
		t.DataType = proto.Int32(int32(onnxpb.TensorProto_UINT8))
		raw = append(raw, d...)
	case []int8:
		t.DataType = proto.Int32(int32(onnxpb.TensorProto_INT8))
		for _, v := range d {
			raw = append(raw, byte(v))
		}
	case []int32:
		t.DataType = proto.Int32(int32(onnxpb.TensorProto_INT32))
		for _, v := range d {
			raw = binary.LittleEndian.AppendUint32(raw, uint32(v))
		}
	}
	t.RawData = raw
	return t
}

type qconvCase struct {
	n, c, h, w, m, kh, kw, group int
	stride, dil                  [2]int
	pads                         [4]int
	signedW, perChannel          bool
	weightRange                  int  // unsigned weights: zero point +- this (0: any byte)
	scaleIn                      bool // y_scale a graph input, not an initializer
	zpIn                         bool // the zero points graph inputs, run with three pairs
}

// TestQLinearConvShapes checks QLinearConv's packing, im2col, grouping,
// padding and tails against a direct loop on odd shapes the MobileNet does
// not have: rows not a multiple of 8, odd K, pixel tails, dilation, groups.
func TestQLinearConvShapes(t *testing.T) {
	for i, c := range []qconvCase{
		{n: 2, c: 6, h: 9, w: 11, m: 12, kh: 3, kw: 2, group: 2, stride: [2]int{2, 1}, dil: [2]int{1, 2}, pads: [4]int{1, 0, 2, 1}, signedW: false},
		{n: 1, c: 5, h: 7, w: 13, m: 5, kh: 3, kw: 3, group: 5, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, signedW: true, perChannel: true},
		{n: 3, c: 5, h: 6, w: 5, m: 9, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true, perChannel: true},
		{n: 1, c: 16, h: 14, w: 14, m: 24, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true},
		{n: 1, c: 2, h: 3, w: 2, m: 3, kh: 3, kw: 3, group: 1, stride: [2]int{2, 3}, dil: [2]int{2, 2}, pads: [4]int{2, 3, 2, 3}, signedW: true},
		{n: 2, c: 8, h: 10, w: 10, m: 8, kh: 5, kw: 5, group: 8, stride: [2]int{1, 1}, dil: [2]int{2, 1}, pads: [4]int{4, 2, 4, 2}, signedW: true},
		// The VNNI kernels' edges: depthwise rows of 7, 16, 33 outputs at
		// strides 1 and 2 with uneven pads; 1x1 with K = 4n+2 and pixels
		// not a multiple of 32 over several chunks; unsigned weights that
		// fit int8 after their zero point, and ones that do not.
		{n: 2, c: 3, h: 5, w: 33, m: 3, kh: 3, kw: 3, group: 3, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, signedW: true, perChannel: true},
		{n: 1, c: 4, h: 9, w: 40, m: 4, kh: 3, kw: 3, group: 4, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{0, 1, 1, 0}, signedW: true},
		{n: 1, c: 2, h: 7, w: 16, m: 2, kh: 3, kw: 3, group: 2, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, weightRange: 60},
		{n: 1, c: 2, h: 7, w: 7, m: 2, kh: 3, kw: 3, group: 2, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}},
		{n: 2, c: 18, h: 23, w: 29, m: 21, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true, perChannel: true},
		{n: 1, c: 32, h: 7, w: 7, m: 40, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, weightRange: 100},
		// Batches of 1x1 run as one pixel run on VNNI: chunks and blocks of
		// 16 straddle images.
		{n: 5, c: 16, h: 7, w: 7, m: 24, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true},
		{n: 3, c: 12, h: 9, w: 11, m: 8, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true, perChannel: true},
		{n: 3, c: 12, h: 5, w: 6, m: 10, kh: 1, kw: 1, group: 2, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true},
		{n: 2, c: 16, h: 4, w: 9, m: 24, kh: 1, kw: 1, group: 4, stride: [2]int{1, 1}, dil: [2]int{1, 1}, weightRange: 90},
		// Scales given at run time (computed per run, not at load).
		{n: 1, c: 8, h: 5, w: 5, m: 12, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true, perChannel: true, scaleIn: true},
		{n: 1, c: 4, h: 9, w: 9, m: 4, kh: 3, kw: 3, group: 4, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, signedW: true, scaleIn: true},
		// Zero points given at run time, changing from run to run, with the
		// scales and the bias initializers (the requantization kept between
		// runs): a GEMM, a 3x3 convolution through im2col and a depthwise one.
		{n: 2, c: 12, h: 6, w: 7, m: 10, kh: 1, kw: 1, group: 1, stride: [2]int{1, 1}, dil: [2]int{1, 1}, signedW: true, perChannel: true, zpIn: true},
		{n: 1, c: 3, h: 9, w: 9, m: 8, kh: 3, kw: 3, group: 1, stride: [2]int{2, 2}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, weightRange: 60, zpIn: true},
		{n: 1, c: 6, h: 8, w: 20, m: 6, kh: 3, kw: 3, group: 6, stride: [2]int{1, 1}, dil: [2]int{1, 1}, pads: [4]int{1, 1, 1, 1}, signedW: true, zpIn: true},
	} {
		forEachKernel(t, fmt.Sprint(i), func(t *testing.T) { checkQConv(t, c) })
	}
}

func checkQConv(t *testing.T, c qconvCase) {
	rng := rand.New(rand.NewPCG(uint64(c.c), uint64(c.m)))
	cg := c.c / c.group
	nw := c.m * cg * c.kh * c.kw
	zps := [][2]int32{{117, 30}}
	if c.zpIn {
		// The second pair must not reuse the first's requantization, nor
		// the third the second's.
		zps = [][2]int32{{117, 30}, {90, 61}, {117, 30}}
	}
	xs, ys := float32(0.02), float32(0.05)
	wz := int32(0)
	var w any
	weff := make([]int32, nw)
	if c.signedW {
		ws := make([]int8, nw)
		for i := range ws {
			ws[i] = int8(rng.IntN(255) - 127)
			weff[i] = int32(ws[i])
		}
		w = ws
	} else {
		wz = 131
		ws := make([]uint8, nw)
		for i := range ws {
			ws[i] = uint8(rng.IntN(256))
			if c.weightRange > 0 {
				ws[i] = uint8(int(wz) + rng.IntN(2*c.weightRange+1) - c.weightRange)
			}
			weff[i] = int32(ws[i]) - wz
		}
		w = ws
	}
	wscale := []float32{0.004}
	if c.perChannel {
		wscale = make([]float32, c.m)
		for i := range wscale {
			wscale[i] = float32(0.001 + 0.006*rng.Float64())
		}
	}
	bias := make([]int32, c.m)
	for i := range bias {
		bias[i] = int32(rng.IntN(20001) - 10000)
	}
	wzp := any([]uint8{uint8(wz)})
	if c.signedW {
		wzp = []int8{0}
	}
	inits := []*onnxpb.TensorProto{
		rawTensor("xs", nil, []float32{xs}),
		rawTensor("w", []int64{int64(c.m), int64(cg), int64(c.kh), int64(c.kw)}, w),
		rawTensor("ws", []int64{int64(len(wscale))}, wscale), rawTensor("wz", nil, wzp),
		rawTensor("b", []int64{int64(c.m)}, bias),
	}
	if !c.zpIn {
		inits = append(inits, rawTensor("xz", nil, []uint8{uint8(zps[0][0])}), rawTensor("yz", nil, []uint8{uint8(zps[0][1])}))
	}
	ints := func(v ...int) []int64 {
		out := make([]int64, len(v))
		for i, x := range v {
			out[i] = int64(x)
		}
		return out
	}
	nodeP := &onnxpb.NodeProto{Name: proto.String("qconv"), OpType: proto.String("QLinearConv"),
		Input: []string{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"}, Output: []string{"y"},
		Attribute: []*onnxpb.AttributeProto{
			{Name: proto.String("group"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(int64(c.group))},
			{Name: proto.String("strides"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ints(c.stride[:]...)},
			{Name: proto.String("dilations"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ints(c.dil[:]...)},
			{Name: proto.String("pads"), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: ints(c.pads[:]...)},
		}}
	info := func(name string, dt onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}}
	}
	inputs := []*onnxpb.ValueInfoProto{info("x", onnxpb.TensorProto_UINT8)}
	if c.zpIn {
		inputs = append(inputs, info("xz", onnxpb.TensorProto_UINT8), info("yz", onnxpb.TensorProto_UINT8))
	}
	if c.scaleIn {
		inputs = append(inputs, info("ys", onnxpb.TensorProto_FLOAT))
	} else {
		inits = append(inits, rawTensor("ys", nil, []float32{ys}))
	}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{nodeP}, Initializer: inits, Input: inputs, Output: []*onnxpb.ValueInfoProto{info("y", onnxpb.TensorProto_UINT8)}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadBytes(b, "qconv.onnx")
	if err != nil {
		t.Fatal(err)
	}
	x := make([]uint8, c.n*c.c*c.h*c.w)
	for i := range x {
		x[i] = uint8(rng.IntN(256))
	}
	in := map[string]*tensor.Dense{"x": tensor.New(tensor.WithShape(c.n, c.c, c.h, c.w), tensor.WithBacking(x))}
	if c.scaleIn {
		in["ys"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{ys}))
	}
	for _, zp := range zps {
		xz, yz := zp[0], zp[1]
		if c.zpIn {
			in["xz"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]uint8{uint8(xz)}))
			in["yz"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]uint8{uint8(yz)}))
		}
		checkQConvRun(t, c, m, in, x, weff, wscale, bias, xs, ys, xz, yz)
	}
}

// checkQConvRun runs m on in and compares every output with a direct loop.
func checkQConvRun(t *testing.T, c qconvCase, m *Model, in map[string]*tensor.Dense, x []uint8, weff []int32, wscale []float32, bias []int32, xs, ys float32, xz, yz int32) {
	t.Helper()
	cg := c.c / c.group
	out, err := m.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	y := out["y"]
	oh := (c.h+c.pads[0]+c.pads[2]-c.dil[0]*(c.kh-1)-1)/c.stride[0] + 1
	ow := (c.w+c.pads[1]+c.pads[3]-c.dil[1]*(c.kw-1)-1)/c.stride[1] + 1
	if !slices.Equal(y.Shape(), []int{c.n, c.m, oh, ow}) {
		t.Fatalf("shape %v, want %v", y.Shape(), []int{c.n, c.m, oh, ow})
	}
	got := y.Data().([]uint8)
	mg := c.m / c.group
	bad := 0
	for img := 0; img < c.n; img++ {
		for oc := 0; oc < c.m; oc++ {
			g := oc / mg
			scale := xs * wscale[oc%len(wscale)] / ys
			for oy := 0; oy < oh; oy++ {
				for ox := 0; ox < ow; ox++ {
					acc := bias[oc]
					for ci := 0; ci < cg; ci++ {
						for ky := 0; ky < c.kh; ky++ {
							for kx := 0; kx < c.kw; kx++ {
								iy := oy*c.stride[0] - c.pads[0] + ky*c.dil[0]
								ix := ox*c.stride[1] - c.pads[1] + kx*c.dil[1]
								if iy < 0 || iy >= c.h || ix < 0 || ix >= c.w {
									continue
								}
								xv := int32(x[((img*c.c+g*cg+ci)*c.h+iy)*c.w+ix]) - xz
								acc += xv * weff[((oc*cg+ci)*c.kh+ky)*c.kw+kx]
							}
						}
					}
					want := requantGo(acc, scale, float32(0-yz), float32(255-yz), yz)
					if got[((img*c.m+oc)*oh+oy)*ow+ox] != want {
						bad++
					}
				}
			}
		}
	}
	if bad > 0 {
		t.Errorf("zero points %d, %d: %d of %d outputs differ from the direct loop", xz, yz, bad, len(got))
	}
}

// TestQLinearConvScalesAtLoad: scales given as initializers are checked
// when the model loads (they are computed once then), and a wrong count is
// an error naming the file, the node and the input.
func TestQLinearConvScalesAtLoad(t *testing.T) {
	inits := []*onnxpb.TensorProto{
		rawTensor("xs", nil, []float32{0.1}), rawTensor("xz", nil, []uint8{3}),
		rawTensor("w", []int64{2, 1, 1, 1}, []int8{1, -1}), rawTensor("ws", []int64{3}, []float32{0.1, 0.2, 0.3}),
		rawTensor("wz", nil, []int8{0}), rawTensor("ys", nil, []float32{0.2}), rawTensor("yz", nil, []uint8{5}),
	}
	node := &onnxpb.NodeProto{Name: proto.String("conv7"), OpType: proto.String("QLinearConv"),
		Input: []string{"x", "xs", "xz", "w", "ws", "wz", "ys", "yz"}, Output: []string{"y"}}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{node}, Initializer: inits,
		Input: []*onnxpb.ValueInfoProto{{Name: proto.String("x")}}, Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y")}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = LoadBytes(b, "scales.onnx")
	for _, want := range []string{"scales.onnx", "conv7", "w_scale", "(2)", "[3]"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to name %q", err, want)
		}
	}
}
