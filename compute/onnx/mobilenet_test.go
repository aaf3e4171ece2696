package onnx

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"codeberg.org/sbinet/npyio"
	"gorgonia.org/tensor"
)

// The embedded network and the ONNX Runtime 1.20.1 references made from it
// (testdata/onnx/REFERENCE_README.md says how).
const (
	mobilenetPath = "../../model/nets/weights/mobilenetv2-12-int8.onnx"
	refDir        = "../../testdata/onnx"
)

var (
	mobilenetOnce  sync.Once
	mobilenetModel *Model
	mobilenetErr   error
)

func loadMobilenet(t testing.TB) *Model {
	t.Helper()
	mobilenetOnce.Do(func() { mobilenetModel, mobilenetErr = LoadFile(mobilenetPath) })
	if mobilenetErr != nil {
		t.Fatal(mobilenetErr)
	}
	return mobilenetModel
}

// readNpy reads a C-order .npy file of float32 or uint8.
func readNpy[T float32 | uint8](t testing.TB, path string) ([]int, []T) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := npyio.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var data []T
	if err := r.Read(&data); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r.Header.Descr.Shape, data
}

type refTensor struct {
	Tensor    string  `json:"tensor"`
	Node      string  `json:"node"`
	Scale     float64 `json:"scale"`
	ZeroPoint int     `json:"zero_point"`
}

func refTensors(t testing.TB) []refTensor {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, "intermediates/params.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ps []refTensor
	if err := json.Unmarshal(b, &ps); err != nil {
		t.Fatal(err)
	}
	return ps
}

// imagesWithInputs lists the reference images whose inputs are committed.
func imagesWithInputs(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(refDir, "*.input.npy"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no reference inputs in %s: %v", refDir, err)
	}
	var names []string
	for _, f := range files {
		base := f[:len(f)-len(".input.npy")]
		if _, err := os.Stat(base + ".logits.npy"); err == nil {
			names = append(names, filepath.Base(base))
		}
	}
	slices.Sort(names)
	return names
}

// readNpyDense reads a uint8, int8 or float32 .npy as a tensor.
func readNpyDense(t testing.TB, path string) *tensor.Dense {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := npyio.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	shape := r.Header.Descr.Shape
	var back any
	switch strings.TrimLeft(strings.Trim(r.Header.Descr.Type, "'\""), "<|=") {
	case "u1":
		var d []uint8
		err = r.Read(&d)
		back = d
	case "i1":
		var d []int8
		err = r.Read(&d)
		back = d
	case "f4":
		var d []float32
		err = r.Read(&d)
		back = d
	default:
		t.Fatalf("%s: element type %s, want uint8, int8 or float32", path, r.Header.Descr.Type)
	}
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(shape) == 0 {
		shape = []int{1}
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(back))
}

func inputTensor(t testing.TB, names ...string) *tensor.Dense {
	t.Helper()
	var all []float32
	for _, n := range names {
		shape, x := readNpy[float32](t, filepath.Join(refDir, n+".input.npy"))
		if !slices.Equal(shape, []int{1, 3, 224, 224}) {
			t.Fatalf("%s: input shape %v", n, shape)
		}
		all = append(all, x...)
	}
	return tensor.New(tensor.WithShape(len(names), 3, 224, 224), tensor.WithBacking(all))
}

// TestMobilenetBitExact: the logits equal ONNX Runtime's bit for bit, and so
// do the uint8 tensors inside the graph that the reference captured, on
// every int8 kernel path the CPU has.
func TestMobilenetBitExact(t *testing.T) {
	forEachKernel(t, "path", mobilenetBitExact)
}

