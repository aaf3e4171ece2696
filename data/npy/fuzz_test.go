package npy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzDecode feeds damaged .npy files to every reader: each returns an
// array whose shape matches its data, or an error naming the file, never a
// panic or an allocation the file cannot back. Decode, ReadFile and Open
// must agree. Seeds are the numpy fixtures (whole and cut) and the files in
// testdata/fuzz/FuzzDecode, which also keeps any crasher found.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"f4_3x4", "f8_fortran_3x2", "i4_fortran_2x3", "u1_2x2x3", "f4_v2_2x2", "f4_scalar"} {
		b, err := os.ReadFile(filepath.Join(fixtureDir, name+".npy"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)-3])
		f.Add(append(b, 0, 0, 0, 0))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		path := filepath.Join(t.TempDir(), "r.npy")
		if err := os.WriteFile(path, raw, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := Decode[float32](path, raw)
		b, ferr := ReadFile[float32](path)
		if (err == nil) != (ferr == nil) {
			t.Fatalf("Decode error %v, ReadFile error %v", err, ferr)
		}
		for _, e := range []error{err, ferr} {
			if e != nil && !strings.HasPrefix(e.Error(), path+": ") {
				t.Fatalf("error %q does not name the file", e)
			}
		}
		if err == nil {
			n := 1
			for _, d := range a.Shape {
				n *= d
			}
			if len(a.Data) != n {
				t.Fatalf("shape %v with %d values", a.Shape, len(a.Data))
			}
			if !slices.Equal(a.Shape, b.Shape) || !slices.EqualFunc(a.Data, b.Data, func(x, y float32) bool { return x == y || x != x && y != y }) {
				t.Fatalf("Decode and ReadFile disagree")
			}
		}
		m, err := Open(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("Open error %q does not name the file", err)
			}
			return
		}
		defer m.Close()
		if a == nil || len(a.Shape) != 2 || m.Rows() != a.Shape[0] || m.Cols() != a.Shape[1] {
			t.Fatalf("Open reads (%d,%d), Decode %v", m.Rows(), m.Cols(), a)
		}
		var got []float32
		if err := m.Each(func(_ int, block []float32) error { got = append(got, block...); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.EqualFunc(got, a.Data, func(x, y float32) bool { return x == y || x != x && y != y }) {
			t.Fatalf("Open and Decode disagree")
		}
	})
}
