package readout

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"itscope/compute"
	"itscope/data"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// ScoreSpec asks for Brain-Score's neural predictivity of one feature set
// (Schrimpf et al. 2018, as brain-score/vision scores MajajHong2015 IT):
// PLS regression (or ridge CV) on the raw features of every image with
// responses, over shuffled 90/10 splits stratified by object label where
// labels exist, Pearson r per neuron on each split's test images, the median
// over neurons per split, and the mean over splits.
type ScoreSpec struct {
	Data     string `json:"data"`
	Features string `json:"features"`
	Weights  string `json:"weights,omitempty"`
	// Model is compute.BrainScorePLS (the default) or BrainScoreRidgeCV.
	Model      string `json:"model"`
	Components int    `json:"components"` // PLS components (25 when 0)
	Splits     int    `json:"splits"`     // 10 when 0
	// PCA, when positive, reduces the features to that many components
	// fitted on all the scored images (responses unseen) before the
	// read-out. Brain-Score uses PCA only to choose a layer, not to score
	// it: off by default.
	PCA  int    `json:"pca"`
	Seed uint64 `json:"seed"`

	Dataset  *data.Dataset `json:"-"`
	CacheDir string        `json:"-"`
	CacheMax int64         `json:"-"` // the cache's size bound (features.OpenFeatureCache)
}

// Score runs spec and returns a run of kind score: the summary's
// brain_score keys and, per neuron, r averaged over the splits.
func Score(ctx context.Context, spec ScoreSpec, emit func(jobs.Event)) (*runs.Run, error) {
	if emit == nil {
		emit = func(jobs.Event) {}
	}
	if spec.Model == "" {
		spec.Model = compute.BrainScorePLS
	}
	if spec.Model != compute.BrainScorePLS && spec.Model != compute.BrainScoreRidgeCV {
		return nil, fmt.Errorf("model %q: want %s or %s", spec.Model, compute.BrainScorePLS, compute.BrainScoreRidgeCV)
	}
	if spec.Components == 0 {
		spec.Components = compute.BrainScoreComponents
	}
	if spec.Splits == 0 {
		spec.Splits = compute.BrainScoreSplits
	}
	if spec.Components < 1 || spec.Splits < 1 || spec.PCA < 0 {
		return nil, fmt.Errorf("components %d, splits %d, pca %d: want positive components and splits, pca 0 or more", spec.Components, spec.Splits, spec.PCA)
	}
	start := time.Now()
	ds := spec.Dataset
	if ds == nil {
		var err error
		if ds, err = data.Open(spec.Data); err != nil {
			return nil, err
		}
	}
	var images []int
	for _, s := range ds.Splits {
		if s.HasResponses {
			images = append(images, s.Indices...)
		}
	}
	slices.Sort(images)
	if len(images) == 0 {
		return nil, fmt.Errorf("dataset %s: no images with responses", ds.Name)
	}
	feats, err := features.ParseFeatures(spec.Features, features.FeatureOptions{Weights: spec.Weights, Seed: spec.Seed, CacheDir: spec.CacheDir, CacheMax: spec.CacheMax,
		Progress: func(done, total int) {
			emit(jobs.Event{Kind: jobs.EventProgress, Done: done, Total: total, Message: "features"})
		}})
	if err != nil {
		return nil, err
	}
	rows, closeFeatures, err := featureRows(ctx, ds, feats, spec.CacheDir, spec.CacheMax, emit, images)
	if err != nil {
		return nil, err
	}
	defer closeFeatures()
	x := rows[0]
	if spec.PCA > 0 {
		p, err := compute.FitPCA(x, spec.PCA, compute.PCAOptions{})
		if err != nil {
			return nil, fmt.Errorf("features %s: %w", feats.Name(), err)
		}
		r, k := p.TrainScores.Dims()
		scores := make([]float32, 0, r*k)
		for _, v := range p.TrainScores.RawMatrix().Data {
			scores = append(scores, float32(v))
		}
		if x, err = compute.NewDense32(r, k, scores); err != nil {
			return nil, err
		}
	}
	var splits []compute.Split
	var labels []string
	if ds.Objects != nil {
		labels = make([]string, len(images))
		for i, img := range images {
			labels[i] = ds.Objects[img]
		}
		splits, err = compute.StratifiedShuffleSplits(labels, spec.Splits, compute.BrainScoreTestFraction, spec.Seed)
	} else {
		splits, err = compute.ShuffleSplits(len(images), spec.Splits, compute.BrainScoreTestFraction, spec.Seed)
	}
	if err != nil {
		return nil, fmt.Errorf("dataset %s: %w", ds.Name, err)
	}
	emit(jobs.Event{Kind: jobs.EventLog, Message: fmt.Sprintf("%s over %d splits of %d images", spec.Model, len(splits), len(images))})
	res, err := compute.BrainScore(x, responses(ds, images), splits, compute.BrainScoreOptions{Model: spec.Model, Components: spec.Components,
		Ridge: compute.RidgeCVOptions{Labels: labels, Seed: spec.Seed}})
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", spec.Model, feats.Name(), err)
	}
	if ds.Repeats != nil && ds.NumTrials > 1 {
		halves, err := compute.RepetitionHalves(ds.NumTrials, compute.BrainScoreSplits, spec.Seed)
		if err != nil {
			return nil, err
		}
		c, err := compute.BrainScoreCeiling(ds.Repeats, ds.Images.Len(), ds.NumNeurons, ds.NumTrials, images, halves)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", ds.Name, err)
		}
		res.WithCeiling(c.Ceiling)
	}

	sum := runs.NaNSummary()
	sum.Dataset, sum.Features, sum.Model, sum.PCA, sum.Seed = ds.Name, feats.Name(), spec.Model, spec.PCA, spec.Seed
	sum.NTrain, sum.NVal, sum.NNeurons = len(splits[0].Train), len(splits[0].Test), ds.NumNeurons
	sum.BrainScore, sum.BrainScoreStdErr = res.Score, res.StdErr
	if res.Ceiling != 0 {
		sum.BrainScoreCeiling, sum.BrainScoreCeiled, sum.BrainScoreCeiledSquared = res.Ceiling, res.Ceiled, res.CeiledSquared
	}
	neurons := make([]runs.NeuronScore, ds.NumNeurons)
	for j := range neurons {
		r := make([]float64, len(res.NeuronR))
		for s := range r {
			r[s] = res.NeuronR[s][j]
		}
		mean, _, _ := compute.MeanMedian(r)
		neurons[j] = runs.NeuronScore{Neuron: j, EV: math.NaN(), R: mean, MSE: math.NaN(), R2: math.NaN(),
			Ceiling: math.NaN(), EVCorrected: math.NaN(), Alpha: math.NaN()}
	}
	specJSON, _ := json.Marshal(spec)
	strategy := feats.Name()
	if spec.PCA > 0 {
		strategy = strategyName(feats.Name(), spec.PCA)
	}
	return &runs.Run{
		Meta: runs.RunMeta{Kind: runs.KindScore, Name: fmt.Sprintf("Brain-Score %s on %s", spec.Model, feats.Name()), Status: runs.Done,
			Model: spec.Model, Strategy: strategy, Dataset: runs.DatasetRef{Name: ds.Name, Hash: ds.Hash}, Seed: spec.Seed,
			Version: runs.Version(), Started: start.UTC(), Finished: time.Now().UTC(),
			Timings: map[string]float64{"total": time.Since(start).Seconds()}, Spec: specJSON, Summary: sum},
		Neurons: neurons,
	}, nil
}
