package compute_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"itscope/compute"
)

// Brain-Score's protocol on a made-up layer: PLS regression with 25
// components on the raw features, 10 stratified 90/10 splits, the median
// over neurons of the test-image Pearson r, averaged over splits; then the
// internal-consistency ceiling from single trials.
func ExampleBrainScore() {
	const images, dim, neurons, trials = 200, 300, 5, 4
	rng := rand.New(rand.NewPCG(1, 1))
	feats := make([]float32, images*dim)
	for i := range feats {
		feats[i] = float32(rng.NormFloat64())
	}
	labels := make([]string, images)
	resp := mat.NewDense(images, neurons, nil)
	repeats := make([]float32, images*neurons*trials)
	for i := range images {
		labels[i] = []string{"animal", "car", "face", "fruit"}[i%4]
		for j := range neurons {
			signal := float64(feats[i*dim+j] + feats[i*dim+20+j])
			var sum float64
			for t := range trials {
				v := signal + rng.NormFloat64()
				repeats[(i*neurons+j)*trials+t] = float32(v)
				sum += v
			}
			resp.Set(i, j, sum/trials)
		}
	}
	x, _ := compute.NewDense32(images, dim, feats)

	splits, err := compute.StratifiedShuffleSplits(labels, compute.BrainScoreSplits, compute.BrainScoreTestFraction, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	score, err := compute.BrainScore(x, resp, splits, compute.BrainScoreOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	halves, _ := compute.RepetitionHalves(trials, compute.BrainScoreSplits, 1)
	ceiling, err := compute.BrainScoreCeiling(repeats, images, neurons, trials, nil, halves)
	if err != nil {
		fmt.Println(err)
		return
	}
	score.WithCeiling(ceiling.Ceiling)
	fmt.Printf("r %.2f ± %.2f over %d splits (%d components)\n", score.Score, score.StdErr, len(splits), score.Components)
	fmt.Printf("ceiling %.2f, r/ceiling %.2f, (r/ceiling)² %.2f\n", score.Ceiling, score.Ceiled, score.CeiledSquared)
	// Output:
	// r 0.65 ± 0.01 over 10 splits (25 components)
	// ceiling 0.89, r/ceiling 0.73, (r/ceiling)² 0.54
}
