package compute

import (
	"bufio"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"codeberg.org/sbinet/npyio/npy"
	"gonum.org/v1/gonum/mat"
)

// Fixtures come from testdata/compute/make_sklearn_fixtures.py (scikit-learn 1.2.1).
const fixtureDir = "../testdata/compute"

func readNpy(t *testing.T, rel string, ptr any) []int {
	t.Helper()
	f, err := os.Open(filepath.Join(fixtureDir, rel+".npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := npy.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	if err := r.Read(ptr); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return r.Header.Descr.Shape
}

func f64(t *testing.T, rel string) []float64 {
	t.Helper()
	var v []float64
	readNpy(t, rel, &v)
	return v
}

func dense(t *testing.T, rel string) *mat.Dense {
	t.Helper()
	var v []float64
	sh := readNpy(t, rel, &v)
	if len(sh) != 2 {
		t.Fatalf("%s: shape %v, want 2-D", rel, sh)
	}
	return mat.NewDense(sh[0], sh[1], v)
}

func dense32(t *testing.T, rel string) *Dense32 {
	t.Helper()
	var v []float32
	sh := readNpy(t, rel, &v)
	m, err := NewDense32(sh[0], sh[1], v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func ints(t *testing.T, rel string) []int {
	t.Helper()
	var v []int64
	readNpy(t, rel, &v)
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

func expected(t *testing.T, folder string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, folder, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func floats(v any) []float64 {
	var out []float64
	for _, x := range v.([]any) {
		out = append(out, x.(float64))
	}
	return out
}

// assertClose compares element-wise with an absolute tolerance; NaN must
// match NaN.
func assertClose(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || math.Abs(got[i]-want[i]) > tol {
			t.Errorf("%s[%d] = %.9g, want %.9g (tol %g)", what, i, got[i], want[i], tol)
		}
	}
}

// assertRelClose compares with a tolerance relative to each wanted value.
func assertRelClose(t *testing.T, what string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Abs(got[i]-want[i]) > rel*math.Abs(want[i]) {
			t.Errorf("%s[%d] = %.9g, want %.9g (relative tol %g)", what, i, got[i], want[i], rel)
		}
	}
}

func toDense(m *Dense32) *mat.Dense {
	d, _ := DenseFrom32(m.R, m.C, m.Data)
	return d
}

func TestMetricsAgainstSklearn(t *testing.T) {
	y, p := dense(t, "metrics/y_true"), dense(t, "metrics/y_pred")
	s, err := Score(y, p)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{}
	for _, c := range []struct {
		name string
		got  []float64
	}{{"ev", s.EV}, {"r2", s.R2}, {"mse", s.MSE}, {"r", s.R}} {
		want[c.name] = sklearnUndefined(f64(t, "metrics/"+c.name))
		assertClose(t, c.name, c.got, want[c.name], 1e-12)
	}
	// Constant targets (neurons 1, 2) leave EV, R2 and r NaN and are in no
	// summary; a constant prediction (4) leaves only r NaN.
	if s.Constant != 2 || s.RCount != 3 {
		t.Errorf("Constant = %d, RCount = %d, want 2 and 3", s.Constant, s.RCount)
	}
	mse := want["mse"]
	mse[1], mse[2] = math.NaN(), math.NaN()
	for _, c := range []struct {
		name              string
		mean, median      float64
		vals              []float64
		wantCount, gotCnt int
	}{
		{"ev", s.EVMean, s.EVMedian, want["ev"], 4, len(s.EV) - s.Constant},
		{"r2", s.R2Mean, s.R2Median, want["r2"], 4, len(s.R2) - s.Constant},
		{"mse", s.MSEMean, s.MSEMedian, mse, 4, len(s.MSE) - s.Constant},
		{"r", s.RMean, s.RMedian, want["r"], 3, s.RCount},
	} {
		var finite []float64
		for _, v := range c.vals {
			if !math.IsNaN(v) {
				finite = append(finite, v)
			}
		}
		slices.Sort(finite)
		k := len(finite)
		wantMean := mean(finite)
		wantMedian := (finite[(k-1)/2] + finite[k/2]) / 2
		if k != c.wantCount || c.gotCnt != k || math.Abs(c.mean-wantMean) > 1e-12 || math.Abs(c.median-wantMedian) > 1e-12 {
			t.Errorf("%s: mean %v median %v over %d neurons, want %v %v over %d", c.name, c.mean, c.median, c.gotCnt, wantMean, wantMedian, k)
		}
	}
}

// sklearnUndefined maps scikit-learn's force_finite=False scores for
// constant responses (NaN for a perfect prediction, -Inf otherwise) to the
// NaN itscope gives both.
func sklearnUndefined(x []float64) []float64 {
	out := slices.Clone(x)
	for i, v := range out {
		if math.IsInf(v, 0) {
			out[i] = math.NaN()
		}
	}
	return out
}

func TestCeilingAgainstNumpy(t *testing.T) {
	var rep []float32
	sh := readNpy(t, "ceiling/repeats", &rep)
	identity := make([]int, sh[2])
	for i := range identity {
		identity[i] = i
	}
	c, err := splitHalfCeiling(rep, sh[0], sh[1], sh[2], nil, 1, func() []int { return identity })
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "half r", c.HalfR, f64(t, "ceiling/half_r"), 1e-9)
	assertClose(t, "reliability", c.Reliability, f64(t, "ceiling/reliability"), 1e-9)
}

func TestStandardiserAgainstSklearn(t *testing.T) {
	x := dense32(t, "small/x_train")
	s, err := FitStandardiser(x)
	if err != nil {
		t.Fatal(err)
	}
	assertRelClose(t, "mean", s.Mean, f64(t, "small/scaler_mean"), 1e-12)
	assertRelClose(t, "scale", s.Scale, f64(t, "small/scaler_scale"), 1e-12)
	if s.Scale[5] != 1 {
		t.Errorf("constant column scale = %v, want 1", s.Scale[5])
	}
}

func TestPCAAgainstSklearn(t *testing.T) {
	xtr, xva := dense32(t, "small/x_train"), dense32(t, "small/x_val")
	wantVar := f64(t, "small/pca_explained_variance")
	wantScores := dense(t, "small/pca_val_scores")
	for _, c := range []struct {
		name  string
		train Matrix32
		opt   PCAOptions
	}{
		{"float64 panels", xtr, PCAOptions{Precision: 64}},
		{"float32 panels", xtr, PCAOptions{Precision: 32}},
		{"narrow panels", xtr, PCAOptions{PanelCols: 7}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.opt.Project = []Matrix32{xva}
			p, err := FitPCA(c.train, 20, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			assertRelClose(t, "explained variance", p.ExplainedVariance, wantVar, 1e-4)
			assertRelClose(t, "explained variance ratio", p.ExplainedVarianceRatio, f64(t, "small/pca_explained_variance_ratio"), 1e-4)
			assertRelClose(t, "singular values", p.SingularValues, f64(t, "small/pca_singular_values"), 1e-4)
			// Scores carry scikit-learn's sign convention.
			scale := math.Sqrt(wantVar[0])
			if !mat.EqualApprox(p.Projected[0], wantScores, 1e-4*scale) {
				t.Errorf("val scores differ from scikit-learn's by more than %g", 1e-4*scale)
			}
		})
	}
}

// TestReadoutsAgainstSklearn checks every per-neuron EV and r on held-out
// images against scikit-learn, within 1e-4.
func TestReadoutsAgainstSklearn(t *testing.T) {
	small := struct{ xtr, xva, ytr, yva *mat.Dense }{
		toDense(dense32(t, "small/x_train")), toDense(dense32(t, "small/x_val")),
		dense(t, "small/y_train"), dense(t, "small/y_val"),
	}
	smallPCA, err := FitPCA(dense32(t, "small/x_train"), 20, PCAOptions{Project: []Matrix32{dense32(t, "small/x_val")}})
	if err != nil {
		t.Fatal(err)
	}
	pix := pixelProblem(t)
	se, pe := expected(t, "small"), expected(t, "pixels")
	smallFolds, pixFolds := ints(t, "small/folds"), ints(t, "pixels/folds")
	grid := floats(se["grid"])

	type problem struct{ xtr, xva, ytr, yva *mat.Dense }
	sRaw := problem{small.xtr, small.xva, small.ytr, small.yva}
	sPCA := problem{smallPCA.TrainScores, smallPCA.Projected[0], small.ytr, small.yva}
	pPCA := problem{pix.pca.TrainScores, pix.pca.Projected[0], pix.ytr, pix.yva}
	pStd := problem{pix.str, pix.sva, pix.ytr, pix.yva}

	ridgecv := func(folds []int, opt RidgeCVOptions, wantAlpha float64) func(t *testing.T, p problem) (*LinearModel, error) {
		return func(t *testing.T, p problem) (*LinearModel, error) {
			opt.Alphas, opt.FoldOf = grid, folds
			res, err := RidgeCV(p.xtr, p.ytr, opt)
			if err != nil {
				return nil, err
			}
			if !opt.PerNeuron && res.Alpha != wantAlpha {
				t.Errorf("chosen alpha %v, want %v", res.Alpha, wantAlpha)
			}
			return res.Model, nil
		}
	}
	num := func(m map[string]any, k string) float64 { return m[k].(float64) }
	cases := []struct {
		name   string
		p      problem
		fit    func(t *testing.T, p problem) (*LinearModel, error)
		prefix string // fixture files prefix+"_ev", prefix+"_r"
	}{
		{"small PCA+LinearRegression", sPCA, func(_ *testing.T, p problem) (*LinearModel, error) { return LeastSquares(p.xtr, p.ytr) }, "small/pca_lr"},
		{"small min-norm least squares (numpy lstsq)", sRaw, func(_ *testing.T, p problem) (*LinearModel, error) { return LeastSquares(p.xtr, p.ytr) }, "small/lr"},
		{"small Ridge", sRaw, func(_ *testing.T, p problem) (*LinearModel, error) {
			return Ridge(p.xtr, p.ytr, num(se, "ridge_alpha"))
		}, "small/ridge"},
		{"small RidgeCV raw", sRaw, ridgecv(smallFolds, RidgeCVOptions{}, num(se, "raw_ridgecv_alpha")), "small/raw_ridgecv"},
		{"small RidgeCV raw MSE", sRaw, ridgecv(smallFolds, RidgeCVOptions{Criterion: CriterionMSE}, num(se, "raw_ridgecv_mse_alpha")), "small/raw_ridgecv_mse"},
		{"small RidgeCV raw per neuron", sRaw, ridgecv(smallFolds, RidgeCVOptions{PerNeuron: true}, 0), "small/raw_per_neuron"},
		{"small PCA+RidgeCV", sPCA, ridgecv(smallFolds, RidgeCVOptions{}, num(se, "pca_ridgecv_alpha")), "small/pca_ridgecv"},
		{"small PCA+RidgeCV MSE", sPCA, ridgecv(smallFolds, RidgeCVOptions{Criterion: CriterionMSE}, num(se, "pca_ridgecv_mse_alpha")), "small/pca_ridgecv_mse"},
		{"small PCA+RidgeCV per neuron", sPCA, ridgecv(smallFolds, RidgeCVOptions{PerNeuron: true}, 0), "small/pca_per_neuron"},
		{"pixels PCA+LinearRegression", pPCA, func(_ *testing.T, p problem) (*LinearModel, error) { return LeastSquares(p.xtr, p.ytr) }, "pixels/pca_lr"},
		{"pixels PCA+RidgeCV", pPCA, ridgecv(pixFolds, RidgeCVOptions{}, num(pe, "pca_ridgecv_alpha")), "pixels/pca_ridgecv"},
		{"pixels PCA+RidgeCV MSE", pPCA, ridgecv(pixFolds, RidgeCVOptions{Criterion: CriterionMSE}, num(pe, "pca_ridgecv_mse_alpha")), "pixels/pca_ridgecv_mse"},
		{"pixels PCA+RidgeCV per neuron", pPCA, ridgecv(pixFolds, RidgeCVOptions{PerNeuron: true}, 0), "pixels/pca_per_neuron"},
		{"pixels standardised RidgeCV", pStd, ridgecv(pixFolds, RidgeCVOptions{}, num(pe, "std_ridgecv_alpha")), "pixels/std_ridgecv"},
		{"pixels standardised RidgeCV per neuron", pStd, ridgecv(pixFolds, RidgeCVOptions{PerNeuron: true}, 0), "pixels/std_per_neuron"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := c.fit(t, c.p)
			if err != nil {
				t.Fatal(err)
			}
			pred, err := m.Predict(c.p.xva)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Score(c.p.yva, pred)
			if err != nil {
				t.Fatal(err)
			}
			assertClose(t, "EV", s.EV, sklearnUndefined(f64(t, c.prefix+"_ev")), 1e-4)
			assertClose(t, "r", s.R, f64(t, c.prefix+"_r"), 1e-4)
		})
	}
}

type pixelFixture struct {
	str, sva, ytr, yva *mat.Dense
	pca                *PCA
}

// pixelProblem standardises the fixture's 16x16 gray pixels on train and fits
// PCA(100), as the script does.
func pixelProblem(t *testing.T) pixelFixture {
	t.Helper()
	x := dense32(t, "pixels/x")
	y := dense32(t, "pixels/y")
	tr, va := ints(t, "pixels/train"), ints(t, "pixels/val")
	xtr, xva := RowSubset{x, tr}, RowSubset{x, va}
	sc, err := FitStandardiser(xtr)
	if err != nil {
		t.Fatal(err)
	}
	str, _ := sc.Wrap(xtr)
	sva, _ := sc.Wrap(xva)
	pca, err := FitPCA(str, 100, PCAOptions{Project: []Matrix32{sva}})
	if err != nil {
		t.Fatal(err)
	}
	assertRelClose(t, "pixels PCA explained variance", pca.ExplainedVariance, f64(t, "pixels/pca_explained_variance"), 1e-4)
	d := func(m Matrix32) *mat.Dense {
		dd, err := ToDense32(m)
		if err != nil {
			t.Fatal(err)
		}
		return toDense(dd)
	}
	return pixelFixture{str: d(str), sva: d(sva), ytr: d(RowSubset{y, tr}), yva: d(RowSubset{y, va}), pca: pca}
}

// TestRidgeCVScoresAgainstSklearn checks the per-alpha cross-validation
// scores against GridSearchCV's mean_test_score and per-neuron fold means.
func TestRidgeCVScoresAgainstSklearn(t *testing.T) {
	se := expected(t, "small")
	x, y := toDense(dense32(t, "small/x_train")), dense(t, "small/y_train")
	folds := ints(t, "small/folds")
	for _, c := range []struct {
		crit Criterion
		key  string
	}{{CriterionR2, "raw_ridgecv_cv_r2"}, {CriterionMSE, "raw_ridgecv_cv_mse"}} {
		res, err := RidgeCV(x, y, RidgeCVOptions{Alphas: floats(se["grid"]), FoldOf: folds, Criterion: c.crit})
		if err != nil {
			t.Fatal(err)
		}
		assertRelClose(t, string(c.crit)+" CV scores", res.CVScore, floats(se[c.key]), 1e-6)
		if c.crit == CriterionR2 {
			want := dense(t, "small/raw_neuron_cv_r2")
			if !mat.EqualApprox(res.NeuronCVScore, want, 1e-6) {
				t.Errorf("per-neuron CV R2 differ from scikit-learn's")
			}
		}
	}
}

func TestRidgeCoefficientsAgainstSklearn(t *testing.T) {
	x, y := toDense(dense32(t, "small/x_train")), dense(t, "small/y_train")
	m, err := Ridge(x, y, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(m.Coef, dense(t, "small/ridge_coef"), 1e-8) {
		t.Errorf("ridge coefficients differ from scikit-learn's")
	}
	assertClose(t, "intercept", m.Intercept, f64(t, "small/ridge_intercept"), 1e-8)
}
