package onnx

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/protobuf/proto"

	"itscope/compute/onnx/onnxpb"
)

// forgedChildEnv names the forged case a re-executed test binary loads (see
// TestMain and TestForgedMemory).
const forgedChildEnv = "ITSCOPE_ONNX_FORGED_CASE"

// forgedRSSBudget is the peak resident memory a child process loading one
// forged file may reach: the test binary itself takes about 20 MB, and every
// forged file asks for at least 400 MB.
const forgedRSSBudget = 100 << 20

// loadForgedChild loads one forged file as the CLI would (load, then the
// zero-input shape pass that lists taps) and prints the error.
func loadForgedChild(name string) int {
	for _, c := range forgedCases() {
		if c.name != name {
			continue
		}
		m, err := LoadBytes(c.model(), c.name+".onnx")
		if err == nil {
			_, err = m.Shapes(context.Background(), nil)
		}
		fmt.Println(err)
		return 0
	}
	fmt.Println("no forged case", name)
	return 2
}

// forgedCase is a tiny hostile ONNX file and the error it must get.
type forgedCase struct {
	name  string
	model func() []byte
	want  []string // all must appear in the error
}

// forgedGraph marshals a valid one-node graph (x (1,1,4,4) -> Relu -> y)
// after mutate has forged it.
func forgedGraph(mutate func(g *onnxpb.GraphProto)) []byte {
	g := &onnxpb.GraphProto{
		Node:   []*onnxpb.NodeProto{protoNode("r", "Relu", []string{"x"}, []string{"y"})},
		Input:  []*onnxpb.ValueInfoProto{floatInput("x", 1, 1, 4, 4)},
		Output: []*onnxpb.ValueInfoProto{{Name: proto.String("y")}},
	}
	mutate(g)
	b, err := proto.Marshal(&onnxpb.ModelProto{Graph: g})
	if err != nil {
		panic(err)
	}
	return b
}

func floatInput(name string, dims ...int64) *onnxpb.ValueInfoProto {
	shape := &onnxpb.TensorShapeProto{}
	for _, d := range dims {
		shape.Dim = append(shape.Dim, &onnxpb.TensorShapeProto_Dimension{Value: &onnxpb.TensorShapeProto_Dimension_DimValue{DimValue: d}})
	}
	return &onnxpb.ValueInfoProto{Name: proto.String(name), Type: &onnxpb.TypeProto{Value: &onnxpb.TypeProto_TensorType{
		TensorType: &onnxpb.TypeProto_Tensor{ElemType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Shape: shape}}}}
}

func floatTensor(name string, dims []int64, raw []byte) *onnxpb.TensorProto {
	return &onnxpb.TensorProto{Name: proto.String(name), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: dims, RawData: raw}
}

func intsAttr(name string, v ...int64) *onnxpb.AttributeProto {
	return &onnxpb.AttributeProto{Name: proto.String(name), Type: onnxpb.AttributeProto_INTS.Enum(), Ints: v}
}

// poolWith replaces the graph's node by a 3x3 MaxPool with the given
// attributes (overriding the default kernel_shape).
func poolWith(attrs ...*onnxpb.AttributeProto) func(g *onnxpb.GraphProto) {
	return func(g *onnxpb.GraphProto) {
		n := protoNode("pool", "MaxPool", []string{"x"}, []string{"y"})
		n.Attribute = []*onnxpb.AttributeProto{intsAttr("kernel_shape", 3, 3)}
		for _, a := range attrs {
			if a.GetName() == "kernel_shape" {
				n.Attribute = n.Attribute[:0]
			}
			n.Attribute = append(n.Attribute, a)
		}
		g.Node = []*onnxpb.NodeProto{n}
	}
}

// poolChain replaces the graph by n 1x1 MaxPools padded by 127 on every
// side, over a declared (1,65536,4,4) input (within maxInputElements).
func poolChain(n int) func(g *onnxpb.GraphProto) {
	return func(g *onnxpb.GraphProto) {
		g.Input[0] = floatInput("x", 1, 65536, 4, 4)
		g.Node = nil
		in := "x"
		for i := range n {
			out := fmt.Sprint("p", i)
			if i == n-1 {
				out = "y"
			}
			p := protoNode(fmt.Sprint("pool", i), "MaxPool", []string{in}, []string{out})
			p.Attribute = []*onnxpb.AttributeProto{intsAttr("kernel_shape", 1, 1), intsAttr("pads", 127, 127, 127, 127)}
			g.Node = append(g.Node, p)
			in = out
		}
	}
}

