package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorgonia.org/tensor"

	"itscope/compute/nn"
	"itscope/data"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"
)

// CotrainConfig is a co-training run: a pretrained trunk frozen up to the
// Trainable tap, that stage and every later stage of the trunk trained, and
// two linear heads on the trunk's globally pooled output: neural regression
// and object classification, with loss MSE + Lambda * cross-entropy.
type CotrainConfig struct {
	Train     TrainConfig `json:"train"`
	Net       string      `json:"net"`
	Weights   string      `json:"weights,omitempty"`
	Trainable string      `json:"trainable"`
	Lambda    float64     `json:"lambda"`
	// CacheDir is the feature cache for the frozen part ("" for the default).
	CacheDir string `json:"-"`
	CacheMax int64  `json:"-"` // its size bound (see features.OpenFeatureCache)
}

// DefaultCotrainConfig trains with the study's Adam settings for 10 epochs
// and weighs both heads the same.
func DefaultCotrainConfig() CotrainConfig {
	t := DefaultTrainConfig()
	t.Epochs = 10
	return CotrainConfig{Train: t, Lambda: 1}
}

// Validate reports the first setting out of range.
func (c CotrainConfig) Validate() error {
	if err := c.Train.Validate(); err != nil {
		return err
	}
	if strings.TrimSpace(c.Net) == "" || strings.TrimSpace(c.Trainable) == "" {
		return fmt.Errorf("cotrain: want a network and a trainable tap, found %q and %q", c.Net, c.Trainable)
	}
	if !(c.Lambda >= 0) || math.IsInf(c.Lambda, 0) {
		return fmt.Errorf("lambda: want a non-negative weight, found %v", c.Lambda)
	}
	return nil
}

// frozenFeatureBudget bounds the frozen trunk's cached output held in memory.
const frozenFeatureBudget = 2 << 30

