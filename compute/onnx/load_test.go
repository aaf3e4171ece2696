package onnx

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"gorgonia.org/tensor"

	"itscope/compute/onnx/onnxpb"
)

// tinyModel builds a ModelProto: input x float (N,2), the given nodes,
// output y, and float initializers.
func tinyModel(t *testing.T, nodes []*onnxpb.NodeProto, inits map[string][]float32) []byte {
	t.Helper()
	vi := func(name string) *onnxpb.ValueInfoProto {
		return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
			TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: &onnxpb.TensorShapeProto{
				Dim: []*onnxpb.TensorShapeProto_Dimension{
					{Value: &onnxpb.TensorShapeProto_Dimension_DimParam{DimParam: "N"}},
					{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: 2}},
				}}}}}}
	}
	g := &onnxpb.GraphProto{Name: proto.String("tiny"), Node: nodes, Input: []*onnxpb.ValueInfoProto{vi("x")}, Output: []*onnxpb.ValueInfoProto{vi("y")}}
	for name, data := range inits {
		g.Initializer = append(g.Initializer, &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)),
			Dims: []int64{int64(len(data))}, FloatData: data})
	}
	b, err := proto.Marshal(&onnxpb.ModelProto{IrVersion: proto.Int64(7), Graph: g,
		OpsetImport: []*onnxpb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(13)}}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func protoNode(name, op string, in, out []string) *onnxpb.NodeProto {
	return &onnxpb.NodeProto{Name: proto.String(name), OpType: proto.String(op), Input: in, Output: out}
}

