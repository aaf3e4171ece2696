package ui

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
)

var stepsRe = regexp.MustCompile(`training loss per step \((\d+) steps\)`)

// setCNNGrid picks "CNN from scratch" and sets a small, quick grid of one
// job that trains for many epochs (so it is still running when asked).
func setCNNGrid(tm *teatest.TestModel, epochs string) {
	keys(tm, "2", "down", "down", "down", "3")
	for _, f := range []struct {
		row   int
		value string
	}{
		{2, "32"}, // batch
		{3, "1"},  // depth
		{4, "4"},  // channels
		{5, epochs},
	} {
		keys(tm, "g")
		for range f.row {
			keys(tm, "down")
		}
		keys(tm, "enter", "ctrl+u")
		typeText(tm, f.value)
		keys(tm, "enter")
	}
}

// TestLiveLossAndQuitMidJob starts a training job from the TUI, checks that
// its loss points reach the Live pane while it runs, then quits mid-job and
// checks that the store is intact: the run finished before is unchanged,
// every listed run loads, the cancelled job is recorded as cancelled and no
// partial folder is left.
func TestLiveLossAndQuitMidJob(t *testing.T) {
	eng, store := newEngine(t, 2)

	// A finished run from before, to check that it survives untouched.
	before := fixedRun("", "ridge", "pixels:32", 1, 0.1, 50)
	beforeID, err := store.Save(before)
	if err != nil {
		t.Fatal(err)
	}
	beforeFiles := snapshotDir(t, store.Path(beforeID))

	tm, pr := startTraining(t, eng, store)
	keys(tm, "5")

	// Loss points stream in while the job runs: the step count on the Live
	// pane grows over at least three redraws before any epoch ends.
	if seen := growingCounts(tm, stepsRe, 3, 60*time.Second); len(seen) < 3 {
		t.Fatalf("the Live pane showed step counts %v; want at least three growing ones; jobs %+v", seen, eng.Snapshot())
	}
	// Let an epoch finish so the job has a best model to save when
	// cancelled; under the race detector, whose slowdown makes an epoch
	// take half a minute, quit after the steps alone.
	if !raceDetector {
		pr.waitMsg(t, 120*time.Second, "an epoch", func(m tea.Msg) bool {
			jm, ok := m.(jobMsg)
			return ok && jm.has(func(k jobs.EventKind) bool { return k == jobs.EventEpoch })
		})
		waitFor(t, tm, 10*time.Second, "val EV", "state    running")
	}
	snap := eng.Snapshot()
	if len(snap) != 1 || snap[0].State != runs.Running || len(snap[0].StepLoss) == 0 {
		t.Fatalf("engine jobs %+v: want one running job with step losses", snap)
	}

	quitMidJob(t, tm, eng)
	st, _ := eng.Status(snap[0].ID)
	if st.State != runs.Cancelled {
		t.Fatalf("the training job ended %s, want cancelled", st.State)
	}

	if got := snapshotDir(t, store.Path(beforeID)); !equalMaps(got, beforeFiles) {
		t.Errorf("the run finished before quitting changed")
	}
	metas, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	var cancelled int
	for _, r := range metas {
		if _, err := store.Load(r.ID); err != nil {
			t.Errorf("run %s does not load: %v", r.ID, err)
		}
		if r.Status == runs.Cancelled {
			cancelled++
			if r.Kind != "train" {
				t.Errorf("cancelled run %s is a %s run", r.ID, r.Kind)
			}
		}
	}
	if len(metas) != 2 || cancelled != 1 {
		t.Errorf("store lists %d runs with %d cancelled; want the earlier run and the cancelled training run", len(metas), cancelled)
	}
	ents, _ := os.ReadDir(store.Dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") && e.Name() != jobs.QueueDir {
			t.Errorf("a partial folder is left in the store: %s", e.Name())
		}
	}
}

