package readout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"gonum.org/v1/gonum/mat"

	"itscope/compute"
	"itscope/data"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/runs"
	"itscope/model/train"
)

// ReadoutFile is the fitted read-out in a fit (or sweep layer) run's folder.
// Its tensors (docs/models.md):
//
//	standardiser.mean, standardiser.scale  F64 (D)     only when standardised
//	pca.mean                               F64 (D)     only with PCA
//	pca.components                         F32 (k, D)  only with PCA
//	coef                                   F64 (p, N)  p = k with PCA, else D
//	intercept                              F64 (N)
//	alpha                                  F64 (N)     ridge and ridgecv only
//
// and metadata format, features, weights (the network's weights hash, empty
// for pixels), feature_dim, model, dataset, dataset_hash. A prediction is
// ((x - standardiser.mean) / standardiser.scale - pca.mean) @ pca.componentsᵀ
// @ coef + intercept, leaving out the steps whose tensors are absent.
const ReadoutFile = "readout.safetensors"

// readoutFormat names the layout above in the file's metadata.
const readoutFormat = "itscope-readout-1"

// MaxSavedComponentBytes bounds the PCA components a fit materialises and
// saves (4 bytes x components x features): wider read-outs are fitted
// without them, scored as before, and not saved.
const MaxSavedComponentBytes = 1 << 30

// Readout is a fitted read-out: everything needed to predict responses from
// a dataset's images again.
type Readout struct {
	Features    string // the features spec, "mobilenetv2:features.14"
	WeightsID   string // the network's weights hash; "" for pixels
	FeatureDim  int
	Model       string // linear, ridge or ridgecv
	Dataset     string // what it was fitted on (recorded, not checked)
	DatasetHash string

	Standardiser *compute.Standardiser // nil when not standardised
	PCA          *compute.PCA          // nil without PCA; Mean, Components, NComponents, Dim
	Linear       *compute.LinearModel
}

// Neurons is how many responses the read-out predicts.
func (r *Readout) Neurons() int { return len(r.Linear.Intercept) }

// Predict maps raw feature rows (as the features spec extracts them) to
// predicted responses: standardise, PCA transform, linear model.
func (r *Readout) Predict(x compute.Matrix32) (*mat.Dense, error) {
	if x.Cols() != r.FeatureDim {
		return nil, fmt.Errorf("read-out fitted on %d features of %s, rows have %d", r.FeatureDim, r.Features, x.Cols())
	}
	var err error
	if r.Standardiser != nil {
		if x, err = r.Standardiser.Wrap(x); err != nil {
			return nil, err
		}
	}
	var design *mat.Dense
	if r.PCA != nil {
		design, err = r.PCA.Transform(x)
	} else {
		design, err = toDense64(x)
	}
	if err != nil {
		return nil, err
	}
	return r.Linear.Predict(design)
}

// tensors lists the read-out's arrays and metadata as saved.
func (r *Readout) tensors() ([]runs.NamedTensor, map[string]string) {
	p, n := r.Linear.Coef.Dims()
	ts := []runs.NamedTensor{
		{Name: "coef", Shape: []int{p, n}, Data64: mat.DenseCopyOf(r.Linear.Coef).RawMatrix().Data},
		{Name: "intercept", Shape: []int{n}, Data64: r.Linear.Intercept},
	}
	if r.Linear.Alpha != nil {
		ts = append(ts, runs.NamedTensor{Name: "alpha", Shape: []int{n}, Data64: r.Linear.Alpha})
	}
	if s := r.Standardiser; s != nil {
		ts = append(ts, runs.NamedTensor{Name: "standardiser.mean", Shape: []int{len(s.Mean)}, Data64: s.Mean},
			runs.NamedTensor{Name: "standardiser.scale", Shape: []int{len(s.Scale)}, Data64: s.Scale})
	}
	if c := r.PCA; c != nil {
		ts = append(ts, runs.NamedTensor{Name: "pca.mean", Shape: []int{c.Dim}, Data64: c.Mean},
			runs.NamedTensor{Name: "pca.components", Shape: []int{c.NComponents, c.Dim}, Data: c.Components})
	}
	meta := map[string]string{"format": readoutFormat, "features": r.Features, "weights": r.WeightsID,
		"feature_dim": strconv.Itoa(r.FeatureDim), "model": r.Model, "dataset": r.Dataset, "dataset_hash": r.DatasetHash}
	return ts, meta
}

