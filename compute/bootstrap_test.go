package compute

import (
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// fixtureInts2 reads a 2-D int64 fixture as rows of ints.
func fixtureInts2(t *testing.T, rel string) [][]int {
	t.Helper()
	var v []int64
	sh := readNpy(t, rel, &v)
	if len(sh) != 2 {
		t.Fatalf("%s: shape %v, want 2-D", rel, sh)
	}
	out := make([][]int, sh[0])
	for i := range out {
		out[i] = make([]int, sh[1])
		for j := range out[i] {
			out[i][j] = int(v[i*sh[1]+j])
		}
	}
	return out
}

func assertInterval(t *testing.T, what string, got Interval, want map[string]any, tol float64) {
	t.Helper()
	assertClose(t, what, []float64{got.Estimate, got.Lo, got.Hi}, []float64{want["estimate"].(float64), want["lo"].(float64), want["hi"].(float64)}, tol)
	if got.Used != int(want["used"].(float64)) {
		t.Errorf("%s: %d resamples used, want %v", what, got.Used, want["used"])
	}
}

// TestBootstrapAgainstNumPy gives the Go bootstrap the resample indices that
// testdata/compute/make_bootstrap.py drew and compares every interval.
func TestBootstrapAgainstNumPy(t *testing.T) {
	exp := expected(t, "bootstrap")
	y := dense(t, "bootstrap/y_true")
	pa, pb := dense(t, "bootstrap/pred_a"), dense(t, "bootstrap/pred_b")
	idx := fixtureInts2(t, "bootstrap/indices")
	const tol = 1e-12
	for _, run := range []struct {
		name string
		pred *mat.Dense
	}{{"a", pa}, {"b", pb}} {
		b, err := BootstrapScores(y, run.pred, idx)
		if err != nil {
			t.Fatal(err)
		}
		assertInterval(t, run.name+" EV", b.EV, exp[run.name+"_ev"].(map[string]any), tol)
		assertInterval(t, run.name+" r", b.R, exp[run.name+"_r"].(map[string]any), tol)
	}
	d, err := BootstrapPaired(y, pa, pb, idx)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		got  Difference
	}{{"diff_ev", d.EV}, {"diff_r", d.R}} {
		want := exp[c.name].(map[string]any)
		assertInterval(t, c.name, c.got.Interval, want, tol)
		if math.Abs(c.got.BBetter-want["b_better"].(float64)) > 1e-12 {
			t.Errorf("%s: B better in %v of resamples, want %v", c.name, c.got.BBetter, want["b_better"])
		}
	}
}

// TestBootstrapPairedSelf: a run compared with itself differs by exactly 0
// on every resample and never wins.
func TestBootstrapPairedSelf(t *testing.T) {
	y, pa := dense(t, "bootstrap/y_true"), dense(t, "bootstrap/pred_a")
	idx, err := BootstrapIndices(40, 50, 3)
	if err != nil {
		t.Fatal(err)
	}
	d, err := BootstrapPaired(y, pa, pa, idx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []Difference{d.EV, d.R} {
		if v.Estimate != 0 || v.Lo != 0 || v.Hi != 0 || v.BBetter != 0 || v.Used != 50 {
			t.Errorf("self comparison: %+v, want all zero over 50 resamples", v)
		}
	}
}

func TestBootstrapIndices(t *testing.T) {
	a, err := BootstrapIndices(30, 100, 7)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BootstrapIndices(30, 100, 7)
	c, _ := BootstrapIndices(30, 100, 8)
	if len(a) != 100 || len(a[0]) != 30 {
		t.Fatalf("shape %d x %d, want 100 x 30", len(a), len(a[0]))
	}
	same, differs := true, false
	counts := make([]int, 30)
	for r := range a {
		same = same && slices.Equal(a[r], b[r])
		differs = differs || !slices.Equal(a[r], c[r])
		for _, i := range a[r] {
			if i < 0 || i >= 30 {
				t.Fatalf("index %d outside [0,30)", i)
			}
			counts[i]++
		}
	}
	if !same || !differs {
		t.Errorf("same seed reproduces: %v (want true); another seed differs: %v (want true)", same, differs)
	}
	// 3000 draws: each image is drawn 100 times on average; a uniform
	// generator stays within 60..140 with overwhelming probability.
	for i, n := range counts {
		if n < 60 || n > 140 {
			t.Errorf("image %d drawn %d times in 3000, want about 100", i, n)
		}
	}
}

func TestPercentileMatchesNumPy(t *testing.T) {
	// numpy.percentile([1, 2, 4, 8], [0, 2.5, 50, 97.5, 100]).
	v := []float64{1, 2, 4, 8}
	for _, c := range []struct{ q, want float64 }{{0, 1}, {0.025, 1.075}, {0.5, 3}, {0.975, 7.7}, {1, 8}} {
		if got := percentile(v, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if !math.IsNaN(percentile(nil, 0.5)) {
		t.Errorf("percentile of nothing is not NaN")
	}
}

func TestBootstrapBadInput(t *testing.T) {
	y := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 7})
	p := mat.NewDense(3, 2, []float64{1, 2, 3, 4, 5, 6})
	nan := mat.NewDense(3, 2, []float64{1, 2, math.NaN(), 4, 5, 6})
	for _, c := range []struct {
		name string
		y, p mat.Matrix
		idx  [][]int
		want string
	}{
		{"no resamples", y, p, nil, "no resamples"},
		{"short resample", y, p, [][]int{{0, 1}}, "resample 0 has 2 indices"},
		{"index out of range", y, p, [][]int{{0, 1, 3}}, "image index 3 outside [0,3)"},
		{"shape", y, mat.NewDense(2, 2, nil), [][]int{{0, 1, 2}}, "(3,2) but predictions are (2,2)"},
		{"NaN prediction", y, nan, [][]int{{0, 1, 2}}, "image 1, neuron 0 is NaN"},
		{"NaN response", nan, p, [][]int{{0, 1, 2}}, "response at image 1, neuron 0 is NaN"},
	} {
		_, err := BootstrapScores(c.y, c.p, c.idx)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
	if _, err := BootstrapIndices(0, 10, 1); err == nil {
		t.Errorf("BootstrapIndices(0 images) gave no error")
	}
}
