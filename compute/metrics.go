package compute

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Scores are per-neuron goodness-of-fit measures of predictions against
// measured responses, and their mean and median over neurons.
//
// EV and R2 follow scikit-learn's explained_variance_score and r2_score with
// multioutput='raw_values' and force_finite=False, except that a neuron whose
// responses are constant over the scored images gets NaN for both (scikit-learn
// gives NaN or -Inf): no prediction can explain variance that is not there, and
// scikit-learn's default (force_finite=True) scores such a neuron 1 or 0,
// which lifts the mean above what the data show. R is Pearson's r; it is NaN
// when either the responses or the predictions of a neuron are constant.
// NaN entries are left out of the means and medians: Constant says how many
// neurons were left out for constant responses (out of every summary, MSE's
// too, so all summaries are over the same neurons), and RCount how many
// neurons the r summaries use.
type Scores struct {
	EV, R, MSE, R2 []float64 // one per neuron

	EVMean, EVMedian   float64
	RMean, RMedian     float64
	MSEMean, MSEMedian float64
	R2Mean, R2Median   float64
	RCount             int
	Constant           int // neurons with constant responses: NaN EV, r and R2, in no summary

	// Set by WithCeiling: noise-corrected scores, NaN for neurons whose
	// ceiling is not positive; summaries skip the NaNs.
	EVCorrected, RCorrected            []float64
	EVCorrectedMean, EVCorrectedMedian float64
	RCorrectedMean, RCorrectedMedian   float64
	CorrectedCount                     int
}

// MinScoredImages is the fewest images Score accepts: with one image every
// response is constant, and with two Pearson's r is always ±1 and any line
// through both points explains all their variance.
const MinScoredImages = 3

// Score computes every per-neuron measure of yPred against yTrue (images x
// neurons) and their summaries. It needs at least MinScoredImages images (a
// val or test split that small is an error).
func Score(yTrue, yPred mat.Matrix) (*Scores, error) {
	if err := sameShape(yTrue, yPred); err != nil {
		return nil, err
	}
	if n, _ := yTrue.Dims(); n < MinScoredImages {
		return nil, fmt.Errorf("compute: %d images to score, want at least %d (with fewer, EV, r and R2 say nothing about the fit; enlarge the val or test split)", n, MinScoredImages)
	}
	for k, m := range []mat.Matrix{yTrue, yPred} {
		name := [2]string{"responses", "predictions"}[k]
		if i, j, bad := firstNonFinite(m); bad {
			return nil, fmt.Errorf("compute: %s: value at image %d, neuron %d is %v, want a finite number", name, i, j, m.At(i, j))
		}
	}
	s := &Scores{}
	s.EV, _ = ExplainedVariance(yTrue, yPred)
	s.R, _ = PearsonR(yTrue, yPred)
	s.MSE, _ = MeanSquaredError(yTrue, yPred)
	s.R2, _ = R2Score(yTrue, yPred)
	scoredMSE := slices.Clone(s.MSE)
	for j, ev := range s.EV {
		if math.IsNaN(ev) {
			s.Constant++
			scoredMSE[j] = math.NaN()
		}
	}
	s.EVMean, s.EVMedian, _ = MeanMedian(s.EV)
	s.RMean, s.RMedian, s.RCount = MeanMedian(s.R)
	s.MSEMean, s.MSEMedian, _ = MeanMedian(scoredMSE)
	s.R2Mean, s.R2Median, _ = MeanMedian(s.R2)
	return s, nil
}

