package compute

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// plsFixture is testdata/compute/pls, made by make_pls.py.
type plsFixture struct {
	x      *Dense32
	y      *mat.Dense
	labels []string
	splits []Split
	exp    map[string]any
}

func loadPLSFixture(t *testing.T) plsFixture {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir, "pls", "labels.json"))
	if err != nil {
		t.Fatal(err)
	}
	f := plsFixture{x: dense32(t, "pls/x"), y: dense(t, "pls/y"), exp: expected(t, "pls")}
	if err := json.Unmarshal(b, &f.labels); err != nil {
		t.Fatal(err)
	}
	tr, te := fixtureInts2(t, "pls/train"), fixtureInts2(t, "pls/test")
	for s := range tr {
		f.splits = append(f.splits, Split{Train: tr[s], Test: te[s]})
	}
	return f
}

func rows2(m *mat.Dense) [][]float64 {
	r, _ := m.Dims()
	out := make([][]float64, r)
	for i := range out {
		out[i] = m.RawRowView(i)
	}
	return out
}

// TestBrainScoreAgainstSklearn runs the protocol on the fixture's splits
// with PLS (3 and 25 components) and ridge, and compares every per-neuron r,
// split median, the score and its standard error with scikit-learn's.
func TestBrainScoreAgainstSklearn(t *testing.T) {
	f := loadPLSFixture(t)
	for _, c := range []struct {
		name  string
		opt   BrainScoreOptions
		comps int
	}{
		{"pls3", BrainScoreOptions{Components: 3}, 3},
		{"pls25", BrainScoreOptions{}, 25},
		{"ridge", BrainScoreOptions{Model: BrainScoreRidgeCV, Ridge: RidgeCVOptions{Alphas: []float64{10}}}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := BrainScore(f.x, f.y, f.splits, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			want := rows2(dense(t, "pls/"+c.name+"_r"))
			for s := range want {
				assertClose(t, "per-neuron r", res.NeuronR[s], want[s], 1e-4)
			}
			exp := f.exp[c.name].(map[string]any)
			assertClose(t, "split medians", res.SplitMedian, floats(exp["split_median"]), 1e-4)
			assertClose(t, "score, stderr", []float64{res.Score, res.StdErr}, []float64{exp["score"].(float64), exp["stderr"].(float64)}, 1e-4)
			if res.Components != c.comps {
				t.Errorf("%d components fitted, want %d", res.Components, c.comps)
			}
		})
	}
}

// plsFitAll fits PLS with comps components on every image of x and
// predicts those images, through the Gram-matrix path each Brain-Score split
// takes.
func plsFitAll(t *testing.T, x *Dense32, y *mat.Dense, comps int) (*mat.Dense, int) {
	t.Helper()
	if err := checkPLSShape(x.R, x.C, comps); err != nil {
		t.Fatal(err)
	}
	gram, _, err := plsGram(x)
	if err != nil {
		t.Fatal(err)
	}
	all := make([]int, x.R)
	for i := range all {
		all[i] = i
	}
	pred, fitted, err := plsSplitPredict(gram, y, Split{Train: all, Test: all}, comps)
	if err != nil {
		t.Fatal(err)
	}
	return pred, fitted
}

// TestPLSAgainstSklearn compares the predictions of PLSRegression(3,
// scale=False) fitted on all images.
func TestPLSAgainstSklearn(t *testing.T) {
	f := loadPLSFixture(t)
	pred, comps := plsFitAll(t, f.x, f.y, 3)
	// The features are centred in float32 (as for PCA), which moves
	// predictions of size 20 by about 1e-7.
	if !mat.EqualApprox(pred, dense(t, "pls/pls3_pred"), 1e-6) {
		t.Errorf("PLS predictions differ from scikit-learn's")
	}
	if comps != 3 {
		t.Errorf("fitted %d components, want 3", comps)
	}
}

// TestPLSFullRankIsLeastSquares: with as many components as features (and
// more images), PLS spans the whole feature space and predicts as least
// squares does.
func TestPLSFullRankIsLeastSquares(t *testing.T) {
	f := loadPLSFixture(t)
	got, _ := plsFitAll(t, f.x, f.y, f.x.C)
	ls, err := LeastSquares(toDense(f.x), f.y)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ls.Predict(toDense(f.x))
	if !mat.EqualApprox(got, want, 1e-6) {
		t.Errorf("PLS with %d components predicts unlike least squares", f.x.C)
	}
}

