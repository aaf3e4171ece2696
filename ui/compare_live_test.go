package ui

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// runningTraining is a training job at lr 0.003 that has run steps steps,
// 1.5 s each, 30 a epoch.
func runningTraining(steps int) jobs.JobStatus {
	j := jobs.JobStatus{ID: 7, Name: "cnn layers=3 lr=0.003", Kind: runs.KindTrain, State: runs.Running, Step: steps,
		Payload: []byte(`{"data":"synthetic","train":{"cnn":"layers=3,channels=32-64-128,size=64","lr":0.003,"wd":0.001,` +
			`"batch":32,"epochs":10,"patience":5,"optimizer":"adam","seed":0}}`)}
	for s := 1; s <= steps; s++ {
		j.StepLoss = append(j.StepLoss, runs.LossPoint{Step: s, Epoch: (s-1)/30 + 1, TrainLoss: 0.5 + math.Exp(-float64(s)/20),
			ValLoss: math.NaN(), ValEV: math.NaN(), Elapsed: 1.5 * float64(s)})
		if s%30 == 0 {
			j.Epochs = append(j.Epochs, runs.LossPoint{Step: s, Epoch: s / 30, TrainLoss: 0.6, ValLoss: 0.7, ValEV: 0.04 * float64(s/30),
				Elapsed: 1.5 * float64(s)})
		}
	}
	return j
}

// TestGoldenCompareLive: a running training is a row of Compare with its
// lr, marked beside a saved run its curve joins the overlay with its own
// glyph, and it grows as the job's events come in.
func TestGoldenCompareLive(t *testing.T) {
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	saved := curveRuns()[0]
	if saved.Meta.ID, err = store.Save(saved); err != nil {
		t.Fatal(err)
	}
	tm, _ := startApp(t, Options{Store: store})
	tm.Send(runsMessage([]*runs.Run{saved}))
	tm.Send(snapshotMsg([]jobs.JobStatus{runningTraining(40)}))
	keys(tm, "7")
	waitFor(t, tm, 5*time.Second, "(live)", "lr=0.003")
	keys(tm, "space", "space", "enter")
	waitFor(t, tm, 5*time.Second, "1 training still running: c shows its curve")
	keys(tm, "c")
	waitFor(t, tm, 5*time.Second, "curves of 2 runs", "••• lr=0.003 (live: 41 points)")
	tm.Send(snapshotMsg([]jobs.JobStatus{runningTraining(90)}))
	waitFor(t, tm, 5*time.Second, "••• lr=0.003 (live: 93 points)", " 90 ") // the steps axis now ends at the job's step 90
	requireGolden(t, finalFrame(t, tm))
}

// TestCompareLiveMarkFollowsRun: when a marked training finishes, the mark
// moves to the run it saved.
func TestCompareLiveMarkFollowsRun(t *testing.T) {
	tm, _ := startApp(t, Options{})
	j := runningTraining(30)
	tm.Send(snapshotMsg([]jobs.JobStatus{j}))
	keys(tm, "7", "space")
	waitFor(t, tm, 5*time.Second, "1 marked")
	done := trainedRuns()[0]
	j.State, j.RunID = runs.Done, done.Meta.ID
	tm.Send(snapshotMsg([]jobs.JobStatus{j}))
	tm.Send(runsMessage([]*runs.Run{done}))
	waitFor(t, tm, 5*time.Second, "demo") // the saved run's row
	frame := finalFrame(t, tm)
	marked := false
	for _, l := range strings.Split(frame, "\n") {
		marked = marked || (strings.Contains(l, fmt.Sprintf("◆ %-8s", "cnn")) && strings.Contains(l, "demo") && !strings.Contains(l, "(live)"))
	}
	if !marked || !strings.Contains(frame, "Compare — 1 runs, 1 marked") {
		t.Errorf("the saved run is not the one marked in\n%s", frame)
	}
}

var livePointsRe = regexp.MustCompile(`\(live: (\d+) points\)`)

// TestCompareLiveTraining starts a training from the TUI, marks it in
// Compare while it runs and watches its curve's point count grow in the
// overlay over three redraws, as the engine's step events come in.
func TestCompareLiveTraining(t *testing.T) {
	eng, store := newEngine(t, 1)
	tm, _ := startTraining(t, eng, store)
	keys(tm, "7")
	waitFor(t, tm, 10*time.Second, "(live)")
	keys(tm, "space", "enter")
	waitFor(t, tm, 10*time.Second, "curves of 1 runs")

	seen := growingCounts(tm, livePointsRe, 3, 60*time.Second)
	if len(seen) < 3 {
		t.Fatalf("Compare's overlay showed point counts %v; want at least three growing ones; jobs %+v", seen, eng.Snapshot())
	}
	quitMidJob(t, tm, eng)
}
