package readout

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"itscope/compute"
	"itscope/data"
	"itscope/model/runs"
)

// Comparison is run B against run A on the validation images both predict:
// the paired bootstrap of the difference in mean EV and in mean r.
type Comparison struct {
	Dataset string
	Images  int
	Neurons int
	compute.PairedBootstrap
}

// CompareRuns resamples the validation images of ds that runs a and b both
// predict (their predictions.npy), with compute.DefaultResamples paired
// resamples seeded with runs.BootstrapSeed. The runs must have been made on
// ds (its content hash) and predict its whole val split for all its neurons.
func CompareRuns(ds *data.Dataset, a, b *runs.Run) (*Comparison, error) {
	val, err := splitWithResponses(ds, data.Val)
	if err != nil {
		return nil, err
	}
	var preds [2]*mat.Dense
	for k, r := range []*runs.Run{a, b} {
		name := "AB"[k : k+1]
		if r.Meta.Dataset.Hash != ds.Hash {
			return nil, fmt.Errorf("run %s %s was made on dataset %s (hash %.12s), not on %s (hash %.12s): compare needs two runs on the same dataset and split",
				name, r.Meta.ID, r.Meta.Dataset.Name, r.Meta.Dataset.Hash, ds.Name, ds.Hash)
		}
		if r.PredRows != len(val.Indices) || r.PredCols != ds.NumNeurons {
			return nil, fmt.Errorf("run %s %s predicts %d images x %d neurons; the val split of %s has %d images x %d neurons",
				name, r.Meta.ID, r.PredRows, r.PredCols, ds.Name, len(val.Indices), ds.NumNeurons)
		}
		if preds[k], err = compute.DenseFrom32(r.PredRows, r.PredCols, r.Predictions); err != nil {
			return nil, err
		}
	}
	idx, err := compute.BootstrapIndices(len(val.Indices), compute.DefaultResamples, runs.BootstrapSeed)
	if err != nil {
		return nil, err
	}
	paired, err := compute.BootstrapPaired(responses(ds, val.Indices), preds[0], preds[1], idx)
	if err != nil {
		return nil, err
	}
	return &Comparison{Dataset: ds.Name, Images: len(val.Indices), Neurons: ds.NumNeurons, PairedBootstrap: *paired}, nil
}
