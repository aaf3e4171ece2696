package train

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"gorgonia.org/tensor"

	"itscope/compute"
	"itscope/compute/nn"
	"itscope/data"
	"itscope/model/runs"
)

// Prediction is a saved run's predicted responses on one split.
type Prediction struct {
	// Predictions are image-major: Rows images (the split's, in its order) x
	// Cols neurons.
	Predictions []float32
	Rows, Cols  int
	Images      []int // dataset image indices, in row order
	// Scores are set when the split has responses for the same neurons.
	Scores *compute.Scores
}

// TrainedNet is a trained network loaded from a run folder, ready to
// predict: its layers in eval mode, how it turns a batch of images into its
// input, and the standardisation its outputs undo.
type TrainedNet struct {
	Kind   runs.Kind // train or cotrain
	Net    nn.Layer
	Mean   []float32 // per neuron; outputs are out*Std+Mean
	Std    []float32
	Size   int // input side
	input  func(ctx context.Context, ds *data.Dataset, images []int) (*tensor.Dense, error)
	neural int // the first neural columns of the output (cotrain adds class logits after them)
}

// LoadTrained reads a train (or cotrain) run's spec and weights.
func LoadTrained(dir string) (*TrainedNet, error) {
	metaPath := filepath.Join(dir, runs.RunJSON)
	meta, err := runs.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	wpath := filepath.Join(dir, WeightsFile)
	switch meta.Kind {
	case runs.KindTrain:
		var cfg TrainConfig
		if err := json.Unmarshal(meta.Spec, &cfg); err != nil {
			return nil, fmt.Errorf("%s: key \"spec\": %v", metaPath, err)
		}
		byName, mean, std, err := readTrainedWeights(wpath)
		if err != nil {
			return nil, err
		}
		net, err := NewCNN(cfg.CNN, len(mean), 0)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", metaPath, err)
		}
		if err := loadState(wpath, net, byName); err != nil {
			return nil, err
		}
		size := cfg.CNN.Size
		return &TrainedNet{Kind: runs.KindTrain, Net: net, Mean: mean, Std: std, Size: size, neural: len(mean),
			input: func(_ context.Context, ds *data.Dataset, images []int) (*tensor.Dense, error) {
				x := make([]float32, len(images)*3*size*size)
				for k, i := range images {
					if err := networkInput(ds, i, size, x[k*3*size*size:(k+1)*3*size*size]); err != nil {
						return nil, err
					}
				}
				return nn.FromSlice(x, len(images), 3, size, size)
			}}, nil
	case runs.KindCotrain:
		return loadCotrained(dir, meta, wpath)
	case runs.KindFit, runs.KindSweep:
		return nil, fmt.Errorf("%s: run kind %q: a read-out, predicted from its readout.safetensors by readout.PredictRun, not a network", metaPath, meta.Kind)
	}
	return nil, fmt.Errorf("%s: run kind %q: want a train or cotrain run", metaPath, meta.Kind)
}

// loadState copies every state tensor of net from the file's tensors,
// checking names and shapes.
func loadState(path string, net nn.Layer, byName map[string]runs.NamedTensor) error {
	for _, p := range nn.State(net) {
		t, ok := byName[p.Name]
		if !ok {
			return fmt.Errorf("%s: missing tensor %q (want shape %v)", path, p.Name, []int(p.Value.Shape()))
		}
		if err := nn.LoadParam(p, t.Data, t.Shape); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// Predict returns the net's un-standardised neural predictions for images.
func (t *TrainedNet) Predict(ctx context.Context, ds *data.Dataset, images []int) ([]float32, error) {
	const batch = 32
	n := len(t.Mean)
	out := make([]float32, 0, len(images)*n)
	for b := 0; b < len(images); b += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		idx := images[b:min(b+batch, len(images))]
		x, err := t.input(ctx, ds, idx)
		if err != nil {
			return nil, err
		}
		y, err := t.Net.Forward(x, false)
		if err != nil {
			return nil, err
		}
		ys, cols := nn.Float32s(y), y.Shape()[1]
		for r := range idx {
			for j := 0; j < n; j++ {
				out = append(out, ys[r*cols+j]*t.Std[j]+t.Mean[j])
			}
		}
	}
	return out, nil
}

// PredictRun loads the run in dir and predicts the split of ds, scoring the
// predictions when the split has responses for as many neurons.
func PredictRun(ctx context.Context, dir string, ds *data.Dataset, split string) (*Prediction, error) {
	net, err := LoadTrained(dir)
	if err != nil {
		return nil, err
	}
	s, err := ds.SplitWithImages(split)
	if err != nil {
		return nil, err
	}
	pred, err := net.Predict(ctx, ds, s.Indices)
	if err != nil {
		return nil, err
	}
	p := &Prediction{Predictions: pred, Rows: len(s.Indices), Cols: len(net.Mean), Images: s.Indices}
	if s.HasResponses && ds.NumNeurons == len(net.Mean) {
		if p.Scores, err = scorePredictions(ds, s.Indices, pred); err != nil {
			return nil, err
		}
	}
	return p, nil
}
