package runs

import (
	"bytes"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixtureTensors are the tensors testdata/train/make_safetensors.py writes.
func fixtureTensors() []NamedTensor {
	w := make([]float32, 24)
	for i := range w {
		w[i] = float32(i)*0.5 - 3
	}
	return []NamedTensor{
		{"0.weight", []int{2, 3, 2, 2}, w, nil},
		{"0.bias", []int{2}, []float32{1e-3, -2.5}, nil},
		{"readout.weight", []int{1, 3}, []float32{3.14159, -1e30, 1e-30}, nil},
		{"scalar", []int{}, []float32{7.25}, nil},
	}
}

func TestSafetensorsMatchesPythonWriter(t *testing.T) {
	fixture := filepath.Join("..", "..", "testdata", "train", "safetensors_fixture.safetensors")
	got, meta, err := ReadSafetensors(fixture)
	if err != nil {
		t.Fatal(err)
	}
	want := fixtureTensors()
	byName := map[string]NamedTensor{}
	for _, tn := range got {
		byName[tn.Name] = tn
	}
	if len(got) != len(want) {
		t.Fatalf("read %d tensors, want %d", len(got), len(want))
	}
	for _, w := range want {
		g, ok := byName[w.Name]
		if !ok || !reflect.DeepEqual(g.Shape, w.Shape) || !reflect.DeepEqual(g.Data, w.Data) {
			t.Errorf("tensor %q = %+v, want %+v", w.Name, g, w)
		}
	}
	if !reflect.DeepEqual(meta, map[string]string{"spec": "layers=1", "format": "pt"}) {
		t.Errorf("metadata = %v", meta)
	}

	// Our writer must produce the same bytes as the independent Python one.
	out := filepath.Join(t.TempDir(), "w.safetensors")
	if err := writeSafetensors(out, want, meta); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(fixture)
	b, _ := os.ReadFile(out)
	if !bytes.Equal(a, b) {
		t.Errorf("Go writer output differs from the Python fixture:\n%q\n%q", b[:min(len(b), 200)], a[:min(len(a), 200)])
	}
}

func TestSafetensorsRoundTripAndErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.safetensors")
	tensors := []NamedTensor{{"b", []int{3}, []float32{float32(math.Inf(1)), -0, 1}, nil}, {"a", []int{1, 1}, []float32{2}, nil}}
	if err := writeSafetensors(path, tensors, nil); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadSafetensors(path)
	if err != nil || meta != nil || len(got) != 2 || got[0].Name != "a" || got[1].Data[0] != float32(math.Inf(1)) {
		t.Fatalf("round trip: %+v %v %v", got, meta, err)
	}
	if err := writeSafetensors(path, []NamedTensor{{"x", []int{2}, []float32{1}, nil}}, nil); err == nil || !strings.Contains(err.Error(), `tensor "x": shape [2] holds 2 values, found 1`) {
		t.Errorf("bad shape: %v", err)
	}
	if err := writeSafetensors(path, []NamedTensor{{"x", nil, []float32{1}, nil}, {"x", nil, []float32{1}, nil}}, nil); err == nil || !strings.Contains(err.Error(), "given twice") {
		t.Errorf("duplicate: %v", err)
	}

	// float64 tensors round-trip bit for bit, beside float32 ones.
	exact := []NamedTensor{{Name: "coef", Shape: []int{2, 2}, Data64: []float64{math.Pi, -1e-300, math.Nextafter(1, 2), math.Inf(-1)}},
		{Name: "f32", Shape: []int{1}, Data: []float32{0.5}}}
	if err := writeSafetensors(path, exact, map[string]string{"k": "v"}); err != nil {
		t.Fatal(err)
	}
	if got, meta, err := ReadSafetensors(path); err != nil || !reflect.DeepEqual(got, exact) || meta["k"] != "v" {
		t.Errorf("float64 round trip: %+v %v %v, want %+v", got, meta, err, exact)
	}
	if err := writeSafetensors(path, []NamedTensor{{Name: "x", Shape: []int{1}, Data: []float32{1}, Data64: []float64{1}}}, nil); err == nil || !strings.Contains(err.Error(), "both float32 and float64") {
		t.Errorf("two dtypes: %v", err)
	}

	full, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "train", "safetensors_fixture.safetensors"))
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"short", full[:5], "want at least 8"},
		{"truncated header", full[:40], "truncated"},
		{"truncated data", full[:len(full)-4], "outside the"},
		{"not json", append([]byte{8, 0, 0, 0, 0, 0, 0, 0}, []byte("notjson!")...), "header is not JSON"},
		{"dtype", append([]byte{56, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}  `)...), `want dtype F32 or F64, found "F16"`},
		{"size64", append([]byte{56, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,8]}}  xxxxxxxx`)...), "needs 16 bytes, offsets give 8"},
		{"size", append([]byte{56, 0, 0, 0, 0, 0, 0, 0}, []byte(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}  xxxx`)...), "needs 8 bytes, offsets give 4"},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.data, 0o644)
		_, _, err := ReadSafetensors(p)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want it to name the file and contain %q", tc.name, err, tc.want)
		}
	}
}

// writeSafetensors writes a safetensors file as runs save one.
func writeSafetensors(path string, tensors []NamedTensor, metadata map[string]string) error {
	return WriteFileAtomic(path, func(w io.Writer) error { return EncodeSafetensors(w, tensors, metadata) })
}
