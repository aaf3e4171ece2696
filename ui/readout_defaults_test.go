package ui

import (
	"strings"
	"testing"

	"itscope/model/readout"
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
