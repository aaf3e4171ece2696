package readout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"itscope/compute"
	"itscope/data"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// Read-out models.
const (
	ModelLinear  = "linear"  // least squares
	ModelRidge   = "ridge"   // ridge with a given alpha
	ModelRidgeCV = "ridgecv" // ridge with alpha chosen by k-fold CV on train
)

// FitSpec asks for one read-out fit: features of the images, optionally
// reduced by PCA, mapped to the neurons by a linear model fitted on the
// train split and scored on the val split.
type FitSpec struct {
	Data     string  `json:"data"`     // dataset spec: demo, demo:SESSION, a .h5 file, a folder
	Features string  `json:"features"` // pixels:32, mobilenetv2:features.14, ...
	Weights  string  `json:"weights,omitempty"`
	PCA      int     `json:"pca"` // components; 0 for none
	Model    string  `json:"model"`
	Alpha    float64 `json:"alpha,omitempty"` // for ridge
	// Alphas is the ridge CV grid, tried as given; when empty, ridge CV uses
	// the scale-free default (compute.DefaultRelativeAlphas times the
	// design's scale, extended by decades while CV picks an end). Folds is
	// the number of CV folds (5 when 0), stratified by object label when the
	// dataset has labels.
	Alphas []float64 `json:"alphas,omitempty"`
	Folds  int       `json:"folds,omitempty"`
	// FoldsInOrder makes the folds consecutive blocks of the train rows,
	// neither shuffled nor stratified, as scikit-learn's RidgeCV(cv=Folds)
	// makes them: for comparing with a Python pipeline fold for fold.
	FoldsInOrder   bool   `json:"folds_in_order,omitempty"`
	PerNeuronAlpha bool   `json:"per_neuron_alpha,omitempty"`
	Seed           uint64 `json:"seed"`
	// Standardise the features with train statistics before PCA:
	// "auto" (the default) does it for pixels only, "on" or "off" force it.
	Standardise string `json:"standardise,omitempty"`

	// Not part of the recorded spec:
	Dataset *data.Dataset `json:"-"` // already opened; Data is then only recorded
	// Open, when Dataset is nil, opens Data (nil: data.Open). A server
	// passes one confined to its data root.
	Open func(spec string) (*data.Dataset, error) `json:"-"`
	// MaxMemory refuses the fit before its features are extracted when its
	// estimate (FitMemory) is larger; 0 is the limit of the engine running
	// it (jobs.MemoryLimit), if any.
	MaxMemory int64 `json:"-"`
	// Extractor, when set, is used instead of parsing Features (which is
	// then only recorded): features built once and reused across fits.
	Extractor features.Features `json:"-"`
	CacheDir  string            `json:"-"` // the feature cache ("" for the default)
	CacheMax  int64             `json:"-"` // its size bound (see features.OpenFeatureCache)
}

// Check validates the spec without touching data.
func (s *FitSpec) Check() error {
	switch s.Model {
	case ModelLinear, ModelRidge, ModelRidgeCV:
	default:
		return fmt.Errorf("model %q: want linear, ridge or ridgecv", s.Model)
	}
	if s.Model == ModelRidge && !(s.Alpha > 0 && !math.IsInf(s.Alpha, 0)) {
		return fmt.Errorf("ridge: alpha %v: want a positive number (--alpha)", s.Alpha)
	}
	if len(s.Alphas) > MaxAlphas {
		return fmt.Errorf("alphas: %d values: want at most %d", len(s.Alphas), MaxAlphas)
	}
	for _, a := range s.Alphas {
		if !(a > 0) || math.IsInf(a, 0) {
			return fmt.Errorf("alphas: %v: want positive numbers", a)
		}
	}
	if s.PCA < 0 {
		return fmt.Errorf("pca: %d: want 0 (none) or a number of components", s.PCA)
	}
	if s.Folds != 0 && s.Folds < 2 {
		return fmt.Errorf("folds: %d: want at least 2", s.Folds)
	}
	switch s.Standardise {
	case "", "auto", "on", "off":
	default:
		return fmt.Errorf("standardise %q: want auto, on or off", s.Standardise)
	}
	if s.Features == "" && s.Extractor == nil {
		return errors.New("no features given (--features)")
	}
	return nil
}

