package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
)

func seq(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(i)*0.25 - 3
	}
	return v
}

// TestWriterRoundTrip streams a matrix in uneven row blocks, then reads it
// back by rows, by column ranges and single rows, and through npyio (an
// independent reader).
func TestWriterRoundTrip(t *testing.T) {
	const rows, cols = 7, 5
	want := seq(rows * cols)
	path := filepath.Join(t.TempDir(), "m.npy")
	w, err := Create(path, rows, cols)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][2]int{{0, 3}, {3, 4}, {4, 7}} {
		if err := w.WriteRows(r[0], want[r[0]*cols:r[1]*cols]); err != nil {
			t.Fatal(err)
		}
	}
	if w.RowsWritten() != rows {
		t.Errorf("RowsWritten %d, want %d", w.RowsWritten(), rows)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file in place before Commit: %v", err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 || (st.Size()-4*rows*cols)%64 != 0 {
		t.Errorf("committed file: %v, %v (want mode 0644 and the data 64-byte aligned)", st, err)
	}

	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Rows() != rows || f.Cols() != cols || f.Path() != path {
		t.Fatalf("Open: (%d,%d) %s", f.Rows(), f.Cols(), f.Path())
	}
	f.BlockRows = 3
	var got []float32
	var firsts []int
	if err := f.Each(func(first int, block []float32) error {
		firsts = append(firsts, first)
		got = append(got, block...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || !slices.Equal(firsts, []int{0, 3, 6}) {
		t.Errorf("Each: blocks at %v, values %v", firsts, got)
	}
	cols2 := make([]float32, rows*2)
	if err := f.ReadCols(2, 2, cols2); err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if cols2[2*i] != want[i*cols+2] || cols2[2*i+1] != want[i*cols+3] {
			t.Fatalf("ReadCols row %d: %v", i, cols2[2*i:2*i+2])
		}
	}
	row := make([]float32, 3)
	if err := f.ReadRowCols(6, 2, row); err != nil || !slices.Equal(row, want[6*cols+2:7*cols]) {
		t.Errorf("ReadRowCols: %v, %v", row, err)
	}
	for _, err := range []error{f.ReadCols(4, 2, make([]float32, rows*2)), f.ReadRowCols(7, 0, row), f.ReadRowCols(0, 3, row)} {
		if err == nil || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("out-of-range read: error %v", err)
		}
	}

	var viaNpyio []float32
	raw, _ := os.ReadFile(path)
	if err := npyio.Read(bytes.NewReader(raw), &viaNpyio); err != nil || !slices.Equal(viaNpyio, want) {
		t.Errorf("npyio reads %v, %v", viaNpyio, err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, want, rows, cols); err != nil || !bytes.Equal(buf.Bytes(), raw) {
		t.Errorf("Write differs from the streamed file (err %v)", err)
	}
}

// TestWriteFileShapes writes 1-D and 3-D arrays and reads them back, and
// checks that npyio agrees on the shape.
func TestWriteFileShapes(t *testing.T) {
	for _, shape := range [][]int{{6}, {2, 3, 1}, {0, 4}, {3, 0}} {
		n := 1
		for _, d := range shape {
			n *= d
		}
		path := filepath.Join(t.TempDir(), "a.npy")
		if err := WriteFile(path, seq(n), shape...); err != nil {
			t.Fatal(err)
		}
		a, err := ReadFile[float32](path)
		if err != nil || !slices.Equal(a.Shape, shape) || !slices.Equal(a.Data, seq(n)) {
			t.Errorf("shape %v: read %v, %v", shape, a, err)
		}
		f, _ := os.Open(path)
		r, err := npyio.NewReader(f)
		f.Close()
		if err != nil || !slices.Equal(r.Header.Descr.Shape, shape) {
			t.Errorf("shape %v: npyio sees %v, %v", shape, r, err)
		}
	}
}

// TestWriterErrors: bad shapes, rows out of order or beyond the shape, a
// short Commit and Abort leave no file, neither final nor temporary.
func TestWriterErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.npy")
	for _, shape := range [][]int{nil, {-1, 2}} {
		if _, err := Create(path, shape...); err == nil {
			t.Errorf("Create shape %v: no error", shape)
		}
	}
	if err := WriteFile(path, seq(5), 2, 3); err == nil || !strings.Contains(err.Error(), "want whole rows of 3 values from row 0 of 2, found 5 values at row 0") {
		t.Errorf("WriteFile with 5 values for (2,3): %v", err)
	}
	if err := Write(&bytes.Buffer{}, seq(5), 2, 3); err == nil || !strings.Contains(err.Error(), "shape [2 3] needs 6 values, found 5") {
		t.Errorf("Write with 5 values for (2,3): %v", err)
	}
	w, err := Create(path, 3, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		first int
		n     int
	}{{1, 2}, {0, 3}, {0, 8}} {
		if err := w.WriteRows(tc.first, seq(tc.n)); err == nil || !strings.HasPrefix(err.Error(), path+": ") {
			t.Errorf("WriteRows(%d, %d values): error %v", tc.first, tc.n, err)
		}
	}
	if err := w.WriteRows(0, seq(4)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err == nil || !strings.Contains(err.Error(), "2 of 3 rows written") {
		t.Errorf("short Commit: %v", err)
	}
	w, err = Create(path, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Abort()
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("files left behind: %v", left)
	}
}
