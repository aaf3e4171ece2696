package ui

import (
	"image"
	"image/color"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"itscope/model/nets"
)

// twoTone is 4x4 pixels: the top half red, the bottom half blue.
func twoTone() image.Image {
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	for y := range 4 {
		for x := range 4 {
			c := color.RGBA{255, 0, 0, 255}
			if y >= 2 {
				c = color.RGBA{0, 0, 255, 255}
			}
			img.Set(x, y, c)
		}
	}
	return img
}

func TestDrawImageProfiles(t *testing.T) {
	img := twoTone()
	// Two cells over two rows: each cell holds two pixels, the top as the
	// foreground of ▀ and the bottom as its background.
	for _, tc := range []struct {
		name    string
		profile termenv.Profile
		want    []string // in every cell of the first row
		wantRow []string // in every cell of the second row
	}{
		{"truecolor", termenv.TrueColor, []string{"38;2;255;0;0", "48;2;255;0;0", "▀"}, []string{"38;2;0;0;255", "48;2;0;0;255", "▀"}},
		{"256", termenv.ANSI256, []string{"38;5;196", "48;5;196", "▀"}, []string{"38;5;21", "48;5;21", "▀"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows := strings.Split(drawImage(img, 2, 2, tc.profile), "\n")
			if len(rows) != 2 {
				t.Fatalf("%d rows, want 2", len(rows))
			}
			for i, want := range [][]string{tc.want, tc.wantRow} {
				for _, w := range want {
					if strings.Count(rows[i], w) != 2 {
						t.Errorf("row %d %q: want %q in both cells", i, rows[i], w)
					}
				}
				if got := ansi.StringWidth(rows[i]); got != 2 {
					t.Errorf("row %d is %d cells wide, want 2", i, got)
				}
			}
		})
	}
	// Without colour: luminance as characters, no escapes. Red (Rec. 601
	// luma 76) and blue (29) map to the ramp's third and second steps.
	got := drawImage(img, 2, 2, termenv.Ascii)
	if got != "::\n.." {
		t.Errorf("grey ramp drew %q, want %q", got, "::\n..")
	}
}

func TestHistogramCounts(t *testing.T) {
	vals := []float64{-1, 0, 0.05, 0.1, 0.49, 0.5, 0.99, 1, 2, nan()}
	got := histogram(vals, 4, 0, 1)
	// [0,.25): -1 (clamped), 0, .05, .1; [.25,.5): .49; [.5,.75): .5; [.75,1]: .99, 1, 2 (clamped).
	want := []int{4, 1, 1, 3}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("histogram %v, want %v", got, want)
		}
	}
}

func nan() float64 { var z float64; return z / z }

// TestNoColorFrames checks every pane's frame with NO_COLOR (the Ascii
// profile) has no escape sequence at all and that the selection still shows.
func TestNoColorFrames(t *testing.T) {
	app := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	app.Update(runsMessage(fixedRuns()))
	app.Update(snapshotMsg(fixedJobs()))
	for i := range app.panes {
		app.Update(gotoPaneMsg(i))
		f := app.frame()
		if strings.Contains(f, "\x1b") {
			t.Errorf("pane %d draws escapes without colour", i+1)
		}
		if !strings.Contains(f, "[") {
			t.Errorf("pane %d: no [active tab] marker", i+1)
		}
	}
	app.Update(gotoPaneMsg(paneCompare))
	if f := app.frame(); !strings.Contains(f, "║>") {
		t.Errorf("compare: the selected row has no > marker:\n%s", f)
	}
}

// TestResizeRelayout checks every pane fills exactly the terminal at several
// sizes, and that the too-small message replaces it below 80x24.
func TestResizeRelayout(t *testing.T) {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	app := New(Options{Renderer: r, Width: testW, Height: testH})
	app.Update(runsMessage(fixedRuns()))
	app.Update(snapshotMsg(fixedJobs()))
	pred, actual := fixedImageMeans()
	app.Update(runLoadedMsg{run: fixedRuns()[0], pred: pred, actual: actual})
	for _, size := range [][2]int{{80, 24}, {100, 30}, {160, 50}, {79, 30}, {100, 23}} {
		app.Update(windowSize(size[0], size[1]))
		for i := range app.panes {
			app.Update(gotoPaneMsg(i))
			f := app.frame()
			ls := strings.Split(f, "\n")
			small := size[0] < MinWidth || size[1] < MinHeight
			if small != strings.Contains(f, "itscope needs a terminal of at least 80x24") {
				t.Errorf("%dx%d pane %d: too-small message shown = %v, want %v", size[0], size[1], i+1, !small, small)
			}
			if len(ls) != size[1] {
				t.Errorf("%dx%d pane %d: %d lines", size[0], size[1], i+1, len(ls))
			}
			for n, l := range ls {
				if w := ansi.StringWidth(l); w != size[0] {
					t.Errorf("%dx%d pane %d line %d is %d cells wide", size[0], size[1], i+1, n, w)
					break
				}
			}
		}
	}
}

