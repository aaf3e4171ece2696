package compute

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gaussianProblem returns n x p features and responses y = x w + noise*e.
func gaussianProblem(n, p, t int, noise float64, seed uint64) (x, y *mat.Dense) {
	rng := rand.New(rand.NewPCG(seed, seed))
	x = mat.NewDense(n, p, nil)
	w := mat.NewDense(p, t, nil)
	x.Apply(func(int, int, float64) float64 { return rng.NormFloat64() }, x)
	w.Apply(func(int, int, float64) float64 { return rng.NormFloat64() }, w)
	y = mat.NewDense(n, t, nil)
	y.Mul(x, w)
	y.Apply(func(_, _ int, v float64) float64 { return v + noise*rng.NormFloat64() }, y)
	return x, y
}

// TestRidgeCVDefaultGridIsScaleFree multiplies the features by constants
// spanning 16 orders of magnitude: the default grid must choose the same
// relative alpha (alpha scales by c²) and the same predictions.
func TestRidgeCVDefaultGridIsScaleFree(t *testing.T) {
	x, y := gaussianProblem(120, 30, 4, 8, 1)
	ref, err := RidgeCV(x, y, RidgeCVOptions{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if ref.AtEnd || ref.Extensions != 0 {
		t.Fatalf("reference problem: alpha %g at an end (extensions %d); want an interior optimum", ref.Alpha, ref.Extensions)
	}
	refPred, _ := ref.Model.Predict(x)
	for _, c := range []float64{1e-8, 1e-3, 1, 1e4, 1e8} {
		var xc mat.Dense
		xc.Scale(c, x)
		res, err := RidgeCV(&xc, y, RidgeCVOptions{Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := res.Scale/(c*c), ref.Scale; math.Abs(got/want-1) > 1e-9 {
			t.Errorf("c=%g: scale/c² = %g, want %g", c, got, want)
		}
		if got, want := res.Alpha/res.Scale, ref.Alpha/ref.Scale; math.Abs(got/want-1) > 1e-9 {
			t.Errorf("c=%g: relative alpha %g, want %g", c, got, want)
		}
		pred, _ := res.Model.Predict(&xc)
		if !mat.EqualApprox(pred, refPred, 1e-8) {
			t.Errorf("c=%g: predictions differ from c=1's", c)
		}
	}
}

// TestRidgeCVDefaultGridExtends checks the decade extensions: responses that
// are pure noise (this seed: no finite penalty beats the training mean on
// held-out rows) want an infinite penalty, so the grid grows at its top
// MaxGridExtensions times (two half-decade alphas each) and still ends there;
// noiseless responses with fewer features than rows want no penalty, so it
// grows at its bottom. An explicit grid never grows.
func TestRidgeCVDefaultGridExtends(t *testing.T) {
	x, _ := gaussianProblem(100, 10, 3, 0, 3)
	_, noise := gaussianProblem(100, 10, 3, 1, 5)
	_, exact := gaussianProblem(100, 10, 3, 0, 3)
	def := DefaultRelativeAlphas()
	cases := []struct {
		name      string
		y         *mat.Dense
		wantLo    float64 // relative grid ends after the extensions
		wantHi    float64
		wantAlpha float64 // relative
	}{
		{"noise extends up", noise, def[0], def[len(def)-1] * 1e6, def[len(def)-1] * 1e6},
		{"noiseless extends down", exact, def[0] * 1e-6, def[len(def)-1], def[0] * 1e-6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := RidgeCV(x, c.y, RidgeCVOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Extensions != MaxGridExtensions || !res.AtEnd {
				t.Errorf("extensions %d, at end %v; want %d and true", res.Extensions, res.AtEnd, MaxGridExtensions)
			}
			if want := len(def) + 2*MaxGridExtensions; len(res.Grid) != want || len(res.CVScore) != want {
				t.Fatalf("grid of %d alphas (%d scores), want %d", len(res.Grid), len(res.CVScore), want)
			}
			if r, _ := res.NeuronCVScore.Dims(); r != len(res.Grid) {
				t.Errorf("NeuronCVScore has %d rows for %d alphas", r, len(res.Grid))
			}
			for i := 1; i < len(res.Grid); i++ {
				if got := res.Grid[i] / res.Grid[i-1]; math.Abs(got-math.Sqrt(10)) > 1e-9 {
					t.Fatalf("grid steps %g between alphas %d and %d, want sqrt(10)", got, i-1, i)
				}
			}
			rel := func(a float64) float64 { return a / res.Scale }
			for _, v := range []struct {
				what      string
				got, want float64
			}{{"lowest", rel(res.Grid[0]), c.wantLo}, {"highest", rel(res.Grid[len(res.Grid)-1]), c.wantHi}, {"chosen", rel(res.Alpha), c.wantAlpha}} {
				if math.Abs(v.got/v.want-1) > 1e-9 {
					t.Errorf("%s relative alpha %g, want %g", v.what, v.got, v.want)
				}
			}
		})
	}
	res, err := RidgeCV(x, noise, RidgeCVOptions{Alphas: []float64{0.1, 1, 10}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Extensions != 0 || len(res.Grid) != 3 || res.Alpha != 10 || !res.AtEnd {
		t.Errorf("explicit grid: extensions %d, grid %v, alpha %g, at end %v; want 0, [0.1 1 10], 10, true",
			res.Extensions, res.Grid, res.Alpha, res.AtEnd)
	}
}

func TestDecadePast(t *testing.T) {
	cases := []struct {
		end, neighbour float64
		want           []float64
	}{
		{1e6, math.Sqrt(10) * 1e5, []float64{math.Sqrt(10) * 1e6, 1e7}},
		{1e-6, math.Sqrt(10) * 1e-6, []float64{1e-6 / math.Sqrt(10), 1e-7}},
		{100, 10, []float64{1000}},
		{1, 1e-3, []float64{1e3}},
		{8, 4, []float64{8 * math.Pow(10, 1.0/3), 8 * math.Pow(10, 2.0/3), 80}},
		{1, 1, nil},
		{0, 1, nil},
	}
	for _, c := range cases {
		got := decadePast(c.end, c.neighbour)
		if len(got) != len(c.want) {
			t.Errorf("decadePast(%g, %g) = %v, want %v", c.end, c.neighbour, got, c.want)
			continue
		}
		for i := range got {
			if math.Abs(got[i]/c.want[i]-1) > 1e-12 {
				t.Errorf("decadePast(%g, %g)[%d] = %g, want %g", c.end, c.neighbour, i, got[i], c.want[i])
			}
		}
	}
}