// dataset is the spec's opened dataset, or Data opened with Open.
func (s *FitSpec) dataset() (*data.Dataset, error) {
	if s.Dataset != nil {
		return s.Dataset, nil
	}
	if s.Open != nil {
		return s.Open(s.Data)
	}
	return data.Open(s.Data)
}

// ParseAlphas reads a comma-separated list of alphas: "0.1,1,10", or a log
// range "1e-4:1e12:17" (start:stop:count, evenly spaced in log10).
func ParseAlphas(s string) ([]float64, error) {
	if parts := strings.Split(s, ":"); len(parts) == 3 {
		lo, err1 := strconv.ParseFloat(parts[0], 64)
		hi, err2 := strconv.ParseFloat(parts[1], 64)
		n, err3 := strconv.Atoi(parts[2])
		if err1 != nil || err2 != nil || err3 != nil || !(lo > 0) || !(hi >= lo) || n < 1 {
			return nil, fmt.Errorf("alphas %q: want START:STOP:COUNT with 0 < START <= STOP", s)
		}
		if n > MaxAlphas {
			return nil, fmt.Errorf("alphas %q: COUNT %d: want at most %d alphas", s, n, MaxAlphas)
		}
		out := make([]float64, n)
		for i := range out {
			t := 0.0
			if n > 1 {
				t = float64(i) / float64(n-1)
			}
			out[i] = math.Pow(10, math.Log10(lo)+t*(math.Log10(hi)-math.Log10(lo)))
		}
		return out, nil
	}
	fields := strings.Split(s, ",")
	if len(fields) > MaxAlphas {
		return nil, fmt.Errorf("alphas: %d values: want at most %d", len(fields), MaxAlphas)
	}
	var out []float64
	for _, f := range fields {
		a, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(a > 0) || math.IsInf(a, 0) {
			return nil, fmt.Errorf("alphas %q: %q is not a positive number", s, f)
		}
		out = append(out, a)
	}
	return out, nil
}

// standardiser is implemented by features that should be standardised on
// the training images before PCA and regression (pixels).
type standardiser interface{ StandardiseOnTrain() bool }

// maxDenseFeatureBytes bounds the float64 copy of the features that a fit
// without PCA needs; wider features must go through --pca.
const maxDenseFeatureBytes = 2 << 30

