package onnx

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"itscope/compute/onnx/onnxpb"
)

// TestQLinearMatMulShapes checks QLinearMatMul against a direct loop on
// every kernel path: int8 weights (the VNNI row kernel) and uint8 ones that
// do not fit int8 after their zero points (the pair kernels), K not a
// multiple of 4, columns not a multiple of 16, one row and several; A's
// scale an initializer (scales computed once, at load) or a graph input.
func TestQLinearMatMulShapes(t *testing.T) {
	for i, c := range []struct {
		rows, k, n       int
		signedW, scaleIn bool
	}{
		{rows: 1, k: 21, n: 37, signedW: true},
		{rows: 5, k: 64, n: 16, signedW: true},
		{rows: 3, k: 9, n: 40},
		{rows: 2, k: 21, n: 37, signedW: true, scaleIn: true},
		{rows: 3, k: 9, n: 40, scaleIn: true},
	} {
		forEachKernel(t, fmt.Sprint(i), func(t *testing.T) { checkQMatMul(t, c.rows, c.k, c.n, c.signedW, c.scaleIn) })
	}
}

func checkQMatMul(t *testing.T, rows, k, n int, signedW, scaleIn bool) {
	rng := rand.New(rand.NewPCG(uint64(k), uint64(n)))
	const az, yz = 121, 77
	as, ys := float32(0.03), float32(0.2)
	bs := make([]float32, n)
	for i := range bs {
		bs[i] = float32(0.002 + 0.01*rng.Float64())
	}
	beff := make([]int32, k*n)
	var b, bz any
	if signedW {
		w, z := make([]int8, k*n), make([]int8, n)
		for i := range w {
			w[i] = int8(rng.IntN(256) - 128)
			beff[i] = int32(w[i])
		}
		b, bz = w, z
	} else {
		w, z := make([]uint8, k*n), make([]uint8, n)
		for i := range z {
			z[i] = uint8(100 + rng.IntN(60))
		}
		for i := range w {
			w[i] = uint8(rng.IntN(256))
			beff[i] = int32(w[i]) - int32(z[i%n])
		}
		b, bz = w, z
	}
	inits := []*onnxpb.TensorProto{
		rawTensor("az", nil, []uint8{az}),
		rawTensor("b", []int64{int64(k), int64(n)}, b), rawTensor("bs", []int64{int64(n)}, bs),
		rawTensor("bz", []int64{int64(n)}, bz), rawTensor("ys", nil, []float32{ys}), rawTensor("yz", nil, []uint8{yz}),
	}
	node := &onnxpb.NodeProto{Name: proto.String("mm"), OpType: proto.String("QLinearMatMul"),
		Input: []string{"a", "as", "az", "b", "bs", "bz", "ys", "yz"}, Output: []string{"y"}}
	info := func(name string, dt onnxpb.TensorProto_DataType) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(dt))}}}}
	}
	inputs := []*onnxpb.ValueInfoProto{info("a", onnxpb.TensorProto_UINT8)}
	if scaleIn {
		inputs = append(inputs, info("as", onnxpb.TensorProto_FLOAT))
	} else {
		inits = append(inits, rawTensor("as", nil, []float32{as}))
	}
	raw, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: &onnxpb.GraphProto{
		Node: []*onnxpb.NodeProto{node}, Initializer: inits, Input: inputs, Output: []*onnxpb.ValueInfoProto{info("y", onnxpb.TensorProto_UINT8)}}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadBytes(raw, "qmatmul.onnx")
	if err != nil {
		t.Fatal(err)
	}
	a := make([]uint8, rows*k)
	for i := range a {
		a[i] = uint8(rng.IntN(256))
	}
	in := map[string]*tensor.Dense{"a": tensor.New(tensor.WithShape(rows, k), tensor.WithBacking(a))}
	if scaleIn {
		in["as"] = tensor.New(tensor.WithShape(1), tensor.WithBacking([]float32{as}))
	}
	out, err := m.Run(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out["y"].Shape(), []int{rows, n}) {
		t.Fatalf("shape %v, want %v", out["y"].Shape(), []int{rows, n})
	}
	got := out["y"].Data().([]uint8)
	bad := 0
	for r := 0; r < rows; r++ {
		for c := 0; c < n; c++ {
			var acc int32
			for kk := 0; kk < k; kk++ {
				acc += (int32(a[r*k+kk]) - az) * beff[kk*n+c]
			}
			if got[r*n+c] != requantGo(acc, as*bs[c]/ys, float32(0-yz), float32(255-yz), yz) {
				bad++
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d outputs differ from the direct loop", bad, rows*n)
	}
}
