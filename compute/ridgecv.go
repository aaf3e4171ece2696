package compute

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// DefaultRelativeAlphas is the ridge grid used when none is given, in units
// of the design's scale (RidgeCVResult.Scale, the mean eigenvalue of the
// centred XᵀX): 25 values log-spaced from 1e-6 to 1e6, half a decade apart.
// Measuring alpha in that unit makes the default scale-free: multiplying the
// features by any constant multiplies every alpha tried by its square, so CV
// chooses the same predictions (the random network's activations are orders
// of magnitude smaller than the pretrained one's, PCA scores of wide layers
// orders of magnitude larger than standardised pixels).
func DefaultRelativeAlphas() []float64 {
	a := make([]float64, 25)
	for i := range a {
		a[i] = math.Pow(10, -6+0.5*float64(i))
	}
	return a
}

// MaxGridExtensions is how many times the default grid grows by a decade
// past the end CV chose before RidgeCV gives up and keeps that end.
const MaxGridExtensions = 6

// Criterion is what ridge cross-validation maximises.
type Criterion string

const (
	// CriterionR2 is the mean over folds of the held-out R² averaged over
	// neurons: scikit-learn's RidgeCV(cv=...) default scoring.
	CriterionR2 Criterion = "r2"
	// CriterionMSE is the mean held-out squared error (minimised).
	CriterionMSE Criterion = "mse"
)

// RidgeCVOptions tune RidgeCV. The zero value means: the scale-free default
// grid (DefaultRelativeAlphas x the design's scale, extended while CV picks an
// end), 5 folds, seed 0, one alpha for all neurons, chosen by CriterionR2.
type RidgeCVOptions struct {
	// Alphas, when given, is the grid tried as it is (absolute penalties, no
	// extension), as scikit-learn's RidgeCV(alphas=...).
	Alphas []float64
	// Folds is the number of folds (0 means 5); rows are assigned by
	// KFold(n, Folds, Seed), or StratifiedKFold(Labels, Folds, Seed) when
	// Labels is given.
	Folds  int
	Seed   uint64
	Labels []string
	// FoldOf, when given, is the fold of each row (0..k-1) and overrides
	// Folds, Seed and Labels.
	FoldOf []int
	// PerNeuron picks each neuron's alpha by its own cross-validated score.
	PerNeuron bool
	Criterion Criterion
}

// RidgeCVResult is a fitted ridge model and its cross-validation.
type RidgeCVResult struct {
	Model *LinearModel // refitted on all rows with the chosen alpha(s)
	// Alpha is the alpha shared by all neurons; NaN when PerNeuron.
	Alpha float64
	// Grid is the alphas tried, ascending for the default grid (in the order
	// given otherwise); FoldOf the fold of each row.
	Grid   []float64
	FoldOf []int
	// Scale is trace(XcᵀXc)/p for the centred design Xc (n x p), the mean
	// eigenvalue of XcᵀXc: the unit of DefaultRelativeAlphas.
	Scale float64
	// Extensions counts the decades the default grid grew by because CV chose
	// one of its ends (0 with Options.Alphas given); AtEnd says the chosen
	// alpha is still an end of Grid.
	Extensions int
	AtEnd      bool
	// CVScore[a] is the criterion for Grid[a] averaged over folds and
	// neurons: mean R², or mean squared error for CriterionMSE.
	CVScore []float64
	// NeuronCVScore is len(Grid) x neurons: each neuron's criterion averaged
	// over folds.
	NeuronCVScore *mat.Dense
}