// Cotrain trains cfg's network on ds. The frozen part runs once per image
// (its output at the tap before Trainable goes through the feature cache on
// disk, then memory); each step runs only the trainable stages and heads.
// Datasets without object labels train the neural head alone.
//
// The trainable stages are a copy of the network's own stages
// (nets.TrainableStages), each BatchNorm folded into its conv (BatchNorm
// statistics stay frozen, as is usual when fine-tuning small batches). The
// embedded MobileNetV2 is int8: its frozen part runs int8 as in feature
// extraction, and its trainable stages are the float MobileNetV2
// architecture holding its dequantized weights.
func Cotrain(ctx context.Context, ds *data.Dataset, cfg CotrainConfig, emit func(jobs.Event)) (*runs.Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if emit == nil {
		emit = func(jobs.Event) {}
	}
	started := time.Now()
	trainSplit, valSplit, err := responseSplits(ds)
	if err != nil {
		return nil, err
	}
	trunkNet, trunk, frozenTap, note, err := openTrunk(cfg)
	if err != nil {
		return nil, err
	}
	if note != "" {
		emit(jobs.Event{Kind: jobs.EventLog, Message: note})
	}
	feats, err := features.NewNetFeatures(trunkNet, frozenTap, 0)
	if err != nil {
		return nil, err
	}
	var inShape []int
	for _, t := range trunkNet.Taps() {
		if t.Name == frozenTap {
			inShape = t.Shape
		}
	}
	emit(jobs.Event{Kind: jobs.EventLog, Message: fmt.Sprintf("frozen %s up to %s %v: features once per image (cached)", cfg.Net, frozenTap, inShape)})
	dim := 1
	for _, d := range inShape {
		dim *= d
	}
	if need := int64(len(trainSplit.Indices)+len(valSplit.Indices)) * int64(dim) * 4; need > frozenFeatureBudget {
		return nil, fmt.Errorf("cotrain: the frozen features at %s take %d MB for the train and val images, over the %d MB bound; make a later stage the first trainable one",
			frozenTap, need>>20, frozenFeatureBudget>>20)
	}
	npy, err := features.CachedFeatures(ctx, ds, feats, features.FeatureOptions{CacheDir: cfg.CacheDir, CacheMax: cfg.CacheMax,
		Progress: func(done, total int) {
			emit(jobs.Event{Kind: jobs.EventProgress, Done: done, Total: total, Message: "frozen features"})
		},
		Log: func(msg string) { emit(jobs.Event{Kind: jobs.EventLog, Message: msg}) }})
	if err != nil {
		return nil, err
	}
	trainX, valX, err := selectRows(npy.Each, dim, trainSplit.Indices, valSplit.Indices)
	npy.Close()
	if err != nil {
		return nil, err
	}

	neurons := ds.NumNeurons
	classes, trainLabels, valLabels := objectLabels(ds, trainSplit.Indices, valSplit.Indices)
	if len(classes) < 2 {
		classes, trainLabels, valLabels = nil, nil, nil
		emit(jobs.Event{Kind: jobs.EventLog, Message: fmt.Sprintf("%s has no object labels: training the neural head alone", ds.Name)})
	}
	outC, err := stageOutChannels(trunk, inShape)
	if err != nil {
		return nil, err
	}
	net, head, err := cotrainNet(trunk, outC, neurons+len(classes))
	if err != nil {
		return nil, err
	}
	nn.InitDefault(head, nn.NewRand(cfg.Train.Seed^0x5eed))

	mean, std := targetStandardiser(ds, trainSplit.Indices)
	tTrain := standardisedTargets(ds, trainSplit.Indices, mean, std)
	tVal := standardisedTargets(ds, valSplit.Indices, mean, std)
	shape := append([]int{0}, inShape...)
	var epochCE, epochMSE []float64
	var ceSum, mseSum float64
	var partN int
	p := &trainProblem{
		net: net, nTrain: len(trainSplit.Indices), nVal: len(valSplit.Indices),
		input: func(val bool, pos []int) (*tensor.Dense, error) {
			src := trainX
			if val {
				src = valX
			}
			shape[0] = len(pos)
			return nn.FromSlice(gatherRows(src, dim, pos), shape...)
		},
		loss: func(val bool, pos []int, out *tensor.Dense) (float64, [2]float64, *tensor.Dense, error) {
			t, labels := tTrain, trainLabels
			if val {
				t, labels = tVal, valLabels
			}
			l, parts, dy, err := cotrainLoss(out, gatherRows(t, neurons, pos), neurons, pickLabels(labels, pos), cfg.Lambda)
			if err == nil && !val {
				mseSum += parts[0] * float64(len(pos))
				if !math.IsNaN(parts[1]) {
					ceSum += parts[1] * float64(len(pos))
				}
				partN += len(pos)
			}
			return l, parts, dy, err
		},
	}
	p.score = func(out []float32, cols int) (float64, float64) {
		// The epoch's training loss parts end here: evaluation follows the
		// last step of every epoch.
		if partN > 0 {
			epochMSE = append(epochMSE, mseSum/float64(partN))
			ce := math.NaN()
			if classes != nil {
				ce = ceSum / float64(partN)
			}
			epochCE = append(epochCE, ce)
			mseSum, ceSum, partN = 0, 0, 0
		}
		s, err := scorePredictions(ds, valSplit.Indices, unstandardise(neuralColumns(out, cols, neurons), mean, std))
		if err != nil {
			return math.NaN(), math.NaN()
		}
		return s.EVMean, s.RMean
	}
	opt := newOptimizer(cfg.Train, net.Params())
	res, loopErr := runLoop(ctx, p, cfg.Train, opt, emit)
	if res == nil {
		return nil, loopErr
	}
	pred := unstandardise(neuralColumns(res.valOut, res.valCols, neurons), mean, std)
	outcome := struct {
		CotrainConfig
		FrozenTap string    `json:"frozen_tap"`
		InShape   []int     `json:"trainable_input_shape"`
		Classes   []string  `json:"classes"`
		EpochMSE  []float64 `json:"epoch_train_mse"`
		EpochCE   []float64 `json:"epoch_train_ce"`
		Note      string    `json:"note,omitempty"`
	}{cfg, frozenTap, inShape, classes, nanToNull(epochMSE), nanToNull(epochCE), note}
	spec, err := specWithOutcome(outcome, res.outcome, ds.Name)
	if err != nil {
		return nil, errors.Join(loopErr, err)
	}
	strategy := fmt.Sprintf("%s:%s+", cfg.Net, cfg.Trainable)
	meta := runs.RunMeta{Kind: runs.KindCotrain, Name: fmt.Sprintf("cotrain %s from %s, lambda %g", cfg.Net, cfg.Trainable, cfg.Lambda),
		Model: "cotrain", Strategy: strategy, Dataset: runs.DatasetRef{Name: ds.Name, Hash: ds.Hash}, Seed: cfg.Train.Seed,
		Started: started, Finished: time.Now(), Spec: spec}
	run, err := res.finishRun(meta, ds, valSplit.Indices, len(trainSplit.Indices), pred, net, mean, std,
		map[string]string{"itscope": "cotrain", "net": cfg.Net, "trainable": cfg.Trainable, "frozen_tap": frozenTap,
			"neurons": strconv.Itoa(neurons), "classes": strconv.Itoa(len(classes))})
	if err != nil {
		return nil, errors.Join(loopErr, err)
	}
	return run, loopErr
}

