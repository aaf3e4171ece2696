package runs

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"itscope/data/npy"
	"time"
)

func sampleRun(kind string, ev float64) *Run {
	s := NaNSummary()
	s.Model, s.Features, s.Dataset = "ridge", "pixels:8", "demo"
	s.EVMean, s.RMean, s.NVal, s.NNeurons = ev, ev/2, 2, 3
	return &Run{
		Meta: RunMeta{Kind: Kind(kind), Name: "test", Model: "ridge", Strategy: "pixels:8",
			Dataset: DatasetRef{Name: "demo", Hash: "abc"}, Seed: 7, Summary: s,
			Started: time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 27, 1, 0, 2, 0, time.UTC)},
		Neurons: []NeuronScore{
			{Neuron: 0, EV: ev, R: 0.5, MSE: 1.25, R2: 0.1, Ceiling: math.NaN(), EVCorrected: math.NaN(), Alpha: 10},
			{Neuron: 1, EV: -0.5, R: -0.25, MSE: 3, R2: -0.6, Ceiling: 0.8, EVCorrected: -0.625, Alpha: math.NaN()},
		},
		Predictions: []float32{1, 2, 3, 4, 5, 6}, PredRows: 2, PredCols: 3,
		Loss: []LossPoint{{Step: 1, Epoch: 0, TrainLoss: 2.5, ValLoss: math.NaN(), ValEV: math.NaN(), Elapsed: 0.5},
			{Step: 10, Epoch: 1, TrainLoss: 1.5, ValLoss: 1.75, ValEV: 0.125, Elapsed: 3.25}},
		Extra: []RunFile{{Name: "weights.bin", Write: func(w io.Writer) error { _, err := w.Write([]byte("w")); return err }}},
	}
}

func TestStoreSaveLoadRoundTrip(t *testing.T) {
	st, err := openNpyStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := sampleRun("fit", 0.25)
	id, err := st.Save(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := st.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Meta.ID != id || got.Meta.Status != Done || got.Meta.Version == "" || got.Meta.Seed != 7 {
		t.Errorf("meta = %+v", got.Meta)
	}
	if got.Meta.Summary.EVMean != 0.25 || !math.IsNaN(got.Meta.Summary.CeilingEVMean) || !math.IsNaN(got.Meta.Summary.MSEMean) {
		t.Errorf("summary = %+v", got.Meta.Summary)
	}
	if len(got.Neurons) != 2 || got.Neurons[1].EVCorrected != -0.625 || !math.IsNaN(got.Neurons[0].Ceiling) || got.Neurons[0].Alpha != 10 {
		t.Errorf("neurons = %+v", got.Neurons)
	}
	if got.PredRows != 2 || got.PredCols != 3 || got.Predictions[5] != 6 || got.Predictions[3] != 4 {
		t.Errorf("predictions = %v (%d x %d)", got.Predictions, got.PredRows, got.PredCols)
	}
	if len(got.Loss) != 2 || got.Loss[1].ValEV != 0.125 || !math.IsNaN(got.Loss[0].ValLoss) || got.Loss[0].Elapsed != 0.5 || got.Loss[1].Elapsed != 3.25 {
		t.Errorf("loss = %+v", got.Loss)
	}
	if b, err := os.ReadFile(filepath.Join(st.Path(id), "weights.bin")); err != nil || string(b) != "w" {
		t.Errorf("weights.bin = %q, %v", b, err)
	}
	// run.json is plain JSON (no NaN) that other tools can read.
	b, err := os.ReadFile(filepath.Join(st.Path(id), RunJSON))
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatalf("run.json is not valid JSON: %v", err)
	}
	if s := generic["summary"].(map[string]any); s["mse_mean"] != nil || s["ev_mean"] != 0.25 {
		t.Errorf("summary JSON = %v", s)
	}
	if _, ok := generic["summary"].(map[string]any)["ceiling_ev_mean"]; ok {
		t.Errorf("unknown ceiling_ev_mean should be left out: %s", b)
	}
}

