package compute

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"itscope/data/npy"
)

func randDense32(r, c int, seed uint64) *Dense32 {
	rng := rand.New(rand.NewPCG(seed, seed))
	d := make([]float32, r*c)
	for i := range d {
		d[i] = float32(rng.NormFloat64())
	}
	m, _ := NewDense32(r, c, d)
	return m
}

func writeNpy(t *testing.T, m *Dense32) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.npy")
	w, err := npy.Create(path, m.R, m.C)
	if err != nil {
		t.Fatal(err)
	}
	for r := 0; r < m.R; r += 3 { // odd block sizes on purpose
		end := min(r+3, m.R)
		if err := w.WriteRows(r, m.Data[r*m.C:end*m.C]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

// An .npy file on disk is a Matrix32 whose single rows RowSubset reads
// without reading whole columns.
var _ interface {
	Matrix32
	rowReader
} = (*npy.File)(nil)

// TestNpyFileAsMatrix32 reads an .npy file through the Matrix32 helpers:
// whole, by column ranges and by row subsets, and a numpy-written file the
// same as npyio reads it.
func TestNpyFileAsMatrix32(t *testing.T) {
	m := randDense32(17, 23, 1)
	f, err := npy.Open(writeNpy(t, m))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.BlockRows = 4
	got, err := ToDense32(f)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Data, m.Data) {
		t.Fatal("rows read back differ from rows written")
	}
	rows := []int{16, 0, 9, 9}
	fromFile, fromMemory := make([]float32, len(rows)*5), make([]float32, len(rows)*5)
	if err := (RowSubset{f, rows}).ReadCols(9, 5, fromFile); err != nil {
		t.Fatal(err)
	}
	if err := (RowSubset{m, rows}).ReadCols(9, 5, fromMemory); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(fromFile, fromMemory) {
		t.Errorf("row subset columns 9..13: file %v, memory %v", fromFile, fromMemory)
	}
	npf, err := npy.Open(filepath.Join(fixtureDir, "pixels/x.npy"))
	if err != nil {
		t.Fatal(err)
	}
	defer npf.Close()
	viaNpyio := dense32(t, "pixels/x")
	ours, err := ToDense32(npf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ours.Data, viaNpyio.Data) {
		t.Error("numpy file reads differently from npyio")
	}
}

// TestPCAStreamsFromDisk fits the same PCA from memory and from an .npy file
// read in narrow panels.
func TestPCAStreamsFromDisk(t *testing.T) {
	train, val := randDense32(60, 500, 3), randDense32(9, 500, 4)
	want, err := FitPCA(train, 12, PCAOptions{Project: []Matrix32{val}})
	if err != nil {
		t.Fatal(err)
	}
	f, err := npy.Open(writeNpy(t, train))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := FitPCA(f, 12, PCAOptions{Project: []Matrix32{val}, PanelCols: 37})
	if err != nil {
		t.Fatal(err)
	}
	assertRelClose(t, "explained variance", got.ExplainedVariance, want.ExplainedVariance, 1e-10)
	if !mat.EqualApprox(got.Projected[0], want.Projected[0], 1e-8) || !mat.EqualApprox(got.TrainScores, want.TrainScores, 1e-8) {
		t.Error("scores from disk differ from scores from memory")
	}
}

func TestPCAComponentsTransform(t *testing.T) {
	train, val := randDense32(40, 300, 5), randDense32(7, 300, 6)
	p, err := FitPCA(train, 10, PCAOptions{Project: []Matrix32{val}, Components: true, Precision: 32})
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.Transform(val)
	if err != nil {
		t.Fatal(err)
	}
	if !mat.EqualApprox(got, p.Projected[0], 1e-4) {
		t.Error("Transform with components differs from the cross-Gram projection")
	}
	// Components are orthonormal rows.
	for a := range 3 {
		for b := range 3 {
			var dot float64
			for c := range 300 {
				dot += float64(p.Components[a*300+c]) * float64(p.Components[b*300+c])
			}
			if want := map[bool]float64{true: 1, false: 0}[a == b]; math.Abs(dot-want) > 1e-4 {
				t.Errorf("component %d . component %d = %v, want %v", a, b, dot, want)
			}
		}
	}
	if _, err := FitPCA(train, 10, PCAOptions{Components: true, MaxComponentBytes: 100}); err == nil || !strings.Contains(err.Error(), "budget") {
		t.Errorf("over-budget components: %v, want a budget error", err)
	}
	q, _ := FitPCA(train, 10, PCAOptions{})
	if _, err := q.Transform(val); err == nil || !strings.Contains(err.Error(), "without components") {
		t.Errorf("Transform without components: %v", err)
	}
}

func TestPCARank(t *testing.T) {
	train := randDense32(10, 50, 7)
	for _, c := range []struct {
		k        int
		kept     int
		warning  bool
		errMatch string
	}{
		{k: 5, kept: 5},
		{k: 9, kept: 9},
		{k: 10, kept: 9, warning: true}, // centring leaves 9 directions
		{k: 11, errMatch: "between 1 and min(n_train, features) = min(10, 50) = 10"},
		{k: 0, errMatch: "between 1"},
	} {
		p, err := FitPCA(train, c.k, PCAOptions{})
		if c.errMatch != "" {
			if err == nil || !strings.Contains(err.Error(), c.errMatch) {
				t.Errorf("k=%d: error %v, want %q", c.k, err, c.errMatch)
			}
			continue
		}
		if err != nil {
			t.Fatalf("k=%d: %v", c.k, err)
		}
		if p.NComponents != c.kept || (p.Warning != "") != c.warning {
			t.Errorf("k=%d: kept %d (warning %q), want %d (warning %v)", c.k, p.NComponents, p.Warning, c.kept, c.warning)
		}
	}
	// Rank below n-1: 12 rows spanning 3 directions.
	low := make([]float32, 12*20)
	for i := range 12 {
		for j := range 20 {
			low[i*20+j] = float32(math.Sin(float64(i+1)*float64(j%3+1)) * float64(j+1))
		}
	}
	m, _ := NewDense32(12, 20, low)
	p, err := FitPCA(m, 8, PCAOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if p.NComponents != 3 || !strings.Contains(p.Warning, "kept 3 of 8") {
		t.Errorf("rank-3 data: kept %d, warning %q", p.NComponents, p.Warning)
	}
	const0, _ := NewDense32(5, 3, make([]float32, 15))
	if _, err := FitPCA(const0, 2, PCAOptions{}); err == nil || !strings.Contains(err.Error(), "constant") {
		t.Errorf("constant features: %v", err)
	}
	nan := randDense32(6, 4, 8)
	nan.Data[13] = float32(math.NaN())
	if _, err := FitPCA(nan, 2, PCAOptions{}); err == nil || !strings.Contains(err.Error(), "NaN") {
		t.Errorf("NaN features: %v", err)
	}
}

func TestKFold(t *testing.T) {
	f, err := KFold(23, 5, 9)
	if err != nil {
		t.Fatal(err)
	}
	size := make([]int, 5)
	for _, v := range f {
		size[v]++
	}
	if !slices.Equal(size, []int{5, 5, 5, 4, 4}) {
		t.Errorf("fold sizes %v, want [5 5 5 4 4] as scikit-learn's KFold", size)
	}
	g, _ := KFold(23, 5, 9)
	h, _ := KFold(23, 5, 10)
	if !slices.Equal(f, g) || slices.Equal(f, h) {
		t.Error("folds must repeat with the seed and change with it")
	}
	if _, err := KFold(3, 5, 0); err == nil {
		t.Error("5 folds of 3 rows: no error")
	}
}

// TestKFoldInOrder compares with scikit-learn 1.2's KFold(k) (no shuffle):
// the fold of each row of KFold(k).split(np.zeros(n)).
func TestKFoldInOrder(t *testing.T) {
	for _, c := range []struct {
		n, k int
		want []int
	}{
		{13, 5, []int{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 4, 4}},
		{10, 5, []int{0, 0, 1, 1, 2, 2, 3, 3, 4, 4}},
		{7, 3, []int{0, 0, 0, 1, 1, 2, 2}},
	} {
		got, err := KFoldInOrder(c.n, c.k)
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("KFoldInOrder(%d, %d) = %v, %v; want %v", c.n, c.k, got, err, c.want)
		}
	}
	if _, err := KFoldInOrder(4, 5); err == nil {
		t.Error("5 folds of 4 rows: no error")
	}
}

func TestStratifiedKFold(t *testing.T) {
	var labels []string
	for i := range 60 {
		labels = append(labels, []string{"car", "face", "animal"}[i%3]) // 20 each
	}
	labels = append(labels, "boat", "boat") // a rare label
	f, err := StratifiedKFold(labels, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string][]int{}
	size := make([]int, 4)
	for i, l := range labels {
		if count[l] == nil {
			count[l] = make([]int, 4)
		}
		count[l][f[i]]++
		size[f[i]]++
	}
	for l, c := range count {
		if slices.Max(c)-slices.Min(c) > 1 {
			t.Errorf("label %s spread %v over folds, want even", l, c)
		}
	}
	if slices.Max(size)-slices.Min(size) > 1 {
		t.Errorf("fold sizes %v differ by more than one", size)
	}
}

func TestNoiseCeiling(t *testing.T) {
	// Signal variance 1, noise variance 4, 8 trials: the trial mean's
	// reliability is 1 / (1 + 4/8) = 2/3.
	const images, neurons, trials = 2000, 3, 8
	rng := rand.New(rand.NewPCG(3, 3))
	rep := make([]float32, images*neurons*trials)
	for i := range images {
		for j := range neurons {
			s := rng.NormFloat64()
			if j == 2 {
				s = 0 // pure noise: ceiling about 0
			}
			for k := range trials {
				rep[(i*neurons+j)*trials+k] = float32(s + 2*rng.NormFloat64())
			}
		}
	}
	c, err := NoiseCeiling(rep, images, neurons, trials, nil, CeilingOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for j, want := range []float64{2.0 / 3, 2.0 / 3, 0} {
		if math.Abs(c.Reliability[j]-want) > 0.05 {
			t.Errorf("neuron %d: ceiling %.3f, want about %.3f", j, c.Reliability[j], want)
		}
	}
	again, _ := NoiseCeiling(rep, images, neurons, trials, nil, CeilingOptions{Seed: 1})
	if !slices.Equal(c.HalfR, again.HalfR) {
		t.Error("the same seed gave a different ceiling")
	}
	sub, _ := NoiseCeiling(rep, images, neurons, trials, []int{0, 1}, CeilingOptions{})
	if !math.IsNaN(sub.Reliability[0]) || sub.Count != 0 {
		t.Errorf("two images: ceiling %v, want NaN", sub.Reliability)
	}
	for _, bad := range []struct {
		rep  []float32
		want string
	}{
		{rep[:10], "want 2000 images x 3 neurons x 8 trials"},
		{append(slices.Clone(rep[:len(rep)-1]), float32(math.Inf(1))), "is +Inf"},
	} {
		if _, err := NoiseCeiling(bad.rep, images, neurons, trials, nil, CeilingOptions{}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("error %v, want %q", err, bad.want)
		}
	}

	// Noise correction divides by the ceiling and leaves non-positive ones NaN.
	s := &Scores{EV: []float64{0.2, 0.2, 0.2}, R: []float64{0.5, 0.5, 0.5}}
	if err := s.WithCeiling([]float64{0.5, -0.1, math.NaN()}); err != nil {
		t.Fatal(err)
	}
	assertClose(t, "corrected EV", s.EVCorrected, []float64{0.4, math.NaN(), math.NaN()}, 1e-12)
	assertClose(t, "corrected r", s.RCorrected, []float64{0.5 / math.Sqrt(0.5), math.NaN(), math.NaN()}, 1e-12)
	if s.CorrectedCount != 1 || s.EVCorrectedMean != 0.4 {
		t.Errorf("corrected summaries: count %d mean %v", s.CorrectedCount, s.EVCorrectedMean)
	}
}

func TestBadInputErrors(t *testing.T) {
	a := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	b := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, math.NaN()})
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"score shapes", second(Score(a, mat.NewDense(2, 2, nil))), "responses are (3,2) but predictions are (2,2)"},
		{"score NaN", second(Score(a, b)), "predictions: value at image 2, neuron 1 is NaN"},
		{"ridge NaN", second(Ridge(b, a, 1)), "feature 1 of image 2 is NaN"},
		{"ridge alpha", second(Ridge(a, a, -1)), "alpha -1"},
		{"ridge rows", second(Ridge(a, mat.NewDense(2, 2, nil), 1)), "3 rows of features but 2 rows of responses"},
		{"cv folds", second(RidgeCV(a, a, RidgeCVOptions{FoldOf: []int{0, 0, 0}})), "1 fold"},
		{"cv fold gap", second(RidgeCV(a, a, RidgeCVOptions{FoldOf: []int{0, 2, 2}})), "fold 1 of 3 has no rows"},
		{"cv labels", second(RidgeCV(a, a, RidgeCVOptions{Labels: []string{"x"}})), "1 labels for 3 rows"},
		{"cv criterion", second(RidgeCV(a, a, RidgeCVOptions{Criterion: "auc"})), `criterion "auc"`},
		{"predict", second((&LinearModel{Coef: mat.NewDense(3, 1, nil), Intercept: []float64{0}}).Predict(a)), "model has 3 features, data has 2"},
		{"dense32", second(NewDense32(2, 2, []float32{1})), "needs 4 values, found 1"},
		{"subset", RowSubset{randDense32(3, 2, 1), []int{5}}.ReadCols(0, 2, make([]float32, 2)), "index 5 outside [0,3)"},
	} {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestRowSubsetAndStandardisedView(t *testing.T) {
	m := randDense32(10, 6, 11)
	sub := RowSubset{m, []int{7, 2, 9}}
	d, err := ToDense32(sub)
	if err != nil {
		t.Fatal(err)
	}
	for k, i := range sub.Indices {
		if !slices.Equal(d.Data[k*6:(k+1)*6], m.Data[i*6:(i+1)*6]) {
			t.Fatalf("row %d of the subset is not row %d", k, i)
		}
	}
	sc, err := FitStandardiser(m)
	if err != nil {
		t.Fatal(err)
	}
	view, _ := sc.Wrap(m)
	z, _ := ToDense32(view)
	for c := range 6 {
		var s, ss float64
		for i := range 10 {
			v := float64(z.Data[i*6+c])
			s += v
			ss += v * v
		}
		if math.Abs(s/10) > 1e-6 || math.Abs(ss/10-1) > 1e-5 {
			t.Errorf("column %d standardised to mean %v, variance %v", c, s/10, ss/10)
		}
	}
	if m.Data[0] == z.Data[0] {
		t.Error("the standardised view changed nothing, or changed its source")
	}
}
