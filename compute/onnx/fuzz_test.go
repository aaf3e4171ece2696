package onnx

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"itscope/compute/onnx/onnxpb"
)

// FuzzLoadBytes: any byte string loads or gets an error; it never panics
// and never allocates what a header merely claims (the forged cases of
// forged_test.go seed the corpus, beside testdata/fuzz/FuzzLoadBytes).
func FuzzLoadBytes(f *testing.F) {
	for _, c := range forgedCases() {
		f.Add(c.model())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := LoadBytes(data, "fuzz.onnx")
		if err == nil && len(m.nodes) == 0 {
			t.Fatal("loaded a graph with no nodes")
		}
	})
}

// FuzzFloat32Tensor: the --weights tensor decoder returns data matching
// its shape, or an error.
func FuzzFloat32Tensor(f *testing.F) {
	for _, t := range []*onnxpb.TensorProto{
		floatTensor("w", []int64{2, 1}, []byte{0, 0, 0xc0, 0x3f, 0, 0, 0, 0xc0}),
		floatTensor("w", []int64{2147483647, 3}, []byte{1, 2, 3, 4}),
		{Name: proto.String("f"), DataType: proto.Int32(int32(onnxpb.TensorProto_FLOAT)), Dims: []int64{3}, FloatData: []float32{0.25, 7, -1}},
	} {
		b, err := proto.Marshal(t)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var tp onnxpb.TensorProto
		if proto.Unmarshal(data, &tp) != nil {
			return
		}
		shape, got, err := Float32Tensor(&tp)
		if err != nil {
			return
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(got) != n || n > maxTensorElements {
			t.Fatalf("shape %v holds %d values", shape, len(got))
		}
	})
}
