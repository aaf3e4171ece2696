package ui

import (
	"strings"
	"testing"
	"time"

	"itscope/data/npy"
	"itscope/model/runs"
)

// trainedRuns are two trainings of one CNN that differ only in lr, the
// second with a note, beside a read-out.
func trainedRuns() []*runs.Run {
	var out []*runs.Run
	for i, lr := range []string{"0.001", "0.0003"} {
		r := fixedRun("run-t"+string(rune('1'+i)), "cnn", "layers=3,channels=32-64-128,size=64", 0, 0.1+0.05*float64(i), 89)
		r.Meta.Kind = runs.KindTrain
		r.Meta.Spec = []byte(`{"cnn":"layers=3,channels=32-64-128,size=64","lr":` + lr +
			`,"wd":0.001,"batch":32,"epochs":10,"patience":5,"optimizer":"adam","seed":0}`)
		out = append(out, r)
	}
	out[1].Meta.Note = "slower, better"
	return append(out, fixedRun("run-a", "ridge", "mobilenetv2:features.14", 1, 0.05, 89))
}

// TestGoldenCompareHparams: at 80x24, two trainings that differ in lr show
// their lr (and the note) in a settings column; the strategy keeps its end.
func TestGoldenCompareHparams(t *testing.T) {
	tm, _ := startApp(t, Options{Width: 80, Height: 24})
	tm.Send(runsMessage(trainedRuns()))
	keys(tm, "7")
	waitFor(t, tm, 5*time.Second, "lr=0.0003")
	requireGolden(t, finalFrame(t, tm))
}

// TestCompareFilterRegexp: the filter is a regular expression over the
// settings and notes too; an expression that does not parse still filters
// as plain text.
func TestCompareFilterRegexp(t *testing.T) {
	for _, c := range []struct {
		filter string
		want   []string // strategies or settings shown
		not    string
	}{
		{`lr=0\.0003`, []string{"lr=0.0003"}, "lr=0.001 "},
		{`slower|features\.14`, []string{"lr=0.0003", "features.14"}, "lr=0.001 "},
		{`(cancel`, nil, "lr="},
	} {
		tm, pr := startApp(t, Options{Width: 80, Height: 24})
		tm.Send(runsMessage(trainedRuns()))
		keys(tm, "7", "/")
		typeText(tm, c.filter)
		keys(tm, "enter")
		waitFor(t, tm, 5*time.Second, "filter (regexp): ")
		frame := finalFrame(t, tm)
		_ = pr
		for _, w := range c.want {
			if !strings.Contains(frame, w) {
				t.Errorf("filter %q: no %q in\n%s", c.filter, w, frame)
			}
		}
		if strings.Contains(frame, c.not) {
			t.Errorf("filter %q: %q is shown\n%s", c.filter, c.not, frame)
		}
	}
}

// TestCompareNote: n in Compare edits the note of the run under the cursor;
// enter saves it in the store and the list shows it.
func TestCompareNote(t *testing.T) {
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	r := trainedRuns()[0]
	if _, err := store.Save(r); err != nil {
		t.Fatal(err)
	}
	tm, _ := startApp(t, Options{Store: store, Width: 80, Height: 24})
	tm.Send(runsMessage([]*runs.Run{r}))
	keys(tm, "7", "n")
	waitFor(t, tm, 5*time.Second, "note: ")
	typeText(tm, "lr too high")
	keys(tm, "enter")
	waitFor(t, tm, 5*time.Second, "“lr too high”")
	if m, err := store.LoadMeta(r.Meta.ID); err != nil || m.Note != "lr too high" {
		t.Errorf("the store's note %q (%v)", m.Note, err)
	}
}

// TestResultsListTellsRunsApart: Results' run list cuts labels from the
// left, keeping the layer and the settings that tell runs apart (lr here),
// and grows with the terminal.
func TestResultsListTellsRunsApart(t *testing.T) {
	for _, c := range []struct {
		w, h int
		want []string
	}{
		{80, 24, []string{"size=64 lr=0.001 ", "size=64 lr=0.0003 ", "…netv2:features.14 α=1 "}},
		{160, 30, []string{" cnn layers=3,channels=32-64-128,size=64 lr=0.001 ", "ridge mobilenetv2:features.14 α=1 "}},
	} {
		tm, _ := startApp(t, Options{Width: c.w, Height: c.h})
		tm.Send(runsMessage(trainedRuns()))
		keys(tm, "6")
		waitFor(t, tm, 5*time.Second, "run, newest first")
		frame := finalFrame(t, tm)
		for _, w := range c.want {
			if !strings.Contains(frame, w) {
				t.Errorf("%dx%d: no %q in\n%s", c.w, c.h, w, frame)
			}
		}
	}
}

// TestResultsShowNote: an open run's note is under its scores.
func TestResultsShowNote(t *testing.T) {
	tm, _ := startApp(t, Options{})
	rs := trainedRuns()
	tm.Send(runsMessage(rs))
	keys(tm, "6")
	tm.Send(runLoadedMsg{run: rs[1]})
	waitFor(t, tm, 5*time.Second, "note slower, better")
}
