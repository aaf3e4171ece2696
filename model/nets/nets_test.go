package nets

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
)

func readNpyFixture(t *testing.T, path string) ([]float32, []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var v []float32
	if err := r.Read(&v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v, r.Header.Descr.Shape
}

// maxRelErr is max|got-want| / max|want|: the error relative to the tensor's
// scale, so that values near zero do not dominate.
func maxRelErr(got, want []float32) float64 {
	var scale, diff float64
	for i := range want {
		scale = max(scale, math.Abs(float64(want[i])))
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

// TestResNetWeightsMatchPyTorch loads reduced-width torchvision ResNets
// exported by testdata/nets/make_fixtures.py, with parameter names kept and
// with BatchNorm folded by torch, and compares every tap with PyTorch's
// forward hooks.
func TestResNetWeightsMatchPyTorch(t *testing.T) {
	x, xshape := readNpyFixture(t, "../../testdata/nets/resnet_input.npy")
	for _, tc := range []struct {
		file       string
		bottleneck bool
	}{
		{"resnet_basic.onnx", false},
		{"resnet_basic_folded.onnx", false},
		{"resnet_bottleneck.onnx", true},
		{"resnet_bottleneck_folded.onnx", true},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg := ResNetConfig{Bottleneck: tc.bottleneck, Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: xshape[2]}
			n, err := NewResNet("small", cfg, 0, filepath.Join("../../testdata/nets", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			names := []string{"conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"}
			got, err := n.Forward(x, xshape[0], names)
			if err != nil {
				t.Fatal(err)
			}
			dir := strings.TrimSuffix(strings.TrimSuffix(tc.file, ".onnx"), "_folded")
			for _, tap := range names {
				if tap == "conv1" && strings.Contains(tc.file, "folded") {
					continue // the folded export no longer holds conv1's own output
				}
				want, shape := readNpyFixture(t, filepath.Join("../../testdata/nets", dir, tap+".npy"))
				if len(got[tap]) != len(want) {
					t.Fatalf("%s: got %d values, want %d (shape %v)", tap, len(got[tap]), len(want), shape)
				}
				if e := maxRelErr(got[tap], want); e > 1e-4 {
					t.Errorf("%s: relative error %.3g, want <= 1e-4", tap, e)
				}
			}
		})
	}
}

func TestResNetWeightsMismatch(t *testing.T) {
	// A bottleneck export does not fit the basic-block architecture: the
	// error names the tensor and both shapes.
	n, err := newResNet("small", ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 64})
	if err != nil {
		t.Fatal(err)
	}
	err = n.setWeights(0, "../../testdata/nets/resnet_bottleneck.onnx")
	if err == nil || !strings.Contains(err.Error(), "layer1.0.conv1.weight") || !strings.Contains(err.Error(), "want shape [4 4 3 3], found [4 4 1 1]") {
		t.Fatalf("got error %v, want one naming layer1.0.conv1.weight and both shapes", err)
	}
	n, _ = newResNet("small", ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 4, Classes: 10, InputSize: 64})
	if err := n.setWeights(0, "../../testdata/nets/resnet_bottleneck_folded.onnx"); err == nil || !strings.Contains(err.Error(), "Conv") {
		t.Fatalf("got error %v, want one naming the Conv node", err)
	}
	if err := n.setWeights(0, "../../testdata/nets/missing.onnx"); err == nil {
		t.Fatal("missing file: no error")
	}
	raw, err := os.ReadFile("../../testdata/nets/resnet_basic.onnx")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.onnx")
	os.WriteFile(cut, raw[:len(raw)/2], 0o644)
	if err := n.setWeights(0, cut); err == nil || !strings.Contains(err.Error(), cut) {
		t.Fatalf("truncated file: got error %v, want one naming %s", err, cut)
	}
}

// TestONNXAllOpsMatchPyTorch runs testdata/nets/allops.onnx (every float
// operator, exported by torch.onnx.export) as onnx:PATH and compares each tap
// with PyTorch.
func TestONNXAllOpsMatchPyTorch(t *testing.T) {
	n, err := OpenNetwork("onnx:../../testdata/nets/allops.onnx", NetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, xshape := readNpyFixture(t, "../../testdata/nets/allops/input.npy")
	if in := n.Input(); in != [3]int{xshape[1], xshape[2], xshape[3]} {
		t.Fatalf("input %v, want %v", in, xshape[1:])
	}
	taps := []string{"conv", "bn", "relu", "dil", "dw", "clip", "maxpool", "avgpool", "add",
		"concat", "gap", "flatten", "reshape", "gemm", "dropout", "softmax"}
	got, err := n.Forward(x, xshape[0], taps)
	if err != nil {
		t.Fatal(err)
	}
	for _, tap := range taps {
		want, _ := readNpyFixture(t, filepath.Join("../../testdata/nets/allops", tap+".npy"))
		if len(got[tap]) != len(want) {
			t.Fatalf("%s: got %d values, want %d", tap, len(got[tap]), len(want))
		}
		if e := maxRelErr(got[tap], want); e > 1e-4 {
			t.Errorf("%s: relative error %.3g, want <= 1e-4", tap, e)
		}
	}
}
