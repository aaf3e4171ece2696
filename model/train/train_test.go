package train

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"itscope/data"
	"itscope/data/npy"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// syntheticDataset has images of random blobs and neurons that respond to
// the brightness of image quadrants, plus noise: a CNN can learn them.
func SyntheticDataset(images, neurons int, seed uint64) *data.Dataset {
	const side = 64
	rng := rand.New(rand.NewPCG(seed, seed))
	pix := make([]float32, images*3*side*side)
	resp := make([]float32, images*neurons)
	for i := 0; i < images; i++ {
		var quad [4]float64
		for c := 0; c < 3; c++ {
			for y := 0; y < side; y++ {
				for x := 0; x < side; x++ {
					v := rng.NormFloat64()*0.3 + float64((x/8+y/8+i)%3) - 1
					pix[((i*3+c)*side+y)*side+x] = float32(v)
					quad[2*(y/(side/2))+x/(side/2)] += v
				}
			}
		}
		for j := 0; j < neurons; j++ {
			resp[i*neurons+j] = float32(quad[j%4]/1000 + 0.1*rng.NormFloat64() + float64(j))
		}
	}
	var train, val []int
	for i := 0; i < images; i++ {
		if i%5 == 4 {
			val = append(val, i)
		} else {
			train = append(train, i)
		}
	}
	st, err := data.TensorImages(pix, images, 3, side, side)
	if err != nil {
		panic(err) // the sizes above are consistent
	}
	return &data.Dataset{Name: "synthetic", Hash: "synthetic-" + strconv.FormatUint(seed, 10), Images: st,
		NumNeurons: neurons, Responses: resp,
		Splits: []data.Split{{Name: data.Train, Indices: train, HasResponses: true}, {Name: data.Val, Indices: val, HasResponses: true}}}
}

func smallConfig(t *testing.T, spec string, epochs int) TrainConfig {
	t.Helper()
	cfg := DefaultTrainConfig()
	var err error
	if cfg.CNN, err = ParseCNNSpec(spec); err != nil {
		t.Fatal(err)
	}
	cfg.Epochs, cfg.Batch, cfg.Seed = epochs, 16, 7
	return cfg
}