// Fit runs the pipeline of spec: features of the train and val images
// (from the feature cache when the features are cacheable, streamed from
// disk), [standardise] -> [PCA fitted on train] -> linear | ridge | ridgecv
// fitted on train -> predictions on val -> per-neuron EV, r, MSE, R2, and
// noise-corrected EV where the dataset has repeats. emit (may be nil)
// receives progress events. The run is returned, not saved.
func Fit(ctx context.Context, spec FitSpec, emit func(jobs.Event)) (*runs.Run, error) {
	if emit == nil {
		emit = func(jobs.Event) {}
	}
	if err := spec.Check(); err != nil {
		return nil, err
	}
	start := time.Now()
	timings := map[string]float64{}
	lap := func(name string, t0 time.Time) { timings[name] = time.Since(t0).Seconds() }
	phase := func(msg string) { emit(jobs.Event{Kind: jobs.EventLog, Message: msg}) }

	t0 := time.Now()
	ds, err := spec.dataset()
	if err != nil {
		return nil, err
	}
	if spec.Data == "" {
		spec.Data = ds.Name
	}
	train, err := splitWithResponses(ds, data.Train)
	if err != nil {
		return nil, err
	}
	val, err := splitWithResponses(ds, data.Val)
	if err != nil {
		return nil, err
	}
	lap("load", t0)

	t0 = time.Now()
	feats := spec.Extractor
	if feats == nil {
		feats, err = features.ParseFeatures(spec.Features, features.FeatureOptions{Weights: spec.Weights, Seed: spec.Seed, CacheDir: spec.CacheDir,
			Progress: func(done, total int) {
				emit(jobs.Event{Kind: jobs.EventProgress, Done: done, Total: total, Message: "features"})
			}})
		if err != nil {
			return nil, err
		}
	}
	// Fail before a long extraction rather than after it.
	dim, err := feats.Dim(ds)
	if err != nil {
		return nil, err
	}
	if limit := min(len(train.Indices), dim); spec.PCA > limit {
		return nil, fmt.Errorf("pca: n_components=%d must be at most min(n_train, features) = min(%d, %d) = %d",
			spec.PCA, len(train.Indices), dim, limit)
	}
	if spec.MaxMemory == 0 {
		spec.MaxMemory = jobs.MemoryLimit(ctx)
	}
	if err := checkMemory(spec, ds, dim, feats.Name()); err != nil {
		return nil, err
	}
	phase("features " + feats.Name())
	rows, closeFeatures, err := featureRows(ctx, ds, feats, spec.CacheDir, spec.CacheMax, emit, train.Indices, val.Indices)
	if err != nil {
		return nil, err
	}
	defer closeFeatures()
	trainX, rawVal := rows[0], rows[1]
	ro := &Readout{Features: feats.Name(), WeightsID: weightsID(feats), FeatureDim: trainX.Cols(), Model: spec.Model}
	lap("features", t0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	std := spec.Standardise == "on"
	if spec.Standardise == "" || spec.Standardise == "auto" {
		h, ok := feats.(standardiser)
		std = ok && h.StandardiseOnTrain()
	}
	if std {
		t0 = time.Now()
		phase("standardising")
		if ro.Standardiser, err = compute.FitStandardiser(trainX); err != nil {
			return nil, fmt.Errorf("features %s: %w", feats.Name(), err)
		}
		if trainX, err = ro.Standardiser.Wrap(trainX); err != nil {
			return nil, err
		}
		lap("standardise", t0)
	}

	var xTrain, xVal *mat.Dense
	pcaKept := 0
	var warnings []string
	if spec.PCA > 0 {
		t0 = time.Now()
		phase(fmt.Sprintf("PCA to %d components", spec.PCA))
		// The components make the read-out savable (and Transform the val
		// rows as predict will); past the budget the val rows are projected
		// in the Gram pass instead and the read-out is not saved.
		opt := compute.PCAOptions{Components: true, MaxComponentBytes: MaxSavedComponentBytes}
		if need := 4 * int64(spec.PCA) * int64(trainX.Cols()); need > MaxSavedComponentBytes {
			opt = compute.PCAOptions{Project: []compute.Matrix32{rawVal}}
			if ro.Standardiser != nil {
				if opt.Project[0], err = ro.Standardiser.Wrap(rawVal); err != nil {
					return nil, err
				}
			}
			ro = nil
			warnings = append(warnings, fmt.Sprintf("read-out not saved: its %d x %d PCA components would take %.1f GB (over %.1f GB); predict cannot use this run",
				spec.PCA, trainX.Cols(), float64(need)/1e9, float64(MaxSavedComponentBytes)/1e9))
		}
		p, err := compute.FitPCA(trainX, spec.PCA, opt)
		if err != nil {
			return nil, fmt.Errorf("features %s: %w", feats.Name(), err)
		}
		xTrain, pcaKept = p.TrainScores, p.NComponents
		if ro != nil {
			ro.PCA = p
		} else {
			xVal = p.Projected[0]
		}
		if p.Warning != "" {
			warnings = append(warnings, p.Warning)
		}
		lap("pca", t0)
	} else {
		if need := 8 * int64(trainX.Rows()+rawVal.Rows()) * int64(trainX.Cols()); need > maxDenseFeatureBytes {
			return nil, fmt.Errorf("features %s: %d features per image need %.1f GB without PCA; reduce them with --pca N",
				feats.Name(), trainX.Cols(), float64(need)/1e9)
		}
		if xTrain, err = toDense64(trainX); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	yTrain := responses(ds, train.Indices)
	yVal := responses(ds, val.Indices)
	t0 = time.Now()
	phase("fitting " + spec.Model)
	lm, grid, cvScore, err := fitReadout(spec, ds, train.Indices, xTrain, yTrain)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", spec.Model, feats.Name(), err)
	}
	if w := gridWarning(grid, lm); w != "" {
		warnings = append(warnings, w)
	}
	// The val predictions come from the read-out as saved, so that predict
	// reproduces them bit for bit.
	var pred *mat.Dense
	if ro != nil {
		ro.Linear = lm
		pred, err = ro.Predict(rawVal)
	} else {
		pred, err = lm.Predict(xVal)
	}
	if err != nil {
		return nil, err
	}
	lap("fit", t0)

	scores, err := compute.Score(yVal, pred)
	if err != nil {
		return nil, fmt.Errorf("scoring %s on %s: %w", spec.Model, feats.Name(), err)
	}
	var ceiling []float64
	if ds.Repeats != nil && ds.NumTrials > 1 {
		c, err := compute.NoiseCeiling(ds.Repeats, ds.Images.Len(), ds.NumNeurons, ds.NumTrials, val.Indices,
			compute.CeilingOptions{Seed: CeilingSeed})
		if err != nil {
			return nil, fmt.Errorf("dataset %s: noise ceiling: %w", ds.Name, err)
		}
		ceiling = c.Reliability
		if err := scores.WithCeiling(ceiling); err != nil {
			return nil, err
		}
	}
	timings["total"] = time.Since(start).Seconds()

	sum := runs.NaNSummary()
	sum.Dataset, sum.Features, sum.Model, sum.PCA, sum.Seed = ds.Name, feats.Name(), spec.Model, pcaKept, spec.Seed
	sum.NTrain, sum.NVal, sum.NNeurons = len(train.Indices), len(val.Indices), ds.NumNeurons
	sum.NConstant = scores.Constant
	sum.Alpha = 0
	if lm.Alpha != nil {
		_, sum.Alpha, _ = compute.MeanMedian(lm.Alpha)
	}
	sum.EVMean, sum.EVMedian = scores.EVMean, scores.EVMedian
	sum.RMean, sum.RMedian = scores.RMean, scores.RMedian
	sum.MSEMean, sum.R2Mean = scores.MSEMean, scores.R2Mean
	boot, err := compute.BootstrapRun(yVal, pred, runs.BootstrapSeed)
	if err != nil {
		return nil, fmt.Errorf("scoring %s on %s: %w", spec.Model, feats.Name(), err)
	}
	sum.EVMeanLo, sum.EVMeanHi, sum.RMeanLo, sum.RMeanHi = boot.EV.Lo, boot.EV.Hi, boot.R.Lo, boot.R.Hi
	if ceiling != nil {
		sum.CeilingMean, _, _ = compute.MeanMedian(ceiling)
		sum.CeilingEVMean = scores.EVCorrectedMean
	}

	neurons := make([]runs.NeuronScore, ds.NumNeurons)
	for j := range neurons {
		n := runs.NeuronScore{Neuron: j, EV: scores.EV[j], R: scores.R[j], MSE: scores.MSE[j], R2: scores.R2[j],
			Ceiling: math.NaN(), EVCorrected: math.NaN(), Alpha: math.NaN()}
		if ceiling != nil {
			n.Ceiling, n.EVCorrected = ceiling[j], scores.EVCorrected[j]
		}
		if lm.Alpha != nil {
			n.Alpha = lm.Alpha[j]
		}
		neurons[j] = n
	}
	predictions := make([]float32, len(val.Indices)*ds.NumNeurons)
	for i := range len(val.Indices) {
		for j := range ds.NumNeurons {
			predictions[i*ds.NumNeurons+j] = float32(pred.At(i, j))
		}
	}

	recorded := spec
	recorded.Standardise = map[bool]string{true: "on", false: "off"}[std]
	if spec.Model == ModelRidgeCV && recorded.Folds == 0 {
		recorded.Folds = defaultFolds
	}
	specJSON, _ := json.Marshal(recorded)
	run := &runs.Run{
		Meta: runs.RunMeta{
			Kind:          runs.KindFit,
			Name:          fmt.Sprintf("%s on %s", spec.Model, feats.Name()),
			Status:        runs.Done,
			Error:         strings.Join(warnings, "; "),
			Model:         spec.Model,
			Strategy:      strategyName(feats.Name(), pcaKept),
			Dataset:       runs.DatasetRef{Name: ds.Name, Hash: ds.Hash},
			Seed:          spec.Seed,
			Version:       runs.Version(),
			Started:       start.UTC(),
			Finished:      time.Now().UTC(),
			Timings:       timings,
			Spec:          specJSON,
			Summary:       sum,
			AlphaGrid:     grid,
			Warnings:      warnings,
			NeuronCVScore: cvScore,
		},
		Neurons:     neurons,
		Predictions: predictions,
		PredRows:    len(val.Indices),
		PredCols:    ds.NumNeurons,
	}
	if ro != nil {
		ro.Dataset, ro.DatasetHash = ds.Name, ds.Hash
		run.Extra = append(run.Extra, runs.RunFile{Name: ReadoutFile, Write: ro.write})
	}
	return run, nil
}

// strategyName is how a fit shows in tables: "pixels:32", "resnet50:layer3 + PCA 1000".
func strategyName(features string, pca int) string {
	if pca > 0 {
		return fmt.Sprintf("%s + PCA %d", features, pca)
	}
	return features
}

// FitJob wraps Fit for the job engine; its payload lets any process that
// registered RegisterJobs run it from the run store's queue.
func FitJob(spec FitSpec) jobs.Job {
	return jobs.Job{
		Name:    fmt.Sprintf("%s on %s", spec.Model, spec.Features),
		Kind:    runs.KindFit,
		Payload: fitPayload(spec),
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			return Fit(ctx, spec, emit)
		},
	}
}

