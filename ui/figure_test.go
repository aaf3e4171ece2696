package ui

import (
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

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
