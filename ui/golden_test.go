package ui

import (
	"math"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/golden"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"
)

// Golden frames of every pane at 100x30 without colour. Panes that show the
// engine and the store get fixed job and run states as messages, so the
// frames do not depend on timing; the Data pane reads the embedded demo.
// Regenerate with: go test ./ui -run Golden -update (which also rewrites the
// screens of docs/explorer.md, see goldendocs_test.go).

func requireGolden(t *testing.T, frame string) {
	t.Helper()
	golden.RequireEqual(t, []byte(frame))
	updateExplorerDocBlock(t)
}

func TestGoldenData(t *testing.T) {
	tm, pr := startApp(t, Options{Initial: "demo"})
	pr.waitMsg(t, 30*time.Second, "decoded image", func(m tea.Msg) bool { _, ok := m.(imageMsg); return ok })
	keys(tm, "right", "]", "]")
	pr.waitMsg(t, 10*time.Second, "second image", func(m tea.Msg) bool {
		im, ok := m.(imageMsg)
		return ok && im.index == 1
	})
	waitFor(t, tm, 5*time.Second, "neuron 2")
	requireGolden(t, finalFrame(t, tm))
}

// TestGoldenDataLarge: on a bigger terminal the half-block picture grows
// with the pane.
func TestGoldenDataLarge(t *testing.T) {
	tm, pr := startApp(t, Options{Initial: "demo", Width: 160, Height: 50})
	pr.waitMsg(t, 30*time.Second, "decoded image", func(m tea.Msg) bool { _, ok := m.(imageMsg); return ok })
	waitFor(t, tm, 5*time.Second, "image 1 of")
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenDataEmpty(t *testing.T) {
	tm, _ := startApp(t, Options{Datasets: []string{"demo", "demo:210325", "/data/IT_data.h5"}})
	keys(tm, "down", "o")
	typeText(tm, "/data/my")
	waitFor(t, tm, 5*time.Second, "open: /data/my")
	requireGolden(t, finalFrame(t, tm))
}

func fixedTaps() []nets.Tap {
	return []nets.Tap{
		{Name: "features.0", Shape: []int{32, 112, 112}},
		{Name: "features.2", Shape: []int{24, 56, 56}},
		{Name: "features.4", Shape: []int{32, 28, 28}},
		{Name: "features.7", Shape: []int{64, 14, 14}},
		{Name: "features.14", Shape: []int{160, 7, 7}},
		{Name: "features.18", Shape: []int{1280, 7, 7}},
		{Name: "classifier.1", Shape: []int{1000}},
	}
}

func TestGoldenModel(t *testing.T) {
	tm, pr := startApp(t, Options{})
	tm.Send(gotoPaneMsg(paneModel))
	tm.Send(tapsMsg{net: "mobilenetv2", taps: fixedTaps()})
	keys(tm, "down", "enter", "enter", "down", "down", "down", "down", "w")
	pr.waitMsg(t, 5*time.Second, "sweep key", func(m tea.Msg) bool { k, ok := m.(tea.KeyMsg); return ok && k.String() == "w" })
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenGrid(t *testing.T) {
	tm, _ := startApp(t, Options{})
	keys(tm, "3", "down", "enter", "ctrl+u")
	typeText(tm, "1, 100")
	keys(tm, "enter", "up", "enter", "ctrl+u")
	typeText(tm, "20")
	keys(tm, "enter")
	waitFor(t, tm, 5*time.Second, "2 job(s)")
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenGridTraining(t *testing.T) {
	tm, _ := startApp(t, Options{})
	tm.Send(gotoPaneMsg(paneModel))
	keys(tm, "down", "down", "down", "3", "enter", "ctrl+u")
	typeText(tm, "0.001, 0.0003")
	keys(tm, "enter", "g", "down", "down", "down", "down", "down", "down", "down", "enter", "ctrl+u")
	typeText(tm, "0, 1")
	keys(tm, "enter")
	waitFor(t, tm, 5*time.Second, "4 job(s)")
	requireGolden(t, finalFrame(t, tm))
}

// TestGoldenGridDropped: a CNN grid whose depths do not all fit the
// channels says which pairs it drops and how many jobs it starts.
func TestGoldenGridDropped(t *testing.T) {
	ds := syntheticDataset(20, 8, 2)
	tm, pr := startApp(t, Options{Datasets: []string{"synthetic"}, Open: func(string) (*data.Dataset, error) { return ds, nil }})
	keys(tm, "enter")
	pr.waitMsg(t, 10*time.Second, "the dataset", func(m tea.Msg) bool { d, ok := m.(datasetMsg); return ok && d.ds != nil })
	tm.Send(gotoPaneMsg(paneModel))
	keys(tm, "down", "down", "down", "3", "enter", "ctrl+u")
	typeText(tm, "0.001, 0.01")
	keys(tm, "enter", "down", "down", "down", "enter", "ctrl+u")
	typeText(tm, "2, 3, 4")
	keys(tm, "enter")
	waitFor(t, tm, 5*time.Second, "dropping 1 combination")
	requireGolden(t, finalFrame(t, tm))
}

func fixedJobs() []jobs.JobStatus {
	t0 := time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC)
	var steps []runs.LossPoint
	for i := 1; i <= 120; i++ {
		steps = append(steps, runs.LossPoint{Step: i, Epoch: (i-1)/30 + 1, TrainLoss: 1.2*math.Exp(-float64(i)/40) + 0.3 + 0.05*math.Sin(float64(i))})
	}
	var epochs []runs.LossPoint
	for e := 1; e <= 4; e++ {
		epochs = append(epochs, runs.LossPoint{Step: 30 * e, Epoch: e, TrainLoss: 1.2*math.Exp(-float64(30*e)/40) + 0.3,
			ValLoss: 1.1*math.Exp(-float64(30*e)/50) + 0.45, ValEV: 0.05 * float64(e)})
	}
	return []jobs.JobStatus{
		{ID: 1, Name: "ridge α=1 on pixels:32 + PCA 20", Kind: "fit", State: runs.Done, Submitted: t0,
			Elapsed: 2100 * time.Millisecond, Done: 1200, Total: 1200, Rate: 571.4, RunID: "run-a"},
		{ID: 2, Name: "cnn layers=3 lr=0.001 wd=0.001 batch=32 epochs=10 seed=0", Kind: "train", State: runs.Running,
			Submitted: t0, Elapsed: 95 * time.Second, ETA: 142 * time.Second, Done: 4, Total: 10, Rate: 0.042,
			Step: 120, Epoch: 4, StepLoss: steps, Epochs: epochs},
		{ID: 3, Name: "cnn layers=3 lr=0.0003 wd=0.001 batch=32 epochs=10 seed=0", Kind: "train", State: runs.Queued, Submitted: t0},
		{ID: 4, Name: "ridge α=100 on resnet50:layer3", Kind: "fit", State: runs.Failed, Submitted: t0,
			Elapsed: 300 * time.Millisecond, Err: "network \"resnet50\": needs --weights FILE (an ONNX export)"},
	}
}

func TestGoldenJobs(t *testing.T) {
	tm, _ := startApp(t, Options{})
	tm.Send(snapshotMsg(fixedJobs()))
	keys(tm, "4", "down", "down", "down")
	waitFor(t, tm, 5*time.Second, "needs --weights")
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenLive(t *testing.T) {
	tm, _ := startApp(t, Options{})
	tm.Send(snapshotMsg(fixedJobs()))
	keys(tm, "5")
	waitFor(t, tm, 5*time.Second, "120 steps", "val EV")
	requireGolden(t, finalFrame(t, tm))
}

// fixedRun is a run whose neurons' scores follow a fixed pattern.
func fixedRun(id, modelName, strategy string, alpha, shift float64, neurons int) *runs.Run {
	run := &runs.Run{Meta: runs.RunMeta{ID: id, Kind: "fit", Status: runs.Done, Model: modelName,
		Strategy: strategy, Dataset: runs.DatasetRef{Name: "demo", Hash: "h"}}}
	var evs, rs, mses []float64
	for j := range neurons {
		ev := shift + 0.25*math.Sin(float64(j)*0.7) + 0.1*math.Cos(float64(j)*1.3)
		r := math.Sqrt(math.Max(0, ev)) + 0.05
		mse := 1.5 - ev
		run.Neurons = append(run.Neurons, runs.NeuronScore{Neuron: j, EV: ev, R: r, MSE: mse, R2: ev - 0.01,
			Ceiling: math.NaN(), EVCorrected: math.NaN(), Alpha: math.NaN()})
		evs, rs, mses = append(evs, ev), append(rs, r), append(mses, mse)
	}
	s := runs.NaNSummary()
	s.Dataset, s.Features, s.Model, s.Alpha = "demo", strategy, modelName, alpha
	s.NNeurons, s.NTrain, s.NVal = neurons, 1080, 120
	s.EVMean, s.RMean, s.MSEMean = nanMean(evs), nanMean(rs), nanMean(mses)
	s.EVMedian, s.RMedian = s.EVMean, s.RMean
	run.Meta.Summary = s
	return run
}

func fixedRuns() []*runs.Run {
	return []*runs.Run{
		fixedRun("run-a", "ridge", "pixels:32", 1, 0.05, 89),
		fixedRun("run-b", "ridge", "pixels:32", 100, 0.15, 89),
		fixedRun("run-c", "ridgecv", "mobilenetv2:features.4", 10, 0.2, 89),
		fixedRun("run-d", "ridgecv", "mobilenetv2:features.7", 10, 0.3, 89),
		fixedRun("run-e", "ridgecv", "mobilenetv2:features.14", 100, 0.35, 89),
		cancelledTraining(),
	}
}

// cancelledTraining is a training run stopped by its user after saving its
// best epoch: it is listed, marked as cancelled.
func cancelledTraining() *runs.Run {
	r := fixedRun("run-f", "cnn", "layers=3,channels=32-64-128,size=64", 0, 0.1, 89)
	r.Meta.Kind, r.Meta.Status = "train", runs.Cancelled
	return r
}

func runsMessage(list []*runs.Run) runsMsg {
	var metas []runs.RunMeta
	for _, r := range list {
		metas = append(metas, r.Meta)
	}
	return runsMsg{runs: metas}
}

func fixedImageMeans() (pred, actual []float64) {
	for i := range 120 {
		a := 2 + 1.5*math.Sin(float64(i)*0.37)
		actual = append(actual, a)
		pred = append(pred, 2.1+0.6*(a-2)+0.2*math.Cos(float64(i)*1.1))
	}
	return pred, actual
}

func TestGoldenResults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		run   int
		keys  []string
		until string
	}{
		{"Histogram", 1, nil, "explained variance of 89"},
		{"Layers", 4, []string{"v"}, "mean EV per layer"},
		{"Predicted", 1, []string{"v", "v"}, "mean response per validation image"},
		{"Neurons", 1, []string{"s", "down", "down"}, "neuron"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, _ := startApp(t, Options{})
			fixed := fixedRuns()
			tm.Send(runsMessage(fixed))
			pred, actual := fixedImageMeans()
			keys(tm, "6")
			tm.Send(runLoadedMsg{run: fixed[tc.run], pred: pred, actual: actual})
			keys(tm, tc.keys...)
			waitFor(t, tm, 5*time.Second, tc.until)
			requireGolden(t, finalFrame(t, tm))
		})
	}
}

