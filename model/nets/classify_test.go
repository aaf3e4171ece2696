package nets

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"itscope/compute/onnx"
)

// TestClassifyMatchesONNXRuntime classifies the 12 coral photos with the
// embedded MobileNetV2 and compares with ONNX Runtime's top-5
// (testdata/nets/mobilenetv2_int8_references.json): the same top-1 class on
// every photo, and the same probability to 1e-6.
func TestClassifyMatchesONNXRuntime(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/nets/mobilenetv2_int8_references.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Images []struct {
			Name       string `json:"name"`
			SourceFile string `json:"source_file"`
			Top5       []struct {
				Index   int     `json:"index"`
				Label   string  `json:"label"`
				Softmax float64 `json:"softmax"`
			} `json:"top5"`
		} `json:"images"`
	}
	if err := json.Unmarshal(raw, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Images) != 12 {
		t.Fatalf("%d reference images, want 12", len(ref.Images))
	}
	var paths []string
	for _, im := range ref.Images {
		p := filepath.Join("../../testdata/nets/coral", im.SourceFile)
		if _, err := os.Stat(p); err != nil {
			p = filepath.Join("../../testdata/data/coral", im.SourceFile)
		}
		paths = append(paths, p)
	}
	if testing.Short() || raceEnabled {
		paths, ref.Images = paths[:2], ref.Images[:2]
	}
	net, err := OpenNetwork("mobilenetv2", NetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Classify(net, paths, 5)
	if err != nil {
		t.Fatal(err)
	}
	for i, im := range ref.Images {
		g, w := got[i].Top5[0], im.Top5[0]
		if g.Index != w.Index || g.Label != w.Label {
			t.Errorf("%s: top-1 %d %q, ONNX Runtime %d %q", im.SourceFile, g.Index, g.Label, w.Index, w.Label)
		}
		if math.Abs(g.Prob-w.Softmax) > 1e-6 {
			t.Errorf("%s: top-1 probability %.7f, ONNX Runtime %.7f", im.SourceFile, g.Prob, w.Softmax)
		}
	}
}

// TestMobileNetV2TapMapping checks the mapping worked out from the int8
// graph's structure against the table compute/onnx documents (read off the
// graph by hand), and every tap's shape against the float torchvision
// architecture built from torchvision's configuration.
func TestMobileNetV2TapMapping(t *testing.T) {
	net, err := OpenNetwork("mobilenetv2", NetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	on := net.(*onnxNet)
	if len(on.taps) != len(onnx.MobileNetV2Taps) {
		t.Errorf("%d taps, compute/onnx lists %d", len(on.taps), len(onnx.MobileNetV2Taps))
	}
	for i, want := range onnx.MobileNetV2Taps {
		if i >= len(on.taps) || on.taps[i].Name != want.Module || on.tensorOf[want.Module] != want.Tensor {
			t.Errorf("tap %d: want %s at %s, found %v", i, want.Module, want.Tensor, on.tensorOf[want.Module])
		}
	}
	if raceEnabled {
		return // the float network's forward pass is too slow under -race
	}
	float, err := newMobileNetV2Float(1000)
	if err != nil {
		t.Fatal(err)
	}
	ft, it := float.Taps(), net.Taps()
	if len(ft) != len(it) {
		t.Fatalf("%d int8 taps, %d float taps", len(it), len(ft))
	}
	for i := range ft {
		if ft[i].Name != it[i].Name || !slices.Equal(ft[i].Shape, it[i].Shape) {
			t.Errorf("tap %d: int8 %s %v, torchvision %s %v", i, it[i].Name, it[i].Shape, ft[i].Name, ft[i].Shape)
		}
	}
}
