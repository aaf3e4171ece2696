package runs

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// training is a CNN run's meta with the spec train.TrainCNN records.
func training(lr float64) RunMeta {
	spec, _ := json.Marshal(map[string]any{"cnn": "layers=3,channels=32-64-128,size=64", "lr": lr, "wd": 0.001,
		"batch": 32, "epochs": 10, "patience": 5, "seed": 7, "optimizer": "adam", "momentum": 0.9, "data": "demo"})
	return RunMeta{Kind: KindTrain, Model: "cnn", Strategy: "layers=3,channels=32-64-128,size=64", Seed: 7, Spec: spec,
		Summary: Summary{EVMean: 0.1}}
}

// readoutRun is a ridge CV read-out's meta.
func readoutRun() RunMeta {
	spec, _ := json.Marshal(map[string]any{"features": "mobilenetv2:features.14", "pca": 100, "model": "ridgecv", "seed": 0})
	return RunMeta{Kind: "fit", Model: "ridgecv", Strategy: "mobilenetv2:features.14", Spec: spec,
		Summary:   Summary{PCA: 100, Alpha: 316.2277},
		AlphaGrid: &AlphaGrid{Alphas: []float64{0.01, 1, 100, 10000}, Default: true}}
}

func TestHparams(t *testing.T) {
	for _, c := range []struct {
		name string
		m    RunMeta
		want map[string]string
	}{
		{"training", training(3e-4), map[string]string{"readout": "cnn", "seed": "7", "cnn": "layers=3,channels=32-64-128,size=64",
			"lr": "0.0003", "wd": "0.001", "batch": "32", "epochs": "10", "patience": "5", "optimizer": "adam"}},
		{"read-out", readoutRun(), map[string]string{"readout": "ridgecv", "seed": "0", "features": "mobilenetv2:features.14",
			"pca": "100", "alpha": "316.2", "grid": "default, 4 alphas 0.01..1e+04"}},
		{"no spec", RunMeta{Model: "linear", Strategy: "pixels:32"}, map[string]string{"readout": "linear", "seed": "0",
			"features": "pixels:32", "pca": "0"}},
	} {
		got := c.m.Hparams()
		for _, name := range HparamNames {
			if got[name] != c.want[name] {
				t.Errorf("%s: %s = %q, want %q", c.name, name, got[name], c.want[name])
			}
		}
	}
}

// TestDistinctHparams: two trainings that differ in lr are told apart by lr
// alone, also beside a read-out, which has no lr; a training and a read-out
// differ in the settings both have.
func TestDistinctHparams(t *testing.T) {
	a, b := training(1e-3), training(3e-4)
	if got := DistinctHparams([]RunMeta{a, b}); !slices.Equal(got, []string{"lr"}) {
		t.Errorf("distinct %v, want [lr]", got)
	}
	if got := HparamText(b, []string{"lr", "features"}); got != "lr=0.0003" {
		t.Errorf("text %q, want lr=0.0003", got)
	}
	if got := DistinctHparams([]RunMeta{a, readoutRun(), b}); !slices.Equal(got, []string{"readout", "lr", "seed"}) {
		t.Errorf("distinct %v, want [readout lr seed]", got)
	}
	if got := DistinctHparams(nil); got != nil {
		t.Errorf("distinct of no runs %v", got)
	}
}

// TestNote: a note is written beside run.json, which does not change; it
// comes back with the run's meta and in the export; an empty note removes
// it.
func TestNote(t *testing.T) {
	store, err := openNpyStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := training(3e-4)
	id, err := store.Save(&Run{Meta: m})
	if err != nil {
		t.Fatal(err)
	}
	runJSON := filepath.Join(store.Path(id), RunJSON)
	before, _ := os.ReadFile(runJSON)
	if err := store.SetNote(id, "  lr too low, rerun at 1e-3 \n"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(runJSON)
	if !bytes.Equal(before, after) {
		t.Error("setting a note changed run.json")
	}
	got, err := store.LoadMeta(id)
	if err != nil || got.Note != "lr too low, rerun at 1e-3" {
		t.Errorf("note %q (%v)", got.Note, err)
	}
	var buf bytes.Buffer
	metas, _ := store.List()
	if err := WriteComparisonCSV(&buf, metas); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("export %v %v", rows, err)
	}
	col := func(name string) string { return rows[1][slices.Index(rows[0], name)] }
	if col("lr") != "0.0003" || col("wd") != "0.001" || col("note") != "lr too low, rerun at 1e-3" || col("features") != "" {
		t.Errorf("export row %v", rows[1])
	}
	if err := store.SetNote(id, ""); err != nil {
		t.Fatal(err)
	}
	if got, _ := store.LoadMeta(id); got.Note != "" {
		t.Errorf("cleared note reads %q", got.Note)
	}
	if err := store.SetNote(id, strings.Repeat("x", maxNote+1)); err == nil || !strings.Contains(err.Error(), "at most 4096 bytes, found 4097") {
		t.Errorf("a long note: %v", err)
	}
	if err := store.SetNote("nosuch", "x"); err == nil || !strings.Contains(err.Error(), `no run "nosuch"`) {
		t.Errorf("a note on no run: %v", err)
	}
}
