package readout

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"itscope/compute"
	"itscope/data"
	"itscope/data/npy"
	"itscope/model/features"
)

// The scikit-learn fixture of the fit pipeline is made in two steps, because
// scikit-learn must see exactly the features Go computes:
//
//	go test ./model/readout -run TestFitFixtureInputs -args -update-fit-fixture
//	/usr/bin/python3 testdata/model/make_fit_fixture.py
//
// The first writes the demo's pixel features, responses and CV folds to
// testdata/model/fit_inputs; the second runs the same pipelines in
// scikit-learn and writes testdata/model/fit_sklearn.json.
var updateFitFixture = flag.Bool("update-fit-fixture", false, "rewrite testdata/model/fit_inputs")

const (
	fixtureDir   = "../../testdata/model"
	fixtureSpec  = "pixels:16:gray"
	fixtureSeed  = 3
	fixtureFolds = 5
)

type fitInputsMeta struct {
	Dataset  string `json:"dataset"`
	Features string `json:"features"`
	Train    []int  `json:"train"`
	Val      []int  `json:"val"`
	Folds    []int  `json:"folds"` // CV fold of each training row
	// Image names in train then val order, for the Pillow cross-check.
	Names []string `json:"names"`
	Seed  uint64   `json:"seed"`
}

var demoDataset *data.Dataset

func openDemo(t testing.TB) *data.Dataset {
	t.Helper()
	if demoDataset == nil {
		ds, err := data.Open("demo")
		if err != nil {
			t.Fatal(err)
		}
		demoDataset = ds
	}
	return demoDataset
}