// startTraining opens a synthetic dataset in the TUI and starts a training
// of 200 epochs from the grid (setCNNGrid).
func startTraining(t *testing.T, eng *jobs.Engine, store *runs.Store) (*teatest.TestModel, *probe) {
	t.Helper()
	ds := syntheticDataset(640, 16, 4)
	tm, pr := startApp(t, Options{Engine: eng, Store: store, Datasets: []string{"synthetic"},
		Open: func(string) (*data.Dataset, error) { return ds, nil }})
	keys(tm, "enter")
	pr.waitMsg(t, 30*time.Second, "the dataset", func(m tea.Msg) bool { d, ok := m.(datasetMsg); return ok && d.ds != nil })
	setCNNGrid(tm, "200")
	waitFor(t, tm, 5*time.Second, "1 job(s)", "epochs=200")
	keys(tm, "s")
	waitFor(t, tm, 5*time.Second, "started 1 job(s)")
	return tm, pr
}

// quitMidJob quits as a person would with a job running: q asks first, y
// confirms. Then it shuts the engine down as the command does.
func quitMidJob(t *testing.T, tm *teatest.TestModel, eng *jobs.Engine) {
	t.Helper()
	keys(tm, "q")
	waitFor(t, tm, 5*time.Second, "1 job(s) of yours are running; quitting cancels them. Quit? y/n")
	keys(tm, "y")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := eng.Shutdown(ctx); err != nil {
		t.Fatalf("jobs did not stop after quitting: %v", err)
	}
}

// growingCounts reads the program's output until re's number (its first
// group) has been drawn growing n times, or timeout: the counts seen.
func growingCounts(tm *teatest.TestModel, re *regexp.Regexp, n int, timeout time.Duration) []int {
	var seen []int
	var out bytes.Buffer
	deadline := time.Now().Add(timeout)
	for len(seen) < n && time.Now().Before(deadline) {
		b := make([]byte, 1<<16)
		k, _ := tm.Output().Read(b)
		out.Write(b[:k])
		for _, m := range re.FindAllSubmatch(out.Bytes(), -1) {
			v, _ := strconv.Atoi(string(m[1]))
			if v > 0 && (len(seen) == 0 || v > seen[len(seen)-1]) {
				seen = append(seen, v)
			}
		}
		out.Reset()
		time.Sleep(20 * time.Millisecond)
	}
	return seen
}

// syntheticDataset is n small random images whose neurons respond to
// their mean colour, split 90/10: quick to train on, also under the race
// detector.
func syntheticDataset(n, size, neurons int) *data.Dataset {
	rng := rand.New(rand.NewPCG(1, 1))
	imgs := make(memImages, n)
	ds := &data.Dataset{Name: "synthetic", Hash: "synthetic", Images: imgs, NumNeurons: neurons,
		Responses: make([]float32, n*neurons)}
	var train, val []int
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, size, size))
		var sum [3]float64
		for p := 0; p < len(img.Pix); p += 4 {
			for c := range 3 {
				v := rng.IntN(256)
				img.Pix[p+c] = uint8(v)
				sum[c] += float64(v)
			}
			img.Pix[p+3] = 255
		}
		imgs[i] = img
		for j := range neurons {
			ds.Responses[i*neurons+j] = float32(sum[j%3]/float64(size*size)/64 + rng.NormFloat64()*0.1)
		}
		if i%10 == 9 {
			val = append(val, i)
		} else {
			train = append(train, i)
		}
	}
	ds.Splits = []data.Split{{Name: data.Train, Indices: train, HasResponses: true}, {Name: data.Val, Indices: val, HasResponses: true}}
	return ds
}

type memImages []*image.RGBA

func (m memImages) Len() int                                        { return len(m) }
func (m memImages) Name(i int) string                               { return fmt.Sprintf("img%03d", i) }
func (m memImages) RGB(i int) (image.Image, error)                  { return m[i], nil }
func (m memImages) Normalized(int) ([]float32, int, int, int, bool) { return nil, 0, 0, 0, false }

func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(b)
	}
	return out
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