func TestGoldenCompare(t *testing.T) {
	tm, _ := startApp(t, Options{})
	fixed := fixedRuns()
	tm.Send(runsMessage(fixed))
	keys(tm, "7", "space", "down", "space")
	waitFor(t, tm, 5*time.Second, "2 marked")
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenCompareSideBySide(t *testing.T) {
	tm, _ := startApp(t, Options{})
	fixed := fixedRuns()
	tm.Send(runsMessage(fixed))
	keys(tm, "7")
	tm.Send(compareLoadedMsg{runs: []*runs.Run{fixed[4], fixed[0]}})
	waitFor(t, tm, 5*time.Second, "on the same EV axis")
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenHelp(t *testing.T) {
	tm, _ := startApp(t, Options{})
	keys(tm, "6", "?")
	waitFor(t, tm, 5*time.Second, "export CSV", "go to pane")
	requireGolden(t, finalFrame(t, tm))
}

func TestGoldenTooSmall(t *testing.T) {
	tm, _ := startApp(t, Options{})
	tm.Send(tea.WindowSizeMsg{Width: 70, Height: 20})
	waitFor(t, tm, 5*time.Second, "this one is 70x20")
	requireGolden(t, finalFrame(t, tm))
}

var _ = data.Open

// A run whose means leave out neurons with constant val responses says so
// under its scores in Results.
func TestResultsSayWhichNeuronsAreLeftOut(t *testing.T) {
	tm, _ := startApp(t, Options{})
	fixed := fixedRuns()
	fixed[1].Meta.Summary.NConstant = 4
	tm.Send(runsMessage(fixed))
	pred, actual := fixedImageMeans()
	keys(tm, "6")
	tm.Send(runLoadedMsg{run: fixed[1], pred: pred, actual: actual})
	waitFor(t, tm, 5*time.Second, "ev_mean over 85 of 89 neurons; 4 constant on val, left out")
}