// forgedCases reproduce the findings of issue 15 (each file is about 100
// bytes), plus the other bounded attributes.
func forgedCases() []forgedCase {
	initializer := func(t *onnxpb.TensorProto) func() []byte {
		return func() []byte {
			return forgedGraph(func(g *onnxpb.GraphProto) { g.Initializer = append(g.Initializer, t) })
		}
	}
	graph := func(mutate func(g *onnxpb.GraphProto)) func() []byte {
		return func() []byte { return forgedGraph(mutate) }
	}
	return []forgedCase{
		// Every node within bounds, the chain not: the first pool already
		// asks for 17 GB.
		{"pool_chain", graph(poolChain(20)),
			[]string{"pool_chain.onnx", `node 0 "pool0" (MaxPool)`, "tensor of dims [1 65536 258 258]: want at most 268435456 elements, found 4.362e+09"}},
		{"huge_dims_4_bytes", initializer(floatTensor("w", []int64{2147483647, 2147483647, 2147483647}, []byte{1, 2, 3, 4})),
			[]string{"huge_dims_4_bytes.onnx", "initializer", `tensor "w"`, "want at most 1073741824 elements, found 9.904e+27"}},
		{"dims_4_bytes", initializer(floatTensor("w", []int64{100000, 1000}, []byte{1, 2, 3, 4})),
			[]string{"dims_4_bytes.onnx", `tensor "w"`, "raw_data holds 4 bytes, want 400000000 for FLOAT [100000 1000]"}},
		{"dims_no_data", initializer(floatTensor("w", []int64{100000, 100000}, nil)),
			[]string{"dims_no_data.onnx", `tensor "w"`, "want at most 1073741824 elements, found 1e+10"}},
		{"dims_float_data_missing", initializer(floatTensor("w", []int64{10000, 10000}, nil)),
			[]string{"dims_float_data_missing.onnx", `tensor "w"`, "float_data holds 0 values, want 100000000 for FLOAT [10000 10000]"}},
		{"int64_data_missing", initializer(&onnxpb.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{50000000}}),
			[]string{"int64_data_missing.onnx", `tensor "s"`, "int64_data holds 0 values, want 50000000 for INT64 [50000000]"}},
		{"negative_dim", initializer(floatTensor("w", []int64{4, -1}, []byte{1, 2, 3, 4})),
			[]string{"negative_dim.onnx", `tensor "w"`, "want non-negative dimensions, found -1"}},
		{"rank_9", initializer(floatTensor("w", []int64{1, 1, 1, 1, 1, 1, 1, 1, 1}, []byte{1, 2, 3, 4})),
			[]string{"rank_9.onnx", `tensor "w"`, "want at most 8 dimensions, found 9"}},
		{"constant_huge", graph(func(g *onnxpb.GraphProto) {
			c := protoNode("big", "Constant", nil, []string{"c"})
			c.Attribute = []*onnxpb.AttributeProto{{Name: proto.String("value"), Type: onnxpb.AttributeProto_TENSOR.Enum(),
				T: floatTensor("", []int64{2147483647, 3}, []byte{1, 2, 3, 4})}}
			g.Node = append(g.Node, c)
		}), []string{"constant_huge.onnx", `node 1 "big" (Constant)`, "want at most 1073741824 elements, found 6.442e+09"}},
		{"declared_input", graph(func(g *onnxpb.GraphProto) { g.Input[0] = floatInput("x", 1, 3, 100000, 100000) }),
			[]string{"declared_input.onnx", `graph input "x"`, "declared shape: dims [1 3 100000 100000]: want at most 33554432 elements, found 3e+10"}},
		{"declared_input_overflow", graph(func(g *onnxpb.GraphProto) { g.Input[0] = floatInput("x", 1<<40, 1<<40, 1<<40) }),
			[]string{"declared_input_overflow.onnx", `graph input "x"`, "want at most 33554432 elements, found 1.329e+36"}},
		{"pads_1e6", graph(poolWith(intsAttr("pads", 1000000, 1000000, 1000000, 1000000))),
			[]string{"pads_1e6.onnx", `node 0 "pool" (MaxPool)`, "attribute pads [1000000 1000000 1000000 1000000]: want values from 0 to 128, found 1000000"}},
		{"negative_pad", graph(poolWith(intsAttr("pads", 0, -5, 0, 0))),
			[]string{"negative_pad.onnx", "attribute pads [0 -5 0 0]: want values from 0 to 128, found -5"}},
		{"kernel_huge", graph(poolWith(intsAttr("kernel_shape", 1<<31, 3))),
			[]string{"kernel_huge.onnx", `node 0 "pool" (MaxPool)`, "attribute kernel_shape [2147483648 3]: want values from 1 to 128, found 2147483648"}},
		{"strides_zero", graph(poolWith(intsAttr("strides", 0, 1))),
			[]string{"strides_zero.onnx", "attribute strides [0 1]: want values from 1 to 128, found 0"}},
		{"dilations_huge", graph(poolWith(intsAttr("dilations", 1, 1<<20))),
			[]string{"dilations_huge.onnx", "attribute dilations [1 1048576]: want values from 1 to 128, found 1048576"}},
		{"pads_too_many", graph(poolWith(intsAttr("pads", make([]int64, 17)...))),
			[]string{"pads_too_many.onnx", "attribute pads: want at most 16 values, found 17"}},
		{"group_huge", graph(func(g *onnxpb.GraphProto) {
			g.Initializer = append(g.Initializer, floatTensor("w", []int64{1, 1, 1, 1}, []byte{0, 0, 128, 63}))
			n := protoNode("conv", "Conv", []string{"x", "w"}, []string{"y"})
			n.Attribute = []*onnxpb.AttributeProto{{Name: proto.String("group"), Type: onnxpb.AttributeProto_INT.Enum(), I: proto.Int64(1 << 40)}}
			g.Node = []*onnxpb.NodeProto{n}
		}), []string{"group_huge.onnx", `node 0 "conv" (Conv)`, "attribute group: want 1 to 65536, found 1099511627776"}},
	}
}

