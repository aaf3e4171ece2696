package ui

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data/npy"
	"itscope/model/jobs"
	"itscope/model/runs"
)

func newEngine(t *testing.T, maxRunning int) (*jobs.Engine, *runs.Store) {
	t.Helper()
	store, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	return jobs.NewEngine(store, maxRunning), store
}

// jobEnds counts the jobs that a message reports ended.
func jobEnds(m tea.Msg) int {
	jm, ok := m.(jobMsg)
	if !ok {
		return 0
	}
	n := 0
	for _, ev := range jm.events {
		if ev.Kind.Terminal() {
			n++
		}
	}
	return n
}

// TestSession drives a whole session with keys through the real engine and
// store: open the demo, pick the features, set a grid of two ridge alphas,
// start it, watch both jobs finish, open a run's EV histogram, export its
// neuron table, and compare the two runs side by side.
func TestSession(t *testing.T) {
	eng, store := newEngine(t, 2)
	exportDir := t.TempDir()
	tm, pr := startApp(t, Options{Engine: eng, Store: store, ExportDir: exportDir, CacheDir: t.TempDir(),
		Datasets: []string{"demo", "demo:210325"}, User: "alice"})

	// Data: the smaller demo session, second in the list.
	keys(tm, "down", "enter")
	pr.waitMsg(t, 30*time.Second, "the demo", func(m tea.Msg) bool { d, ok := m.(datasetMsg); return ok && d.ds != nil })
	waitFor(t, tm, 10*time.Second, "opened demo:210325: 640 images, 50 neurons")

	// Model: a pretrained network's layer from its own tap list. Under the
	// race detector, whose slowdown would make the network take minutes,
	// the layer is picked and then pixels at 16x16 are fitted instead.
	keys(tm, "2", "down", "enter", "enter")
	pr.waitMsg(t, 60*time.Second, "the taps of mobilenetv2", func(m tea.Msg) bool { tp, ok := m.(tapsMsg); return ok && len(tp.taps) > 0 })
	keys(tm, "down", "down")
	waitFor(t, tm, 5*time.Second, "features.2", "(24×56×56)", "mobilenetv2:features.2")
	features := "mobilenetv2:features.2"
	if raceDetector {
		// Back to the Source column, up to pixels, one size smaller (left
		// on pixels shrinks them); the enter below then goes to Grid. An
		// enter here would already switch panes, and keys sent before the
		// switch lands could go to either pane.
		keys(tm, "left", "left", "up", "left")
		features = "pixels:16"
	}
	keys(tm, "enter")
	waitFor(t, tm, 5*time.Second, "read-out fits on "+features)

	// Grid: PCA 20, alphas 1 and 100, ridge; two jobs.
	keys(tm, "enter", "ctrl+u")
	typeText(tm, "20")
	keys(tm, "enter", "down", "enter", "ctrl+u")
	typeText(tm, "1, 100")
	keys(tm, "enter")
	waitFor(t, tm, 5*time.Second, "2 job(s)")
	keys(tm, "s")
	waitFor(t, tm, 5*time.Second, "started 2 job(s)", "ridge α=1 on "+features[:9])

	ended := 0
	pr.waitMsg(t, 240*time.Second, "both jobs to end", func(m tea.Msg) bool { ended += jobEnds(m); return ended == 2 })
	waitFor(t, tm, 10*time.Second, "0 running, 0 queued, 2 done")
	for _, st := range eng.Snapshot() {
		if st.Owner != "alice" {
			t.Errorf("job %d %q: owner %q, want the session's user alice", st.ID, st.Name, st.Owner)
		}
	}
	pr.waitMsg(t, 10*time.Second, "run list with both runs", func(m tea.Msg) bool { r, ok := m.(runsMsg); return ok && len(r.runs) == 2 })

	metas, err := store.List()
	if err != nil {
		t.Fatal(err)
	}
	var alphas []float64
	for _, r := range metas {
		if r.Status != runs.Done || r.Model != "ridge" || r.Summary.PCA != 20 || r.Strategy == "" {
			t.Errorf("run %s: status %s model %s pca %d, want done ridge with PCA 20", r.ID, r.Status, r.Model, r.Summary.PCA)
		}
		alphas = append(alphas, r.Summary.Alpha)
	}
	slices.Sort(alphas)
	if !slices.Equal(alphas, []float64{1, 100}) {
		t.Fatalf("saved alphas %v, want [1 100]", alphas)
	}
	if metas[0].Summary.EVMean == metas[1].Summary.EVMean {
		t.Errorf("both alphas scored EV %v: the grid did not vary alpha", metas[0].Summary.EVMean)
	}

	// Results: open the newest run; its histogram reports the stored mean.
	newest := metas[1]
	keys(tm, "6", "enter")
	pr.waitMsg(t, 20*time.Second, "the run", func(m tea.Msg) bool { r, ok := m.(runLoadedMsg); return ok && r.run != nil })
	waitFor(t, tm, 5*time.Second, fmt.Sprintf("explained variance of 50 neurons, mean %s", fmtNum(newest.Summary.EVMean)))

	// Export its neuron table and check it against the store.
	keys(tm, "e")
	csvPath := filepath.Join(exportDir, newest.ID+"-neurons.csv")
	waitFor(t, tm, 10*time.Second, "wrote ")
	checkExport(t, store, newest.ID, csvPath)

	// Compare: mark both runs and put them side by side.
	keys(tm, "7", "space", "space", "enter")
	pr.waitMsg(t, 20*time.Second, "both runs loaded", func(m tea.Msg) bool { c, ok := m.(compareLoadedMsg); return ok && len(c.runs) == 2 })
	waitFor(t, tm, 5*time.Second, "2 runs on the same EV axis")
	frame := finalFrame(t, tm)
	for _, want := range []string{"ridge " + features + " + PCA 20 α=1 ", "ridge " + features + " + PCA 20 α=100",
		"EV " + fmtNum(metas[0].Summary.EVMean), "EV " + fmtNum(metas[1].Summary.EVMean)} {
		if !strings.Contains(frame, want) {
			t.Errorf("the side-by-side view lacks %q:\n%s", want, frame)
		}
	}
}

func checkExport(t *testing.T, store *runs.Store, id, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	run, err := store.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(run.Neurons)+1 {
		t.Fatalf("%s: %d rows, want a header and %d neurons", path, len(recs), len(run.Neurons))
	}
	for i, n := range run.Neurons {
		ev, err := strconv.ParseFloat(recs[i+1][1], 64)
		if err != nil || recs[i+1][0] != strconv.Itoa(n.Neuron) || abs(ev-n.EV) > 1e-6*max(1, abs(n.EV)) {
			t.Fatalf("%s row %d: %v, want neuron %d EV %v", path, i+1, recs[i+1], n.Neuron, n.EV)
		}
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
