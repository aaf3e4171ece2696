package compute

import (
	"fmt"
	"math"
)

// LayerChoice is the layer chosen for each neuron and what it scores on the
// validation images.
type LayerChoice struct {
	// Layer is the index (into the caller's layer list, shallow to deep) of
	// each neuron's chosen layer; -1 when no layer has a defined CV score.
	Layer []int
	// ValEV is each neuron's validation EV at its chosen layer (NaN for
	// Layer -1); ValEVMean its NaN-skipping mean over Count neurons.
	ValEV     []float64
	ValEVMean float64
	Count     int
	// Histogram[l] counts the neurons whose chosen layer is l.
	Histogram []int
}

// BestLayerPerNeuron picks, for every neuron, the layer whose read-out has
// the best training cross-validation score (cvScore[layer][neuron], such as
// RidgeCVResult.ChosenNeuronCVScore; larger is better for CriterionR2,
// smaller for CriterionMSE) and reports that layer's validation EV
// (valEV[layer][neuron]). Choosing on the validation images and reporting
// them would select each neuron's luckiest layer and overstate the result;
// the CV score never sees them. A tie keeps the shallower layer; NaN CV
// scores never win.
func BestLayerPerNeuron(cvScore, valEV [][]float64, crit Criterion) (*LayerChoice, error) {
	if crit != CriterionR2 && crit != CriterionMSE {
		return nil, fmt.Errorf("compute: best layer: criterion %q, want %q or %q", crit, CriterionR2, CriterionMSE)
	}
	if len(cvScore) == 0 || len(cvScore) != len(valEV) {
		return nil, fmt.Errorf("compute: best layer: CV scores for %d layers and validation EVs for %d, want the same positive count", len(cvScore), len(valEV))
	}
	neurons := len(cvScore[0])
	for l := range cvScore {
		if len(cvScore[l]) != neurons || len(valEV[l]) != neurons {
			return nil, fmt.Errorf("compute: best layer: layer %d has %d CV scores and %d validation EVs, want %d of each (as layer 0)",
				l, len(cvScore[l]), len(valEV[l]), neurons)
		}
	}
	better := func(a, b float64) bool {
		if crit == CriterionMSE {
			return a < b
		}
		return a > b
	}
	c := &LayerChoice{Layer: make([]int, neurons), ValEV: make([]float64, neurons), Histogram: make([]int, len(cvScore))}
	for j := range neurons {
		best := -1
		for l := range cvScore {
			s := cvScore[l][j]
			if !math.IsNaN(s) && (best < 0 || better(s, cvScore[best][j])) {
				best = l
			}
		}
		c.Layer[j] = best
		if best < 0 {
			c.ValEV[j] = math.NaN()
			continue
		}
		c.ValEV[j] = valEV[best][j]
		c.Histogram[best]++
	}
	c.ValEVMean, _, c.Count = MeanMedian(c.ValEV)
	return c, nil
}
