package compute_test

import (
	"fmt"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"

	"itscope/compute"
)

// A read-out as itscope fits one: standardise wide features on the training
// images, reduce them with PCA (projecting the validation images in the same
// pass), choose the ridge penalty by 5-fold CV, and score per neuron.
func Example() {
	const nTrain, nVal, dim, neurons = 200, 50, 1000, 3
	rng := rand.New(rand.NewPCG(1, 1))
	feats := make([]float32, (nTrain+nVal)*dim)
	for i := range feats {
		feats[i] = float32(rng.NormFloat64())
	}
	// Each neuron reads out a few features, plus noise.
	resp := mat.NewDense(nTrain+nVal, neurons, nil)
	for i := range nTrain + nVal {
		for j := range neurons {
			resp.Set(i, j, float64(feats[i*dim+j]+feats[i*dim+10+j])+0.5*rng.NormFloat64())
		}
	}
	train, _ := compute.NewDense32(nTrain, dim, feats[:nTrain*dim])
	val, _ := compute.NewDense32(nVal, dim, feats[nTrain*dim:])

	sc, _ := compute.FitStandardiser(train)
	strain, _ := sc.Wrap(train)
	sval, _ := sc.Wrap(val)
	pca, err := compute.FitPCA(strain, 150, compute.PCAOptions{Project: []compute.Matrix32{sval}})
	if err != nil {
		fmt.Println(err)
		return
	}
	cv, err := compute.RidgeCV(pca.TrainScores, resp.Slice(0, nTrain, 0, neurons), compute.RidgeCVOptions{Seed: 1})
	if err != nil {
		fmt.Println(err)
		return
	}
	pred, _ := cv.Model.Predict(pca.Projected[0])
	s, _ := compute.Score(resp.Slice(nTrain, nTrain+nVal, 0, neurons), pred)
	fmt.Printf("components %d, alpha %.3g x the design's scale, grid extended %d times\n", pca.NComponents, cv.Alpha/cv.Scale, cv.Extensions)
	fmt.Printf("mean EV %.2f, mean r %.2f\n", s.EVMean, s.RMean)
	// Output:
	// components 150, alpha 1 x the design's scale, grid extended 0 times
	// mean EV 0.10, mean r 0.35
}
