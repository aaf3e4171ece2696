package nets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"itscope/compute/onnx/onnxpb"
)

// TestReadONNXWeightsForged: --weights files with forged initializers (issue
// 15: dims [2147483647]x3 with 4 bytes of data panicked in makeslice) or a
// malformed Identity node get an error naming the file and the tensor.
func TestReadONNXWeightsForged(t *testing.T) {
	float := int32(onnxpb.TensorProto_FLOAT)
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		graph *onnxpb.GraphProto
		want  string // "" for no error
	}{
		{"huge.onnx", &onnxpb.GraphProto{Initializer: []*onnxpb.TensorProto{{Name: proto.String("fc.weight"), DataType: &float,
			Dims: []int64{2147483647, 3}, RawData: []byte{1, 2, 3, 4}}}},
			`initializer: tensor "fc.weight": dims [2147483647 3]: want at most 1073741824 elements, found 6.442e+09`},
		{"nodata.onnx", &onnxpb.GraphProto{Initializer: []*onnxpb.TensorProto{{Name: proto.String("fc.weight"), DataType: &float,
			Dims: []int64{10000, 10000}}}},
			`initializer: tensor "fc.weight": float_data holds 0 values, want 100000000 for FLOAT [10000 10000]`},
		{"identity.onnx", &onnxpb.GraphProto{Node: []*onnxpb.NodeProto{{OpType: proto.String("Identity"), Output: []string{"a"}}}}, ""},
	} {
		b, err := proto.Marshal(&onnxpb.ModelProto{Graph: c.graph})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, c.name)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err = readONNXWeights(path)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path)):
			t.Errorf("%s: error %v, want one naming the file and saying %q", c.name, err, c.want)
		}
	}
}