func firstNonFinite(m mat.Matrix) (int, int, bool) {
	r, c := m.Dims()
	for i := range r {
		for j := range c {
			if v := m.At(i, j); math.IsNaN(v) || math.IsInf(v, 0) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

func sameShape(a, b mat.Matrix) error {
	ra, ca := a.Dims()
	rb, cb := b.Dims()
	if ra != rb || ca != cb {
		return fmt.Errorf("compute: responses are (%d,%d) but predictions are (%d,%d)", ra, ca, rb, cb)
	}
	if ra == 0 {
		return fmt.Errorf("compute: no images to score")
	}
	return nil
}

// ExplainedVariance is scikit-learn's explained_variance_score per neuron,
// 1 - Var(y - ŷ)/Var(y) (force_finite=False); NaN for a neuron whose
// responses are constant.
func ExplainedVariance(yTrue, yPred mat.Matrix) ([]float64, error) {
	var diff []float64
	return perNeuron(yTrue, yPred, func(y, p []float64) float64 {
		diff = diff[:0]
		for i := range y {
			diff = append(diff, y[i]-p[i])
		}
		return unexplained(centredSumSq(diff), y, false)
	})
}

// perNeuron scores each neuron: score gets its responses and predictions
// (column j of yTrue and yPred) and gives out[j].
func perNeuron(yTrue, yPred mat.Matrix, score func(y, p []float64) float64) ([]float64, error) {
	if err := sameShape(yTrue, yPred); err != nil {
		return nil, err
	}
	n, t := yTrue.Dims()
	out := make([]float64, t)
	y, p := make([]float64, n), make([]float64, n)
	for j := range t {
		mat.Col(y, j, yTrue)
		mat.Col(p, j, yPred)
		out[j] = score(y, p)
	}
	return out, nil
}

// R2Score is scikit-learn's r2_score per neuron, 1 - Σ(y-ŷ)²/Σ(y-ȳ)²
// (force_finite=False); NaN for a neuron whose responses are constant.
func R2Score(yTrue, yPred mat.Matrix) ([]float64, error) {
	return r2Score(yTrue, yPred, false)
}

// r2Score is R2Score; with forceFinite a constant neuron scores as under
// scikit-learn's default instead (1 if predicted exactly, else 0), which is
// the score its RidgeCV and GridSearchCV choose alphas by.
func r2Score(yTrue, yPred mat.Matrix, forceFinite bool) ([]float64, error) {
	return perNeuron(yTrue, yPred, func(y, p []float64) float64 {
		return unexplained(meanSquaredError(y, p), y, forceFinite)
	})
}

// unexplained is 1 - num/Var(y) for the responses y of one neuron. When y
// is constant (every value equal, or a variance that underflows to 0) it is
// NaN, or with forceFinite scikit-learn's default: 1 for a perfect
// prediction (num 0), else 0.
func unexplained(num float64, y []float64, forceFinite bool) float64 {
	den := centredSumSq(y)
	if den == 0 || isConstant(y) {
		switch {
		case !forceFinite:
			return math.NaN()
		case num == 0:
			return 1
		}
		return 0
	}
	return 1 - num/den
}

// isConstant reports whether every value equals the first: the mean of
// equal values can differ from them by a rounding error, which leaves a tiny
// nonzero variance.
func isConstant(x []float64) bool {
	for _, v := range x {
		if v != x[0] {
			return false
		}
	}
	return true
}

// MeanSquaredError is the mean of (y - ŷ)² per neuron.
func MeanSquaredError(yTrue, yPred mat.Matrix) ([]float64, error) {
	return perNeuron(yTrue, yPred, meanSquaredError)
}

func meanSquaredError(y, p []float64) float64 {
	var s float64
	for i := range y {
		d := y[i] - p[i]
		s += d * d
	}
	return s / float64(len(y))
}

// PearsonR is the correlation between responses and predictions per neuron;
// NaN where either is constant.
func PearsonR(yTrue, yPred mat.Matrix) ([]float64, error) {
	return perNeuron(yTrue, yPred, pearson)
}

func pearson(a, b []float64) float64 {
	ma, mb := mean(a), mean(b)
	var sab, saa, sbb float64
	for i := range a {
		da, db := a[i]-ma, b[i]-mb
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa == 0 || sbb == 0 || isConstant(a) || isConstant(b) {
		return math.NaN()
	}
	r := sab / math.Sqrt(saa*sbb)
	return math.Max(-1, math.Min(1, r))
}

func mean(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// centredSumSq is Σ(x - x̄)², divided by n: the population variance.
func centredSumSq(x []float64) float64 {
	m := mean(x)
	var s float64
	for _, v := range x {
		d := v - m
		s += d * d
	}
	return s / float64(len(x))
}

// MeanMedian summarises per-neuron values, skipping NaNs; count is how many
// values were used. With none, mean and median are NaN.
func MeanMedian(x []float64) (mean, median float64, count int) {
	v := make([]float64, 0, len(x))
	var s float64
	for _, e := range x {
		if !math.IsNaN(e) {
			v = append(v, e)
			s += e
		}
	}
	if len(v) == 0 {
		return math.NaN(), math.NaN(), 0
	}
	slices.Sort(v)
	k := len(v)
	if k%2 == 1 {
		median = v[k/2]
	} else {
		median = (v[k/2-1] + v[k/2]) / 2
	}
	return s / float64(k), median, k
}

// WithCeiling adds noise-corrected scores given each neuron's noise ceiling
// (the Spearman-Brown split-half reliability of its trial-averaged response,
// see NoiseCeiling): EV / ceiling and r / sqrt(ceiling). The reliability is
// the fraction of response variance that is repeatable, so EV / ceiling is the
// fraction of explainable variance explained and r / sqrt(ceiling) is r
// against the repeatable part (the classic correction for attenuation).
// Neurons with a ceiling that is NaN or not positive get NaN; a corrected
// score can exceed 1 when the ceiling is underestimated.
func (s *Scores) WithCeiling(ceiling []float64) error {
	if len(ceiling) != len(s.EV) {
		return fmt.Errorf("compute: %d noise ceilings for %d neurons", len(ceiling), len(s.EV))
	}
	s.EVCorrected = make([]float64, len(ceiling))
	s.RCorrected = make([]float64, len(ceiling))
	for j, c := range ceiling {
		if !(c > 0) {
			s.EVCorrected[j], s.RCorrected[j] = math.NaN(), math.NaN()
			continue
		}
		s.EVCorrected[j] = s.EV[j] / c
		s.RCorrected[j] = s.R[j] / math.Sqrt(c)
	}
	s.EVCorrectedMean, s.EVCorrectedMedian, s.CorrectedCount = MeanMedian(s.EVCorrected)
	s.RCorrectedMean, s.RCorrectedMedian, _ = MeanMedian(s.RCorrected)
	return nil
}

// DenseFrom32 copies a row-major float32 matrix (such as Dataset.Responses)
// into a float64 gonum matrix.
func DenseFrom32(rows, cols int, data []float32) (*mat.Dense, error) {
	if rows <= 0 || cols <= 0 || len(data) != rows*cols {
		return nil, fmt.Errorf("compute: want %d x %d = %d values, found %d", rows, cols, rows*cols, len(data))
	}
	d := make([]float64, len(data))
	for i, v := range data {
		d[i] = float64(v)
	}
	return mat.NewDense(rows, cols, d), nil
}
