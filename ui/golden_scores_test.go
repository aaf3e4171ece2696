package ui

import (
	"context"
	"math"
	"os"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data"
	"itscope/data/npy"
	"itscope/model/readout"
	"itscope/model/runs"
)

// Golden frames of what a reviewer reads: a run's bootstrap intervals, the
// paired comparison of two runs and the best layer per neuron of a sweep.
// The runs are written into a temporary store under fixed ids, so the
// explorer reads them as it reads a user's.

// saveAs saves run in store under id instead of a time-stamped one.
func saveAs(t *testing.T, store *runs.Store, id string, run *runs.Run) {
	t.Helper()
	got, err := store.Save(run)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(store.Path(got), store.Path(id)); err != nil {
		t.Fatal(err)
	}
}

// fittedStore fits ridge on pixels of a synthetic dataset with a weak and a
// strong penalty and saves both runs (with their intervals and predictions)
// as run-a (alpha 3000) and run-b (alpha 300).
func fittedStore(t *testing.T) (*runs.Store, *data.Dataset) {
	t.Helper()
	ds := syntheticDataset(200, 8, 6)
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	for _, f := range []struct {
		id    string
		alpha float64
	}{{"run-a", 3000}, {"run-b", 300}} {
		run, err := readout.Fit(context.Background(), readout.FitSpec{Data: ds.Name, Dataset: ds, Features: "pixels:8",
			Model: readout.ModelRidge, Alpha: f.alpha}, nil)
		if err != nil {
			t.Fatal(err)
		}
		saveAs(t, store, f.id, run)
	}
	return store, ds
}

// startWithStore starts the app on store with ds open.
func startWithStore(t *testing.T, store *runs.Store, ds *data.Dataset) (*probe, func(...string), func(string)) {
	t.Helper()
	tm, pr := startApp(t, Options{Store: store, Datasets: []string{ds.Name}, Open: func(string) (*data.Dataset, error) { return ds, nil }})
	keys(tm, "enter")
	pr.waitMsg(t, 10*time.Second, "the dataset", func(m tea.Msg) bool { d, ok := m.(datasetMsg); return ok && d.ds != nil })
	pr.waitMsg(t, 10*time.Second, "the run list", func(m tea.Msg) bool { _, ok := m.(runsMsg); return ok })
	return pr, func(ks ...string) { keys(tm, ks...) }, func(until string) {
		waitFor(t, tm, 10*time.Second, until)
		requireGolden(t, finalFrame(t, tm))
	}
}

// TestGoldenResultsIntervals: a run's detail shows the 95% bootstrap
// intervals of its mean EV and mean r.
func TestGoldenResultsIntervals(t *testing.T) {
	store, ds := fittedStore(t)
	_, press, golden := startWithStore(t, store, ds)
	press("6", "enter")
	golden("95% bootstrap")
}

// TestGoldenComparePaired: two marked runs side by side with their
// intervals and the paired bootstrap of their difference.
func TestGoldenComparePaired(t *testing.T) {
	store, ds := fittedStore(t)
	_, press, golden := startWithStore(t, store, ds)
	press("7", "space", "down", "space", "enter")
	golden("right better in")
}

// sweepRun is one layer of a ridge CV sweep: each layer explains some
// neurons better than the others do, and its training CV scores follow its
// val EVs with an error of their own.
func sweepRun(id, layer string, depth int, shift float64) *runs.Run {
	r := fixedRun(id, "ridgecv", "mobilenetv2:"+layer, 10, shift, 40)
	evs := make([]float64, len(r.Neurons))
	for j := range r.Neurons {
		r.Neurons[j].EV += 0.2 * math.Sin(0.45*float64(j)+1.9*float64(depth))
		evs[j] = r.Neurons[j].EV
		r.Meta.NeuronCVScore = append(r.Meta.NeuronCVScore, evs[j]-0.02+0.05*math.Cos(1.7*float64(j*(depth+1))))
	}
	r.Meta.Summary.EVMean = nanMean(evs)
	return r
}

// TestGoldenResultsBestLayer: beside Figure 1a, how many neurons each layer
// is best for (by training CV) and the val EV of every neuron's own layer.
func TestGoldenResultsBestLayer(t *testing.T) {
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	for i, l := range []struct {
		id, layer string
		shift     float64
	}{{"run-c", "features.4", 0.2}, {"run-d", "features.7", 0.3}, {"run-e", "features.14", 0.35}} {
		saveAs(t, store, l.id, sweepRun(l.id, l.layer, i, l.shift))
	}
	tm, pr := startApp(t, Options{Store: store})
	pr.waitMsg(t, 10*time.Second, "the run list", func(m tea.Msg) bool { _, ok := m.(runsMsg); return ok })
	keys(tm, "6", "enter")
	pr.waitMsg(t, 10*time.Second, "the best layers", func(m tea.Msg) bool { _, ok := m.(bestLayersMsg); return ok })
	keys(tm, "v")
	waitFor(t, tm, 10*time.Second, "mean val EV")
	requireGolden(t, finalFrame(t, tm))
}

// A sweep whose read-out has no per-neuron CV scores (ridge) keeps Figure
// 1a and says why no layer is chosen per neuron.
func TestBestLayerNeedsCVScores(t *testing.T) {
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	saveAs(t, store, "run-c", fixedRun("run-c", "ridge", "mobilenetv2:features.4", 10, 0.2, 40))
	saveAs(t, store, "run-d", fixedRun("run-d", "ridge", "mobilenetv2:features.7", 10, 0.3, 40))
	tm, pr := startApp(t, Options{Store: store})
	pr.waitMsg(t, 10*time.Second, "the run list", func(m tea.Msg) bool { _, ok := m.(runsMsg); return ok })
	keys(tm, "6", "enter", "v")
	waitFor(t, tm, 10*time.Second, "features.7 ", "best layer per neuron: layer features.4 (run run-c): no")
}