// TestPLSConstantResponses: centred constant responses leave no component
// to fit (scikit-learn: "Y residual is constant"); every prediction is the
// mean.
func TestPLSConstantResponses(t *testing.T) {
	f := loadPLSFixture(t)
	y := mat.NewDense(f.x.R, 2, nil)
	for i := range f.x.R {
		y.Set(i, 0, 3)
		y.Set(i, 1, -1)
	}
	pred, comps := plsFitAll(t, f.x, y, 4)
	if comps != 0 || !mat.EqualApprox(pred, y, 1e-12) {
		t.Errorf("fitted %d components (want 0); predictions equal the constants: %v", comps, mat.EqualApprox(pred, y, 1e-12))
	}
}

// TestBrainScoreCeilingAgainstNumPy gives the ceiling the fixture's
// half-splits and compares with the NumPy implementation in make_pls.py.
func TestBrainScoreCeilingAgainstNumPy(t *testing.T) {
	f := loadPLSFixture(t)
	var rep []float32
	sh := readNpy(t, "pls/repeats", &rep)
	c, err := BrainScoreCeiling(rep, sh[0], sh[1], sh[2], nil, fixtureInts2(t, "pls/halves"))
	if err != nil {
		t.Fatal(err)
	}
	want := rows2(dense(t, "pls/ceiling_r"))
	for s := range want {
		assertClose(t, "Spearman-Brown r", c.NeuronR[s], want[s], 1e-9)
	}
	exp := f.exp["ceiling"].(map[string]any)
	assertClose(t, "split medians", c.SplitMedian, floats(exp["split_median"]), 1e-9)
	assertClose(t, "ceiling", []float64{c.Ceiling}, []float64{exp["ceiling"].(float64)}, 1e-9)

	// A subset of images: the same as dropping the others from the repeats.
	var firstHalf []int
	for i := range sh[0] / 2 {
		firstHalf = append(firstHalf, i)
	}
	sub, err := BrainScoreCeiling(rep, sh[0], sh[1], sh[2], firstHalf, fixtureInts2(t, "pls/halves"))
	if err != nil {
		t.Fatal(err)
	}
	cut, err := BrainScoreCeiling(rep[:len(rep)/2], sh[0]/2, sh[1], sh[2], nil, fixtureInts2(t, "pls/halves"))
	if err != nil {
		t.Fatal(err)
	}
	assertClose(t, "subset ceiling", []float64{sub.Ceiling}, []float64{cut.Ceiling}, 0)
	if sub.Ceiling == c.Ceiling {
		t.Errorf("ceiling of half the images equals the whole set's: the subset was ignored")
	}
	if _, err := BrainScoreCeiling(rep, sh[0], sh[1], sh[2], []int{sh[0]}, fixtureInts2(t, "pls/halves")); err == nil {
		t.Errorf("image index %d gave no error", sh[0])
	}

	res := &BrainScoreResult{Score: 0.6}
	res.WithCeiling(0.8)
	if res.Ceiling != 0.8 || math.Abs(res.Ceiled-0.75) > 1e-15 || math.Abs(res.CeiledSquared-0.5625) > 1e-15 {
		t.Errorf("ceiled %v, squared %v; want 0.75, 0.5625", res.Ceiled, res.CeiledSquared)
	}
}

func TestShuffleSplits(t *testing.T) {
	labels := make([]string, 0, 103)
	for i := range 103 {
		labels = append(labels, []string{"a", "b", "c"}[min(i/40, 2)]) // 40 a, 40 b, 23 c
	}
	strat, err := StratifiedShuffleSplits(labels, 10, 0.1, 1)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ShuffleSplits(103, 10, 0.1, 1)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := StratifiedShuffleSplits(labels, 10, 0.1, 1)
	for s := range 10 {
		for _, sp := range []Split{strat[s], plain[s]} {
			all := slices.Concat(sp.Train, sp.Test)
			slices.Sort(all)
			if len(sp.Test) != 11 || len(all) != 103 || slices.Compact(all)[102] != 102 {
				t.Fatalf("split %d: %d test images of %d, want 11 of 103 distinct", s, len(sp.Test), len(all))
			}
		}
		// 11 test places in proportion 40:40:23 are 4.27, 4.27, 2.46: 4, 4,
		// and the remaining 3 to c's larger fraction.
		count := map[string]int{}
		for _, i := range strat[s].Test {
			count[labels[i]]++
		}
		if count["a"] != 4 || count["b"] != 4 || count["c"] != 3 {
			t.Errorf("split %d: test labels %v, want a:4 b:4 c:3", s, count)
		}
		if !slices.Equal(strat[s].Test, again[s].Test) {
			t.Errorf("split %d differs between runs with one seed", s)
		}
	}
	if slices.Equal(strat[0].Test, strat[1].Test) {
		t.Errorf("splits 0 and 1 test the same images")
	}
}