const defaultFolds = 5

// logTo turns emit into a function that logs a line.
func logTo(emit func(jobs.Event)) func(string) {
	return func(msg string) { emit(jobs.Event{Kind: jobs.EventLog, Message: msg}) }
}

// fitReadout fits the spec's linear model to the training rows and, for
// ridge CV, returns the grid it chose from and each neuron's CV score at its
// alpha (nil otherwise, and for scores that are not all finite).
func fitReadout(spec FitSpec, ds *data.Dataset, trainIdx []int, x, y *mat.Dense) (*compute.LinearModel, *runs.AlphaGrid, []float64, error) {
	switch spec.Model {
	case ModelLinear:
		lm, err := compute.LeastSquares(x, y)
		return lm, nil, nil, err
	case ModelRidge:
		lm, err := compute.Ridge(x, y, spec.Alpha)
		return lm, nil, nil, err
	}
	opt := compute.RidgeCVOptions{Folds: spec.Folds, Seed: spec.Seed, PerNeuron: spec.PerNeuronAlpha}
	if len(spec.Alphas) > 0 {
		opt.Alphas = spec.Alphas
	}
	if opt.Folds == 0 {
		opt.Folds = defaultFolds
	}
	if spec.FoldsInOrder {
		fold, err := compute.KFoldInOrder(len(trainIdx), opt.Folds)
		if err != nil {
			return nil, nil, nil, err
		}
		opt.FoldOf = fold
	} else if ds.Objects != nil {
		opt.Labels = make([]string, len(trainIdx))
		for i, img := range trainIdx {
			opt.Labels[i] = ds.Objects[img]
		}
	}
	res, err := compute.RidgeCV(x, y, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	grid := &runs.AlphaGrid{Alphas: res.Grid, Default: opt.Alphas == nil, Scale: res.Scale,
		Extensions: res.Extensions, AtEnd: res.AtEnd && !spec.PerNeuronAlpha}
	cv := res.ChosenNeuronCVScore()
	for _, v := range cv {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			cv = nil // run.json has no NaN
			break
		}
	}
	return res.Model, grid, cv, nil
}

