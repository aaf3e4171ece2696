package ui

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"

	tea "github.com/charmbracelet/bubbletea"
)

func TestFmtNum(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{31622.776601683796, "3.16e+04"},
		{0.1, "0.1"},
		{0.123456, "0.123"},
		{-0.05, "-0.05"},
		{1000, "1000"},
		{9999.4, "9999.4"},
		{1e4, "1e+04"},
		{0.0003, "3e-04"},
		{0.001, "0.001"},
		{0, "0"},
		{-0.0001, "-1e-04"},
		{math.NaN(), "—"},
		{math.Inf(-1), "-∞"},
	} {
		if got := fmtNum(tc.v); got != tc.want {
			t.Errorf("fmtNum(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestQuitAsksWithJobsRunning checks that q quits at once with nothing
// running, and asks first while this session's jobs run, saying what
// happens to them locally and on a server.
func TestQuitAsksWithJobsRunning(t *testing.T) {
	for _, tc := range []struct {
		name string
		keep bool
		want string
	}{
		{"local", false, "2 job(s) of yours are running; quitting cancels them. Quit? y/n"},
		{"server", true, "2 job(s) of yours are running; they keep running on the server after you leave. Quit? y/n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH, KeepJobsOnQuit: tc.keep})
			a.ctx.Started = []jobs.JobID{1, 2, 3}
			drive(a, snapshotMsg{{ID: 1, Kind: "fit", State: runs.Done}, {ID: 2, Kind: "train", State: runs.Running}})
			// Job 3 is submitted but not reported yet: it counts as running.
			drive(a, runes("q"))
			if a.quit || !strings.Contains(a.frame(), tc.want) {
				t.Fatalf("q with jobs running: quit %v, frame:\n%s", a.quit, a.frame())
			}
			drive(a, runes("n"))
			if a.quit || !strings.Contains(a.frame(), "not quitting") {
				t.Fatalf("n did not keep the explorer open")
			}
			drive(a, runes("q"))
			drive(a, runes("y"))
			if !a.quit {
				t.Fatal("q, y did not quit")
			}
		})
	}
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	a.ctx.Started = []jobs.JobID{1}
	drive(a, snapshotMsg{{ID: 1, Kind: "fit", State: runs.Cancelled}})
	drive(a, runes("q"))
	if !a.quit {
		t.Fatal("q with no job running did not quit at once")
	}
}

func trainStatus(id int, state runs.State) jobs.JobStatus {
	return jobs.JobStatus{ID: jobs.JobID(id), Name: "cnn " + string(rune('a'+id)), Kind: "train", State: state}
}

// TestLiveFollowsNewestUnlessPinned: ← looks at an older job until a new
// one starts; p keeps the job shown; x on a finished job says so.
func TestLiveFollowsNewestUnlessPinned(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	live := a.panes[paneLive].(*livePane)
	shown := func() jobs.JobID { j, _ := live.current(); return j.ID }
	drive(a, snapshotMsg{trainStatus(1, runs.Done), trainStatus(2, runs.Running)})
	drive(a, gotoPaneMsg(paneLive))
	if shown() != 2 {
		t.Fatalf("Live shows job %d, want the running job 2", shown())
	}
	drive(a, tea.KeyMsg{Type: tea.KeyLeft})
	if shown() != 1 {
		t.Fatalf("← shows job %d, want 1", shown())
	}
	drive(a, runes("x"))
	if f := a.frame(); !strings.Contains(f, "nothing to cancel: job 1 has already done") {
		t.Errorf("x on a finished job says nothing:\n%s", f)
	}
	drive(a, snapshotMsg{trainStatus(3, runs.Running)})
	if shown() != 3 {
		t.Fatalf("a new job started: Live shows job %d, want to follow the new job 3", shown())
	}
	drive(a, tea.KeyMsg{Type: tea.KeyLeft})
	drive(a, runes("p"))
	drive(a, snapshotMsg{trainStatus(4, runs.Running)})
	if shown() != 2 || !strings.Contains(a.frame(), "(pinned; p unpins)") {
		t.Fatalf("pinned on job 2, a new job came: Live shows %d\n%s", shown(), a.frame())
	}
	drive(a, runes("p"))
	drive(a, snapshotMsg{trainStatus(5, runs.Queued)})
	if shown() != 4 {
		t.Fatalf("unpinned, a new job came: Live shows %d, want the newest running job 4", shown())
	}
}

// TestGridPairsDepthsAndChannels: depths "2, 3" with channels "32-64-128"
// train both depths (depth 2 on the first two widths), so with two rates it
// makes 4 jobs; a depth with too few widths is dropped and said so.
func TestGridPairsDepthsAndChannels(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	a.ctx.Choice = ModelChoice{Source: srcCNN}
	g := a.panes[paneGrid].(*gridPane)
	set := func(k, v string) {
		for _, f := range g.fields() {
			if f.key == k {
				f.value = v
				return
			}
		}
		t.Fatalf("the CNN grid has no field %q", k)
	}
	set("lr", "0.001, 0.01")
	set("layers", "2, 3")
	set("channels", "32-64-128")
	pl, err := g.expand()
	if err != nil {
		t.Fatal(err)
	}
	var archs []string
	for _, pt := range pl.points {
		archs = append(archs, pt.Train.CNN.String())
	}
	if pl.jobs() != 4 || pl.dropped != 0 {
		t.Fatalf("%d jobs, %d dropped, want 4 and 0: %v", pl.jobs(), pl.dropped, archs)
	}
	for i, want := range [][]int{{32, 64}, {32, 64}, {32, 64, 128}, {32, 64, 128}} {
		if got := pl.points[i].Train.CNN.Channels; !slices.Equal(got, want) {
			t.Errorf("job %d: channels %v, want %v", i, got, want)
		}
	}
	set("layers", "2, 4")
	pl, err = g.expand()
	if err != nil {
		t.Fatal(err)
	}
	if pl.jobs() != 2 || pl.dropped != 1 {
		t.Fatalf("depths 2 and 4 with 3 widths: %d jobs, %d dropped; want 2 and 1", pl.jobs(), pl.dropped)
	}
	a.ctx.Dataset = syntheticDataset(20, 8, 2)
	drive(a, gotoPaneMsg(paneGrid))
	f := a.frame()
	for _, want := range []string{"! depth 4 × channels 32-64-128 dropped: 3 widths for 4 blocks",
		"depth 2 uses channels 32-64 (the first 2 of 32-64-128)", "next → s: start 2 job(s), dropping 1 combination(s)"} {
		if !strings.Contains(f, want) {
			t.Errorf("the grid does not say %q:\n%s", want, f)
		}
	}
}

// TestGridCNNFields: patience, optimiser, kernel, dropout and read-out
// reach every job's training config.
func TestGridCNNFields(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	a.ctx.Choice = ModelChoice{Source: srcCNN}
	g := a.panes[paneGrid].(*gridPane)
	for _, f := range g.fields() {
		switch f.key {
		case "patience":
			f.value = "0"
		case "optimizer":
			f.value = "sgd, adamw"
		case "kernel":
			f.value = "3, 5"
		case "dropout":
			f.value = "0.25"
		case "readout":
			f.value = "gap"
		}
	}
	pl, err := g.expand()
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.points) != 4 {
		t.Fatalf("%d jobs, want 2 kernels x 2 optimisers", len(pl.points))
	}
	var got []string
	for _, pt := range pl.points {
		c := pt.Train
		if c.Patience != 0 || c.CNN.Dropout[0] != 0.25 || c.CNN.Readout != "gap" {
			t.Errorf("%s: patience %d dropout %v readout %s; want 0, 0.25, gap", pt.Label, c.Patience, c.CNN.Dropout, c.CNN.Readout)
		}
		got = append(got, c.Optimizer+" k"+itoa(c.CNN.Kernel[0]))
	}
	if want := []string{"sgd k3", "adamw k3", "sgd k5", "adamw k5"}; !slices.Equal(got, want) {
		t.Errorf("jobs %v, want %v", got, want)
	}
	g.fields()[9].value = "rmsprop" // optimisers
	if _, err := g.expand(); err == nil || !strings.Contains(err.Error(), `want adam, adamw or sgd, found "rmsprop"`) {
		t.Errorf("an unknown optimiser gave %v", err)
	}
}

// TestGridSettingsPersist: an edit is saved to $XDG_CONFIG_HOME/itscope/
// grid.json and the next session starts from it; a broken file is named.
func TestGridSettingsPersist(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", dir)
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	drive(a, gotoPaneMsg(paneGrid))
	for _, k := range []tea.KeyMsg{runes("j"), {Type: tea.KeyEnter}, {Type: tea.KeyCtrlU}, runes("3,30"), {Type: tea.KeyEnter}, runes("m")} {
		drive(a, k)
	}
	path := filepath.Join(dir, "itscope", "grid.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s gridSettings
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Fit["alphas"] != "3,30" || s.Readout != "ridgecv" || s.Train["optimizer"] != "adam" {
		t.Fatalf("saved %s", b)
	}
	again := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH}).panes[paneGrid].(*gridPane)
	if again.field("alphas") != "3,30" || readouts[again.readout] != "ridgecv" {
		t.Errorf("a new session starts with alphas %q, read-out %s", again.field("alphas"), readouts[again.readout])
	}
	// Another SSH user of the same server keeps a grid of their own.
	bob := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH, User: "bob"}).panes[paneGrid].(*gridPane)
	if bob.field("alphas") != autoAlphas {
		t.Errorf("user bob starts with alphas %q, want the defaults", bob.field("alphas"))
	}
	if err := os.WriteFile(path, []byte("{broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH}).panes[paneGrid].(*gridPane)
	if broken.loadErr == nil || !strings.Contains(broken.loadErr.Error(), path) {
		t.Errorf("a broken settings file gave %v, want an error naming %s", broken.loadErr, path)
	}
}

// TestGridCountsSweepJobs: a sweep states the jobs it starts, one per
// setting and layer, as buildJobs makes them.
func TestGridCountsSweepJobs(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	a.ctx.Dataset, a.ctx.DatasetSpec = syntheticDataset(20, 8, 2), "synthetic"
	a.ctx.Choice = ModelChoice{Source: srcRandom, Network: "mobilenetv2", Tap: "a", Sweep: true}
	a.ctx.Taps["mobilenetv2-random"] = []nets.Tap{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	g := a.panes[paneGrid].(*gridPane)
	g.fit[1].value = "1, 10" // alphas
	pl, err := g.expand()
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := buildJobs(a.ctx, pl)
	if err != nil {
		t.Fatal(err)
	}
	drive(a, gotoPaneMsg(paneGrid))
	f := a.frame()
	if len(jobs) != 6 || !strings.Contains(f, "6 job(s) (2 setting(s) × every layer of mobilenetv2-random)") || !strings.Contains(f, "next → s: start 6 job(s)") {
		t.Errorf("buildJobs makes %d jobs; the grid says:\n%s", len(jobs), f)
	}
}
