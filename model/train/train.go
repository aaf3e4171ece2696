package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/gonum/mat"
	"gorgonia.org/tensor"

	"itscope/compute"
	"itscope/compute/nn"
	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// TrainConfig is how a CNN is trained: the study's defaults are Adam,
// lr 1e-3, weight decay 1e-3, batch 32.
type TrainConfig struct {
	CNN         CNNSpec `json:"-"`
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"wd"`
	Batch       int     `json:"batch"`
	Epochs      int     `json:"epochs"`
	// Patience stops training after this many epochs without a better
	// validation EV; 0 never stops early.
	Patience  int     `json:"patience"`
	Seed      uint64  `json:"seed"`
	Optimizer string  `json:"optimizer"` // adam, adamw or sgd
	Momentum  float64 `json:"momentum"`  // sgd only
}

// DefaultTrainConfig is the study's setting on the default CNN.
func DefaultTrainConfig() TrainConfig {
	return TrainConfig{CNN: DefaultCNNSpec(), LR: 1e-3, WeightDecay: 1e-3, Batch: 32, Epochs: 30, Patience: 5,
		Optimizer: "adam", Momentum: 0.9}
}

// MarshalJSON writes the config with its CNN spec as a string.
func (c TrainConfig) MarshalJSON() ([]byte, error) {
	type plain TrainConfig
	return json.Marshal(struct {
		CNN string `json:"cnn"`
		plain
	}{c.CNN.String(), plain(c)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (c *TrainConfig) UnmarshalJSON(b []byte) error {
	type plain TrainConfig
	v := struct {
		CNN string `json:"cnn"`
		plain
	}{plain: plain(DefaultTrainConfig())}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	spec, err := ParseCNNSpec(v.CNN)
	if err != nil {
		return err
	}
	*c = TrainConfig(v.plain)
	c.CNN = spec
	return nil
}

// Validate reports the first setting out of range.
func (c TrainConfig) Validate() error {
	switch {
	case !(c.LR > 0) || math.IsInf(c.LR, 0):
		return fmt.Errorf("learning rate: want a positive number, found %v", c.LR)
	case !(c.WeightDecay >= 0) || math.IsInf(c.WeightDecay, 0):
		return fmt.Errorf("weight decay: want a non-negative number, found %v", c.WeightDecay)
	case c.Batch < 1 || c.Batch > MaxBatch:
		return fmt.Errorf("batch: want a size from 1 to %d, found %d", MaxBatch, c.Batch)
	case c.Epochs < 1:
		return fmt.Errorf("epochs: want at least 1, found %d", c.Epochs)
	case c.Patience < 0:
		return fmt.Errorf("patience: want 0 (never stop early) or more epochs, found %d", c.Patience)
	case c.Optimizer != "adam" && c.Optimizer != "adamw" && c.Optimizer != "sgd":
		return fmt.Errorf("optimizer: want adam, adamw or sgd, found %q", c.Optimizer)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("momentum: want a number in [0, 1), found %v", c.Momentum)
	}
	return nil
}

// How a training run ended, recorded in its spec.
const (
	StopEpochs    = "epochs"    // ran every epoch
	StopEarly     = "early"     // patience ran out
	StopCancelled = "cancelled" // the context was cancelled
)

// TrainOutcome is what a training run did, saved in run.json's spec.
type TrainOutcome struct {
	Stopped   string `json:"stopped"`
	BestEpoch int    `json:"best_epoch"` // 0 when cancelled before the first epoch ended
	Epochs    int    `json:"epochs_run"`
	Steps     int    `json:"steps"`
	// TrainLoss is the last epoch's mean training loss.
	TrainLoss float64 `json:"train_loss"`
}

// trainProblem is what the loop trains: a network from inputs to outputs,
// batches of inputs by position in the train or val split, and a loss.
type trainProblem struct {
	net    nn.Layer
	nTrain int
	nVal   int
	// input returns the network input for the given positions of the train
	// (val false) or validation split.
	input func(val bool, positions []int) (*tensor.Dense, error)
	// loss returns the loss of out on the given train (or val) positions,
	// its parts (MSE, cross-entropy; NaN where absent) and dLoss/dout.
	loss func(val bool, positions []int, out *tensor.Dense) (loss float64, parts [2]float64, dy *tensor.Dense, err error)
	// score turns the validation outputs (nVal rows, in split order) into
	// the run's per-neuron scores: it returns the val EV and r means.
	score func(out []float32, cols int) (ev, r float64)
	// skipLonely drops a final batch of one image, which batchnorm cannot
	// normalise in training mode.
	skipLonely bool
}

// loopResult is the training loop's outcome: the best epoch's weights and
// validation outputs, and the loss history.
type loopResult struct {
	outcome TrainOutcome
	best    map[string][]float32 // state (params and buffers) at the best epoch
	valOut  []float32            // validation outputs at the best epoch
	valCols int
	loss    []runs.LossPoint
	bestEV  float64
	bestR   float64
}

// gcEveryStepFloats is the batch input size (in floats) from which the loop
// collects garbage after every step: batch 32 at 112x112 and above.
const gcEveryStepFloats = 1 << 20

// runLoop trains p with minibatches in a seeded order and keeps the weights
// of the epoch with the best validation EV. On cancellation it stops at the
// next batch and returns the best so far with ctx's error; when no epoch
// has finished yet it scores the current weights so the run still has them.
func runLoop(ctx context.Context, p *trainProblem, cfg TrainConfig, opt nn.Optimizer, emit func(jobs.Event)) (*loopResult, error) {
	if emit == nil {
		emit = func(jobs.Event) {}
	}
	// The layers spread their products over goroutines; OpenBLAS's own
	// threads would only spin between calls and steal those cores.
	defer compute.SingleThreadBLAS()()
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))
	res := &loopResult{bestEV: math.Inf(-1), bestR: math.NaN()}
	state := nn.State(p.net)
	stepsPerEpoch := (p.nTrain + cfg.Batch - 1) / cfg.Batch
	if p.skipLonely && p.nTrain%cfg.Batch == 1 && p.nTrain > 1 {
		stepsPerEpoch--
	}
	totalSteps := stepsPerEpoch * cfg.Epochs
	start := time.Now()
	step, sinceBest := 0, 0
	res.outcome.Stopped = StopEpochs

	evaluate := func() (valLoss, ev, r float64, out []float32, cols int, err error) {
		evalBatch := cfg.Batch
		var sum float64
		for b := 0; b < p.nVal; b += evalBatch {
			pos := make([]int, 0, evalBatch)
			for i := b; i < min(b+evalBatch, p.nVal); i++ {
				pos = append(pos, i)
			}
			x, err := p.input(true, pos)
			if err != nil {
				return 0, 0, 0, nil, 0, err
			}
			y, err := p.net.Forward(x, false)
			if err != nil {
				return 0, 0, 0, nil, 0, err
			}
			l, _, _, err := p.loss(true, pos, y)
			if err != nil {
				return 0, 0, 0, nil, 0, err
			}
			sum += l * float64(len(pos))
			cols = y.Shape()[1]
			out = append(out, nn.Float32s(y)...)
			if x.Shape().TotalSize() >= gcEveryStepFloats {
				x, y = nil, nil
				runtime.GC()
			}
		}
		ev, r = p.score(out, cols)
		return sum / float64(p.nVal), ev, r, out, cols, nil
	}
	keep := func(out []float32, cols int, ev, r float64, epoch int) {
		if res.best == nil {
			res.best = map[string][]float32{}
		}
		for _, s := range state {
			res.best[s.Name] = append(res.best[s.Name][:0], nn.Float32s(s.Value)...)
		}
		res.valOut, res.valCols, res.bestEV, res.bestR = out, cols, ev, r
		res.outcome.BestEpoch = epoch
	}

	// A step keeps no training output or gradient past the next step, so
	// the layers may write each step's into the last one's storage.
	nn.ReuseBuffers(p.net, true)
	defer nn.ReuseBuffers(p.net, false)
	for epoch := 1; epoch <= cfg.Epochs; epoch++ {
		perm := rng.Perm(p.nTrain)
		var epochLoss float64
		var epochN int
		for b := 0; b < p.nTrain; b += cfg.Batch {
			pos := perm[b:min(b+cfg.Batch, p.nTrain)]
			if len(pos) == 1 && p.skipLonely && p.nTrain > 1 {
				continue
			}
			if ctx.Err() != nil {
				return res.cancelled(ctx, evaluate, keep)
			}
			x, err := p.input(false, pos)
			if err != nil {
				return nil, err
			}
			opt.ZeroGrad()
			y, err := p.net.Forward(x, true)
			if err != nil {
				return nil, err
			}
			l, parts, dy, err := p.loss(false, pos, y)
			if err != nil {
				return nil, err
			}
			if math.IsNaN(l) || math.IsInf(l, 0) {
				return nil, fmt.Errorf("epoch %d step %d: the training loss is %v (learning rate %g too high?)", epoch, step+1, l, cfg.LR)
			}
			if _, err := p.net.Backward(dy); err != nil {
				return nil, err
			}
			opt.Step()
			if x.Shape().TotalSize() >= gcEveryStepFloats {
				// Large inputs make each step's activations hundreds of MB of
				// garbage; collecting it now lets the next step reuse the
				// memory rather than grow the heap to twice the live size.
				x, y, dy = nil, nil, nil
				runtime.GC()
			}
			step++
			epochLoss += l * float64(len(pos))
			epochN += len(pos)
			lp := runs.LossPoint{Step: step, Epoch: epoch, TrainLoss: l, ValLoss: math.NaN(), ValEV: math.NaN(), Elapsed: time.Since(start).Seconds()}
			res.loss = append(res.loss, lp)
			ev := jobs.Event{Kind: jobs.EventStep, Step: step, Epoch: epoch, TrainLoss: l, Done: step, Total: totalSteps,
				Elapsed: time.Since(start), ETA: eta(start, step, totalSteps)}
			if !math.IsNaN(parts[1]) {
				ev.Message = fmt.Sprintf("mse %.4g ce %.4g", parts[0], parts[1])
			}
			emit(ev)
		}
		// The step buffers are dead until the next epoch: dropping them
		// before the validation pass, which allocates its own outputs,
		// keeps the two from adding up at the peak.
		nn.ReuseBuffers(p.net, false)
		runtime.GC()
		valLoss, ev, r, out, cols, err := evaluate()
		nn.ReuseBuffers(p.net, true)
		if err != nil {
			return nil, err
		}
		trainLoss := epochLoss / float64(max(epochN, 1))
		res.outcome.Epochs, res.outcome.Steps, res.outcome.TrainLoss = epoch, step, trainLoss
		res.loss = append(res.loss, runs.LossPoint{Step: step, Epoch: epoch, TrainLoss: trainLoss, ValLoss: valLoss, ValEV: ev,
			Elapsed: time.Since(start).Seconds()})
		emit(jobs.Event{Kind: jobs.EventEpoch, Step: step, Epoch: epoch, TrainLoss: trainLoss, ValLoss: valLoss, ValEV: ev, ValR: r,
			Done: step, Total: totalSteps, Elapsed: time.Since(start), ETA: eta(start, step, totalSteps)})
		if ev > res.bestEV || res.best == nil {
			keep(out, cols, ev, r, epoch)
			sinceBest = 0
		} else if sinceBest++; cfg.Patience > 0 && sinceBest >= cfg.Patience {
			res.outcome.Stopped = StopEarly
			break
		}
	}
	return res, nil
}

// cancelled ends a cancelled loop: the best epoch so far, or the current
// weights scored when no epoch has finished.
func (res *loopResult) cancelled(ctx context.Context, evaluate func() (float64, float64, float64, []float32, int, error),
	keep func([]float32, int, float64, float64, int)) (*loopResult, error) {
	res.outcome.Stopped = StopCancelled
	if res.best == nil {
		_, ev, r, out, cols, err := evaluate()
		if err != nil {
			return nil, errors.Join(ctx.Err(), err)
		}
		keep(out, cols, ev, r, 0)
	}
	return res, ctx.Err()
}

// eta extrapolates the time left from the steps done so far.
func eta(start time.Time, done, total int) time.Duration {
	if done <= 0 || done >= total {
		return 0
	}
	el := time.Since(start)
	return time.Duration(float64(el) * float64(total-done) / float64(done))
}

// weightsFile saves the kept weights, and any extra tensors, as a run file.
func (res *loopResult) weightsFile(net nn.Layer, extra []runs.NamedTensor, meta map[string]string) runs.RunFile {
	var ts []runs.NamedTensor
	for _, s := range nn.State(net) {
		if w, ok := res.best[s.Name]; ok {
			ts = append(ts, runs.NamedTensor{Name: s.Name, Shape: append([]int(nil), s.Value.Shape()...), Data: w})
		}
	}
	ts = append(ts, extra...)
	return runs.RunFile{Name: WeightsFile, Write: func(w io.Writer) error { return runs.EncodeSafetensors(w, ts, meta) }}
}

// WeightsFile is the name of a trained run's weights in its folder.
const WeightsFile = "weights.safetensors"

// TrainCNN trains the CNN cfg describes on ds's train split, scoring it on
// the val split after every epoch. Targets are standardised per neuron with
// the train split's mean and standard deviation (so every neuron weighs the
// same in the loss); predictions are un-standardised before scoring and
// saving. The returned run holds the best epoch: its validation
// predictions and scores, loss.csv, and its weights (weights.safetensors,
// with the standardisation as the tensors target.mean and target.std). On
// cancellation it returns that run with ctx's error.
func TrainCNN(ctx context.Context, ds *data.Dataset, cfg TrainConfig, emit func(jobs.Event)) (*runs.Run, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	started := time.Now()
	trainSplit, valSplit, err := responseSplits(ds)
	if err != nil {
		return nil, err
	}
	neurons := ds.NumNeurons
	mean, std := targetStandardiser(ds, trainSplit.Indices)
	tTrain := standardisedTargets(ds, trainSplit.Indices, mean, std)
	tVal := standardisedTargets(ds, valSplit.Indices, mean, std)

	size := cfg.CNN.Size
	trainIn, err := newImageInputs(ctx, ds, trainSplit.Indices, size)
	if err != nil {
		return nil, err
	}
	valIn, err := newImageInputs(ctx, ds, valSplit.Indices, size)
	if err != nil {
		return nil, err
	}
	net, err := NewCNN(cfg.CNN, neurons, cfg.Seed)
	if err != nil {
		return nil, err
	}
	// Nothing needs the gradient of the images: skipping it saves the first
	// convolution a GEMM and a col2im over the largest feature map.
	if first, ok := net.Children()[0].Layer.(*nn.Conv2D); ok {
		first.NoInputGrad = true
	}
	opt := newOptimizer(cfg, net.Params())
	per := 3 * size * size
	p := &trainProblem{
		net: net, nTrain: len(trainSplit.Indices), nVal: len(valSplit.Indices), skipLonely: slices.Contains(cfg.CNN.BN, true),
		input: func(val bool, pos []int) (*tensor.Dense, error) {
			in := trainIn
			if val {
				in = valIn
			}
			x := make([]float32, len(pos)*per)
			if err := in.fill(pos, x); err != nil {
				return nil, err
			}
			return nn.FromSlice(x, len(pos), 3, size, size)
		},
		loss: func(val bool, pos []int, out *tensor.Dense) (float64, [2]float64, *tensor.Dense, error) {
			t := tTrain
			if val {
				t = tVal
			}
			target := gatherRows(t, neurons, pos)
			tt, err := nn.FromSlice(target, len(pos), neurons)
			if err != nil {
				return 0, [2]float64{}, nil, err
			}
			l, dy, err := nn.MSELoss(out, tt)
			return l, [2]float64{l, math.NaN()}, dy, err
		},
	}
	p.score = func(out []float32, cols int) (float64, float64) {
		s, err := scorePredictions(ds, valSplit.Indices, unstandardise(out, mean, std))
		if err != nil {
			return math.NaN(), math.NaN()
		}
		return s.EVMean, s.RMean
	}
	res, loopErr := runLoop(ctx, p, cfg, opt, emit)
	if res == nil {
		return nil, loopErr
	}
	pred := unstandardise(res.valOut, mean, std)
	spec, err := specWithOutcome(cfg, res.outcome, ds.Name)
	if err != nil {
		return nil, errors.Join(loopErr, err)
	}
	meta := runs.RunMeta{Kind: runs.KindTrain, Name: "cnn " + cfg.CNN.String(), Model: "cnn", Strategy: cfg.CNN.String(),
		Dataset: runs.DatasetRef{Name: ds.Name, Hash: ds.Hash}, Seed: cfg.Seed, Started: started, Finished: time.Now(),
		Spec: spec}
	run, err := res.finishRun(meta, ds, valSplit.Indices, len(trainSplit.Indices), pred, net, mean, std,
		map[string]string{"itscope": "cnn", "cnn": cfg.CNN.String(), "neurons": strconv.Itoa(neurons)})
	if err != nil {
		return nil, errors.Join(loopErr, err)
	}
	return run, loopErr
}

// finishRun makes the run a training loop ends with: its validation
// predictions, cancelled status if the loop was, timings, scores (the
// summary naming meta's strategy and model), and the best epoch's weights
// saved with the target standardisation (mean, std: one per neuron) and the
// safetensors metadata weightsMeta.
func (res *loopResult) finishRun(meta runs.RunMeta, ds *data.Dataset, valImages []int, nTrain int, pred []float32,
	net nn.Layer, mean, std []float32, weightsMeta map[string]string) (*runs.Run, error) {
	neurons := len(mean)
	run := &runs.Run{Meta: meta, Predictions: pred, PredRows: len(valImages), PredCols: neurons, Loss: res.loss}
	if res.outcome.Stopped == StopCancelled {
		run.Meta.Status = runs.Cancelled
	}
	run.Meta.Timings = map[string]float64{"total": run.Meta.Finished.Sub(run.Meta.Started).Seconds()}
	if err := fillScores(run, ds, valImages, pred, nTrain); err != nil {
		return nil, err
	}
	run.Meta.Summary.Features, run.Meta.Summary.Model = meta.Strategy, meta.Model
	run.Extra = append(run.Extra, res.weightsFile(net,
		[]runs.NamedTensor{{Name: targetMean, Shape: []int{neurons}, Data: mean}, {Name: targetStd, Shape: []int{neurons}, Data: std}},
		weightsMeta))
	return run, nil
}

// The tensors of a trained run's weights file that undo the target
// standardisation.
const (
	targetMean = "target.mean"
	targetStd  = "target.std"
)

// readTrainedWeights reads a trained run's weights file, indexed by tensor
// name, and its target standardisation: one mean and std per neuron.
func readTrainedWeights(path string) (byName map[string]runs.NamedTensor, mean, std []float32, err error) {
	tensors, _, err := runs.ReadSafetensors(path)
	if err != nil {
		return nil, nil, nil, err
	}
	byName = map[string]runs.NamedTensor{}
	for _, t := range tensors {
		byName[t.Name] = t
	}
	mean, std = byName[targetMean].Data, byName[targetStd].Data
	if len(mean) == 0 || len(mean) != len(std) {
		return nil, nil, nil, fmt.Errorf("%s: want tensors %s and %s of one value per neuron, found %d and %d values",
			path, targetMean, targetStd, len(mean), len(std))
	}
	return byName, mean, std, nil
}

// specWithOutcome is a run's spec: the config (any JSON object), the data
// spec and how training ended.
func specWithOutcome(cfg any, outcome TrainOutcome, dataName string) (json.RawMessage, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, err
	}
	obj["outcome"], obj["data"] = outcome, dataName
	return json.Marshal(obj)
}

func newOptimizer(cfg TrainConfig, params []*nn.Param) nn.Optimizer {
	switch cfg.Optimizer {
	case "adamw":
		return nn.NewAdamW(params, cfg.LR, cfg.WeightDecay)
	case "sgd":
		return nn.NewSGD(params, cfg.LR, cfg.Momentum, cfg.WeightDecay)
	}
	return nn.NewAdam(params, cfg.LR, cfg.WeightDecay)
}

// responseSplits returns the train and val splits, which must have responses.
func responseSplits(ds *data.Dataset) (train, val data.Split, err error) {
	for _, name := range []string{data.Train, data.Val} {
		s, ok := ds.SplitByName(name)
		if !ok || !s.HasResponses || len(s.Indices) == 0 {
			return train, val, fmt.Errorf("dataset %s: want a %s split with responses, found none", ds.Name, name)
		}
		if name == data.Train {
			train = s
		} else {
			val = s
		}
	}
	if len(train.Indices) < 2 {
		return train, val, fmt.Errorf("dataset %s: want at least 2 training images, found %d", ds.Name, len(train.Indices))
	}
	return train, val, nil
}

// targetStandardiser returns each neuron's mean and standard deviation over
// images; a constant neuron gets std 1.
func targetStandardiser(ds *data.Dataset, images []int) (mean, std []float32) {
	n := ds.NumNeurons
	sum, sq := make([]float64, n), make([]float64, n)
	for _, i := range images {
		for j, v := range ds.ResponseRow(i) {
			sum[j] += float64(v)
		}
	}
	mean, std = make([]float32, n), make([]float32, n)
	for j := range sum {
		sum[j] /= float64(len(images))
		mean[j] = float32(sum[j])
	}
	for _, i := range images {
		for j, v := range ds.ResponseRow(i) {
			d := float64(v) - sum[j]
			sq[j] += d * d
		}
	}
	for j := range sq {
		s := math.Sqrt(sq[j] / float64(len(images)))
		if !(s > 0) {
			s = 1
		}
		std[j] = float32(s)
	}
	return mean, std
}

func standardisedTargets(ds *data.Dataset, images []int, mean, std []float32) []float32 {
	n := ds.NumNeurons
	out := make([]float32, len(images)*n)
	for k, i := range images {
		for j, v := range ds.ResponseRow(i) {
			out[k*n+j] = (v - mean[j]) / std[j]
		}
	}
	return out
}

func unstandardise(out []float32, mean, std []float32) []float32 {
	n := len(mean)
	pred := make([]float32, len(out))
	for i, v := range out {
		pred[i] = v*std[i%n] + mean[i%n]
	}
	return pred
}

func gatherRows(m []float32, cols int, rows []int) []float32 {
	out := make([]float32, len(rows)*cols)
	for k, r := range rows {
		copy(out[k*cols:(k+1)*cols], m[r*cols:(r+1)*cols])
	}
	return out
}

// scorePredictions scores predictions (image-major, in images' order)
// against the responses.
func scorePredictions(ds *data.Dataset, images []int, pred []float32) (*compute.Scores, error) {
	yt, yp, err := predictionMatrices(ds, images, pred)
	if err != nil {
		return nil, err
	}
	return compute.Score(yt, yp)
}

// predictionMatrices are the responses to images and the predictions of
// them (image-major, in images' order) as images x neurons matrices.
func predictionMatrices(ds *data.Dataset, images []int, pred []float32) (yt, yp *mat.Dense, err error) {
	n := ds.NumNeurons
	if yt, err = compute.DenseFrom32(len(images), n, gatherRows(ds.Responses, n, images)); err != nil {
		return nil, nil, err
	}
	if yp, err = compute.DenseFrom32(len(images), n, pred); err != nil {
		return nil, nil, err
	}
	return yt, yp, nil
}

// fillScores sets run's per-neuron scores and summary from validation
// predictions, with the noise ceiling where the dataset has repeats.
func fillScores(run *runs.Run, ds *data.Dataset, valImages []int, pred []float32, nTrain int) error {
	yt, yp, err := predictionMatrices(ds, valImages, pred)
	if err != nil {
		return err
	}
	s, err := compute.Score(yt, yp)
	if err != nil {
		return err
	}
	sum := runs.NaNSummary()
	sum.Dataset, sum.Seed, sum.Alpha = ds.Name, run.Meta.Seed, 0
	sum.NTrain, sum.NVal, sum.NNeurons, sum.NConstant = nTrain, len(valImages), ds.NumNeurons, s.Constant
	sum.EVMean, sum.EVMedian, sum.RMean, sum.RMedian = s.EVMean, s.EVMedian, s.RMean, s.RMedian
	sum.MSEMean, sum.R2Mean = s.MSEMean, s.R2Mean
	boot, err := compute.BootstrapRun(yt, yp, runs.BootstrapSeed)
	if err != nil {
		return err
	}
	sum.EVMeanLo, sum.EVMeanHi, sum.RMeanLo, sum.RMeanHi = boot.EV.Lo, boot.EV.Hi, boot.R.Lo, boot.R.Hi
	ceiling := make([]float64, ds.NumNeurons)
	for j := range ceiling {
		ceiling[j] = math.NaN()
	}
	if ds.Repeats != nil && ds.NumTrials > 1 {
		c, err := compute.NoiseCeiling(ds.Repeats, ds.Images.Len(), ds.NumNeurons, ds.NumTrials, valImages, compute.CeilingOptions{})
		if err == nil && s.WithCeiling(c.Reliability) == nil {
			ceiling = c.Reliability
			sum.CeilingMean, sum.CeilingEVMean = c.Mean, s.EVCorrectedMean
		}
	}
	run.Neurons = make([]runs.NeuronScore, ds.NumNeurons)
	for j := range run.Neurons {
		ns := runs.NeuronScore{Neuron: j, EV: s.EV[j], R: s.R[j], MSE: s.MSE[j], R2: s.R2[j], Ceiling: ceiling[j],
			EVCorrected: math.NaN(), Alpha: math.NaN()}
		if s.EVCorrected != nil {
			ns.EVCorrected = s.EVCorrected[j]
		}
		run.Neurons[j] = ns
	}
	run.Meta.Summary = sum
	return nil
}