func extractAll(t *testing.T, f features.Features, ds *data.Dataset, images []int) []float32 {
	t.Helper()
	dim, err := f.Dim(ds)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, len(images)*dim)
	err = f.Extract(context.Background(), ds, images, func(first int, block []float32) error {
		copy(out[first*dim:], block)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFitFixtureInputs checks that itscope's pixel features are still the
// ones the scikit-learn fixture was made from, on every 8th train and val
// image (all of them with -update-fit-fixture, which rewrites the inputs).
func TestFitFixtureInputs(t *testing.T) {
	ds := openDemo(t)
	train, _ := ds.SplitByName(data.Train)
	val, _ := ds.SplitByName(data.Val)
	f, err := features.ParseFeatures(fixtureSpec, features.FeatureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dim, _ := f.Dim(ds)
	dir := filepath.Join(fixtureDir, "fit_inputs")
	if *updateFitFixture {
		xTrain := extractAll(t, f, ds, train.Indices)
		xVal := extractAll(t, f, ds, val.Indices)
		folds, err := compute.KFold(len(train.Indices), fixtureFolds, fixtureSeed)
		if err != nil {
			t.Fatal(err)
		}
		os.MkdirAll(dir, 0o755)
		y := func(idx []int) []float32 {
			out := make([]float32, 0, len(idx)*ds.NumNeurons)
			for _, i := range idx {
				out = append(out, ds.ResponseRow(i)...)
			}
			return out
		}
		for name, m := range map[string][]float32{"x_train": xTrain, "x_val": xVal, "y_train": y(train.Indices), "y_val": y(val.Indices)} {
			cols := dim
			if name[0] == 'y' {
				cols = ds.NumNeurons
			}
			if err := npy.WriteFile(filepath.Join(dir, name+".npy"), m, len(m)/cols, cols); err != nil {
				t.Fatal(err)
			}
		}
		meta := fitInputsMeta{Dataset: ds.Name, Features: fixtureSpec, Train: train.Indices, Val: val.Indices, Folds: folds, Seed: fixtureSeed}
		for _, i := range append(append([]int(nil), train.Indices...), val.Indices...) {
			meta.Names = append(meta.Names, ds.Images.Name(i))
		}
		b, err := json.MarshalIndent(meta, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "meta.json"), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for name, split := range map[string][]int{"x_train": train.Indices, "x_val": val.Indices} {
		a, err := npy.ReadFile[float32](filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if want := []int{len(split), dim}; !slices.Equal(a.Shape, want) {
			t.Fatalf("%s: fixture is %v, want %v", name, a.Shape, want)
		}
		want := a.Data
		var pos, images []int
		for p := 0; p < len(split); p += 8 {
			pos, images = append(pos, p), append(images, split[p])
		}
		got := extractAll(t, f, ds, images)
		for k, p := range pos {
			for c := range dim {
				if g, w := got[k*dim+c], want[p*dim+c]; g != w {
					t.Fatalf("%s: image %s, feature %d = %v, fixture has %v: the pixel features changed; "+
						"remake the fixture (see updateFitFixture)", name, ds.Images.Name(split[p]), c, g, w)
				}
			}
		}
	}
}

// fixtureFeatures serves the committed fixture features by image index, so
// that the pipeline sees exactly what scikit-learn saw.
type fixtureFeatures struct {
	rows map[int][]float32
	dim  int
}

func loadFixtureFeatures(t *testing.T) *fixtureFeatures {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "fit_inputs", "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	var meta fitInputsMeta
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	f := &fixtureFeatures{rows: map[int][]float32{}}
	for name, idx := range map[string][]int{"x_train": meta.Train, "x_val": meta.Val} {
		a, err := npy.ReadFile[float32](filepath.Join(fixtureDir, "fit_inputs", name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Shape) != 2 || a.Shape[0] != len(idx) {
			t.Fatalf("%s: shape %v for %d images", name, a.Shape, len(idx))
		}
		x, cols := a.Data, a.Shape[1]
		f.dim = cols
		for r, img := range idx {
			f.rows[img] = x[r*cols : (r+1)*cols]
		}
	}
	return f
}

func (f *fixtureFeatures) Name() string                   { return fixtureSpec }
func (f *fixtureFeatures) CacheKey() string               { return "" }
func (f *fixtureFeatures) StandardiseOnTrain() bool       { return true }
func (f *fixtureFeatures) Dim(*data.Dataset) (int, error) { return f.dim, nil }
func (f *fixtureFeatures) Extract(_ context.Context, _ *data.Dataset, images []int, emit func(int, []float32) error) error {
	for k, img := range images {
		if err := emit(k, f.rows[img]); err != nil {
			return err
		}
	}
	return nil
}

type sklearnCase struct {
	Spec  FitSpec   `json:"spec"`
	EV    []float64 `json:"ev"`
	R     []float64 `json:"r"`
	MSE   []float64 `json:"mse"`
	R2    []float64 `json:"r2"`
	Alpha float64   `json:"alpha"`
	// For the scale-free default grid: its unit and decade extensions.
	Scale      float64 `json:"scale"`
	Extensions int     `json:"extensions"`
}

// TestFitMatchesSklearn runs the whole pipeline (pixels -> standardise ->
// [PCA] -> linear | ridge | ridgecv -> val scores) on the embedded demo and
// compares every neuron's EV, r, MSE and R2 with scikit-learn's. The pixels
// are the committed ones (TestFitFixtureInputs checks they are still what
// itscope computes), so that a decoder change shows there, not here.
func TestFitMatchesSklearn(t *testing.T) {
	if *updateFitFixture {
		t.Skip("rewriting inputs")
	}
	b, err := os.ReadFile(filepath.Join(fixtureDir, "fit_sklearn.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	cases := map[string]sklearnCase{}
	for name, raw := range all {
		if strings.HasPrefix(name, "_") {
			continue // provenance
		}
		var c sklearnCase
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cases[name] = c
	}
	if len(cases) < 4 {
		t.Fatalf("only %d cases in the fixture", len(cases))
	}
	ds := openDemo(t)
	feats := loadFixtureFeatures(t)
	const tol = 1e-4
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			spec := c.Spec
			spec.Dataset, spec.Extractor = ds, feats
			run, err := Fit(context.Background(), spec, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(run.Neurons) != len(c.EV) {
				t.Fatalf("%d neurons, fixture has %d", len(run.Neurons), len(c.EV))
			}
			worstEV, worstR := 0.0, 0.0
			for j, n := range run.Neurons {
				worstEV = math.Max(worstEV, math.Abs(n.EV-c.EV[j]))
				worstR = math.Max(worstR, math.Abs(n.R-c.R[j]))
				if math.Abs(n.EV-c.EV[j]) > tol || math.Abs(n.R-c.R[j]) > tol ||
					math.Abs(n.MSE-c.MSE[j]) > tol*math.Max(1, c.MSE[j]) || math.Abs(n.R2-c.R2[j]) > tol {
					t.Errorf("neuron %d: EV %.6f r %.6f MSE %.6f R2 %.6f; sklearn %.6f %.6f %.6f %.6f",
						j, n.EV, n.R, n.MSE, n.R2, c.EV[j], c.R[j], c.MSE[j], c.R2[j])
				}
			}
			s := run.Meta.Summary
			if spec.Model != ModelLinear && math.Abs(s.Alpha-c.Alpha) > 1e-9*c.Alpha {
				t.Errorf("alpha %v, sklearn %v", s.Alpha, c.Alpha)
			}
			if g := run.Meta.AlphaGrid; c.Scale != 0 {
				if g == nil || !g.Default || math.Abs(g.Scale/c.Scale-1) > 1e-9 || g.Extensions != c.Extensions {
					t.Errorf("alpha grid %+v; sklearn: default, scale %v, %d extensions", g, c.Scale, c.Extensions)
				}
			}
			evMean, _, _ := compute.MeanMedian(c.EV)
			if math.Abs(s.EVMean-evMean) > tol {
				t.Errorf("ev_mean %v, sklearn %v", s.EVMean, evMean)
			}
			t.Logf("max |EV - sklearn| = %.2e, max |r - sklearn| = %.2e, ev_mean %.4f", worstEV, worstR, s.EVMean)
		})
	}
}

func TestFitWithCeilingAndErrors(t *testing.T) {
	ds, err := data.Open("demo:210325")
	if err != nil {
		t.Fatal(err)
	}
	run, err := Fit(context.Background(), FitSpec{Dataset: ds, Features: "pixels:8", Model: ModelRidge, Alpha: 100}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := run.Meta.Summary
	if math.IsNaN(s.CeilingEVMean) || !(s.CeilingMean > 0 && s.CeilingMean <= 1) {
		t.Errorf("ceiling %v, ceiling-corrected EV %v: want both known", s.CeilingMean, s.CeilingEVMean)
	}
	for _, n := range run.Neurons {
		if n.Ceiling > 0 && math.Abs(n.EVCorrected-n.EV/n.Ceiling) > 1e-12 {
			t.Errorf("neuron %d: EV/ceiling %v, want %v", n.Neuron, n.EVCorrected, n.EV/n.Ceiling)
		}
	}
	if run.PredRows != s.NVal || run.PredCols != ds.NumNeurons || s.NNeurons != 50 {
		t.Errorf("predictions %d x %d, summary %+v", run.PredRows, run.PredCols, s)
	}

	bad := []struct {
		spec FitSpec
		want string
	}{
		{FitSpec{Features: "pixels", Model: "lasso"}, `model "lasso"`},
		{FitSpec{Features: "pixels", Model: ModelRidge}, "alpha"},
		{FitSpec{Features: "pixels:0", Model: ModelLinear}, "SIZE"},
		{FitSpec{Features: "pixels:8:blue", Model: ModelLinear}, "SIZE"},
		{FitSpec{Features: "nosuchnet:layer1", Model: ModelLinear}, `unknown kind "nosuchnet"`},
		{FitSpec{Features: "pixels:4", Model: ModelLinear, PCA: 5000}, "n_components=5000"},
		{FitSpec{Features: "pixels:4", Model: ModelRidgeCV, Folds: 1}, "folds"},
	}
	for _, b := range bad {
		b.spec.Dataset = ds
		_, err := Fit(context.Background(), b.spec, nil)
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%+v: error %v, want one containing %q", b.spec, err, b.want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Fit(ctx, FitSpec{Dataset: ds, Features: "pixels:8", Model: ModelLinear}, nil); err == nil {
		t.Error("Fit with a cancelled context succeeded")
	}
}