// RidgeCV chooses the ridge penalty by k-fold cross-validation on the rows
// of x and y, then refits on all of them. Each fold's centred training design
// is decomposed once (see ridgePath) and every alpha is a diagonal rescale of
// it, so trying more alphas is cheap. With one alpha for all neurons (the
// default) the chosen alpha has the best CVScore, the first in grid order on
// a tie, as scikit-learn's GridSearchCV; with PerNeuron each neuron takes the
// best of its own row of NeuronCVScore.
//
// Without Options.Alphas the grid is DefaultRelativeAlphas x Scale; while the
// best shared alpha is an end of it, the grid grows by a decade past that end
// (at its own spacing), at most MaxGridExtensions times.
func RidgeCV(x, y mat.Matrix, opt RidgeCVOptions) (*RidgeCVResult, error) {
	if err := checkXY(x, y); err != nil {
		return nil, err
	}
	n, _ := x.Dims()
	_, t := y.Dims()
	if opt.Alphas != nil && len(opt.Alphas) == 0 {
		return nil, errNoAlphas
	}
	for _, a := range opt.Alphas {
		if !(a >= 0) || math.IsInf(a, 0) {
			return nil, fmt.Errorf("compute: ridge CV: alpha %v, want finite numbers >= 0", a)
		}
	}
	crit := opt.Criterion
	if crit == "" {
		crit = CriterionR2
	}
	if crit != CriterionR2 && crit != CriterionMSE {
		return nil, fmt.Errorf("compute: ridge CV: criterion %q, want %q or %q", crit, CriterionR2, CriterionMSE)
	}
	fold := opt.FoldOf
	var err error
	if fold == nil {
		k := opt.Folds
		if k == 0 {
			k = 5
		}
		if opt.Labels != nil {
			if len(opt.Labels) != n {
				return nil, fmt.Errorf("compute: ridge CV: %d labels for %d rows", len(opt.Labels), n)
			}
			fold, err = StratifiedKFold(opt.Labels, k, opt.Seed)
		} else {
			fold, err = KFold(n, k, opt.Seed)
		}
		if err != nil {
			return nil, err
		}
	}
	k, err := checkFolds(fold, n)
	if err != nil {
		return nil, err
	}
	full, err := newRidgePath(x, y)
	if err != nil {
		return nil, fmt.Errorf("compute: ridge CV refit: %w", err)
	}
	cv, err := newFoldPaths(x, y, fold, k, crit)
	if err != nil {
		return nil, err
	}

	res := &RidgeCVResult{FoldOf: fold, Alpha: math.NaN(), Scale: full.scale()}
	grid := opt.Alphas
	if grid == nil {
		grid = DefaultRelativeAlphas()
		for i := range grid {
			grid[i] *= res.Scale
		}
	}
	better := func(a, b float64) bool { // is a strictly better than b
		if crit == CriterionMSE {
			return a < b
		}
		return a > b
	}
	res.Grid = slices.Clone(grid)
	rows := make([][]float64, 0, len(grid)) // each alpha's per-neuron scores
	for _, alpha := range res.Grid {
		rows = append(rows, cv.score(alpha, t))
	}
	mean := func(r []float64) float64 { // in mat.Sum's order, as before the grid could grow
		var s float64
		for _, v := range r {
			s += v
		}
		return s / float64(t)
	}
	best := func() int {
		b := 0
		for a := range res.Grid {
			if better(mean(rows[a]), mean(rows[b])) {
				b = a
			}
		}
		return b
	}
	chosen := best()
	for opt.Alphas == nil && res.Extensions < MaxGridExtensions && len(res.Grid) > 1 {
		last := len(res.Grid) - 1
		var added []float64
		switch chosen {
		case 0:
			added = decadePast(res.Grid[0], res.Grid[1])
		case last:
			added = decadePast(res.Grid[last], res.Grid[last-1])
		}
		if added == nil {
			break
		}
		for _, alpha := range added {
			r := cv.score(alpha, t)
			if chosen == 0 {
				res.Grid = slices.Insert(res.Grid, 0, alpha)
				rows = slices.Insert(rows, 0, r)
			} else {
				res.Grid = append(res.Grid, alpha)
				rows = append(rows, r)
			}
		}
		res.Extensions++
		chosen = best()
	}

	res.NeuronCVScore = mat.NewDense(len(res.Grid), t, nil)
	res.CVScore = make([]float64, len(res.Grid))
	for a, r := range rows {
		res.NeuronCVScore.SetRow(a, r)
		res.CVScore[a] = mean(r)
	}
	res.AtEnd = len(res.Grid) > 1 && (res.Grid[chosen] == slices.Min(res.Grid) || res.Grid[chosen] == slices.Max(res.Grid))
	alphas := make([]float64, t)
	for j := range t {
		alphas[j] = res.Grid[chosen]
		if opt.PerNeuron {
			bj := 0
			for a := range res.Grid {
				if better(rows[a][j], rows[bj][j]) {
					bj = a
				}
			}
			alphas[j] = res.Grid[bj]
		}
	}
	if !opt.PerNeuron {
		res.Alpha = res.Grid[chosen]
	}
	res.Model = full.model(alphas)
	return res, nil
}