// TestCloseEndsSubscription checks that Close, which a server calls when a
// session drops, ends the app's wait for engine events.
func TestCloseEndsSubscription(t *testing.T) {
	eng, store := newEngine(t, 1)
	_, pr := startApp(t, Options{Engine: eng, Store: store})
	pr.waitMsg(t, 5*time.Second, "the run list", func(m tea.Msg) bool { _, ok := m.(runsMsg); return ok })
	pr.App.Close()
	pr.waitMsg(t, 5*time.Second, "the end of the subscription", func(m tea.Msg) bool { _, ok := m.(jobsClosedMsg); return ok })
}

// TestCompareSortFilter checks the Table 1 rows: filtering by text and
// sorting by each numeric column either way, NaN last.
func TestCompareSortFilter(t *testing.T) {
	app := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	app.Update(runsMessage(fixedRuns()))
	p := app.panes[paneCompare].(*comparePane)
	ids := func() []string {
		var out []string
		for _, r := range p.rows() {
			out = append(out, r.ID)
		}
		return out
	}
	if got := strings.Join(ids(), " "); got != "run-e run-d run-c run-b run-f run-a" {
		t.Errorf("by EV descending: %s", got)
	}
	p.desc = false
	p.sortCol = 4 // MSE ascending
	if got := strings.Join(ids(), " "); got != "run-e run-d run-c run-b run-f run-a" {
		t.Errorf("by MSE ascending: %s", got)
	}
	p.filter.value = "PIXELS"
	if got := strings.Join(ids(), " "); got != "run-b run-a" {
		t.Errorf("filtered on pixels: %s", got)
	}
	p.filter.value = "cnn"
	if got := strings.Join(ids(), " "); got != "run-f" {
		t.Errorf("filtered on cnn: %s", got)
	}
}

// TestGridPlans checks the job counts the Grid pane shows and the jobs it
// builds for each kind of model.
func TestGridPlans(t *testing.T) {
	app := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	app.ctx.Dataset, app.ctx.DatasetSpec = syntheticDataset(20, 8, 2), "synthetic"
	g := app.panes[paneGrid].(*gridPane)
	set := func(fields []gridField, name, value string) {
		for i := range fields {
			if fields[i].key == name {
				fields[i].value = value
			}
		}
	}
	for _, tc := range []struct {
		name    string
		choice  ModelChoice
		readout int
		edit    map[string]string
		taps    []nets.Tap
		kinds   []string
		names   []string
	}{
		{"ridge", ModelChoice{Source: srcPixels, Pixels: 16}, 0, map[string]string{"alphas": "1, 100", "pca": "0, 20"}, nil,
			[]string{"fit", "fit", "fit", "fit"}, []string{"ridge α=1 on pixels:16", "ridge α=100 on pixels:16", "ridge α=1 on pixels:16 + PCA 20", "ridge α=100 on pixels:16 + PCA 20"}},
		{"ridgecv", ModelChoice{Source: srcPixels, Pixels: 16}, 1, map[string]string{"alphas": "1, 100", "pca": "20"}, nil,
			[]string{"fit"}, []string{"ridgecv on pixels:16 + PCA 20"}},
		{"sweep", ModelChoice{Source: srcRandom, Network: "mobilenetv2", Tap: "a", Sweep: true}, 0, map[string]string{"alphas": "10", "pca": "20"},
			[]nets.Tap{{Name: "a"}, {Name: "b"}, {Name: "c"}}, []string{"sweep", "sweep", "sweep"},
			[]string{"ridge α=10 on mobilenetv2-random:a + PCA 20", "ridge α=10 on mobilenetv2-random:b + PCA 20", "ridge α=10 on mobilenetv2-random:c + PCA 20"}},
		{"cnn", ModelChoice{Source: srcCNN}, 0, map[string]string{"lr": "0.001, 0.01", "seeds": "0, 1"}, nil,
			[]string{"train", "train", "train", "train"}, nil},
		{"cotrain", ModelChoice{Source: srcCotrain, Network: "mobilenetv2", Tap: "features.14"}, 0, map[string]string{"lr": "0.001", "seeds": "0", "lambda": "0, 1"}, nil,
			[]string{"cotrain", "cotrain"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app.ctx.Choice = tc.choice
			app.ctx.Taps["mobilenetv2-random"] = tc.taps
			g.readout = tc.readout
			for k, v := range tc.edit {
				set(g.fit, k, v)
				set(g.train, k, v)
			}
			pl, err := g.expand()
			if err != nil {
				t.Fatal(err)
			}
			jobs, err := buildJobs(app.ctx, pl)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != len(tc.kinds) {
				t.Fatalf("%d jobs, want %d", len(jobs), len(tc.kinds))
			}
			if pl.sweep == "" && pl.jobs() != len(jobs) {
				t.Errorf("the pane says %d jobs, builds %d", pl.jobs(), len(jobs))
			}
			for i, j := range jobs {
				if string(j.Kind) != tc.kinds[i] {
					t.Errorf("job %d is a %s job, want %s", i, j.Kind, tc.kinds[i])
				}
				if tc.names != nil && j.Name != tc.names[i] {
					t.Errorf("job %d is named %q, want %q", i, j.Name, tc.names[i])
				}
			}
		})
	}
}