// gridWarning says when ridge CV chose an end of its grid: the best alpha
// may lie beyond it.
func gridWarning(g *runs.AlphaGrid, lm *compute.LinearModel) string {
	if g == nil || !g.AtEnd {
		return ""
	}
	lo, hi := slices.Min(g.Alphas), slices.Max(g.Alphas)
	chosen := lm.Alpha[0]
	if g.Default {
		return fmt.Sprintf("ridge CV chose alpha %g, an end of the default grid [%g, %g] even after %d decade extensions: give a wider one with --alphas START:STOP:COUNT",
			chosen, lo, hi, g.Extensions)
	}
	return fmt.Sprintf("ridge CV chose alpha %g, an end of the grid [%g, %g]: widen it with --alphas START:STOP:COUNT, or leave --alphas out for the scale-free default", chosen, lo, hi)
}

func splitWithResponses(ds *data.Dataset, name string) (data.Split, error) {
	s, ok := ds.SplitByName(name)
	if !ok || len(s.Indices) == 0 {
		return s, fmt.Errorf("dataset %s: no %s split", ds.Name, name)
	}
	if !s.HasResponses {
		return s, fmt.Errorf("dataset %s: the %s split has no responses", ds.Name, name)
	}
	return s, nil
}

// responses copies the responses to the given images into a float64 matrix.
func responses(ds *data.Dataset, images []int) *mat.Dense {
	y := mat.NewDense(len(images), ds.NumNeurons, nil)
	for i, img := range images {
		row := ds.ResponseRow(img)
		for j, v := range row {
			y.Set(i, j, float64(v))
		}
	}
	return y
}

