package compute

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// TestChosenNeuronCVScoreAgainstSklearn reads each neuron's CV R² at the
// chosen alpha out of scikit-learn's per-neuron fold means
// (small/raw_neuron_cv_r2), for the shared alpha and per-neuron alphas.
func TestChosenNeuronCVScoreAgainstSklearn(t *testing.T) {
	se := expected(t, "small")
	grid := floats(se["grid"])
	x, y := toDense(dense32(t, "small/x_train")), dense(t, "small/y_train")
	folds := ints(t, "small/folds")
	perFold := dense(t, "small/raw_neuron_cv_r2")
	_, neurons := y.Dims()
	for _, c := range []struct {
		name      string
		perNeuron bool
		alpha     func(j int) float64
	}{
		{"shared alpha", false, func(int) float64 { return se["raw_ridgecv_alpha"].(float64) }},
		{"per-neuron alpha", true, func(j int) float64 { return floats(se["raw_per_neuron_alpha"])[j] }},
	} {
		res, err := RidgeCV(x, y, RidgeCVOptions{Alphas: grid, FoldOf: folds, PerNeuron: c.perNeuron})
		if err != nil {
			t.Fatal(err)
		}
		want := make([]float64, neurons)
		for j := range want {
			want[j] = perFold.At(slices.Index(grid, c.alpha(j)), j)
		}
		assertClose(t, c.name, res.ChosenNeuronCVScore(), want, 1e-6)
	}
}

func TestBestLayerPerNeuron(t *testing.T) {
	nan := math.NaN()
	cv := [][]float64{
		{0.1, 0.5, nan, 0.3, nan},
		{0.2, 0.5, 0.0, 0.1, nan},
		{0.15, 0.4, nan, 0.3, nan},
	}
	val := [][]float64{
		{10, 11, 12, 13, 14},
		{20, 21, 22, 23, 24},
		{30, 31, 32, 33, 34},
	}
	for _, c := range []struct {
		crit   Criterion
		layer  []int
		valEV  []float64
		mean   float64
		counts []int
	}{
		// Neuron 1 ties layers 0 and 1 (shallower wins); neuron 2 has one
		// defined score; neuron 3 ties layers 0 and 2; neuron 4 has none.
		{CriterionR2, []int{1, 0, 1, 0, -1}, []float64{20, 11, 22, 13, nan}, 16.5, []int{2, 2, 0}},
		{CriterionMSE, []int{0, 2, 1, 1, -1}, []float64{10, 31, 22, 23, nan}, 21.5, []int{1, 2, 1}},
	} {
		got, err := BestLayerPerNeuron(cv, val, c.crit)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Layer, c.layer) || !slices.Equal(got.Histogram, c.counts) {
			t.Errorf("%s: layers %v histogram %v, want %v %v", c.crit, got.Layer, got.Histogram, c.layer, c.counts)
		}
		assertClose(t, string(c.crit)+" val EV", got.ValEV, c.valEV, 0)
		if got.ValEVMean != c.mean || got.Count != 4 {
			t.Errorf("%s: mean %v over %d, want %v over 4", c.crit, got.ValEVMean, got.Count, c.mean)
		}
	}
}

func TestBestLayerPerNeuronBadInput(t *testing.T) {
	for _, c := range []struct {
		name    string
		cv, val [][]float64
		crit    Criterion
		want    string
	}{
		{"no layers", nil, nil, CriterionR2, "for 0 layers"},
		{"layer counts", [][]float64{{1}}, [][]float64{{1}, {2}}, CriterionR2, "for 1 layers and validation EVs for 2"},
		{"neuron counts", [][]float64{{1, 2}, {1}}, [][]float64{{1, 2}, {1, 2}}, CriterionR2, "layer 1 has 1 CV scores and 2 validation EVs, want 2"},
		{"criterion", [][]float64{{1}}, [][]float64{{1}}, "auc", `criterion "auc"`},
	} {
		_, err := BestLayerPerNeuron(c.cv, c.val, c.crit)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want it to mention %q", c.name, err, c.want)
		}
	}
}
