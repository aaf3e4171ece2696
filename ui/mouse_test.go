package ui

import (
	"strings"
	"testing"
	"time"

	"itscope/model/readout"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
)

// cellOf finds text on the frame and returns the cell of its first
// character.
func cellOf(t *testing.T, frame, text string) (x, y int) {
	t.Helper()
	for y, line := range strings.Split(frame, "\n") {
		if i := strings.Index(line, text); i >= 0 {
			return ansi.StringWidth(line[:i]), y
		}
	}
	t.Fatalf("%q is not on the frame:\n%s", text, frame)
	return 0, 0
}

// click draws the frame (the zones come from it), then clicks on text.
func click(t *testing.T, a *App, text string) {
	t.Helper()
	x, y := cellOf(t, a.frame(), text)
	drive(a, tea.MouseMsg{X: x + 1, Y: y, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
}

// wheel turns the wheel n notches (negative: up) over text.
func wheel(t *testing.T, a *App, text string, n int) {
	t.Helper()
	btn := tea.MouseButtonWheelDown
	if n < 0 {
		btn, n = tea.MouseButtonWheelUp, -n
	}
	for range n {
		x, y := cellOf(t, a.frame(), text)
		drive(a, tea.MouseMsg{X: x, Y: y, Action: tea.MouseActionPress, Button: btn})
	}
}

func TestMouseTabsRowsFields(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	drive(a, manyJobs(15))
	drive(a, runsMessage(fixedRuns()))

	// Tabs.
	for _, tc := range []struct {
		tab  string
		pane int
	}{{"4 Jobs", paneJobs}, {"2 Model", paneModel}, {"7 Compare", paneCompare}, {"1 Data", paneData}} {
		click(t, a, tc.tab)
		if a.active != tc.pane {
			t.Fatalf("a click on %q shows pane %d, want %d", tc.tab, a.active+1, tc.pane+1)
		}
	}

	// A row of the Jobs list, then the wheel over the list.
	click(t, a, "4 Jobs")
	jobs := a.panes[paneJobs].(*jobsPane)
	click(t, a, "   5  fit 5")
	if jobs.row.pos != 4 {
		t.Fatalf("a click on job 5 selects row %d, want 4", jobs.row.pos)
	}
	wheel(t, a, "fit 2 ", 3)
	if jobs.row.pos != 7 {
		t.Fatalf("three wheel notches down moved to row %d, want 7", jobs.row.pos)
	}
	wheel(t, a, "fit 2 ", -1)
	if jobs.row.pos != 6 {
		t.Fatalf("a notch up moved to row %d, want 6", jobs.row.pos)
	}

	// Model: a network, then a source.
	click(t, a, "2 Model")
	m := a.panes[paneModel].(*modelPane)
	click(t, a, "network, random weights")
	if m.col != 0 || sources[m.src.pos].id != srcRandom {
		t.Fatalf("a click on the random source: column %d, source %s", m.col, sources[m.src.pos].id)
	}
	click(t, a, "resnet18-random")
	if m.col != 1 || m.netName() != "resnet18-random" {
		t.Fatalf("a click on resnet18-random: column %d, network %s", m.col, m.netName())
	}

	// Grid: a click selects a field, a second click edits it.
	click(t, a, "3 Grid")
	g := a.panes[paneGrid].(*gridPane)
	click(t, a, "CV folds")
	if g.row.pos != 2 || g.edit.active {
		t.Fatalf("a click on CV folds: row %d, editing %v", g.row.pos, g.edit.active)
	}
	click(t, a, "CV folds")
	if !g.edit.active {
		t.Fatal("a second click on the field does not edit it")
	}
	// While the field takes text, the mouse does nothing.
	click(t, a, "1 Data")
	if a.active != paneGrid {
		t.Fatal("a click switched panes while a field was being edited")
	}
	drive(a, tea.KeyMsg{Type: tea.KeyEsc})

	// Results: a run, then a view by its name, then the neuron table.
	click(t, a, "6 Results")
	r := a.panes[paneResults].(*resultsPane)
	drive(a, runLoadedMsg{run: fixedRuns()[1]})
	click(t, a, "neurons")
	if r.view != viewNeurons {
		t.Fatalf("a click on neurons shows view %d", r.view)
	}
	x, y := cellOf(t, a.frame(), "EV▼")
	for range 2 {
		drive(a, tea.MouseMsg{X: x, Y: y + 3, Action: tea.MouseActionPress, Button: tea.MouseButtonWheelDown})
	}
	if r.rows.pos != 2 {
		t.Errorf("two notches over the neuron table: row %d, want 2", r.rows.pos)
	}
	// Compare: a row.
	click(t, a, "7 Compare")
	c := a.panes[paneCompare].(*comparePane)
	click(t, a, "pixels:32 α=100")
	if rows := c.rows(); rows[c.row.pos].ID != "run-b" {
		t.Errorf("a click on the pixels α=100 run selects %s", rows[c.row.pos].ID)
	}
}

// TestMouseWheelImages: the wheel over the stimulus turns the images, over
// the neuron histogram the neurons.
func TestMouseWheelImages(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	ds := syntheticDataset(40, 6, 2)
	info, err := readout.DescribeDataset(ds)
	if err != nil {
		t.Fatal(err)
	}
	drive(a, datasetMsg{spec: "synthetic", ds: ds, info: info})
	d := a.panes[paneData].(*dataPane)
	wheel(t, a, "decoding", 2)
	if d.image != 2 {
		t.Fatalf("two notches over the stimulus show image %d, want 2", d.image)
	}
	wheel(t, a, "over ", -1)
	if d.neuron != 1 {
		t.Fatalf("a notch up over the histogram shows neuron %d, want 1 (wrapped, of 2)", d.neuron)
	}
}

// TestMouseTeatest clicks a tab through a running program.
func TestMouseTeatest(t *testing.T) {
	tm, _ := startApp(t, Options{})
	waitFor(t, tm, 5*time.Second, "Datasets")
	tm.Send(tea.MouseMsg{X: 46, Y: 0, Action: tea.MouseActionPress, Button: tea.MouseButtonLeft})
	waitFor(t, tm, 5*time.Second, "[5 Live]", "No training job yet")
}