func mobilenetBitExact(t *testing.T) {
	m := loadMobilenet(t)
	params := refTensors(t)
	for _, name := range imagesWithInputs(t) {
		taps := []string{"output"}
		var want = map[string][]uint8{}
		for _, p := range params {
			path := filepath.Join(refDir, "intermediates", name+"."+p.Tensor+".npy")
			if _, err := os.Stat(path); err != nil {
				continue
			}
			_, want[p.Tensor] = readNpy[uint8](t, path)
			taps = append(taps, p.Tensor)
		}
		out, err := m.Run(context.Background(), map[string]*tensor.Dense{"input": inputTensor(t, name)}, taps...)
		if err != nil {
			t.Fatal(err)
		}
		for tap, w := range want {
			got := out[tap].Data().([]uint8)
			if len(got) != len(w) {
				t.Fatalf("%s %s: %d values, want %d", name, tap, len(got), len(w))
			}
			bad := 0
			for i := range got {
				if got[i] != w[i] {
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s %s: %d of %d values differ from ONNX Runtime", name, tap, bad, len(w))
			}
		}
		_, wantLogits := readNpy[float32](t, filepath.Join(refDir, name+".logits.npy"))
		if got := out["output"].Data().([]float32); !slices.Equal(got, wantLogits) {
			t.Errorf("%s: logits differ from ONNX Runtime", name)
		}
	}
}

// TestMobilenetBatch: one batch of every committed image gives each image's
// logits bit for bit.
func TestMobilenetBatch(t *testing.T) {
	m := loadMobilenet(t)
	names := imagesWithInputs(t)
	in := map[string]*tensor.Dense{"input": inputTensor(t, names...)}
	check := func(label string) {
		out, err := m.Run(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if s := out["output"].Shape(); !slices.Equal(s, []int{len(names), 1000}) {
			t.Fatalf("%s: output shape %v", label, s)
		}
		got := out["output"].Data().([]float32)
		for i, n := range names {
			_, want := readNpy[float32](t, filepath.Join(refDir, n+".logits.npy"))
			if !slices.Equal(got[i*1000:(i+1)*1000], want) {
				t.Errorf("%s: %s (batch position %d): logits differ from ONNX Runtime", label, n, i)
			}
		}
	}
	forEachKernel(t, "batch", func(t *testing.T) { check("batch") })
}

// TestMobilenetTaps: the torchvision module table names real tensors with
// the documented shapes, and Dequantize gives their real values.
func TestMobilenetTaps(t *testing.T) {
	m := loadMobilenet(t)
	names := []string{"input"}
	for _, tap := range MobileNetV2Taps {
		names = append(names, tap.Tensor)
	}
	shapes, err := m.Shapes(context.Background(), map[string][]int{"input": {2, 3, 224, 224}}, names...)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(shapes["input"], []int{2, 3, 224, 224}) {
		t.Errorf("input: shape %v", shapes["input"])
	}
	want := map[string][]int{
		"features.0": {2, 32, 112, 112}, "features.1": {2, 16, 112, 112}, "features.3": {2, 24, 56, 56},
		"features.6": {2, 32, 28, 28}, "features.10": {2, 64, 14, 14}, "features.13": {2, 96, 14, 14},
		"features.16": {2, 160, 7, 7}, "features.17": {2, 320, 7, 7}, "features.18": {2, 1280, 7, 7},
		"avgpool": {2, 1280, 1, 1}, "classifier": {2, 1000},
	}
	for _, tap := range MobileNetV2Taps {
		if w, ok := want[tap.Module]; ok && !slices.Equal(shapes[tap.Tensor], w) {
			t.Errorf("%s (%s): shape %v, want %v", tap.Module, tap.Tensor, shapes[tap.Tensor], w)
		}
		if _, ok := m.Quantization(tap.Tensor); !ok && tap.Tensor != "output" {
			t.Errorf("%s (%s): no quantization parameters", tap.Module, tap.Tensor)
		}
	}
	// Dequantized output_quantized is the float output, as DequantizeLinear.
	out, err := m.Run(context.Background(), map[string]*tensor.Dense{"input": inputTensor(t, "cat")}, "output_quantized", "output")
	if err != nil {
		t.Fatal(err)
	}
	f, err := m.Dequantize("output_quantized", out["output_quantized"])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Data().([]float32), out["output"].Data().([]float32)) {
		t.Error("Dequantize(output_quantized) differs from the graph's DequantizeLinear")
	}
	q, _ := m.Quantization("output_quantized")
	if q.Scale != float32(0.16014458239078522) || q.ZeroPoint != 75 {
		t.Errorf("output_quantized: quantization %+v, want scale 0.16014458 zero point 75", q)
	}
}

// TestMobilenetReleases: intermediates are dropped after their last consumer,
// so at most a handful (a residual branch and its input) are alive at once.
func TestMobilenetReleases(t *testing.T) {
	m := loadMobilenet(t)
	peak := 0
	liveHook = func(n int) { peak = max(peak, n) }
	defer func() { liveHook = nil }()
	if _, err := m.Run(context.Background(), map[string]*tensor.Dense{"input": inputTensor(t, "cat")}); err != nil {
		t.Fatal(err)
	}
	if peak == 0 || peak > 4 {
		t.Errorf("peak of %d live tensors (graph input included), want 1 to 4 of the %d node outputs", peak, len(m.Nodes()))
	}
}
