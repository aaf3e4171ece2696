package train

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"itscope/data"
	"itscope/data/npy"
	"itscope/model/runs"
)

// TestCotrainBothHeadsLearn co-trains the embedded MobileNetV2 from
// features.17 on the NX-414-layout fixture, which has object labels: the
// training cross-entropy must fall (the fixture's responses are noise, so the
// MSE need not), and the saved weights must reproduce the validation
// predictions, and predict the test split, which has no responses.
func TestCotrainBothHeadsLearn(t *testing.T) {
	ds, err := data.Open(filepath.Join("..", "..", "testdata", "data", "nx414_fixed.h5"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultCotrainConfig()
	cfg.Net, cfg.Trainable, cfg.Lambda = "mobilenetv2", "features.17", 1
	frozen := "features.16"
	if raceEnabled {
		// The race detector makes the inverted residual minutes long.
		cfg.Trainable, frozen = "features.18", "features.17"
	}
	cfg.Train.Epochs, cfg.Train.Batch, cfg.Train.Patience, cfg.Train.Seed = 6, 8, 0, 3
	cfg.CacheDir = t.TempDir()
	run, err := Cotrain(context.Background(), ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Classes []string  `json:"classes"`
		MSE     []float64 `json:"epoch_train_mse"`
		CE      []float64 `json:"epoch_train_ce"`
		Frozen  string    `json:"frozen_tap"`
	}
	if err := json.Unmarshal(run.Meta.Spec, &spec); err != nil {
		t.Fatal(err)
	}
	t.Logf("classes %v\nmse %v\nce %v", spec.Classes, spec.MSE, spec.CE)
	if len(spec.Classes) < 2 || spec.Frozen != frozen {
		t.Fatalf("classes %v, frozen tap %q", spec.Classes, spec.Frozen)
	}
	last := len(spec.CE) - 1
	if len(spec.CE) != 6 || !(spec.CE[last] < 0.9*spec.CE[0]) {
		t.Errorf("cross-entropy per epoch %v: want 6 epochs and a fall of more than 10%%", spec.CE)
	}
	if len(spec.MSE) != 6 || math.IsNaN(spec.MSE[last]) {
		t.Errorf("MSE per epoch %v", spec.MSE)
	}

	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	id, err := store.Save(run)
	if err != nil {
		t.Fatal(err)
	}
	p, err := PredictRun(context.Background(), store.Path(id), ds, data.Val)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Predictions {
		if d := math.Abs(float64(v - run.Predictions[i])); d > 1e-3*(1+math.Abs(float64(v))) {
			t.Fatalf("prediction %d from the saved weights = %v, saved %v", i, v, run.Predictions[i])
		}
	}
	test, err := PredictRun(context.Background(), store.Path(id), ds, data.Test)
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := ds.SplitByName(data.Test); test.Rows != len(s.Indices) || test.Scores != nil {
		t.Errorf("test split: %d rows (want %d) and scores %v (want none: no responses)", test.Rows, len(s.Indices), test.Scores)
	}
}

func TestCotrainErrors(t *testing.T) {
	ds := SyntheticDataset(20, 3, 1)
	for _, tc := range []struct{ net, tap, want string }{
		{"mobilenetv2", "features.99", `no trunk stage "features.99"`},
		{"mobilenetv2", "classifier", `no trunk stage "classifier"`},
		{"resnet18-random", "layer1", "cannot be the first trainable stage"},
	} {
		cfg := DefaultCotrainConfig()
		cfg.Net, cfg.Trainable, cfg.CacheDir = tc.net, tc.tap, t.TempDir()
		_, err := Cotrain(context.Background(), ds, cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: error %v, want %q", tc.net, tc.tap, err, tc.want)
		}
	}
}