// decadePast lists the alphas of one more decade beyond the grid's end
// alpha, away from its neighbour, at the grid's log spacing (one alpha a
// whole step away when the grid is coarser than a decade), nearest first;
// nil when the two do not make a log spacing.
func decadePast(end, neighbour float64) []float64 {
	if !(end > 0 && neighbour > 0) || end == neighbour {
		return nil
	}
	step := math.Log10(end / neighbour) // signed, pointing away from the grid
	if math.Abs(step) >= 1 {
		return []float64{end * end / neighbour}
	}
	n := max(1, int(math.Round(1/math.Abs(step))))
	out := make([]float64, n)
	for i := range out {
		out[i] = end * math.Pow(10, math.Copysign(float64(i+1)/float64(n), step))
	}
	return out
}

// foldPaths holds each cross-validation fold's decomposed training design and
// held-out rows, so that any alpha can be scored without refactoring.
type foldPaths struct {
	crit  Criterion
	paths []*ridgePath
	held  []*mat.Dense // (held-out x - train mean) Basis
	yho   []*mat.Dense
}

func newFoldPaths(x, y mat.Matrix, fold []int, k int, crit Criterion) (*foldPaths, error) {
	_, p := x.Dims()
	_, t := y.Dims()
	fp := &foldPaths{crit: crit}
	for f := range k {
		var tr, ho []int
		for i, g := range fold {
			if g == f {
				ho = append(ho, i)
			} else {
				tr = append(tr, i)
			}
		}
		path, err := newRidgePath(rowsOf(x, tr, p), rowsOf(y, tr, t))
		if err != nil {
			return nil, fmt.Errorf("compute: ridge CV fold %d: %w", f, err)
		}
		fp.paths = append(fp.paths, path)
		fp.held = append(fp.held, path.heldOut(rowsOf(x, ho, p)))
		fp.yho = append(fp.yho, rowsOf(y, ho, t))
	}
	return fp, nil
}

// score is each neuron's criterion at alpha, averaged over the folds.
func (fp *foldPaths) score(alpha float64, t int) []float64 {
	out := make([]float64, t)
	var pred, scratch mat.Dense
	for f, path := range fp.paths {
		path.predictInto(&pred, &scratch, fp.held[f], alpha)
		var s []float64
		if fp.crit == CriterionR2 {
			s, _ = r2Score(fp.yho[f], &pred, true)
		} else {
			s, _ = MeanSquaredError(fp.yho[f], &pred)
		}
		for j, v := range s {
			out[j] += v
		}
		pred.Reset()
		scratch.Reset()
	}
	for j := range out {
		out[j] *= 1 / float64(len(fp.paths))
	}
	return out
}

// rowsOf copies the listed rows of m.
func rowsOf(m mat.Matrix, rows []int, cols int) *mat.Dense {
	out := mat.NewDense(len(rows), cols, nil)
	for k, i := range rows {
		for j := range cols {
			out.Set(k, j, m.At(i, j))
		}
	}
	return out
}

// ChosenNeuronCVScore is each neuron's cross-validation score at the alpha
// it was refitted with (the shared alpha, or its own with PerNeuron): its
// entry in NeuronCVScore, the neuron's held-out criterion averaged over the
// folds as scikit-learn's RidgeCV(cv=k) averages fold scores. It uses only
// the training images, so it can choose among read-outs (a layer per neuron,
// see BestLayerPerNeuron) without biasing their validation scores.
func (r *RidgeCVResult) ChosenNeuronCVScore() []float64 {
	_, t := r.NeuronCVScore.Dims()
	out := make([]float64, t)
	for j := range t {
		out[j] = r.NeuronCVScore.At(slices.Index(r.Grid, r.Model.Alpha[j]), j)
	}
	return out
}
