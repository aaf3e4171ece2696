package train_test

import (
	"context"
	"strconv"
	"testing"

	"itscope/data/npy"
	"itscope/model/jobs"
	"itscope/model/readout"
	"itscope/model/runs"
	"itscope/model/train"
)

// TestGridRunsOnEngine runs a two-point training grid two at a time: each
// point is saved as its own run with its own settings.
func TestGridRunsOnEngine(t *testing.T) {
	ds := train.SyntheticDataset(40, 3, 5)
	g := readout.GridSpec{CNN: "layers=1,channels=4,pool=4", LR: []float64{1e-3, 1e-2}, Epochs: []int{1}, Batch: []int{16}}
	points, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	engine := jobs.NewEngine(store, 2)
	var ids []jobs.JobID
	for _, p := range points {
		id, err := engine.Submit(readout.GridJob(ds, p, t.TempDir(), 0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	lrs := map[string]bool{}
	for _, id := range ids {
		st, err := engine.Wait(context.Background(), id)
		if err != nil || st.State != runs.Done {
			t.Fatalf("job %d: %s %v %s", id, st.State, err, st.Err)
		}
		run, err := store.Load(st.RunID)
		if err != nil {
			t.Fatal(err)
		}
		var cfg train.TrainConfig
		if err := cfg.UnmarshalJSON(run.Meta.Spec); err != nil {
			t.Fatal(err)
		}
		lrs[strconv.FormatFloat(cfg.LR, 'g', -1, 64)] = true
		if len(run.Loss) != 3 || run.Meta.Kind != "train" {
			t.Errorf("run %s: kind %s, %d loss rows", st.RunID, run.Meta.Kind, len(run.Loss))
		}
	}
	if !lrs["0.001"] || !lrs["0.01"] {
		t.Errorf("saved learning rates %v", lrs)
	}
}