// TestForgedFiles: each forged file is refused, at load or in the shape
// pass that follows it (as the CLI lists taps), with an error naming the
// file, the tensor, node or attribute, and what was expected and found.
func TestForgedFiles(t *testing.T) {
	dir := t.TempDir()
	for _, c := range forgedCases() {
		b := c.model()
		if len(b) > 1500 {
			t.Errorf("%s: forged file has %d bytes, want a tiny one", c.name, len(b))
		}
		path := filepath.Join(dir, c.name+".onnx")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := LoadFile(path)
		if err == nil {
			_, err = m.Shapes(context.Background(), nil)
		}
		if err == nil {
			t.Errorf("%s: loaded without error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// TestForgedMemory loads each forged file in a child process (the test
// binary re-executed) and checks its peak resident memory: a forged header
// must not allocate what it claims before the check that refuses it.
func TestForgedMemory(t *testing.T) {
	for _, c := range forgedCases() {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), forgedChildEnv+"="+c.name)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("%s: child failed: %v\n%s", c.name, err, out)
			continue
		}
		if !strings.Contains(string(out), c.want[len(c.want)-1]) {
			t.Errorf("%s: child printed %q, want an error saying %q", c.name, out, c.want[len(c.want)-1])
		}
		peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
		t.Logf("%s: peak %d KiB", c.name, peak>>10)
		if peak > forgedRSSBudget {
			t.Errorf("%s: peak RSS %d MiB, want under %d MiB", c.name, peak>>20, forgedRSSBudget>>20)
		}
	}
}

// TestFloat32TensorForged: the --weights decoder refuses the forged tensors
// with the same checks, and decodes an honest one.
func TestFloat32TensorForged(t *testing.T) {
	for _, c := range []struct {
		t    *onnxpb.TensorProto
		want string
	}{
		{floatTensor("w", []int64{2147483647, 3}, []byte{1, 2, 3, 4}), `tensor "w": dims [2147483647 3]: want at most 1073741824 elements, found 6.442e+09`},
		{floatTensor("w", []int64{10000, 10000}, nil), `tensor "w": float_data holds 0 values, want 100000000 for FLOAT [10000 10000]`},
		{floatTensor("w", []int64{2}, []byte{1, 2, 3, 4, 5}), `tensor "w": raw_data holds 5 bytes, want 8 for FLOAT [2]`},
		{&onnxpb.TensorProto{Name: proto.String("s"), DataType: proto.Int32(int32(onnxpb.TensorProto_INT64)), Dims: []int64{1}, Int64Data: []int64{3}}, `tensor "s": want FLOAT, found INT64`},
		{&onnxpb.TensorProto{Name: proto.String("e"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), DataLocation: onnxpb.TensorProto_EXTERNAL.Enum()}, `tensor "e": external data is not supported`},
	} {
		if _, _, err := Float32Tensor(c.t); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one saying %q", err, c.want)
		}
	}
	// 1.5 and -2 as little-endian float32.
	shape, data, err := Float32Tensor(floatTensor("w", []int64{2, 1}, []byte{0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0}))
	if err != nil || len(shape) != 2 || shape[0] != 2 || shape[1] != 1 || len(data) != 2 || data[0] != 1.5 || data[1] != -2 {
		t.Errorf("decoded %v %v %v, want [2 1] [1.5 -2]", shape, data, err)
	}
	shape, data, err = Float32Tensor(&onnxpb.TensorProto{Name: proto.String("f"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{3}, FloatData: []float32{0.25, 7, -1}})
	if err != nil || len(shape) != 1 || shape[0] != 3 || len(data) != 3 || data[0] != 0.25 || data[1] != 7 || data[2] != -1 {
		t.Errorf("decoded %v %v %v, want [3] [0.25 7 -1]", shape, data, err)
	}
}
