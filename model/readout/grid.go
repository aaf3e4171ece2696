package readout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/train"
)

// GridSpec is a JSON grid: every combination of its lists becomes one job.
// Training grids (kind "train", the default) vary the CNN and its optimiser:
//
//	{"cnn": "size=64", "lr": [1e-3, 3e-4], "wd": [1e-3], "batch": [32],
//	 "layers": [2, 3], "channels": ["32-64", "32-64-128"], "epochs": [10], "seeds": [0, 1]}
//
// "layers" and "channels" override the base "cnn" spec; a channels entry
// whose length does not match a layers entry is skipped, so both lists can
// vary together. Read-out grids (kind "fit") vary the features, PCA and the
// ridge penalty:
//
//	{"kind": "fit", "features": ["pixels:32", "mobilenetv2:features.14"],
//	 "pca": [0, 100], "model": ["ridge"], "alphas": [1, 10, 100]}
//
// For model ridge each alpha is one job; for ridgecv "alphas" is the grid CV
// chooses from (one job); for linear it is ignored.
type GridSpec struct {
	Kind string `json:"kind"`

	CNN       string    `json:"cnn"`
	LR        []float64 `json:"lr"`
	WD        []float64 `json:"wd"`
	Batch     []int     `json:"batch"`
	Layers    []int     `json:"layers"`
	Channels  []string  `json:"channels"`
	Epochs    []int     `json:"epochs"`
	Patience  int       `json:"patience"`
	Optimizer string    `json:"optimizer"`

	Features []string  `json:"features"`
	PCA      []int     `json:"pca"`
	Model    []string  `json:"model"`
	Alphas   []float64 `json:"alphas"`
	Folds    int       `json:"folds"`

	Seeds []uint64 `json:"seeds"`
}

// GridPoint is one job of a grid: a training config or a read-out fit.
type GridPoint struct {
	Kind  string             // "train" or "fit"
	Label string             // the varied values, "lr=0.001 wd=0.001 ..."
	Train *train.TrainConfig // for kind train
	Fit   *FitPoint          // for kind fit
}

// FitPoint is one read-out fit of a grid.
type FitPoint struct {
	Features string
	PCA      int
	Model    string    // linear, ridge, ridgecv
	Alpha    float64   // for ridge
	Alphas   []float64 // for ridgecv: the grid CV chooses from; nil for the default
	Folds    int
	Seed     uint64
}

// maxGridPoints stops a typo from queuing a million jobs.
const maxGridPoints = 10000

// ReadGridSpec reads and validates a grid file.
func ReadGridSpec(path string) (GridSpec, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return GridSpec{}, err
	}
	var g GridSpec
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return GridSpec{}, fmt.Errorf("%s: %v", path, err)
	}
	if _, err := g.Expand(); err != nil {
		return GridSpec{}, fmt.Errorf("%s: %w", path, err)
	}
	return g, nil
}

// Expand lists the grid's jobs in a fixed order (the last list varies
// fastest).
func (g GridSpec) Expand() ([]GridPoint, error) {
	switch g.Kind {
	case "", "train":
		return g.expandTrain()
	case "fit":
		return g.expandFit()
	}
	return nil, fmt.Errorf("key \"kind\": want train or fit, found %q", g.Kind)
}

