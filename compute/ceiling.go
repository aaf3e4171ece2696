package compute

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CeilingOptions tune NoiseCeiling.
type CeilingOptions struct {
	// Splits is how many random split-halves are averaged; 0 means 20.
	Splits int
	// Seed seeds the splits: the same seed gives the same ceiling.
	Seed uint64
}

// Ceiling is the split-half noise ceiling of each neuron.
type Ceiling struct {
	// HalfR is the split-half correlation averaged over the splits.
	HalfR []float64
	// Reliability is HalfR stepped up by Spearman-Brown, 2r/(1+r): the
	// estimated correlation between two independent full sets of trials,
	// which is the fraction of the trial-averaged response's variance that is
	// repeatable. NaN where a neuron has fewer than three images with two or
	// more trials, or constant half means.
	Reliability []float64
	// Mean and Median summarise Reliability over neurons, skipping NaNs.
	Mean, Median float64
	Count        int
	Splits       int
}

// NoiseCeiling estimates each neuron's noise ceiling from single trials.
//
// repeats holds images x neurons x trials values image-major, as
// data.Dataset.Repeats: repeats[(i*neurons+j)*trials+t], NaN where trial t is
// missing. Only the images listed in subset are used (all when nil).
//
// The procedure, for each of opt.Splits splits: for every image draw one
// random order of its trial slots (math/rand/v2 PCG seeded with opt.Seed,
// images in subset order, splits in turn); for every neuron take that image's
// available (non-NaN) trials in this order, put the first ⌊m/2⌋ in half A and
// the remaining ⌈m/2⌉ in half B (images with m < 2 are left out for that
// neuron), and average each half; correlate the A means with the B means
// across images (Pearson). The split-half r is the mean of these correlations
// over splits (splits with an undefined correlation are skipped), and the
// ceiling is its Spearman-Brown step-up 2r/(1+r).
func NoiseCeiling(repeats []float32, images, neurons, trials int, subset []int, opt CeilingOptions) (*Ceiling, error) {
	if opt.Splits < 0 {
		return nil, fmt.Errorf("compute: noise ceiling: splits %d, want a positive count", opt.Splits)
	}
	if opt.Splits == 0 {
		opt.Splits = 20
	}
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed))
	perm := make([]int, trials)
	return splitHalfCeiling(repeats, images, neurons, trials, subset, opt.Splits, func() []int {
		for t := range perm {
			perm[t] = t
		}
		rng.Shuffle(len(perm), func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
		return perm
	})
}

// splitHalfCeiling is NoiseCeiling with the trial order drawn by order, once
// per image per split.
func splitHalfCeiling(repeats []float32, images, neurons, trials int, subset []int, splits int, order func() []int) (*Ceiling, error) {
	if images <= 0 || neurons <= 0 || trials <= 0 {
		return nil, fmt.Errorf("compute: noise ceiling: shape (%d images, %d neurons, %d trials) must be positive", images, neurons, trials)
	}
	subset, err := checkRepeats("noise ceiling", repeats, images, neurons, trials, subset)
	if err != nil {
		return nil, err
	}
	sumR := make([]float64, neurons)
	nR := make([]int, neurons)
	a := make([][]float64, neurons)
	b := make([][]float64, neurons)
	for range splits {
		for j := range a {
			a[j], b[j] = a[j][:0], b[j][:0]
		}
		for _, i := range subset {
			ord := order()
			for j := range neurons {
				trial := repeats[(i*neurons+j)*trials : (i*neurons+j+1)*trials]
				m := 0
				for _, t := range ord {
					if !math.IsNaN(float64(trial[t])) {
						m++
					}
				}
				if m < 2 {
					continue
				}
				var sa, sb float64
				k := 0
				for _, t := range ord {
					v := trial[t]
					if math.IsNaN(float64(v)) {
						continue
					}
					if k < m/2 {
						sa += float64(v)
					} else {
						sb += float64(v)
					}
					k++
				}
				a[j] = append(a[j], sa/float64(m/2))
				b[j] = append(b[j], sb/float64(m-m/2))
			}
		}
		for j := range neurons {
			if len(a[j]) < 3 {
				continue
			}
			if r := pearson(a[j], b[j]); !math.IsNaN(r) {
				sumR[j] += r
				nR[j]++
			}
		}
	}
	c := &Ceiling{HalfR: make([]float64, neurons), Reliability: make([]float64, neurons), Splits: splits}
	for j := range neurons {
		if nR[j] == 0 {
			c.HalfR[j], c.Reliability[j] = math.NaN(), math.NaN()
			continue
		}
		r := sumR[j] / float64(nR[j])
		c.HalfR[j] = r
		if r <= -1 {
			c.Reliability[j] = math.NaN()
		} else {
			c.Reliability[j] = 2 * r / (1 + r)
		}
	}
	c.Mean, c.Median, c.Count = MeanMedian(c.Reliability)
	return c, nil
}

// checkRepeats checks an (images, neurons, trials) block of repeats for its
// size, infinite values (NaN marks a missing trial) and the image indices of
// subset, which defaults to every image; what names the caller in errors.
func checkRepeats(what string, repeats []float32, images, neurons, trials int, subset []int) ([]int, error) {
	if len(repeats) != images*neurons*trials {
		return nil, fmt.Errorf("compute: %s: repeats have %d values, want %d images x %d neurons x %d trials = %d",
			what, len(repeats), images, neurons, trials, images*neurons*trials)
	}
	for k, v := range repeats {
		if math.IsInf(float64(v), 0) {
			return nil, fmt.Errorf("compute: %s: repeat of image %d, neuron %d, trial %d is %v; want a number or NaN for a missing trial",
				what, k/(trials*neurons), (k/trials)%neurons, k%trials, v)
		}
	}
	if subset == nil {
		subset = make([]int, images)
		for i := range subset {
			subset[i] = i
		}
	}
	for _, i := range subset {
		if i < 0 || i >= images {
			return nil, fmt.Errorf("compute: %s: image index %d outside [0,%d)", what, i, images)
		}
	}
	return subset, nil
}
