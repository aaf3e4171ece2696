package readout

import (
	"errors"
	"fmt"

	"itscope/compute"
	"itscope/model/runs"
)

// ErrNoCVScores is returned by ChooseBestLayers when a layer's run has no
// per-neuron training CV scores (a read-out other than ridge CV): the layer
// of a neuron is never chosen on val.
var ErrNoCVScores = errors.New("no per-neuron training CV scores (only ridge CV read-outs have them)")

// LayerScores is one layer of a sweep as the best layer per neuron needs it:
// its run's per-neuron training CV scores and validation EVs.
type LayerScores struct {
	Layer   string
	RunID   string
	CVScore []float64
	ValEV   []float64
}

// LayerScoresOf reads layer's scores from its run.
func LayerScoresOf(layer string, run *runs.Run) LayerScores {
	ev := make([]float64, len(run.Neurons))
	for j, n := range run.Neurons {
		ev[j] = n.EV
	}
	return LayerScores{Layer: layer, RunID: run.Meta.ID, CVScore: run.Meta.NeuronCVScore, ValEV: ev}
}

// BestLayers is each neuron's layer of a sweep, chosen by training CV R²
// (compute.BestLayerPerNeuron): Layer indexes Layers, shallow to deep.
type BestLayers struct {
	Layers []LayerScores
	compute.LayerChoice
}

// ChooseBestLayers picks each neuron's layer among layers (shallow to deep)
// by training CV score and reports its val EV. It fails with ErrNoCVScores
// when some layer has no CV scores.
func ChooseBestLayers(layers []LayerScores) (*BestLayers, error) {
	cv := make([][]float64, len(layers))
	ev := make([][]float64, len(layers))
	for l, s := range layers {
		if s.CVScore == nil {
			return nil, fmt.Errorf("layer %s (run %s): %w", s.Layer, s.RunID, ErrNoCVScores)
		}
		cv[l], ev[l] = s.CVScore, s.ValEV
	}
	c, err := compute.BestLayerPerNeuron(cv, ev, compute.CriterionR2)
	if err != nil {
		return nil, err
	}
	return &BestLayers{Layers: layers, LayerChoice: *c}, nil
}
