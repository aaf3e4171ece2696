package runs

import (
	"math"
	"testing"
)

// TestStoreFromEarlierBuildLoads opens a store written by the binary from
// before the model/ split (testdata/store-0.1.0): run.json's keys and status
// values, neurons.csv, loss.csv and predictions.npy read as they were saved.
func TestStoreFromEarlierBuildLoads(t *testing.T) {
	st, err := openNpyStore("testdata/store-0.1.0")
	if err != nil {
		t.Fatal(err)
	}
	metas, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id, name string
		kind     Kind
		evMean   float64
		loss     int
	}{
		{"20261204-223820.667-fit-5cca88", "ridge on pixels:8", KindFit, 0.015893822564783614, 0},
		{"20261204-223825.399-train-7c057c", "", KindTrain, 0.010226294886849254, 18},
	} {
		var m *RunMeta
		for i := range metas {
			if metas[i].ID == tc.id {
				m = &metas[i]
			}
		}
		if m == nil {
			t.Fatalf("run %s not listed; List = %+v", tc.id, metas)
		}
		if m.Kind != tc.kind || m.Status != Done || !m.Status.Finished() {
			t.Errorf("%s: kind %q status %q, want %q done", tc.id, m.Kind, m.Status, tc.kind)
		}
		if tc.name != "" && m.Name != tc.name {
			t.Errorf("%s: name %q, want %q", tc.id, m.Name, tc.name)
		}
		if s := m.Summary; s.EVMean != tc.evMean || s.NNeurons != 89 || s.NVal != 120 || s.NTrain != 1080 {
			t.Errorf("%s: summary EV %v, %d neurons, %d/%d images", tc.id, s.EVMean, s.NNeurons, s.NTrain, s.NVal)
		}
		run, err := st.Load(tc.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Neurons) != 89 || run.PredRows != 120 || run.PredCols != 89 || len(run.Predictions) != 120*89 {
			t.Errorf("%s: %d neuron scores, predictions %dx%d", tc.id, len(run.Neurons), run.PredRows, run.PredCols)
		}
		var evSum float64
		var finite int
		for _, n := range run.Neurons {
			if !math.IsNaN(n.EV) {
				evSum += n.EV
				finite++
			}
		}
		if finite == 0 || math.Abs(evSum/float64(finite)-tc.evMean) > 1e-9 {
			t.Errorf("%s: mean of neurons.csv's EV %v over %d neurons, run.json says %v", tc.id, evSum/float64(finite), finite, tc.evMean)
		}
		if len(run.Loss) != tc.loss {
			t.Errorf("%s: %d loss rows, want %d", tc.id, len(run.Loss), tc.loss)
		}
		// loss.csv had no elapsed_s column then: the wall time is unknown.
		for _, q := range run.Loss {
			if !math.IsNaN(q.Elapsed) || math.IsNaN(q.TrainLoss) {
				t.Errorf("%s: loss row %+v: want a train loss and no elapsed time", tc.id, q)
				break
			}
		}
	}
}