func (g GridSpec) expandTrain() ([]GridPoint, error) {
	if len(g.Features) > 0 || len(g.PCA) > 0 || len(g.Model) > 0 || len(g.Alphas) > 0 {
		return nil, fmt.Errorf("keys features, pca, model and alphas belong to a grid of kind \"fit\"")
	}
	base, err := train.ParseCNNSpec(g.CNN)
	if err != nil {
		return nil, fmt.Errorf("key \"cnn\": %w", err)
	}
	def := train.DefaultTrainConfig()
	lrs := orFloats(g.LR, def.LR)
	wds := orFloats(g.WD, def.WeightDecay)
	batches := orInts(g.Batch, def.Batch)
	epochs := orInts(g.Epochs, def.Epochs)
	seeds := g.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{def.Seed}
	}
	layers := g.Layers
	channels := g.Channels
	for _, v := range lrs {
		if !(v > 0) {
			return nil, fmt.Errorf("key \"lr\": want positive rates, found %v", v)
		}
	}
	for _, v := range wds {
		if !(v >= 0) {
			return nil, fmt.Errorf("key \"wd\": want non-negative decays, found %v", v)
		}
	}
	for _, v := range batches {
		if v < 1 || v > train.MaxBatch {
			return nil, fmt.Errorf("key \"batch\": want sizes from 1 to %d, found %d", train.MaxBatch, v)
		}
	}
	for _, v := range epochs {
		if v < 1 {
			return nil, fmt.Errorf("key \"epochs\": want positive integers, found %d", v)
		}
	}
	if g.Patience < 0 {
		return nil, fmt.Errorf("key \"patience\": want a non-negative integer, found %d", g.Patience)
	}

	// The CNN specs come first: the layer/channel combinations that agree.
	type arch struct {
		spec  train.CNNSpec
		label string
	}
	var archs []arch
	layerOpts := []int{0}
	if len(layers) > 0 {
		layerOpts = layers
	}
	chanOpts := []string{""}
	if len(channels) > 0 {
		chanOpts = channels
	}
	for _, l := range layerOpts {
		for _, c := range chanOpts {
			text := base.String()
			var label []string
			if l > 0 || c != "" {
				// A new depth keeps the base's first-block settings for every block.
				text = baseScalarSpec(base)
				if l > 0 {
					text += ",layers=" + strconv.Itoa(l)
					label = append(label, "layers="+strconv.Itoa(l))
				}
				switch {
				case c != "" && l > 0 && len(strings.Split(c, "-")) != l:
					continue
				case c != "":
					text += ",channels=" + c
					label = append(label, "channels="+c)
				case l == base.Layers:
					text += ",channels=" + train.JoinInts(base.Channels)
				}
			}
			s, err := train.ParseCNNSpec(text)
			if err != nil {
				return nil, fmt.Errorf("keys \"layers\"/\"channels\": %w", err)
			}
			archs = append(archs, arch{s, strings.Join(label, " ")})
		}
	}
	if len(archs) == 0 {
		return nil, fmt.Errorf("keys \"layers\" and \"channels\": no channels entry has as many values as a layers entry")
	}

	var out []GridPoint
	for _, a := range archs {
		for _, lr := range lrs {
			for _, wd := range wds {
				for _, b := range batches {
					for _, e := range epochs {
						for _, seed := range seeds {
							cfg := def
							cfg.CNN = a.spec
							cfg.LR, cfg.WeightDecay, cfg.Batch, cfg.Epochs, cfg.Seed = lr, wd, b, e, seed
							if g.Patience > 0 {
								cfg.Patience = g.Patience
							}
							if g.Optimizer != "" {
								cfg.Optimizer = g.Optimizer
							}
							label := strings.TrimSpace(fmt.Sprintf("%s lr=%g wd=%g batch=%d epochs=%d seed=%d", a.label, lr, wd, b, e, seed))
							out = append(out, GridPoint{Kind: "train", Label: label, Train: &cfg})
							if len(out) > maxGridPoints {
								return nil, fmt.Errorf("grid size: the grid expands to more than %d jobs", maxGridPoints)
							}
						}
					}
				}
			}
		}
	}
	if err := out[0].Train.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

