package readout

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"itscope/model/runs"
)

// layerRun is a saved layer of a sweep with the given per-neuron CV scores
// and val EVs.
func layerRun(id string, cv, ev []float64) *runs.Run {
	r := &runs.Run{Meta: runs.RunMeta{ID: id, NeuronCVScore: cv}}
	for j, v := range ev {
		r.Neurons = append(r.Neurons, runs.NeuronScore{Neuron: j, EV: v})
	}
	return r
}

// TestChooseBestLayers: each neuron takes the layer with the best training
// CV score, even where another layer has the better val EV, and reports
// that layer's val EV.
func TestChooseBestLayers(t *testing.T) {
	layers := []LayerScores{
		LayerScoresOf("features.4", layerRun("run-4", []float64{0.30, 0.10, 0.20, math.NaN()}, []float64{0.25, 0.40, 0.15, 0.9})),
		LayerScoresOf("features.7", layerRun("run-7", []float64{0.20, 0.35, 0.20, math.NaN()}, []float64{0.50, 0.30, 0.10, 0.9})),
		LayerScoresOf("features.14", layerRun("run-14", []float64{0.10, 0.20, 0.25, math.NaN()}, []float64{0.60, 0.20, 0.05, 0.9})),
	}
	got, err := ChooseBestLayers(layers)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{0, 1, 2, -1}; !slices.Equal(got.Layer, want) {
		t.Errorf("layers %v, want %v", got.Layer, want)
	}
	if want := []int{1, 1, 1}; !slices.Equal(got.Histogram, want) {
		t.Errorf("histogram %v, want %v", got.Histogram, want)
	}
	if want := (0.25 + 0.30 + 0.05) / 3; math.Abs(got.ValEVMean-want) > 1e-15 || got.Count != 3 {
		t.Errorf("mean val EV %v over %d neurons, want %v over 3", got.ValEVMean, got.Count, want)
	}
	if got.Layers[2].RunID != "run-14" || got.Layers[2].Layer != "features.14" {
		t.Errorf("layer 2 is %+v", got.Layers[2])
	}
}

func TestChooseBestLayersErrors(t *testing.T) {
	ok := LayerScoresOf("a", layerRun("run-a", []float64{0.1, 0.2}, []float64{0.1, 0.2}))
	noCV := LayerScoresOf("b", layerRun("run-b", nil, []float64{0.1, 0.2}))
	if _, err := ChooseBestLayers([]LayerScores{ok, noCV}); !errors.Is(err, ErrNoCVScores) || !strings.Contains(err.Error(), "layer b (run run-b)") {
		t.Errorf("a layer without CV scores: %v", err)
	}
	short := LayerScoresOf("c", layerRun("run-c", []float64{0.1}, []float64{0.1}))
	if _, err := ChooseBestLayers([]LayerScores{ok, short}); err == nil {
		t.Error("layers with different neuron counts: no error")
	}
	if _, err := ChooseBestLayers(nil); err == nil {
		t.Error("no layers: no error")
	}
}