func toDense64(m compute.Matrix32) (*mat.Dense, error) {
	out := mat.NewDense(m.Rows(), m.Cols(), nil)
	raw := out.RawMatrix().Data
	err := m.Each(func(r0 int, block []float32) error {
		for k, v := range block {
			raw[r0*m.Cols()+k] = float64(v)
		}
		return nil
	})
	return out, err
}

// featureRows returns the features of each list of images. Cacheable
// features come from the feature cache (extracted once for every image and
// streamed to disk) and are read from the file as needed; others (pixels)
// are extracted for these images into memory.
func featureRows(ctx context.Context, ds *data.Dataset, f features.Features, cacheDir string, cacheMax int64, emit func(jobs.Event),
	sets ...[]int) (rows []compute.Matrix32, closeFn func(), err error) {
	progress := func(done, total int) {
		emit(jobs.Event{Kind: jobs.EventProgress, Done: done, Total: total, Message: "features"})
	}
	if f.CacheKey() != "" {
		cache, err := features.OpenFeatureCache(cacheDir, cacheMax)
		if err != nil {
			return nil, nil, err
		}
		file, err := cache.Ensure(ctx, ds, f, features.CacheReport{Progress: progress, Log: logTo(emit)})
		if err != nil {
			return nil, nil, err
		}
		for _, images := range sets {
			rows = append(rows, compute.RowSubset{M: file, Indices: images})
		}
		return rows, func() { file.Close() }, nil
	}
	var images []int
	for _, s := range sets {
		images = append(images, s...)
	}
	dim, err := f.Dim(ds)
	if err != nil {
		return nil, nil, err
	}
	buf := make([]float32, len(images)*dim)
	done := 0
	err = f.Extract(ctx, ds, images, func(first int, block []float32) error {
		if len(block)%dim != 0 || first*dim+len(block) > len(buf) {
			return fmt.Errorf("features %s: a block of %d values at image %d does not fit %d x %d", f.Name(), len(block), first, len(images), dim)
		}
		copy(buf[first*dim:], block)
		done += len(block) / dim
		progress(done, len(images))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	all, err := compute.NewDense32(len(images), dim, buf)
	if err != nil {
		return nil, nil, err
	}
	first := 0
	for _, set := range sets {
		idx := make([]int, len(set))
		for i := range idx {
			idx[i] = first + i
		}
		first += len(set)
		rows = append(rows, compute.RowSubset{M: all, Indices: idx})
	}
	return rows, func() {}, nil
}

// DefaultGridHelp describes ridge CV's default grid for help texts (the
// command line's --alphas, the explorer's Grid pane), from the code that
// makes it.
func DefaultGridHelp() string {
	g := compute.DefaultRelativeAlphas()
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	return fmt.Sprintf("%s:%s:%d x trace(XcᵀXc)/p of the centred design (scale-free), extended by a decade up to %d times while CV picks an end",
		f(g[0]), f(g[len(g)-1]), len(g), compute.MaxGridExtensions)
}
