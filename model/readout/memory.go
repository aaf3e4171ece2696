package readout

import (
	"fmt"

	"itscope/data"
	"itscope/model/jobs"
)

// MaxAlphas bounds the ridge CV grid: every alpha is a prediction per fold.
const MaxAlphas = 1000

// FitMemory estimates the peak bytes Fit needs for spec on ds with dim
// features per image: the features of the train and val images (float32),
// then either the PCA work arrays (the n x n Gram matrix and its
// eigenvectors, the val cross-Gram and the scores) or the float64 copy of
// the features, the ridge decomposition of the n x p design (p the PCA
// components or dim), the responses and predictions, and the CV scores of
// every alpha. The dataset itself is not counted: it is open before the job
// is made.
func FitMemory(spec FitSpec, ds *data.Dataset, dim int) int64 {
	var n, m int64
	if s, ok := ds.SplitByName(data.Train); ok {
		n = int64(len(s.Indices))
	}
	if s, ok := ds.SplitByName(data.Val); ok {
		m = int64(len(s.Indices))
	}
	d, t := int64(dim), int64(ds.NumNeurons)
	total := 4 * (n + m) * d // the features
	p := d
	if spec.PCA > 0 {
		p = int64(spec.PCA)
		total += 8*(2*n*n+m*n+(n+m)*p) + 32<<20 // Gram, eigenvectors, cross-Gram, scores, column panels
	} else {
		total += 8 * (n + m) * d
	}
	r := min(n, p)
	total += 8 * (3*n*p + r*r)   // the ridge decomposition and its factors
	total += 8 * 3 * (n + m) * t // responses, predictions, coefficients' right-hand sides
	alphas := int64(len(spec.Alphas))
	if spec.Model == ModelRidgeCV && alphas == 0 {
		alphas = 20
	}
	total += 8 * alphas * t
	return total + jobs.BaseMemory
}

// checkMemory refuses a fit whose estimate exceeds spec.MaxMemory.
func checkMemory(spec FitSpec, ds *data.Dataset, dim int, features string) error {
	if spec.MaxMemory <= 0 {
		return nil
	}
	if need := FitMemory(spec, ds, dim); need > spec.MaxMemory {
		return fmt.Errorf("%s on %s: needs about %s of memory (estimated: %d images x %d features%s), more than the limit of %s per job (--max-job-memory); use fewer features or --pca",
			spec.Model, features, jobs.FormatBytes(need), ds.Images.Len(), dim, pcaText(spec.PCA), jobs.FormatBytes(spec.MaxMemory))
	}
	return nil
}

func pcaText(k int) string {
	if k > 0 {
		return fmt.Sprintf(", PCA %d", k)
	}
	return ""
}
