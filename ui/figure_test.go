package ui

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data/npy"
	"itscope/model/runs"
)

// wroteFigure waits for the status line's "wrote PATH" of a figure and
// checks that PATH is absolute, under dir and a 1200 x 900 PNG.
func wroteFigure(t *testing.T, pr *probe, dir, name string) {
	t.Helper()
	want := filepath.Join(dir, name)
	msg := pr.waitMsg(t, 20*time.Second, "the figure's status", func(m tea.Msg) bool {
		s, ok := m.(statusMsg)
		return ok && (s.isErr || regexp.MustCompile(`^wrote /`).MatchString(s.text))
	}).(statusMsg)
	if msg.isErr || msg.text != "wrote "+want {
		t.Fatalf("status %q (error %v), want %q", msg.text, msg.isErr, "wrote "+want)
	}
	f, err := os.Open(want)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() != 1200 || img.Bounds().Dy() != 900 {
		t.Errorf("%s: %v, want a 1200 x 900 PNG", want, err)
	}
}

// TestResultsSaveFigure: f in Results saves the view on screen (Figure 1b,
// 1a, 1c) as a PNG in the export folder and says its full path.
func TestResultsSaveFigure(t *testing.T) {
	for _, tc := range []struct {
		view string
		run  int
		keys []string
		file string
	}{
		{"histogram", 1, nil, "run-b-histogram.png"},
		{"layers", 4, []string{"v"}, "run-e-layers.png"},
		{"predicted", 1, []string{"v", "v"}, "run-b-predicted.png"},
	} {
		t.Run(tc.view, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "exports") // made on the first save
			tm, pr := startApp(t, Options{ExportDir: dir})
			fixed := fixedRuns()
			tm.Send(runsMessage(fixed))
			pred, actual := fixedImageMeans()
			keys(tm, "6")
			tm.Send(runLoadedMsg{run: fixed[tc.run], pred: pred, actual: actual})
			keys(tm, append(tc.keys, "f")...)
			wroteFigure(t, pr, dir, tc.file)
		})
	}
}

// TestCompareSaveFigure: f in Compare loads the marked runs from the store
// and saves their mean EVs side by side.
func TestCompareSaveFigure(t *testing.T) {
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	var saved []*runs.Run
	for _, r := range fixedRuns()[:2] {
		if _, err := store.Save(r); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, r)
	}
	dir := t.TempDir()
	tm, pr := startApp(t, Options{Store: store, ExportDir: dir})
	tm.Send(runsMessage(saved))
	keys(tm, "7")
	waitFor(t, tm, 5*time.Second, "2 runs, 0 marked")
	keys(tm, "space", "space", "f")
	// Compare lists the best mean EV first: run-b, then run-a.
	wroteFigure(t, pr, dir, saved[1].Meta.ID+"+1-compare.png")
}

// trainingWithCurves is a training run whose loss.csv starts with a spike.
func trainingWithCurves() *runs.Run {
	r := cancelledTraining()
	for s := 1; s <= 120; s++ {
		p := runs.LossPoint{Step: s, Epoch: (s-1)/30 + 1, TrainLoss: 0.3 + 1.2*math.Exp(-float64(s)/40), ValLoss: math.NaN(), ValEV: math.NaN()}
		if s == 1 {
			p.TrainLoss = 40 // the first step's spike
		}
		if s%30 == 0 {
			p.ValEV = 0.05 * float64(s/30)
		}
		r.Loss = append(r.Loss, p)
	}
	return r
}

// TestGoldenResultsCurves: a saved training's curves in Results; the first
// step's spike is drawn at the edge, not setting the scale.
func TestGoldenResultsCurves(t *testing.T) {
	tm, _ := startApp(t, Options{})
	tm.Send(runsMessage(fixedRuns()))
	keys(tm, "6")
	tm.Send(runLoadedMsg{run: trainingWithCurves()})
	keys(tm, "v", "v", "v", "v")
	waitFor(t, tm, 5*time.Second, "val EV per epoch (4 epochs)")
	frame := finalFrame(t, tm)
	if !strings.Contains(frame, "training loss, 120 steps; 7 clipped to the 2-98% range") {
		t.Errorf("the spike is not set aside:\n%s", frame)
	}
	requireGolden(t, frame)
}

// TestResultsSaveCurves: f on the curves view saves the curves figure.
func TestResultsSaveCurves(t *testing.T) {
	dir := t.TempDir()
	tm, pr := startApp(t, Options{ExportDir: dir})
	tm.Send(runsMessage(fixedRuns()))
	keys(tm, "6")
	tm.Send(runLoadedMsg{run: trainingWithCurves()})
	keys(tm, "v", "v", "v", "v", "f")
	wroteFigure(t, pr, dir, "run-f-curves.png")
}