// cotrainLoss is MSE on the first neurons columns plus lambda times the
// cross-entropy of the rest (the class logits) where labels are given.
func cotrainLoss(out *tensor.Dense, target []float32, neurons int, labels []int, lambda float64) (float64, [2]float64, *tensor.Dense, error) {
	rows, cols := out.Shape()[0], out.Shape()[1]
	outs := nn.Float32s(out)
	neural, _ := nn.FromSlice(neuralColumns(outs, cols, neurons), rows, neurons)
	tt, err := nn.FromSlice(target, rows, neurons)
	if err != nil {
		return 0, [2]float64{}, nil, err
	}
	mse, dn, err := nn.MSELoss(neural, tt)
	if err != nil {
		return 0, [2]float64{}, nil, err
	}
	dy := nn.New(rows, cols)
	ds, dns := nn.Float32s(dy), nn.Float32s(dn)
	for r := 0; r < rows; r++ {
		copy(ds[r*cols:r*cols+neurons], dns[r*neurons:(r+1)*neurons])
	}
	if cols == neurons || labels == nil {
		return mse, [2]float64{mse, math.NaN()}, dy, nil
	}
	k := cols - neurons
	logits := nn.New(rows, k)
	ls := nn.Float32s(logits)
	for r := 0; r < rows; r++ {
		copy(ls[r*k:(r+1)*k], outs[r*cols+neurons:(r+1)*cols])
	}
	ce, dl, err := nn.CrossEntropyLoss(logits, labels)
	if err != nil {
		return 0, [2]float64{}, nil, err
	}
	dls := nn.Float32s(dl)
	for r := 0; r < rows; r++ {
		for c := 0; c < k; c++ {
			ds[r*cols+neurons+c] = float32(lambda) * dls[r*k+c]
		}
	}
	return mse + lambda*ce, [2]float64{mse, ce}, dy, nil
}

// neuralColumns keeps the first neurons of each cols-wide output row.
func neuralColumns(out []float32, cols, neurons int) []float32 {
	if cols == neurons {
		return out
	}
	rows := len(out) / cols
	res := make([]float32, rows*neurons)
	for r := 0; r < rows; r++ {
		copy(res[r*neurons:(r+1)*neurons], out[r*cols:r*cols+neurons])
	}
	return res
}

// objectLabels numbers the object classes seen in training, sorted by name;
// a validation image of an unseen class gets -1 (ignored by the loss).
func objectLabels(ds *data.Dataset, train, val []int) (classes []string, trainLabels, valLabels []int) {
	if ds.Objects == nil {
		return nil, nil, nil
	}
	index := map[string]int{}
	for _, i := range train {
		if o := ds.Objects[i]; o != "" {
			index[o] = 0
		}
	}
	for c := range index {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for k, c := range classes {
		index[c] = k
	}
	label := func(images []int) []int {
		out := make([]int, len(images))
		for k, i := range images {
			if c, ok := index[ds.Objects[i]]; ok {
				out[k] = c
			} else {
				out[k] = -1
			}
		}
		return out
	}
	return classes, label(train), label(val)
}

func pickLabels(labels, pos []int) []int {
	if labels == nil {
		return nil
	}
	out := make([]int, len(pos))
	for k, p := range pos {
		out[k] = labels[p]
	}
	return out
}

// selectRows reads the rows of the train and val images from a row-block
// reader of every image's features.
func selectRows(each func(func(first int, block []float32) error) error, dim int, train, val []int) (trainX, valX []float32, err error) {
	trainX, valX = make([]float32, len(train)*dim), make([]float32, len(val)*dim)
	trainPos, valPos := map[int][]int{}, map[int][]int{}
	for k, i := range train {
		trainPos[i] = append(trainPos[i], k)
	}
	for k, i := range val {
		valPos[i] = append(valPos[i], k)
	}
	err = each(func(first int, block []float32) error {
		for r := 0; r*dim < len(block); r++ {
			row := block[r*dim : (r+1)*dim]
			for _, k := range trainPos[first+r] {
				copy(trainX[k*dim:], row)
			}
			for _, k := range valPos[first+r] {
				copy(valX[k*dim:], row)
			}
		}
		return nil
	})
	return trainX, valX, err
}

func nanToNull(xs []float64) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		if math.IsNaN(x) {
			x = -1 // JSON has no NaN; cross-entropy is never negative
		}
		out[i] = x
	}
	return out
}

