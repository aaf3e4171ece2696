package onnx

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

// TestQLinearOpsAgainstORT runs the one-operator int8 models of
// testdata/onnx/qlinear (make_qlinear_ops.py: uint8 weights with zero points,
// groups, dilation, odd sizes, scalar and broadcast adds, NHWC pooling,
// per-column matmul, int8 quantization) and requires ONNX Runtime's outputs
// bit for bit, on every int8 kernel path the CPU has.
func TestQLinearOpsAgainstORT(t *testing.T) {
	forEachKernel(t, "path", qlinearOpsAgainstORT)
}

func qlinearOpsAgainstORT(t *testing.T) {
	dir := filepath.Join(refDir, "qlinear")
	list, err := os.ReadFile(filepath.Join(dir, "cases.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range strings.Fields(string(list)) {
		t.Run(name, func(t *testing.T) {
			m, err := LoadFile(filepath.Join(dir, name+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]*tensor.Dense{}
			for i := 0; ; i++ {
				path := filepath.Join(dir, name+".in"+string(rune('0'+i))+".npy")
				if _, err := os.Stat(path); err != nil {
					break
				}
				in["in"+string(rune('0'+i))] = readNpyDense(t, path)
			}
			out, err := m.Run(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			want := readNpyDense(t, filepath.Join(dir, name+".out.npy"))
			got := out["y"]
			if !slices.Equal(got.Shape(), want.Shape()) || got.Dtype() != want.Dtype() {
				t.Fatalf("%v %v, want %v %v", got.Dtype(), got.Shape(), want.Dtype(), want.Shape())
			}
			g, w := got.Data(), want.Data()
			bad := 0
			switch w := w.(type) {
			case []uint8:
				for i, v := range g.([]uint8) {
					if v != w[i] {
						bad++
					}
				}
			case []int8:
				for i, v := range g.([]int8) {
					if v != w[i] {
						bad++
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d values differ from ONNX Runtime", bad, got.Shape().TotalSize())
			}
		})
	}
}
