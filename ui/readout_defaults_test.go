package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data/npy"
	"itscope/model/readout"
	"itscope/model/runs"
)

// TestGridAlphasDefaultIsTheReadoutDefault checks that the Grid pane leaves
// ridge CV the read-out package's scale-free grid unless alphas are typed,
// says which grid that is, and asks ridge for its alphas.
func TestGridAlphasDefaultIsTheReadoutDefault(t *testing.T) {
	app := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	app.ctx.Dataset, app.ctx.DatasetSpec = syntheticDataset(20, 8, 2), "synthetic"
	app.ctx.Choice = ModelChoice{Source: srcPixels, Pixels: 16}
	g := app.panes[paneGrid].(*gridPane)
	var alphas gridField
	for _, f := range g.fit {
		if f.key == "alphas" {
			alphas = f
		}
	}
	if alphas.value != autoAlphas || !strings.Contains(alphas.hint, readout.DefaultGridHelp()) {
		t.Fatalf("alphas field %+v: want %q, hinting %q", alphas, autoAlphas, readout.DefaultGridHelp())
	}
	g.readout = 1 // ridgecv
	pl, err := g.expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.points) != 1 || pl.points[0].Fit.Model != "ridgecv" || pl.points[0].Fit.Alphas != nil {
		t.Fatalf("ridgecv with %q: points %+v, want one with no alphas (the default grid)", autoAlphas, pl.points[0].Fit)
	}
	g.readout = 0 // ridge
	if _, err := g.expand(); err == nil || !strings.Contains(err.Error(), "type the alphas") {
		t.Errorf("ridge with %q: error %v, want a request for alphas", autoAlphas, err)
	}
}

// TestResultsShowRunWarnings checks that an open run's warnings are shown
// with it.
func TestResultsShowRunWarnings(t *testing.T) {
	app := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	p := app.panes[paneResults].(*resultsPane)
	p.SetSize(testW, testH)
	p.run = fixedRun("run-w", "ridgecv", "pixels:32", 10, 0.1, 20)
	p.run.Meta.Warnings = []string{"ridge CV chose alpha 1e-09, an end of the grid", "PCA: kept 5 of 10 components"}
	view := p.View()
	for _, w := range p.run.Meta.Warnings {
		if !strings.Contains(view, "warning: "+w) {
			t.Errorf("the Results pane does not show %q:\n%s", w, view)
		}
	}
}

// TestComparePairedDifference marks two read-outs of the open dataset and
// opens them side by side: the pane shows each run's intervals and the
// paired difference readout.CompareRuns computes.
func TestComparePairedDifference(t *testing.T) {
	ds := syntheticDataset(60, 8, 3)
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	var saved []*runs.Run
	for _, alpha := range []float64{1e5, 1} {
		run, err := readout.Fit(context.Background(), readout.FitSpec{Data: ds.Name, Dataset: ds, Features: "pixels:8", Model: "ridge", Alpha: alpha}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Save(run); err != nil {
			t.Fatal(err)
		}
		saved = append(saved, run)
	}
	app := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH, Store: store})
	app.ctx.Dataset = ds
	p := app.panes[paneCompare].(*comparePane)
	p.SetSize(testW, testH)
	p.marked[saved[0].Meta.ID], p.marked[saved[1].Meta.ID] = true, true
	p.ctx.Runs = []runs.RunMeta{saved[0].Meta, saved[1].Meta}
	cmd := p.Key(tea.KeyMsg{Type: tea.KeyEnter})
	if cmd == nil {
		t.Fatal("enter on marked runs loads nothing")
	}
	msg, ok := cmd().(compareLoadedMsg)
	if !ok || msg.err != nil || msg.paired == nil {
		t.Fatalf("loaded %+v", msg)
	}
	a, _ := store.Load(msg.runs[0].Meta.ID)
	b, _ := store.Load(msg.runs[1].Meta.ID)
	want, err := readout.CompareRuns(ds, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if *msg.paired != *want {
		t.Errorf("paired %+v, want %+v", msg.paired, want)
	}
	p.Update(msg)
	view := p.View()
	s := msg.runs[0].Meta.Summary
	for _, w := range []string{fmt.Sprintf("paired bootstrap over the %d val images", want.Images), fmt.Sprintf("mean EV %+.4f", want.EV.Estimate),
		fmt.Sprintf("[%s, %s]", fmtNum(s.EVMeanLo), fmtNum(s.EVMeanHi))} {
		if !strings.Contains(view, w) {
			t.Errorf("the side-by-side view lacks %q:\n%s", w, view)
		}
	}
}
