package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The run store's codec writes a matrix that reads back to the bit, and
// refuses an array that is not 2-D by the file's name and shape.
func TestMatricesRoundTripAndShape(t *testing.T) {
	dir := t.TempDir()
	var buf bytes.Buffer
	want := seq(6)
	if err := (Matrices{}).WriteMatrix(&buf, want, 2, 3); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "predictions.npy")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got, rows, cols, err := (Matrices{}).ReadMatrix(path)
	if err != nil || rows != 2 || cols != 3 || !slices.Equal(got, want) {
		t.Fatalf("read back %v (%d x %d, %v), want %v (2 x 3)", got, rows, cols, err, want)
	}
	if err := (Matrices{}).WriteMatrix(&buf, want, 4, 3); err == nil {
		t.Error("writing 6 values as 4 x 3: no error")
	}
	flat := filepath.Join(dir, "flat.npy")
	if err := WriteFile(flat, want, 6); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := (Matrices{}).ReadMatrix(flat); err == nil || !strings.Contains(err.Error(), "flat.npy") || !strings.Contains(err.Error(), "[6]") {
		t.Errorf("reading a 1-D array as a matrix: err = %v, want one naming the file and shape [6]", err)
	}
}
