package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// DefaultResamples is the number of bootstrap resamples a run's summary and
// a paired comparison use.
const DefaultResamples = 1000

// BootstrapLevel is the coverage of the percentile intervals: 95%.
const BootstrapLevel = 0.95

// BootstrapIndices draws resamples of n images with replacement: resamples
// rows of n indices in [0, n), from math/rand/v2's PCG seeded (seed, seed)
// as everywhere in itscope, one resample after another. The indices are an
// explicit value so that two runs are resampled identically (the paired
// comparison) and so that an independent implementation can be handed the
// same draws.
func BootstrapIndices(n, resamples int, seed uint64) ([][]int, error) {
	if n < 1 || resamples < 1 {
		return nil, fmt.Errorf("compute: bootstrap: %d images and %d resamples, want at least 1 of each", n, resamples)
	}
	return seededDraws(resamples, seed, func(rng *rand.Rand) []int {
		idx := make([]int, n)
		for i := range idx {
			idx[i] = rng.IntN(n)
		}
		return idx
	}), nil
}

// seededDraws makes k draws of indices one after another from math/rand/v2's
// PCG seeded (seed, seed), as everywhere in itscope.
func seededDraws(k int, seed uint64, draw func(rng *rand.Rand) []int) [][]int {
	rng := rand.New(rand.NewPCG(seed, seed))
	out := make([][]int, k)
	for i := range out {
		out[i] = draw(rng)
	}
	return out
}

// Interval is a statistic on the original images and its percentile
// bootstrap interval.
type Interval struct {
	Estimate float64
	Lo, Hi   float64
	// Used is how many resamples gave a defined statistic (every neuron
	// undefined in a resample leaves it out).
	Used int
}

// Bootstrap holds the intervals of a run's mean EV and mean r.
type Bootstrap struct {
	EV, R Interval
}

// Difference is a paired statistic B - A with its interval and the share of
// resamples in which B was strictly better (larger) than A.
type Difference struct {
	Interval
	BBetter float64
}

// PairedBootstrap holds the differences in mean EV and mean r of run B over
// run A on the same images.
type PairedBootstrap struct {
	EV, R Difference
}

// BootstrapRun scores a run's predictions on DefaultResamples resamples of
// its images drawn with seed: the intervals every run's summary carries.
func BootstrapRun(yTrue, yPred mat.Matrix, seed uint64) (*Bootstrap, error) {
	n, _ := yTrue.Dims()
	idx, err := BootstrapIndices(n, DefaultResamples, seed)
	if err != nil {
		return nil, err
	}
	return BootstrapScores(yTrue, yPred, idx)
}

// BootstrapScores resamples the images (rows) of yTrue and yPred (images x
// neurons; neurons are never resampled) with the given indices (see
// BootstrapIndices), recomputes every neuron's EV and Pearson r on each
// resample with ExplainedVariance and PearsonR, averages them over neurons
// skipping NaN (neurons whose EV or r is undefined on that resample), and
// returns the estimates on the original images with 95% percentile
// intervals (numpy.percentile's linear interpolation at 2.5 and 97.5).
func BootstrapScores(yTrue, yPred mat.Matrix, resamples [][]int) (*Bootstrap, error) {
	ev, r, err := resampledScores(yTrue, []mat.Matrix{yPred}, resamples)
	if err != nil {
		return nil, err
	}
	return &Bootstrap{EV: interval(ev[0]), R: interval(r[0])}, nil
}

// BootstrapPaired compares two runs' predictions of the same images and
// neurons, resampling both with the same indices. For each resample (and
// the original images) the statistic is the mean over neurons of B's score
// minus A's, skipping neurons undefined in either run, so both means are
// over the same neurons.
func BootstrapPaired(yTrue, predA, predB mat.Matrix, resamples [][]int) (*PairedBootstrap, error) {
	ev, r, err := resampledScores(yTrue, []mat.Matrix{predA, predB}, resamples)
	if err != nil {
		return nil, err
	}
	return &PairedBootstrap{EV: difference(ev[0], ev[1]), R: difference(r[0], r[1])}, nil
}