func TestLoadErrors(t *testing.T) {
	full, err := os.ReadFile(mobilenetPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	truncated := filepath.Join(dir, "truncated.onnx")
	if err := os.WriteFile(truncated, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.onnx")
	if err := os.WriteFile(garbage, []byte("this is not a protobuf \xff\xff\xff\xff"), 0o644); err != nil {
		t.Fatal(err)
	}
	unsupported := filepath.Join(dir, "unsupported.onnx")
	if err := os.WriteFile(unsupported, tinyModel(t, []*onnxpb.NodeProto{
		protoNode("first", "Relu", []string{"x"}, []string{"r"}),
		protoNode("weird", "FancyOp", []string{"r"}, []string{"y"}),
	}, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.onnx")
	if err := os.WriteFile(missing, tinyModel(t, []*onnxpb.NodeProto{
		protoNode("add_bias", "Add", []string{"x", "bias"}, []string{"y"}),
	}, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path string
		want []string // all must appear in the error
	}{
		{truncated, []string{"truncated.onnx"}},
		{garbage, []string{"garbage.onnx", "not a valid ONNX model"}},
		{unsupported, []string{"unsupported.onnx", `node 1 "weird"`, "unsupported operator FancyOp"}},
		{missing, []string{"missing.onnx", `node 0 "add_bias" (Add)`, `input "bias"`, "missing initializer"}},
		{filepath.Join(dir, "absent.onnx"), []string{"absent.onnx"}},
	} {
		_, err := LoadFile(c.path)
		if err == nil {
			t.Errorf("%s: loaded without error", filepath.Base(c.path))
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", filepath.Base(c.path), err, w)
			}
		}
	}
}

// tinyAddRelu is s = x + bias, y = relu(s), with bias (1, -3), and an
// input x of 3 rows of 2.
func tinyAddRelu(t *testing.T) (*Model, *tensor.Dense) {
	t.Helper()
	m, err := LoadBytes(tinyModel(t, []*onnxpb.NodeProto{
		protoNode("add_bias", "Add", []string{"x", "bias"}, []string{"s"}),
		protoNode("relu", "Relu", []string{"s"}, []string{"y"}),
	}, map[string][]float32{"bias": {1, -3}}), "tiny.onnx")
	if err != nil {
		t.Fatal(err)
	}
	return m, tensor.New(tensor.WithShape(3, 2), tensor.WithBacking([]float32{0, 1, 2, 3, -4, 5}))
}

func TestRunTinyAndErrors(t *testing.T) {
	m, x := tinyAddRelu(t)
	out, err := m.Run(context.Background(), map[string]*tensor.Dense{"x": x}, "s", "y")
	if err != nil {
		t.Fatal(err)
	}
	wantS := []float32{1, -2, 3, 0, -3, 2}
	wantY := []float32{1, 0, 3, 0, 0, 2}
	for i := range wantS {
		if out["s"].Data().([]float32)[i] != wantS[i] || out["y"].Data().([]float32)[i] != wantY[i] {
			t.Fatalf("s=%v y=%v, want %v and %v", out["s"].Data(), out["y"].Data(), wantS, wantY)
		}
	}
	for _, c := range []struct {
		in   map[string]*tensor.Dense
		taps []string
		want string
	}{
		{map[string]*tensor.Dense{}, nil, `missing input "x"`},
		{map[string]*tensor.Dense{"x": tensor.New(tensor.WithShape(3, 3), tensor.WithBacking(make([]float32, 9)))}, nil, "want shape [-1 2]"},
		{map[string]*tensor.Dense{"x": tensor.New(tensor.WithShape(1, 2), tensor.WithBacking([]int64{1, 2}))}, nil, "want FLOAT, found INT64"},
		{map[string]*tensor.Dense{"x": x}, []string{"nope"}, `no tensor "nope"`},
	} {
		_, err := m.Run(context.Background(), c.in, c.taps...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one saying %q", err, c.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := m.Run(ctx, map[string]*tensor.Dense{"x": x}); err == nil {
		t.Error("a cancelled context ran to the end")
	}
}

// TestRunPlansPerOutputs: runs asking for different tensors each get their
// own plan, kept for the next run with the same outputs; a run for a
// tensor the graph lacks fails every time and keeps nothing.
func TestRunPlansPerOutputs(t *testing.T) {
	m, x := tinyAddRelu(t)
	want := map[string][]float32{"x": {0, 1, 2, 3, -4, 5}, "s": {1, -2, 3, 0, -3, 2}, "y": {1, 0, 3, 0, 0, 2}}
	for _, outputs := range [][]string{{"y"}, {"s"}, {"s", "y"}, {"x"}, {"y"}, {"nope"}, {"s"}, {"nope"}} {
		out, err := m.Run(context.Background(), map[string]*tensor.Dense{"x": x}, outputs...)
		if outputs[0] == "nope" {
			if err == nil || !strings.Contains(err.Error(), `no tensor "nope"`) {
				t.Errorf("outputs %v: error %v, want one saying there is no such tensor", outputs, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("outputs %v: %v", outputs, err)
		}
		for _, o := range outputs {
			if got := out[o].Data().([]float32); !slices.Equal(got, want[o]) {
				t.Errorf("outputs %v: %s = %v, want %v", outputs, o, got, want[o])
			}
		}
	}
	plans := 0
	m.plans.Range(func(any, any) bool { plans++; return true })
	if plans != 4 {
		t.Errorf("%d plans kept, want 4 (y; s; s and y; x)", plans)
	}
}

// TestFoldedWeights: weights reached through Identity nodes (as
// torch.onnx.export shares equal initializers) count as constants.
func TestFoldedWeights(t *testing.T) {
	shape := &onnxpb.NodeProto{Name: proto.String("shape"), OpType: proto.String("Constant"), Output: []string{"shape4"},
		Attribute: []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
			T: &onnxpb.TensorProto{DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{4}, Int64Data: []int64{-1, 2, 1, 1}}}}}
	b := tinyModel(t, []*onnxpb.NodeProto{
		shape,
		protoNode("to4d", "Reshape", []string{"x", "shape4"}, []string{"x4"}),
		protoNode("w_shared", "Identity", []string{"w"}, []string{"w2"}),
		protoNode("b_shared", "Identity", []string{"b"}, []string{"b2"}),
		protoNode("conv", "Conv", []string{"x4", "w2", "b2"}, []string{"c"}),
		protoNode("flat", "Flatten", []string{"c"}, []string{"y"}),
	}, map[string][]float32{"w": {1, 2, -1, 0.5, 0, 3}, "b": {0.5, -1, 2}})
	// Reshape the flat weight initializer's proto to (3,2,1,1).
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(b, &mp); err != nil {
		t.Fatal(err)
	}
	for _, in := range mp.Graph.Initializer {
		if in.GetName() == "w" {
			in.Dims = []int64{3, 2, 1, 1}
		}
	}
	b, _ = proto.Marshal(&mp)
	m, err := LoadBytes(b, "folded.onnx")
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(2, 2), tensor.WithBacking([]float32{1, 2, -1, 4}))
	out, err := m.Run(context.Background(), map[string]*tensor.Dense{"x": x})
	if err != nil {
		t.Fatal(err)
	}
	// y[n][o] = w[o][0]*x[n][0] + w[o][1]*x[n][1] + b[o]
	want := []float32{1 + 4 + 0.5, -1 + 1 - 1, 0 + 6 + 2, -1 + 8 + 0.5, 1 + 2 - 1, 0 + 12 + 2}
	got := out["y"].Data().([]float32)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("y = %v, want %v", got, want)
		}
	}
}
