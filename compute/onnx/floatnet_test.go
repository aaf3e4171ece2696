package onnx

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"gorgonia.org/tensor"
)

// TestFloatNetAgainstPyTorch runs testdata/onnx/float_net.onnx (every float
// operator, exported by torch.onnx.export; make_float_net.py) and compares
// each tap with PyTorch's values.
func TestFloatNetAgainstPyTorch(t *testing.T) {
	m, err := LoadFile(filepath.Join(refDir, "float_net.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	shape, x := readNpy[float32](t, filepath.Join(refDir, "float_net.input.npy"))
	in := map[string]*tensor.Dense{"input": tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))}
	taps := []string{"relu1", "add", "concat", "maxpool", "avgpool", "gemm", "matmul", "softmax"}
	out, err := m.Run(context.Background(), in, taps...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tap := range taps {
		wshape, want := readNpy[float32](t, filepath.Join(refDir, "float_net."+tap+".npy"))
		got := out[tap]
		if !slices.Equal(got.Shape(), wshape) {
			t.Errorf("%s: shape %v, want %v", tap, got.Shape(), wshape)
			continue
		}
		if e := relErr(got.Data().([]float32), want); e > 1e-4 {
			t.Errorf("%s: relative error %.3g, want <= 1e-4", tap, e)
		}
	}
}

// relErr is ||got - want|| / ||want|| (max norm).
func relErr(got, want []float32) float64 {
	var num, den float64
	for i := range want {
		num = math.Max(num, math.Abs(float64(got[i])-float64(want[i])))
		den = math.Max(den, math.Abs(float64(want[i])))
	}
	return num / den
}

// TestConcurrentRuns: Run is safe for concurrent use (run under -race).
func TestConcurrentRuns(t *testing.T) {
	m, err := LoadFile(filepath.Join(refDir, "float_net.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	shape, x := readNpy[float32](t, filepath.Join(refDir, "float_net.input.npy"))
	_, want := readNpy[float32](t, filepath.Join(refDir, "float_net.softmax.npy"))
	in := map[string]*tensor.Dense{"input": tensor.New(tensor.WithShape(shape...), tensor.WithBacking(x))}
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			out, err := m.Run(context.Background(), in, "softmax")
			if err == nil && relErr(out["softmax"].Data().([]float32), want) > 1e-4 {
				err = fmt.Errorf("softmax differs from PyTorch")
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
