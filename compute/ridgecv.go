package compute

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// DefaultAlphas is the ridge grid used when none is given: 21 values
// log-spaced from 1e-2 to 1e8 (numpy's logspace(-2, 8, 21)). Standardised
// pixels want alphas near 1e3-1e4, but PCA scores of wide network layers
// (ResNet50 layer3: 200,704 activations per image) have variances large
// enough that CV picks 1e6 and more.
func DefaultAlphas() []float64 {
	a := make([]float64, 21)
	for i := range a {
		a[i] = math.Pow(10, -2+0.5*float64(i))
	}
	return a
}

// Criterion is what ridge cross-validation maximises.
type Criterion string

const (
	// CriterionR2 is the mean over folds of the held-out R² averaged over
	// neurons: scikit-learn's RidgeCV(cv=...) default scoring.
	CriterionR2 Criterion = "r2"
	// CriterionMSE is the mean held-out squared error (minimised).
	CriterionMSE Criterion = "mse"
)

// RidgeCVOptions tune RidgeCV. The zero value means: DefaultAlphas, 5 folds,
// seed 0, one alpha for all neurons, chosen by CriterionR2.
type RidgeCVOptions struct {
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
	// Grid is the alphas tried; FoldOf the fold of each row.
	Grid   []float64
	FoldOf []int
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
// it. With one alpha for all neurons (the default) the chosen alpha has the
// best CVScore, the first in grid order on a tie, as scikit-learn's
// GridSearchCV; with PerNeuron each neuron takes the best of its own row of
// NeuronCVScore.
func RidgeCV(x, y mat.Matrix, opt RidgeCVOptions) (*RidgeCVResult, error) {
	if err := checkXY(x, y); err != nil {
		return nil, err
	}
	n, p := x.Dims()
	_, t := y.Dims()
	grid := opt.Alphas
	if grid == nil {
		grid = DefaultAlphas()
	}
	if len(grid) == 0 {
		return nil, errNoAlphas
	}
	for _, a := range grid {
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

	score := mat.NewDense(len(grid), t, nil) // summed over folds
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
		yho := rowsOf(y, ho, t)
		P := path.heldOut(rowsOf(x, ho, p))
		var pred, scratch mat.Dense
		for a, alpha := range grid {
			path.predictInto(&pred, &scratch, P, alpha)
			var s []float64
			if crit == CriterionR2 {
				s, _ = r2Score(yho, &pred, true)
			} else {
				s, _ = MeanSquaredError(yho, &pred)
			}
			for j, v := range s {
				score.Set(a, j, score.At(a, j)+v)
			}
		}
	}
	score.Scale(1/float64(k), score)

	res := &RidgeCVResult{Grid: append([]float64(nil), grid...), FoldOf: fold, NeuronCVScore: score,
		CVScore: make([]float64, len(grid)), Alpha: math.NaN()}
	better := func(a, b float64) bool { // is a strictly better than b
		if crit == CriterionMSE {
			return a < b
		}
		return a > b
	}
	best := 0
	for a := range grid {
		res.CVScore[a] = mat.Sum(score.Slice(a, a+1, 0, t)) / float64(t)
		if better(res.CVScore[a], res.CVScore[best]) {
			best = a
		}
	}
	alphas := make([]float64, t)
	for j := range t {
		alphas[j] = grid[best]
		if opt.PerNeuron {
			bj := 0
			for a := range grid {
				if better(score.At(a, j), score.At(bj, j)) {
					bj = a
				}
			}
			alphas[j] = grid[bj]
		}
	}
	if !opt.PerNeuron {
		res.Alpha = grid[best]
	}
	path, err := newRidgePath(x, y)
	if err != nil {
		return nil, fmt.Errorf("compute: ridge CV refit: %w", err)
	}
	res.Model = path.model(alphas)
	return res, nil
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