func TestTrainSameSeedSameRun(t *testing.T) {
	ds := SyntheticDataset(40, 5, 1)
	cfg := smallConfig(t, "layers=2,channels=4-8,pool=4,dropout=0.2", 2)
	var runs [2]*runs.Run
	for k := range runs {
		run, err := TrainCNN(context.Background(), ds, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		runs[k] = run
	}
	if len(runs[0].Loss) != 2*2+2 { // 32 train images / 16 = 2 steps, plus one row per epoch
		t.Errorf("loss rows = %d, want 6", len(runs[0].Loss))
	}
	// Every row has its wall time (loss.csv's elapsed_s), never going back.
	for i, p := range runs[0].Loss {
		if !(p.Elapsed > 0) || (i > 0 && p.Elapsed < runs[0].Loss[i-1].Elapsed) {
			t.Errorf("loss row %d: elapsed %v s after %v", i, p.Elapsed, runs[0].Loss[max(0, i-1)].Elapsed)
		}
	}
	if !reflect.DeepEqual(lossValues(runs[0].Loss), lossValues(runs[1].Loss)) {
		t.Errorf("same seed, different losses:\n%v\n%v", runs[0].Loss, runs[1].Loss)
	}
	if !reflect.DeepEqual(runs[0].Predictions, runs[1].Predictions) {
		t.Errorf("same seed, different predictions")
	}
	cfg.Seed++
	other, err := TrainCNN(context.Background(), ds, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(lossValues(runs[0].Loss), lossValues(other.Loss)) {
		t.Errorf("different seeds gave the same losses")
	}
}

// lossValues flattens loss points with NaN replaced, so DeepEqual compares.
func lossValues(ps []runs.LossPoint) []float64 {
	var out []float64
	for _, p := range ps {
		for _, v := range []float64{float64(p.Step), float64(p.Epoch), p.TrainLoss, p.ValLoss, p.ValEV} {
			if math.IsNaN(v) {
				v = -12345
			}
			out = append(out, v)
		}
	}
	return out
}

// TestTrainCancelMidEpoch cancels during the second epoch through the job
// engine: the saved run must hold the first epoch, marked cancelled, and its
// weights must reproduce its saved validation predictions.
func TestTrainCancelMidEpoch(t *testing.T) {
	ds := SyntheticDataset(60, 5, 2)
	cfg := smallConfig(t, "layers=2,channels=4-8,pool=4", 5)
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	engine := jobs.NewEngine(store, 1)
	id, err := engine.Submit(jobs.Job{Name: "cancel me", Kind: "train", Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
		return TrainCNN(ctx, ds, cfg, func(e jobs.Event) {
			emit(e)
			if e.Kind == jobs.EventStep && e.Epoch == 2 && e.Step == 4 {
				engine.Cancel(1)
			}
		})
	}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := engine.Wait(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if st.State != runs.Cancelled || st.RunID == "" {
		t.Fatalf("job state %s, run %q; want cancelled with a saved run", st.State, st.RunID)
	}
	run, err := store.Load(st.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Meta.Status != runs.Cancelled {
		t.Errorf("status %q, want cancelled", run.Meta.Status)
	}
	// Steps 1-3 are epoch 1, then its epoch row, then step 4 (epoch 2).
	if n := len(run.Loss); n != 5 || run.Loss[3].Epoch != 1 || math.IsNaN(run.Loss[3].ValEV) || run.Loss[4].Step != 4 {
		t.Errorf("loss.csv rows = %+v; want epoch 1's 3 steps and its row, then step 4", run.Loss)
	}
	out, ok := trainOutcome(run.Meta)
	if !ok || out.Stopped != StopCancelled || out.BestEpoch != 1 {
		t.Errorf("outcome %+v, want stopped cancelled at best epoch 1", out)
	}
	if got := run.Meta.Summary.EVMean; math.Abs(got-run.Loss[3].ValEV) > 1e-6 {
		t.Errorf("summary EV %v, want epoch 1's val EV %v", got, run.Loss[3].ValEV)
	}
	dir := store.Path(st.RunID)
	p, err := PredictRun(context.Background(), dir, ds, data.Val)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range p.Predictions {
		if d := math.Abs(float64(v - run.Predictions[i])); d > 1e-4*(1+math.Abs(float64(v))) {
			t.Fatalf("prediction %d from the saved weights = %v, saved prediction %v", i, v, run.Predictions[i])
		}
	}
	if math.Abs(p.Scores.EVMean-run.Meta.Summary.EVMean) > 1e-4 {
		t.Errorf("EV from the saved weights %v, saved %v", p.Scores.EVMean, run.Meta.Summary.EVMean)
	}
	// No temporary files are left in the run folder.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name()[0] == '.' {
			t.Errorf("left over %s", filepath.Join(dir, e.Name()))
		}
	}
}

// trainOutcome reads a training run's outcome from its spec.
func trainOutcome(m runs.RunMeta) (TrainOutcome, bool) {
	var v struct {
		Outcome *TrainOutcome `json:"outcome"`
	}
	if json.Unmarshal(m.Spec, &v) != nil || v.Outcome == nil {
		return TrainOutcome{}, false
	}
	return *v.Outcome, true
}

// TestTrainLearnsDemo trains a small 3-layer CNN for two epochs on the
// embedded demo data: the training loss must fall and the validation EV end
// well above zero.
func TestTrainLearnsDemo(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("trains on the whole demo data: run without -short and -race")
	}
	ds, err := data.Open("demo")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultTrainConfig()
	cfg.CNN, _ = ParseCNNSpec("layers=3,channels=8-16-32,size=64")
	cfg.Epochs = 2
	var epochs []jobs.Event
	run, err := TrainCNN(context.Background(), ds, cfg, func(e jobs.Event) {
		if e.Kind == jobs.EventEpoch {
			epochs = append(epochs, e)
			t.Log(e.String())
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 2 || !(epochs[1].TrainLoss < epochs[0].TrainLoss) {
		t.Errorf("training loss did not fall: %v", epochs)
	}
	if ev := run.Meta.Summary.EVMean; !(ev > 0.05) {
		t.Errorf("val EV %.4f after 2 epochs, want > 0.05", ev)
	}
	if run.Meta.Summary.NTrain != 1080 || run.Meta.Summary.NVal != 120 || run.Meta.Summary.NNeurons != 89 {
		t.Errorf("summary counts %+v", run.Meta.Summary)
	}
}