func (g GridSpec) expandFit() ([]GridPoint, error) {
	if g.CNN != "" || len(g.LR) > 0 || len(g.WD) > 0 || len(g.Batch) > 0 || len(g.Layers) > 0 || len(g.Channels) > 0 || len(g.Epochs) > 0 {
		return nil, fmt.Errorf("keys cnn, lr, wd, batch, layers, channels and epochs belong to a grid of kind \"train\"")
	}
	if len(g.Features) == 0 {
		return nil, fmt.Errorf("key \"features\": want at least one features spec (\"pixels:32\")")
	}
	pcas := orInts(g.PCA, 0)
	models := g.Model
	if len(models) == 0 {
		models = []string{"ridgecv"}
	}
	seeds := g.Seeds
	if len(seeds) == 0 {
		seeds = []uint64{0}
	}
	for _, p := range pcas {
		if p < 0 {
			return nil, fmt.Errorf("key \"pca\": want non-negative component counts, found %d", p)
		}
	}
	if len(g.Alphas) > MaxAlphas {
		return nil, fmt.Errorf("key \"alphas\": %d values: want at most %d", len(g.Alphas), MaxAlphas)
	}
	for _, a := range g.Alphas {
		if !(a >= 0) {
			return nil, fmt.Errorf("key \"alphas\": want non-negative penalties, found %v", a)
		}
	}
	var out []GridPoint
	for _, f := range g.Features {
		for _, p := range pcas {
			for _, m := range models {
				var alphas []float64
				switch m {
				case "linear", "ridgecv":
					alphas = []float64{0}
				case "ridge":
					if len(g.Alphas) == 0 {
						return nil, fmt.Errorf("key \"alphas\": model ridge needs at least one alpha")
					}
					alphas = g.Alphas
				default:
					return nil, fmt.Errorf("key \"model\": want linear, ridge or ridgecv, found %q", m)
				}
				for _, a := range alphas {
					for _, seed := range seeds {
						fp := FitPoint{Features: f, PCA: p, Model: m, Folds: g.Folds, Seed: seed}
						label := fmt.Sprintf("features=%s pca=%d model=%s", f, p, m)
						if m == "ridge" {
							fp.Alpha = a
							label += fmt.Sprintf(" alpha=%g", a)
						}
						if m == "ridgecv" {
							fp.Alphas = g.Alphas
						}
						if len(seeds) > 1 {
							label += fmt.Sprintf(" seed=%d", seed)
						}
						out = append(out, GridPoint{Kind: "fit", Label: label, Fit: &fp})
						if len(out) > maxGridPoints {
							return nil, fmt.Errorf("grid size: the grid expands to more than %d jobs", maxGridPoints)
						}
					}
				}
			}
		}
	}
	return out, nil
}

// baseScalarSpec keeps the settings of s that do not depend on the number
// of blocks (its first block's kernel, stride, pool, bn and dropout), so the
// spec can be re-parsed with a different depth.
func baseScalarSpec(s train.CNNSpec) string {
	bn := "off"
	if s.BN[0] {
		bn = "on"
	}
	return fmt.Sprintf("kernel=%d,stride=%d,pool=%d,bn=%s,dropout=%g,size=%d,readout=%s",
		s.Kernel[0], s.Stride[0], s.Pool[0], bn, s.Dropout[0], s.Size, s.Readout)
}

func orFloats(xs []float64, def float64) []float64 {
	if len(xs) == 0 {
		return []float64{def}
	}
	return xs
}

func orInts(xs []int, def int) []int {
	if len(xs) == 0 {
		return []int{def}
	}
	return xs
}

// GridJob is the engine job of one grid point on ds; fit points read
// network features from the feature cache in cacheDir ("" for the default)
// bounded by cacheMax (see features.OpenFeatureCache).
func GridJob(ds *data.Dataset, p GridPoint, cacheDir string, cacheMax int64) jobs.Job {
	if p.Kind == "fit" {
		f := p.Fit
		job := FitJob(FitSpec{Data: ds.Name, Dataset: ds, Features: f.Features, PCA: f.PCA, Model: f.Model,
			Alpha: f.Alpha, Alphas: f.Alphas, Folds: f.Folds, Seed: f.Seed, CacheDir: cacheDir, CacheMax: cacheMax})
		job.Name = "fit " + p.Label
		return job
	}
	return train.TrainJob(ds, *p.Train, "train "+p.Label)
}