// write streams the read-out in the safetensors format.
func (r *Readout) write(w io.Writer) error {
	ts, meta := r.tensors()
	return runs.EncodeSafetensors(w, ts, meta)
}

// LoadReadout reads a read-out saved by Fit, checking every tensor's shape
// against the others.
func LoadReadout(path string) (*Readout, error) {
	ts, meta, err := runs.ReadSafetensors(path)
	if err != nil {
		return nil, err
	}
	if meta["format"] != readoutFormat {
		return nil, fmt.Errorf("%s: metadata \"format\": want %q, found %q", path, readoutFormat, meta["format"])
	}
	dim, err := strconv.Atoi(meta["feature_dim"])
	if err != nil || dim < 1 {
		return nil, fmt.Errorf("%s: metadata \"feature_dim\": want a positive integer, found %q", path, meta["feature_dim"])
	}
	r := &Readout{Features: meta["features"], WeightsID: meta["weights"], FeatureDim: dim, Model: meta["model"],
		Dataset: meta["dataset"], DatasetHash: meta["dataset_hash"]}
	byName := map[string]runs.NamedTensor{}
	for _, t := range ts {
		byName[t.Name] = t
	}
	// get returns a float64 tensor of the given shape (-1: any size), or nil
	// when it is absent and optional.
	get := func(name string, optional bool, shape ...int) ([]float64, []int, error) {
		t, ok := byName[name]
		if !ok {
			if optional {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("%s: missing tensor %q", path, name)
		}
		if t.Data64 == nil && len(t.Data) > 0 {
			return nil, nil, fmt.Errorf("%s: tensor %q: want dtype F64, found F32", path, name)
		}
		if len(t.Shape) != len(shape) {
			return nil, nil, fmt.Errorf("%s: tensor %q: want %d dimensions, found shape %v", path, name, len(shape), t.Shape)
		}
		for i, d := range shape {
			if d >= 0 && t.Shape[i] != d {
				return nil, nil, fmt.Errorf("%s: tensor %q: want shape %v (-1: any), found %v", path, name, shape, t.Shape)
			}
		}
		return t.Data64, t.Shape, nil
	}
	coef, cs, err := get("coef", false, -1, -1)
	if err != nil {
		return nil, err
	}
	if cs[0] == 0 || cs[1] == 0 {
		return nil, fmt.Errorf("%s: tensor \"coef\": empty shape %v", path, cs)
	}
	p, n := cs[0], cs[1]
	intercept, _, err := get("intercept", false, n)
	if err != nil {
		return nil, err
	}
	alpha, _, err := get("alpha", true, n)
	if err != nil {
		return nil, err
	}
	r.Linear = &compute.LinearModel{Coef: mat.NewDense(p, n, coef), Intercept: intercept, Alpha: alpha}
	smean, _, err := get("standardiser.mean", true, dim)
	if err != nil {
		return nil, err
	}
	sscale, _, err := get("standardiser.scale", smean == nil, dim)
	if err != nil {
		return nil, err
	}
	if smean != nil {
		r.Standardiser = &compute.Standardiser{Mean: smean, Scale: sscale}
	}
	pmean, _, err := get("pca.mean", true, dim)
	if err != nil {
		return nil, err
	}
	comp, hasComp := byName["pca.components"]
	switch {
	case pmean == nil && !hasComp:
		if p != dim {
			return nil, fmt.Errorf("%s: tensor \"coef\": want %d rows (feature_dim, no PCA), found %d", path, dim, p)
		}
	case pmean == nil || !hasComp:
		return nil, fmt.Errorf("%s: want both pca.mean and pca.components, or neither", path)
	default:
		if comp.Data == nil || len(comp.Shape) != 2 || comp.Shape[0] != p || comp.Shape[1] != dim {
			return nil, fmt.Errorf("%s: tensor \"pca.components\": want F32 of shape [%d %d] (coef rows x feature_dim), found %v", path, p, dim, comp.Shape)
		}
		r.PCA = &compute.PCA{NComponents: p, Dim: dim, Mean: pmean, Components: comp.Data}
	}
	return r, nil
}

// weightsID is the hash of the network weights behind f, "" for features
// without weights (pixels).
func weightsID(f features.Features) string {
	if nf, ok := f.(*features.NetFeatures); ok {
		return nf.Network().Identity()
	}
	return ""
}

// PredictRun predicts the named split of ds with the run saved in dir: a fit
// run or a sweep's layer (its readout.safetensors, on the features its spec
// names, from the feature cache in cacheDir bounded by cacheMax as
// features.OpenFeatureCache), or a train or cotrain run (its network). It refuses a read-out
// whose features, weights or neuron count do not fit ds, naming both sides.
// Predictions are scored when the split has responses.
func PredictRun(ctx context.Context, dir string, ds *data.Dataset, split string, cacheDir string, cacheMax int64) (*train.Prediction, error) {
	metaPath := filepath.Join(dir, runs.RunJSON)
	meta, err := runs.ReadMeta(dir)
	if err != nil {
		return nil, err
	}
	if meta.Kind != runs.KindFit && meta.Kind != runs.KindSweep {
		return train.PredictRun(ctx, dir, ds, split)
	}
	var spec FitSpec
	if err := json.Unmarshal(meta.Spec, &spec); err != nil {
		return nil, fmt.Errorf("%s: key \"spec\": %v", metaPath, err)
	}
	path := filepath.Join(dir, ReadoutFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("run %s saved no read-out (%s): it was fitted before read-outs were saved, or its PCA components were too large to save (see its warnings)", dir, ReadoutFile)
	}
	ro, err := LoadReadout(path)
	if err != nil {
		return nil, err
	}
	s, err := ds.SplitWithImages(split)
	if err != nil {
		return nil, err
	}
	if ds.NumNeurons != ro.Neurons() {
		return nil, fmt.Errorf("run %s predicts %d neurons (fitted on %s); dataset %s has %d", dir, ro.Neurons(), ro.Dataset, ds.Name, ds.NumNeurons)
	}
	feats, err := features.ParseFeatures(ro.Features, features.FeatureOptions{Weights: spec.Weights, Seed: spec.Seed, CacheDir: cacheDir, CacheMax: cacheMax})
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	if id := weightsID(feats); id != ro.WeightsID {
		return nil, fmt.Errorf("run %s: features %s were fitted with weights %q; they now load weights %q (file %q)", dir, ro.Features, ro.WeightsID, id, spec.Weights)
	}
	dim, err := feats.Dim(ds)
	if err != nil {
		return nil, err
	}
	if dim != ro.FeatureDim {
		return nil, fmt.Errorf("run %s: features %s were %d per image when fitted; on dataset %s they are %d", dir, ro.Features, ro.FeatureDim, ds.Name, dim)
	}
	rows, closeFeatures, err := featureRows(ctx, ds, feats, cacheDir, cacheMax, func(jobs.Event) {}, s.Indices)
	if err != nil {
		return nil, err
	}
	defer closeFeatures()
	pred, err := ro.Predict(rows[0])
	if err != nil {
		return nil, err
	}
	out := &train.Prediction{Rows: len(s.Indices), Cols: ro.Neurons(), Images: s.Indices,
		Predictions: make([]float32, len(s.Indices)*ro.Neurons())}
	for i := range out.Rows {
		for j := range out.Cols {
			out.Predictions[i*out.Cols+j] = float32(pred.At(i, j))
		}
	}
	if s.HasResponses {
		if out.Scores, err = compute.Score(responses(ds, s.Indices), pred); err != nil {
			return nil, err
		}
	}
	return out, nil
}
