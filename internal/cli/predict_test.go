package cli

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"itscope/data"
	"itscope/data/npy"
	"itscope/model/runs"
)

// TestPredictReadoutTestSplit fits a read-out on the NX-414-layout fixture
// and predicts its test split (no responses): (test images x neurons) as
// .npy, and as a course-style CSV whose rows are the test images in order.
func TestPredictReadoutTestSplit(t *testing.T) {
	runsDir := t.TempDir()
	code, _, errOut := run(t, "fit", "--data", nx414Fixture, "--features", "pixels:8", "--pca", "10", "--model", "ridgecv",
		"--folds", "3", "--runs", runsDir)
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errOut)
	}
	store, _ := runs.OpenStore(runsDir)
	metas, err := store.List()
	if err != nil || len(metas) != 1 {
		t.Fatalf("runs: %v %v", metas, err)
	}
	id := metas[0].ID
	ds, err := data.Open(nx414Fixture)
	if err != nil {
		t.Fatal(err)
	}
	test, _ := ds.SplitByName(data.Test)

	npyPath := filepath.Join(t.TempDir(), "test.npy")
	if code, out, errOut := run(t, "predict", "--run", id, "--runs", runsDir, "--data", nx414Fixture, "--split", "test", "-o", npyPath); code != 0 {
		t.Fatalf("predict: exit %d: %s %s", code, out, errOut)
	}
	a, err := npy.ReadFile[float32](npyPath)
	if err != nil || len(a.Shape) != 2 {
		t.Fatalf("test.npy: %v, shape %v", err, a)
	}
	pred, rows, cols := a.Data, a.Shape[0], a.Shape[1]
	if rows != len(test.Indices) || cols != ds.NumNeurons || rows != 6 || cols != 168 {
		t.Fatalf("test.npy: %d x %d (%v), want %d test images x %d neurons", rows, cols, err, len(test.Indices), ds.NumNeurons)
	}

	csvPath := filepath.Join(t.TempDir(), "test.csv")
	if code, _, errOut := run(t, "predict", "--run", id, "--runs", runsDir, "--data", nx414Fixture, "--split", "test", "-o", csvPath); code != 0 {
		t.Fatalf("predict -o csv: exit %d: %s", code, errOut)
	}
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 1+rows {
		t.Fatalf("test.csv: %d records, %v; want a header and %d rows", len(recs), err, rows)
	}
	if h := recs[0]; len(h) != 1+cols || h[0] != "image" || h[1] != "n0" || h[cols] != "n167" {
		t.Errorf("header %v", recs[0][:min(4, len(recs[0]))])
	}
	for i, rec := range recs[1:] {
		if rec[0] != ds.Images.Name(test.Indices[i]) {
			t.Errorf("row %d names image %q, want %q", i, rec[0], ds.Images.Name(test.Indices[i]))
		}
		for j, s := range rec[1:] {
			v, err := strconv.ParseFloat(s, 32)
			if err != nil || float32(v) != pred[i*cols+j] {
				t.Fatalf("row %d neuron %d: %q, the .npy has %v", i, j, s, pred[i*cols+j])
			}
		}
	}

	if code, _, errOut := run(t, "predict", "--run", id, "--runs", runsDir, "--data", "demo", "--split", "val", "-o", npyPath); code != 1 ||
		!strings.Contains(errOut, "predicts 168 neurons") || !strings.Contains(errOut, "has 89") {
		t.Errorf("predict on a dataset with other neurons: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "predict", "--run", id, "--runs", runsDir, "-o", "x.txt"); code != 2 || !strings.Contains(errOut, "want a .npy or .csv") {
		t.Errorf("predict -o x.txt: exit %d, %q", code, errOut)
	}
}

// TestFitWarnsOnce checks that a read-out warning reaches the terminal once:
// a grid whose top end CV chooses.
func TestFitWarnsOnce(t *testing.T) {
	code, _, errOut := run(t, "fit", "--data", smallFolder(t, 40, 3), "--features", "pixels:8:gray", "--model", "ridgecv",
		"--alphas", "1e-9,1e-8", "--no-save")
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errOut)
	}
	if n := strings.Count(errOut, "an end of the grid"); n != 1 {
		t.Errorf("the warning is printed %d times, want once:\n%s", n, errOut)
	}
}