func TestStoreListIgnoresPartialRuns(t *testing.T) {
	dir := t.TempDir()
	st, _ := openNpyStore(dir)
	id, err := st.Save(sampleRun("fit", 0.5))
	if err != nil {
		t.Fatal(err)
	}
	// What a writer killed mid-run leaves: a hidden temp folder, a folder
	// without run.json, a folder with a truncated run.json, a stray file.
	os.MkdirAll(filepath.Join(dir, ".partial-123"), 0o755)
	os.WriteFile(filepath.Join(dir, ".partial-123", RunJSON), []byte(`{"id":"x"}`), 0o644)
	os.MkdirAll(filepath.Join(dir, "20260101-000000.000-fit-aaaaaa"), 0o755)
	os.MkdirAll(filepath.Join(dir, "20260101-000000.000-fit-bbbbbb"), 0o755)
	os.WriteFile(filepath.Join(dir, "20260101-000000.000-fit-bbbbbb", RunJSON), []byte(`{"id":"x","kind`), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hi"), 0o644)

	runs, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].ID != id {
		t.Fatalf("List = %+v, want only %s", runs, id)
	}
	if _, err := st.Load(".partial-123"); err == nil {
		t.Error("Load of a hidden folder succeeded")
	}
	if _, err := st.Load("../x"); !errors.Is(err, ErrNoRun) || !strings.Contains(err.Error(), "no run") {
		t.Errorf("Load(../x) error = %v, want ErrNoRun", err)
	}
	if _, err := st.LoadMeta("run-that-never-was"); !errors.Is(err, ErrNoRun) || !strings.Contains(err.Error(), dir) {
		t.Errorf("LoadMeta of a missing run: error = %v, want ErrNoRun naming %s", err, dir)
	}
	if err := st.Delete("run-that-never-was"); !errors.Is(err, ErrNoRun) {
		t.Errorf("Delete of a missing run: error = %v, want ErrNoRun", err)
	}
	if err := st.CleanPartial(0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, ".partial-123")); !os.IsNotExist(err) {
		t.Error("CleanPartial left the temp folder")
	}
	if err := st.Delete(id); err != nil {
		t.Fatal(err)
	}
	if runs, _ := st.List(); len(runs) != 0 {
		t.Errorf("after Delete, List = %v", runs)
	}
}

func TestStoreConcurrentWriters(t *testing.T) {
	st, _ := openNpyStore(t.TempDir())
	const writers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A second Store value on the same folder, as another process has.
			other := &Store{Dir: st.Dir, Matrices: st.Matrices}
			for i := range each {
				r := sampleRun("fit", float64(w*each+i))
				if _, err := other.Save(r); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	runs, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != writers*each {
		t.Fatalf("%d runs listed, want %d", len(runs), writers*each)
	}
	seen := map[float64]bool{}
	for _, m := range runs {
		r, err := st.Load(m.ID)
		if err != nil {
			t.Fatal(err)
		}
		// Each run's files belong to that run: run.json and neurons.csv agree.
		if r.Neurons[0].EV != m.Summary.EVMean || seen[m.Summary.EVMean] {
			t.Errorf("run %s mixed up: summary EV %v, neuron EV %v", m.ID, m.Summary.EVMean, r.Neurons[0].EV)
		}
		seen[m.Summary.EVMean] = true
	}
	ents, _ := os.ReadDir(st.Dir)
	if len(ents) != writers*each {
		t.Errorf("%d entries in the store, want %d (temp folders left behind?)", len(ents), writers*each)
	}
}

func TestExportComparisonCSV(t *testing.T) {
	st, _ := openNpyStore(t.TempDir())
	st.Save(sampleRun("fit", 0.25))
	st.Save(sampleRun("train", 0.5))
	out := filepath.Join(t.TempDir(), "table.csv")
	if err := st.Export(out); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || strings.Join(recs[0], ",") != strings.Join(ExportHeader, ",") {
		t.Fatalf("table = %v", recs)
	}
	col := func(name string) int {
		for i, h := range ExportHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	if recs[1][col("ev_mean")] != "0.25" || recs[2][col("kind")] != "train" || recs[1][col("ceiling_ev_mean")] != "NaN" ||
		recs[1][col("seconds")] != "2" || recs[1][col("strategy")] != "pixels:8" {
		t.Errorf("rows = %v", recs[1:])
	}
}

func TestWriteFileAtomicKeepsOldFileOnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.txt")
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := w.Write([]byte("old")); return err }); err != nil {
		t.Fatal(err)
	}
	err := WriteFileAtomic(path, func(w io.Writer) error {
		w.Write([]byte("half"))
		return io.ErrUnexpectedEOF
	})
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("error = %v, want one naming %s", err, path)
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("file = %q, want the old content", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("temp file left behind: %v", ents)
	}
}