// resampledScores returns, per prediction set, the per-neuron EV and r on the
// original images followed by each resample.
func resampledScores(yTrue mat.Matrix, preds []mat.Matrix, resamples [][]int) (ev, r [][][]float64, err error) {
	if len(resamples) == 0 {
		return nil, nil, fmt.Errorf("compute: bootstrap: no resamples")
	}
	n, _ := yTrue.Dims()
	for k, p := range preds {
		if err := sameShape(yTrue, p); err != nil {
			return nil, nil, fmt.Errorf("compute: bootstrap: prediction set %d: %w", k, err)
		}
		if i, j, bad := firstNonFinite(p); bad {
			return nil, nil, fmt.Errorf("compute: bootstrap: prediction set %d: value at image %d, neuron %d is %v, want a finite number", k, i, j, p.At(i, j))
		}
	}
	if i, j, bad := firstNonFinite(yTrue); bad {
		return nil, nil, fmt.Errorf("compute: bootstrap: response at image %d, neuron %d is %v, want a finite number", i, j, yTrue.At(i, j))
	}
	for b, idx := range resamples {
		if len(idx) != n {
			return nil, nil, fmt.Errorf("compute: bootstrap: resample %d has %d indices, want one per image (%d)", b, len(idx), n)
		}
		for _, i := range idx {
			if i < 0 || i >= n {
				return nil, nil, fmt.Errorf("compute: bootstrap: resample %d has image index %d outside [0,%d)", b, i, n)
			}
		}
	}
	identity := make([]int, n)
	for i := range identity {
		identity[i] = i
	}
	all := append([][]int{identity}, resamples...)
	_, t := yTrue.Dims()
	src := make([]*columns, len(preds)+1) // responses, then each prediction set
	src[0] = columnsOf(yTrue)
	for k, p := range preds {
		src[k+1] = columnsOf(p)
	}
	ev = make([][][]float64, len(preds))
	r = make([][][]float64, len(preds))
	for k := range preds {
		ev[k] = make([][]float64, len(all))
		r[k] = make([][]float64, len(all))
	}
	// Resamples are independent: workers take every w-th one, each with its
	// own buffers, and write only their own entries.
	workers := min(runtime.GOMAXPROCS(0), len(all))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dst := make([]*columns, len(src))
			for k := range dst {
				dst[k] = &columns{n: n, t: t, data: make([]float64, n*t)}
			}
			for b := w; b < len(all); b += workers {
				for k := range src {
					src[k].resample(dst[k], all[b])
				}
				for k := range preds {
					ev[k][b], _ = ExplainedVariance(dst[0], dst[k+1])
					r[k][b], _ = PearsonR(dst[0], dst[k+1])
				}
			}
		}()
	}
	wg.Wait()
	return ev, r, nil
}

// interval summarises per-neuron scores (original, then resamples) as the
// NaN-skipping mean over neurons with its percentile interval.
func interval(scores [][]float64) Interval {
	means := make([]float64, len(scores))
	for b, s := range scores {
		means[b] = nanMean(s)
	}
	return percentileInterval(means[0], means[1:])
}

// difference is interval for the per-neuron differences B - A, with the
// share of resamples in which B's mean beat A's.
func difference(a, b [][]float64) Difference {
	means := make([]float64, len(a))
	d := make([]float64, len(a[0]))
	for s := range a {
		for j := range d {
			d[j] = b[s][j] - a[s][j] // NaN when either is undefined
		}
		means[s] = nanMean(d)
	}
	out := Difference{Interval: percentileInterval(means[0], means[1:])}
	wins := 0
	for _, m := range means[1:] {
		if m > 0 {
			wins++
		}
	}
	if out.Used > 0 {
		out.BBetter = float64(wins) / float64(out.Used)
	} else {
		out.BBetter = math.NaN()
	}
	return out
}

// nanMean is the mean over neurons used by every bootstrap statistic: the
// same NaN-skipping mean as a run's summary (MeanMedian).
func nanMean(x []float64) float64 {
	m, _, _ := MeanMedian(x)
	return m
}

// percentileInterval is the estimate with the BootstrapLevel percentile
// interval of the defined (non-NaN) replicates.
func percentileInterval(estimate float64, replicates []float64) Interval {
	v := make([]float64, 0, len(replicates))
	for _, x := range replicates {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	slices.Sort(v)
	tail := (1 - BootstrapLevel) / 2
	return Interval{Estimate: estimate, Lo: percentile(v, tail), Hi: percentile(v, 1-tail), Used: len(v)}
}

// percentile is numpy.percentile's default ("linear") quantile q in [0, 1]
// of sorted values: the value at position q(n-1), interpolated between its
// neighbours. NaN when there are none.
func percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	pos := q * float64(n-1)
	lo := int(math.Floor(pos))
	if lo >= n-1 {
		return sorted[n-1]
	}
	f := pos - float64(lo)
	return sorted[lo] + f*(sorted[lo+1]-sorted[lo])
}

// columns is an images x neurons matrix stored neuron by neuron, the order
// in which the per-neuron metrics read it.
type columns struct {
	n, t int
	data []float64 // data[j*n+i] is image i, neuron j
}

func columnsOf(m mat.Matrix) *columns {
	n, t := m.Dims()
	c := &columns{n: n, t: t, data: make([]float64, n*t)}
	for j := range t {
		for i := range n {
			c.data[j*n+i] = m.At(i, j)
		}
	}
	return c
}

// resample writes the rows idx of c into dst.
func (c *columns) resample(dst *columns, idx []int) {
	for j := range c.t {
		col, out := c.data[j*c.n:(j+1)*c.n], dst.data[j*c.n:(j+1)*c.n]
		for k, i := range idx {
			out[k] = col[i]
		}
	}
}

func (c *columns) Dims() (int, int) { return c.n, c.t }

func (c *columns) At(i, j int) float64 { return c.data[j*c.n+i] }

func (c *columns) T() mat.Matrix { return mat.Transpose{Matrix: c} }
