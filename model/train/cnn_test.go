package train

import (
	"math"
	"path/filepath"
	"strconv"
	"testing"

	"itscope/compute/nn"
	"itscope/model/runs"
)

// TestCNNMatchesPyTorch loads weights that PyTorch saved under its
// state_dict names (testdata/train/make_cnn_fixture.py) into NewCNN and
// checks the eval-mode outputs.
func TestCNNMatchesPyTorch(t *testing.T) {
	for _, name := range []string{"flatten", "gap"} {
		path := filepath.Join("..", "..", "testdata", "train", "cnn_"+name+".safetensors")
		tensors, meta, err := runs.ReadSafetensors(path)
		if err != nil {
			t.Fatal(err)
		}
		byName := map[string]runs.NamedTensor{}
		for _, x := range tensors {
			byName[x.Name] = x
		}
		spec, err := ParseCNNSpec(meta["cnn"])
		if err != nil {
			t.Fatal(err)
		}
		outputs, _ := strconv.Atoi(meta["neurons"])
		net, err := NewCNN(spec, outputs, 99)
		if err != nil {
			t.Fatal(err)
		}
		if err := loadState(path, net, byName); err != nil {
			t.Fatal(err)
		}
		in := byName["input"]
		x, _ := nn.FromSlice(in.Data, in.Shape...)
		y, err := net.Forward(x, false)
		if err != nil {
			t.Fatal(err)
		}
		want := byName["output"]
		got := nn.Float32s(y)
		if len(got) != len(want.Data) {
			t.Fatalf("%s: %d outputs, want %d", name, len(got), len(want.Data))
		}
		for i, w := range want.Data {
			if d := math.Abs(float64(got[i] - w)); d > 1e-4*(1+math.Abs(float64(w))) {
				t.Errorf("%s: output %d = %v, PyTorch %v", name, i, got[i], w)
			}
		}
	}
}

func TestLoadStateErrors(t *testing.T) {
	spec, _ := ParseCNNSpec("layers=1,channels=2")
	net, _ := NewCNN(spec, 3, 0)
	err := loadState("w.safetensors", net, map[string]runs.NamedTensor{})
	if err == nil || err.Error() != `w.safetensors: missing tensor "0.weight" (want shape [2 3 3 3])` {
		t.Errorf("missing tensor: %v", err)
	}
	all := map[string]runs.NamedTensor{}
	for _, p := range nn.State(net) {
		all[p.Name] = runs.NamedTensor{Name: p.Name, Shape: append([]int(nil), p.Value.Shape()...), Data: nn.Float32s(p.Value)}
	}
	all["0.weight"] = runs.NamedTensor{Name: "0.weight", Shape: []int{2, 3, 1, 1}, Data: make([]float32, 6)}
	if err := loadState("w.safetensors", net, all); err == nil {
		t.Errorf("a wrong shape loaded")
	}
}
