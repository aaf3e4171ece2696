package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Brain-Score's defaults for neural predictivity (Schrimpf et al. 2018,
// "Brain-Score: Which Artificial Neural Network for Object Recognition is
// most Brain-Like?", bioRxiv 407007; brain-score/vision scores
// MajajHong2015 IT this way).
const (
	BrainScoreSplits       = 10
	BrainScoreTestFraction = 0.1
	BrainScoreComponents   = 25
)

// Split is one train/test partition of image indices.
type Split struct {
	Train, Test []int
}

// ShuffleSplits draws splits random partitions of n images, as
// scikit-learn's ShuffleSplit (though not its random draws): each split
// shuffles the images (math/rand/v2 PCG seeded (seed, seed), one split
// after another) and tests on the first ceil(testFraction x n). Train and
// test indices are sorted.
func ShuffleSplits(n, splits int, testFraction float64, seed uint64) ([]Split, error) {
	nTest, err := testCount(n, splits, testFraction)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]Split, splits)
	for s := range out {
		perm := rng.Perm(n)
		out[s] = Split{Train: sorted(perm[nTest:]), Test: sorted(perm[:nTest])}
	}
	return out, nil
}

// StratifiedShuffleSplits is ShuffleSplits keeping each label's share of
// the test images, as scikit-learn's StratifiedShuffleSplit (not its random
// draws): the ceil(testFraction x n) test places are shared out in
// proportion to the label counts, the remainders going to the largest
// fractional parts (ties to the label first in sorted order), and each split
// shuffles every label's images (labels in sorted order) and tests on the
// first of them.
func StratifiedShuffleSplits(labels []string, splits int, testFraction float64, seed uint64) ([]Split, error) {
	n := len(labels)
	nTest, err := testCount(n, splits, testFraction)
	if err != nil {
		return nil, err
	}
	groups, names := groupByLabel(labels)
	share := make([]int, len(names))
	frac := make([]float64, len(names))
	left := nTest
	for g, l := range names {
		exact := float64(nTest) * float64(len(groups[l])) / float64(n)
		share[g] = int(math.Floor(exact))
		frac[g] = exact - float64(share[g])
		left -= share[g]
	}
	order := make([]int, len(names))
	for g := range order {
		order[g] = g
	}
	slices.SortStableFunc(order, func(a, b int) int { return -cmpFloat(frac[a], frac[b]) })
	for _, g := range order[:left] {
		share[g]++
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([]Split, splits)
	for s := range out {
		var tr, te []int
		for g, l := range names {
			rows := slices.Clone(groups[l])
			rng.Shuffle(len(rows), func(a, b int) { rows[a], rows[b] = rows[b], rows[a] })
			te = append(te, rows[:share[g]]...)
			tr = append(tr, rows[share[g]:]...)
		}
		out[s] = Split{Train: sorted(tr), Test: sorted(te)}
	}
	return out, nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sorted(x []int) []int {
	out := slices.Clone(x)
	slices.Sort(out)
	return out
}

func testCount(n, splits int, testFraction float64) (int, error) {
	if splits < 1 {
		return 0, fmt.Errorf("compute: %d splits, want at least 1", splits)
	}
	if !(testFraction > 0 && testFraction < 1) {
		return 0, fmt.Errorf("compute: test fraction %v, want a number between 0 and 1", testFraction)
	}
	nTest := int(math.Ceil(testFraction * float64(n)))
	if nTest < 1 || n-nTest < 2 {
		return 0, fmt.Errorf("compute: %d images with test fraction %v leave %d test and %d training images, want at least 1 and 2",
			n, testFraction, nTest, n-nTest)
	}
	return nTest, nil
}

// Read-outs BrainScore can fit.
const (
	BrainScorePLS     = "pls"
	BrainScoreRidgeCV = "ridgecv"
)

// BrainScoreOptions tune BrainScore. The zero value is Brain-Score's PLS
// with 25 components.
type BrainScoreOptions struct {
	// Model is BrainScorePLS (the default) or BrainScoreRidgeCV.
	Model string
	// Components is the number of PLS components; 0 means 25.
	Components int
	// Ridge configures RidgeCV on each split's training images. Labels, when
	// given, hold one label per image of the whole set (each split passes
	// its training images' labels on); FoldOf cannot be given.
	Ridge RidgeCVOptions
}

// BrainScoreResult is Brain-Score's neural predictivity of one feature set.
type BrainScoreResult struct {
	// NeuronR[s][j] is Pearson's r of neuron j between responses and
	// predictions on split s's test images (NaN when either is constant).
	NeuronR [][]float64
	// SplitMedian[s] is the median of NeuronR[s] over neurons, skipping NaN.
	SplitMedian []float64
	// Score is the mean of SplitMedian; StdErr is their standard deviation
	// (ddof 0, as xarray's std in Brain-Score) over sqrt(splits).
	Score, StdErr float64
	// Components is the fewest PLS components fitted on any split (0 for
	// ridge).
	Components int

	// Set by WithCeiling: the ceiling, Score / Ceiling, and Brain-Score's
	// current ceiled form (Score / Ceiling)².
	Ceiling, Ceiled, CeiledSquared float64
}

// BrainScore runs Brain-Score's neural predictivity protocol: for each
// split, fit the read-out (PLS regression on the raw features, as
// scikit-learn's PLSRegression(n_components, scale=False), or ridge with
// cross-validated alpha) on the training images, predict the test images,
// and correlate per neuron; the score is the mean over splits of the median
// over neurons.
//
// x is images x features and y images x neurons for every image with
// responses; splits index their rows (ShuffleSplits or
// StratifiedShuffleSplits with BrainScoreSplits and
// BrainScoreTestFraction). PLS reads x once in column panels to form the
// images-by-images Gram matrix, from which every split's fit and
// predictions follow (see plsDual); ridge needs x as a dense float64 matrix
// (8 bytes per image per feature), so wide layers want PCA first.
func BrainScore(x Matrix32, y mat.Matrix, splits []Split, opt BrainScoreOptions) (*BrainScoreResult, error) {
	n, p := x.Rows(), x.Cols()
	ny, t := y.Dims()
	if ny != n {
		return nil, fmt.Errorf("compute: Brain-Score: %d rows of features but %d rows of responses", n, ny)
	}
	if i, j, bad := firstNonFinite(y); bad {
		return nil, fmt.Errorf("compute: Brain-Score: response of neuron %d to image %d is %v, want a finite number", j, i, y.At(i, j))
	}
	if len(splits) == 0 {
		return nil, fmt.Errorf("compute: Brain-Score: no splits")
	}
	for s, sp := range splits {
		if len(sp.Train) < 2 || len(sp.Test) < 1 {
			return nil, fmt.Errorf("compute: Brain-Score: split %d has %d training and %d test images, want at least 2 and 1", s, len(sp.Train), len(sp.Test))
		}
		for _, i := range slices.Concat(sp.Train, sp.Test) {
			if i < 0 || i >= n {
				return nil, fmt.Errorf("compute: Brain-Score: split %d has image index %d outside [0,%d)", s, i, n)
			}
		}
	}
	var predict func(sp Split) (*mat.Dense, int, error)
	switch opt.Model {
	case "", BrainScorePLS:
		comps := opt.Components
		if comps == 0 {
			comps = BrainScoreComponents
		}
		if err := checkPLSShape(n, p, comps); err != nil {
			return nil, err
		}
		gram, _, err := plsGram(x)
		if err != nil {
			return nil, err
		}
		predict = func(sp Split) (*mat.Dense, int, error) {
			return plsSplitPredict(gram, y, sp, comps)
		}
	case BrainScoreRidgeCV:
		if opt.Ridge.FoldOf != nil {
			return nil, fmt.Errorf("compute: Brain-Score: ridge folds differ per split; give Folds and Seed, not FoldOf")
		}
		if opt.Ridge.Labels != nil && len(opt.Ridge.Labels) != n {
			return nil, fmt.Errorf("compute: Brain-Score: %d ridge labels for %d images", len(opt.Ridge.Labels), n)
		}
		d32, err := ToDense32(x)
		if err != nil {
			return nil, err
		}
		xd, err := DenseFrom32(n, p, d32.Data)
		if err != nil {
			return nil, err
		}
		predict = func(sp Split) (*mat.Dense, int, error) {
			ro := opt.Ridge
			if ro.Labels != nil {
				ro.Labels = make([]string, len(sp.Train))
				for k, i := range sp.Train {
					ro.Labels[k] = opt.Ridge.Labels[i]
				}
			}
			cv, err := RidgeCV(rowsOf(xd, sp.Train, p), rowsOf(y, sp.Train, t), ro)
			if err != nil {
				return nil, 0, err
			}
			pred, err := cv.Model.Predict(rowsOf(xd, sp.Test, p))
			return pred, 0, err
		}
	default:
		return nil, fmt.Errorf("compute: Brain-Score: model %q, want %q or %q", opt.Model, BrainScorePLS, BrainScoreRidgeCV)
	}

	res := &BrainScoreResult{NeuronR: make([][]float64, len(splits)), SplitMedian: make([]float64, len(splits)),
		Components: math.MaxInt, Ceiling: math.NaN(), Ceiled: math.NaN(), CeiledSquared: math.NaN()}
	for s, sp := range splits {
		pred, comps, err := predict(sp)
		if err != nil {
			return nil, fmt.Errorf("compute: Brain-Score: split %d: %w", s, err)
		}
		res.Components = min(res.Components, comps)
		res.NeuronR[s], _ = PearsonR(rowsOf(y, sp.Test, t), pred)
		_, res.SplitMedian[s], _ = MeanMedian(res.NeuronR[s])
	}
	res.Score, res.StdErr = meanStdErr(res.SplitMedian)
	return res, nil
}

// meanStdErr is the mean and its standard error std/sqrt(n) with the
// population (ddof 0) standard deviation.
func meanStdErr(x []float64) (mean, stderr float64) {
	mean, _, _ = MeanMedian(x)
	var ss float64
	for _, v := range x {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss/float64(len(x))) / math.Sqrt(float64(len(x)))
}

// plsSplitPredict fits PLS on a split's training images and predicts its
// test images from the Gram matrix of all images (centred on their overall
// mean): re-centring on the training mean m is G - r1ᵀ - 1rᵀ + c with
// r = G[:,train] mean and c its mean over the training rows.
func plsSplitPredict(gram *mat.Dense, y mat.Matrix, sp Split, comps int) (*mat.Dense, int, error) {
	n, _ := gram.Dims()
	_, t := y.Dims()
	ntr := float64(len(sp.Train))
	r := make([]float64, n) // x_i · m for every image
	for i := range n {
		var s float64
		for _, j := range sp.Train {
			s += gram.At(i, j)
		}
		r[i] = s / ntr
	}
	var c float64
	for _, j := range sp.Train {
		c += r[j]
	}
	c /= ntr
	block := func(rows []int) *mat.Dense {
		out := mat.NewDense(len(rows), len(sp.Train), nil)
		for a, i := range rows {
			for b, j := range sp.Train {
				out.Set(a, b, gram.At(i, j)-r[i]-r[j]+c)
			}
		}
		return out
	}
	yc, ymean := centred(rowsOf(y, sp.Train, t))
	fit, err := plsDual(block(sp.Train), yc, comps)
	if err != nil {
		return nil, 0, err
	}
	pred := mat.NewDense(len(sp.Test), t, nil)
	pred.Mul(block(sp.Test), fit.dual)
	pred.Apply(func(_, j int, v float64) float64 { return v + ymean[j] }, pred)
	return pred, fit.components, nil
}

// WithCeiling sets the ceiled scores against a ceiling such as
// InternalConsistency.Ceiling.
func (r *BrainScoreResult) WithCeiling(ceiling float64) {
	r.Ceiling = ceiling
	r.Ceiled = r.Score / ceiling
	r.CeiledSquared = r.Ceiled * r.Ceiled
}

// RepetitionHalves draws, for each of splits, a random half of the trial
// (repetition) indices 0..trials-1: trials/2 of them, sorted, from
// math/rand/v2 PCG seeded (seed, seed); the other half is the rest.
func RepetitionHalves(trials, splits int, seed uint64) ([][]int, error) {
	if trials < 2 || splits < 1 {
		return nil, fmt.Errorf("compute: %d trials and %d splits, want at least 2 trials and 1 split", trials, splits)
	}
	return seededDraws(splits, seed, func(rng *rand.Rand) []int { return sorted(rng.Perm(trials)[:trials/2]) }), nil
}

// InternalConsistency is Brain-Score's ceiling of neural predictivity.
type InternalConsistency struct {
	// NeuronR[s][j] is the Spearman-Brown corrected (2r/(1+r)) Pearson r
	// between the two halves' mean responses of neuron j in split s; NaN
	// when undefined.
	NeuronR [][]float64
	// SplitMedian[s] is its median over neurons, skipping NaN; Ceiling is
	// the mean of SplitMedian.
	SplitMedian []float64
	Ceiling     float64
}

// BrainScoreCeiling is Brain-Score's internal consistency. Each of halves
// lists the trial (repetition) indices of one half; the other half is the
// rest (RepetitionHalves draws them, 10 in Brain-Score). Per split and
// neuron, each image's responses are averaged within each half over the
// trials present (repeats holds images x neurons x trials image-major,
// NaN for a missing trial, as NoiseCeiling; only the images in subset are
// used, all when nil; an image with no trial in either half is left out for
// that neuron), the two halves' means are
// correlated across images (Pearson, NaN with fewer than 3 images), and r
// is stepped up by Spearman-Brown to the full set of trials. The ceiling is
// the mean over splits of the median over neurons.
//
// The whole repetition is split, the same trials for every image, as
// Brain-Score does; NoiseCeiling instead draws a split per image and
// averages r over splits before the step-up.
func BrainScoreCeiling(repeats []float32, images, neurons, trials int, subset []int, halves [][]int) (*InternalConsistency, error) {
	if images <= 0 || neurons <= 0 || trials < 2 {
		return nil, fmt.Errorf("compute: Brain-Score ceiling: shape (%d images, %d neurons, %d trials), want positive with at least 2 trials", images, neurons, trials)
	}
	if len(halves) == 0 {
		return nil, fmt.Errorf("compute: Brain-Score ceiling: no half-splits")
	}
	subset, err := checkRepeats("Brain-Score ceiling", repeats, images, neurons, trials, subset)
	if err != nil {
		return nil, err
	}
	inA := make([][]bool, len(halves))
	for s, h := range halves {
		inA[s] = make([]bool, trials)
		for _, tr := range h {
			if tr < 0 || tr >= trials || inA[s][tr] {
				return nil, fmt.Errorf("compute: Brain-Score ceiling: half-split %d lists trial %d: want distinct trials in [0,%d)", s, tr, trials)
			}
			inA[s][tr] = true
		}
		if len(h) == 0 || len(h) == trials {
			return nil, fmt.Errorf("compute: Brain-Score ceiling: half-split %d has %d of %d trials in one half, want both halves non-empty", s, len(h), trials)
		}
	}
	c := &InternalConsistency{NeuronR: make([][]float64, len(halves)), SplitMedian: make([]float64, len(halves))}
	a := make([]float64, 0, len(subset))
	b := make([]float64, 0, len(subset))
	for s := range halves {
		c.NeuronR[s] = make([]float64, neurons)
		for j := range neurons {
			a, b = a[:0], b[:0]
			for _, i := range subset {
				var sa, sb float64
				var na, nb int
				for tr, v := range repeats[(i*neurons+j)*trials : (i*neurons+j+1)*trials] {
					switch {
					case math.IsNaN(float64(v)):
					case inA[s][tr]:
						sa += float64(v)
						na++
					default:
						sb += float64(v)
						nb++
					}
				}
				if na > 0 && nb > 0 {
					a = append(a, sa/float64(na))
					b = append(b, sb/float64(nb))
				}
			}
			r := math.NaN()
			if len(a) >= 3 {
				r = pearson(a, b)
			}
			if r > -1 {
				r = 2 * r / (1 + r)
			} else {
				r = math.NaN()
			}
			c.NeuronR[s][j] = r
		}
		_, c.SplitMedian[s], _ = MeanMedian(c.NeuronR[s])
	}
	c.Ceiling, _, _ = MeanMedian(c.SplitMedian)
	return c, nil
}
