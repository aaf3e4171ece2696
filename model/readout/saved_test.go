package readout

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"itscope/compute"
	"itscope/data"
	"itscope/data/npy"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// readoutFixtureDir holds a small saved read-out, the raw val features it
// predicts from and scikit-learn's predictions from its arrays
// (make_readout_fixture.py).
const readoutFixtureDir = "../../testdata/readout"

var updateReadoutFixture = flag.Bool("update-readout-fixture", false, "rewrite testdata/readout's read-out and features")

// fitAndSave fits spec and saves the run in a new store, returning its folder.
func fitAndSave(t *testing.T, spec FitSpec) (string, *runs.Run) {
	t.Helper()
	run, err := Fit(context.Background(), spec, nil)
	if err != nil {
		t.Fatal(err)
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
	return store.Path(id), run
}

// TestPredictRunReproducesFit predicts the val split with each saved fit run:
// the predictions must be its predictions.npy bit for bit, for every pipeline
// shape (standardised or not, with or without PCA, each model).
func TestPredictRunReproducesFit(t *testing.T) {
	ds := openDemo(t)
	cases := []FitSpec{
		{Features: "pixels:16:gray", PCA: 50, Model: ModelRidgeCV},
		{Features: "pixels:8", Model: ModelRidgeCV, PerNeuronAlpha: true},
		{Features: "pixels:8:gray", Model: ModelLinear, Standardise: "off"},
		{Features: "pixels:8:gray", PCA: 20, Model: ModelRidge, Alpha: 30},
	}
	for _, spec := range cases {
		spec.Data, spec.Dataset, spec.Seed = "demo", ds, 4
		t.Run(strategyName(spec.Features, spec.PCA)+" "+spec.Model, func(t *testing.T) {
			dir, run := fitAndSave(t, spec)
			saved, rows, cols, err := readMatrix(filepath.Join(dir, runs.PredictionsNPY))
			if err != nil {
				t.Fatal(err)
			}
			p, err := PredictRun(context.Background(), dir, ds, data.Val, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if p.Rows != rows || p.Cols != cols || len(p.Predictions) != len(saved) {
				t.Fatalf("predicted %d x %d, predictions.npy is %d x %d", p.Rows, p.Cols, rows, cols)
			}
			for i, v := range saved {
				if math.Float32bits(v) != math.Float32bits(p.Predictions[i]) {
					t.Fatalf("value %d (image %d, neuron %d): predict gives %v, predictions.npy %v", i, i/cols, i%cols, p.Predictions[i], v)
				}
			}
			if p.Scores == nil || p.Scores.EVMean != run.Meta.Summary.EVMean {
				t.Errorf("predict's val scores %+v, the run's EV mean %v", p.Scores, run.Meta.Summary.EVMean)
			}
			// The summary's intervals: 1000 resamples of the val images seeded
			// with runs.BootstrapSeed, bracketing the means.
			val, _ := ds.SplitByName(data.Val)
			idx, err := compute.BootstrapIndices(len(val.Indices), 1000, runs.BootstrapSeed)
			if err != nil {
				t.Fatal(err)
			}
			// Fit scores its float64 predictions, which the saved read-out
			// reproduces (predictions.npy rounds them to float32).
			ro, err := LoadReadout(filepath.Join(dir, ReadoutFile))
			if err != nil {
				t.Fatal(err)
			}
			pix, err := features.ParseFeatures(spec.Features, features.FeatureOptions{})
			if err != nil {
				t.Fatal(err)
			}
			x, _, err := featureRows(context.Background(), ds, pix, "", 0, func(jobs.Event) {}, val.Indices)
			if err != nil {
				t.Fatal(err)
			}
			yp, err := ro.Predict(x[0])
			if err != nil {
				t.Fatal(err)
			}
			want, err := compute.BootstrapScores(responses(ds, val.Indices), yp, idx)
			if err != nil {
				t.Fatal(err)
			}
			s := run.Meta.Summary
			if s.EVMeanLo != want.EV.Lo || s.EVMeanHi != want.EV.Hi || s.RMeanLo != want.R.Lo || s.RMeanHi != want.R.Hi {
				t.Errorf("intervals EV [%v, %v] r [%v, %v], want %+v", s.EVMeanLo, s.EVMeanHi, s.RMeanLo, s.RMeanHi, want)
			}
			if !(s.EVMeanLo < s.EVMean && s.EVMean < s.EVMeanHi && s.RMeanLo < s.RMean && s.RMean < s.RMeanHi) {
				t.Errorf("intervals EV [%v, %v] r [%v, %v] do not bracket EV %v r %v", s.EVMeanLo, s.EVMeanHi, s.RMeanLo, s.RMeanHi, s.EVMean, s.RMean)
			}
		})
	}
}

// TestPredictRunRefusesMismatches checks that predict names both sides when
// the dataset's neurons, the features' size or the weights differ from the
// read-out's, and that a damaged read-out file is refused with its name.
func TestPredictRunRefusesMismatches(t *testing.T) {
	demo := openDemo(t)
	nx, err := data.Open(filepath.Join("..", "..", "testdata", "data", "nx414_fixed.h5"))
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := fitAndSave(t, FitSpec{Data: "demo", Dataset: demo, Features: "pixels:8:gray", Model: ModelRidge, Alpha: 1})
	path := filepath.Join(dir, ReadoutFile)
	ts, meta, err := runs.ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(key, value string) string {
		d := t.TempDir()
		copyFile(t, filepath.Join(dir, runs.RunJSON), filepath.Join(d, runs.RunJSON))
		m := map[string]string{}
		for k, v := range meta {
			m[k] = v
		}
		m[key] = value
		err := runs.WriteFileAtomic(filepath.Join(d, ReadoutFile), func(w io.Writer) error { return runs.EncodeSafetensors(w, ts, m) })
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	truncated := t.TempDir()
	copyFile(t, filepath.Join(dir, runs.RunJSON), filepath.Join(truncated, runs.RunJSON))
	b, _ := os.ReadFile(path)
	os.WriteFile(filepath.Join(truncated, ReadoutFile), b[:len(b)-8], 0o644)
	noReadout := t.TempDir()
	copyFile(t, filepath.Join(dir, runs.RunJSON), filepath.Join(noReadout, runs.RunJSON))

	cases := []struct {
		name string
		dir  string
		ds   *data.Dataset
		want []string
	}{
		{"neurons", dir, nx, []string{"predicts 89 neurons", "has 168"}},
		{"weights", rewrite("weights", "sha256:0123"), demo, []string{`weights "sha256:0123"`, `now load weights ""`}},
		{"features", rewrite("features", "pixels:4:gray"), demo, []string{"pixels:4:gray were 64 per image", "they are 16"}},
		{"format", rewrite("format", "other"), demo, []string{`metadata "format"`, `found "other"`}},
		{"truncated", truncated, demo, []string{ReadoutFile, "outside the"}},
		{"no read-out", noReadout, demo, []string{"saved no read-out"}},
	}
	for _, c := range cases {
		_, err := PredictRun(context.Background(), c.dir, c.ds, data.Val, "", 0)
		if err == nil {
			t.Errorf("%s: no error", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// readMatrix reads a 2-D float32 .npy file.
func readMatrix(path string) (data []float32, rows, cols int, err error) {
	a, err := npy.ReadFile[float32](path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(a.Shape) != 2 {
		return nil, 0, 0, fmt.Errorf("%s: shape %v, want 2 dimensions", path, a.Shape)
	}
	return a.Data, a.Shape[0], a.Shape[1], nil
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSavedReadoutAgainstSklearn predicts the committed val features with the
// committed read-out: scikit-learn (StandardScaler, PCA and Ridge given the
// saved arrays) must agree within 1e-5. With -update-readout-fixture it first
// rewrites the read-out and features from a fit on the demo; then rerun
// make_readout_fixture.py.
func TestSavedReadoutAgainstSklearn(t *testing.T) {
	ro := filepath.Join(readoutFixtureDir, ReadoutFile)
	xPath := filepath.Join(readoutFixtureDir, "x_val.npy")
	if *updateReadoutFixture {
		ds := openDemo(t)
		dir, _ := fitAndSave(t, FitSpec{Data: "demo", Dataset: ds, Features: "pixels:8", PCA: 12, Model: ModelRidgeCV,
			PerNeuronAlpha: true, Seed: 1})
		copyFile(t, filepath.Join(dir, ReadoutFile), ro)
		val, _ := ds.SplitByName(data.Val)
		pix, err := features.ParseFeatures("pixels:8", features.FeatureOptions{})
		if err != nil {
			t.Fatal(err)
		}
		f, _, err := featureRows(context.Background(), ds, pix, "", 0, func(jobs.Event) {}, val.Indices)
		if err != nil {
			t.Fatal(err)
		}
		x, err := compute.ToDense32(f[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := npy.WriteFile(xPath, x.Data, x.R, x.C); err != nil {
			t.Fatal(err)
		}
		t.Skip("rewrote the read-out fixture; now run /usr/bin/python3 testdata/readout/make_readout_fixture.py")
	}
	r, err := LoadReadout(ro)
	if err != nil {
		t.Fatal(err)
	}
	if r.Standardiser == nil || r.PCA == nil || r.Linear.Alpha == nil {
		t.Fatalf("the fixture read-out should standardise, reduce by PCA and carry alphas: %+v", r)
	}
	x, rows, cols, err := readMatrix(xPath)
	if err != nil {
		t.Fatal(err)
	}
	want, wr, wc, err := readMatrix(filepath.Join(readoutFixtureDir, "sklearn_pred.npy"))
	if err != nil {
		t.Fatal(err)
	}
	xm, err := compute.NewDense32(rows, cols, x)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := r.Predict(xm)
	if err != nil {
		t.Fatal(err)
	}
	if pr, pc := pred.Dims(); pr != wr || pc != wc {
		t.Fatalf("predicted %d x %d, scikit-learn %d x %d", pr, pc, wr, wc)
	}
	worst := 0.0
	for i := range wr {
		for j := range wc {
			worst = math.Max(worst, math.Abs(pred.At(i, j)-float64(want[i*wc+j])))
		}
	}
	if worst > 1e-5 {
		t.Errorf("max |itscope - scikit-learn| = %.3g, want <= 1e-5", worst)
	}
	t.Logf("max |itscope - scikit-learn| = %.3g over %d x %d predictions", worst, wr, wc)
}