func TestSummaryJSON(t *testing.T) {
	s := NaNSummary()
	s.EVMean, s.Alpha, s.NTrain = 0.5, 100, 3
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"ev_mean":0.5`)) || !bytes.Contains(b, []byte(`"ev_median":null`)) || bytes.Contains(b, []byte("ceiling")) {
		t.Errorf("JSON = %s", b)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.EVMean != 0.5 || back.NTrain != 3 || !math.IsNaN(back.EVMedian) || !math.IsNaN(back.CeilingEVMean) {
		t.Errorf("round trip = %+v", back)
	}
}

// Opening a store removes the temporary folders of writers killed more than
// an hour ago, and keeps younger ones: their writer may still be running.
func TestOpenStoreRemovesStalePartialFolders(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * time.Hour)
	folders := map[string]bool{ // name -> removed on open
		".partial-old":  true,
		".deleting-old": true,
		".partial-new":  false,
		"run-old":       false, // a run, however old
	}
	for name := range folders {
		p := filepath.Join(dir, name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if name != ".partial-new" {
			os.Chtimes(p, old, old)
		}
	}
	if _, err := OpenStore(dir); err != nil {
		t.Fatal(err)
	}
	for name, removed := range folders {
		_, err := os.Stat(filepath.Join(dir, name))
		if gone := os.IsNotExist(err); gone != removed {
			t.Errorf("%s: removed %v, want %v", name, gone, removed)
		}
	}
}

// A store opened without a matrix codec refuses predictions by name, and
// neither writes nor lists a partial run.
func TestStoreWithoutMatrixCodec(t *testing.T) {
	st, err := OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.Save(sampleRun("fit", 0.25))
	if err == nil || !strings.Contains(err.Error(), PredictionsNPY) || !strings.Contains(err.Error(), "matrix codec") {
		t.Fatalf("save with predictions and no codec: err = %v, want one naming %s and the codec", err, PredictionsNPY)
	}
	if metas, err := st.List(); err != nil || len(metas) != 0 {
		t.Fatalf("after the failed save the store lists %d runs (%v), want none", len(metas), err)
	}
	noPred := sampleRun("fit", 0.25)
	noPred.Predictions, noPred.PredRows, noPred.PredCols = nil, 0, 0
	id, err := st.Save(noPred)
	if err != nil {
		t.Fatalf("save without predictions: %v", err)
	}
	if run, err := st.Load(id); err != nil || len(run.Neurons) != 2 {
		t.Fatalf("load without predictions: %v, %d neurons, want 2", err, len(run.Neurons))
	}
}

// openNpyStore opens the store in dir with data/npy's matrix codec, as the
// command line does.
func openNpyStore(dir string) (*Store, error) {
	st, err := OpenStore(dir)
	if err == nil {
		st.Matrices = npy.Matrices{}
	}
	return st, err
}