func TestRepetitionHalves(t *testing.T) {
	h, err := RepetitionHalves(7, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	distinct := map[string]bool{}
	for _, half := range h {
		if len(half) != 3 || !slices.IsSorted(half) || slices.Compact(slices.Clone(half))[2] != half[2] || half[0] < 0 || half[2] > 6 {
			t.Fatalf("half %v, want 3 sorted distinct trials of 7", half)
		}
		distinct[fmtInts(half)] = true
	}
	if len(distinct) < 5 {
		t.Errorf("only %d distinct halves in 10 draws", len(distinct))
	}
}

func fmtInts(x []int) string {
	b, _ := json.Marshal(x)
	return string(b)
}

func TestBrainScoreBadInput(t *testing.T) {
	f := loadPLSFixture(t)
	ok := f.splits
	for _, c := range []struct {
		name   string
		y      *mat.Dense
		splits []Split
		opt    BrainScoreOptions
		want   string
	}{
		{"rows", mat.NewDense(3, 8, nil), ok, BrainScoreOptions{}, "120 rows of features but 3 rows of responses"},
		{"no splits", f.y, nil, BrainScoreOptions{}, "no splits"},
		{"index", f.y, []Split{{Train: []int{0, 1}, Test: []int{120}}}, BrainScoreOptions{}, "index 120 outside [0,120)"},
		{"empty test", f.y, []Split{{Train: []int{0, 1}}}, BrainScoreOptions{}, "0 test images"},
		{"components", f.y, ok, BrainScoreOptions{Components: 61}, "61 components, want between 1 and the number of features (60)"},
		{"model", f.y, ok, BrainScoreOptions{Model: "svm"}, `model "svm"`},
		{"ridge folds", f.y, ok, BrainScoreOptions{Model: BrainScoreRidgeCV, Ridge: RidgeCVOptions{FoldOf: []int{0, 1}}}, "not FoldOf"},
		{"ridge labels", f.y, ok, BrainScoreOptions{Model: BrainScoreRidgeCV, Ridge: RidgeCVOptions{Labels: []string{"a"}}}, "1 ridge labels for 120 images"},
	} {
		_, err := BrainScore(f.x, c.y, c.splits, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	nanY := mat.DenseCopyOf(f.y)
	nanY.Set(5, 2, math.NaN())
	if _, err := BrainScore(f.x, nanY, ok, BrainScoreOptions{}); err == nil || !strings.Contains(err.Error(), "neuron 2 to image 5 is NaN") {
		t.Errorf("NaN response: error %v", err)
	}
	x := &Dense32{R: 3, C: 2, Data: []float32{1, 2, float32(math.Inf(1)), 4, 5, 6}}
	if _, err := BrainScore(x, mat.NewDense(3, 1, []float64{1, 2, 3}), []Split{{Train: []int{0, 1}, Test: []int{2}}}, BrainScoreOptions{Components: 1}); err == nil || !strings.Contains(err.Error(), "features 0..1: feature column has NaN or Inf") {
		t.Errorf("Inf feature: error %v", err)
	}
	if _, err := StratifiedShuffleSplits([]string{"a", "b"}, 10, 0.1, 0); err == nil || !strings.Contains(err.Error(), "2 images with test fraction 0.1 leave 1 test and 1 training") {
		t.Errorf("too few images: error %v", err)
	}
	for _, h := range [][][]int{{{0, 0}}, {{6}}, {{}}, {{0, 1, 2, 3}}} {
		if _, err := BrainScoreCeiling(make([]float32, 2*1*4), 2, 1, 4, nil, h); err == nil {
			t.Errorf("half-split %v gave no error", h)
		}
	}
}