// cotrainNet is the trainable stages, global average pooling and one linear
// head (zero weights) of outputs units: the neural and the class columns.
func cotrainNet(trunk nn.Layer, channels, outputs int) (net *nn.Sequential, head *nn.Linear, err error) {
	if head, err = nn.NewLinear(channels, outputs, true); err != nil {
		return nil, nil, err
	}
	net = nn.NewSequential(nn.Child{Name: "trunk", Layer: trunk}, nn.Child{Name: "pool", Layer: &nn.GlobalAvgPool{}},
		nn.Child{Name: "flatten", Layer: &nn.Flatten{}}, nn.Child{Name: "head", Layer: head})
	return net, head, nil
}

// stageOutChannels runs one zero input through the trainable stages to learn
// their output channels.
func stageOutChannels(trunk nn.Layer, inShape []int) (int, error) {
	x := nn.New(append([]int{1}, inShape...)...)
	y, err := trunk.Forward(x, false)
	if err != nil {
		return 0, fmt.Errorf("trainable stages: %w", err)
	}
	if s := y.Shape(); len(s) == 4 {
		return s[1], nil
	}
	return 0, fmt.Errorf("trainable stages: want a (N, C, H, W) output, found %v", []int(y.Shape()))
}

// openTrunk opens cfg's network (shared with feature extraction) and cuts
// it where cfg's trainable stages begin: the frozen trunk, the tap it ends
// at, and TrainableStages' note on how the frozen stages run.
func openTrunk(cfg CotrainConfig) (net nets.Network, trunk *nn.Sequential, frozenTap, note string, err error) {
	net, err = features.OpenNetworkShared(cfg.Net, nets.NetOptions{Weights: cfg.Weights, Seed: cfg.Train.Seed})
	if err != nil {
		return nil, nil, "", "", err
	}
	trunk, frozenTap, note, err = nets.TrainableStages(net, cfg.Trainable)
	if err != nil {
		return nil, nil, "", "", err
	}
	return net, trunk, frozenTap, note, nil
}

// loadCotrained rebuilds a cotrain run's trainable network and loads its
// weights; its input is the frozen trunk's output, computed here.
func loadCotrained(dir string, meta runs.RunMeta, wpath string) (*TrainedNet, error) {
	var spec struct {
		CotrainConfig
		FrozenTap string   `json:"frozen_tap"`
		InShape   []int    `json:"trainable_input_shape"`
		Classes   []string `json:"classes"`
	}
	if err := json.Unmarshal(meta.Spec, &spec); err != nil {
		return nil, fmt.Errorf("%s: key \"spec\": %v", dir, err)
	}
	trunkNet, trunk, frozenTap, _, err := openTrunk(spec.CotrainConfig)
	if err != nil {
		return nil, err
	}
	byName, mean, std, err := readTrainedWeights(wpath)
	if err != nil {
		return nil, err
	}
	outC, err := stageOutChannels(trunk, spec.InShape)
	if err != nil {
		return nil, err
	}
	net, _, err := cotrainNet(trunk, outC, len(mean)+len(spec.Classes))
	if err != nil {
		return nil, err
	}
	if err := loadState(wpath, net, byName); err != nil {
		return nil, err
	}
	in := trunkNet.Input()
	shape := append([]int{0}, spec.InShape...)
	return &TrainedNet{Kind: runs.KindCotrain, Net: net, Mean: mean, Std: std, Size: in[1], neural: len(mean),
		input: func(ctx context.Context, ds *data.Dataset, images []int) (*tensor.Dense, error) {
			per := in[0] * in[1] * in[2]
			x := make([]float32, len(images)*per)
			for k, i := range images {
				if err := networkInput(ds, i, in[1], x[k*per:(k+1)*per]); err != nil {
					return nil, err
				}
			}
			out, err := trunkNet.Forward(x, len(images), []string{frozenTap})
			if err != nil {
				return nil, err
			}
			shape[0] = len(images)
			return nn.FromSlice(out[frozenTap], shape...)
		}}, nil
}
