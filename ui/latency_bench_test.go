package ui

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"itscope/data"
	"itscope/data/npy"
	"itscope/model/jobs"
	"itscope/model/runs"
	"itscope/model/train"
)

// frameWriter is the program's terminal: it tells a waiting benchmark when
// the text it waits for has been written, that is, drawn on the screen.
type frameWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	target []byte
	seen   chan struct{}
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.target == nil {
		return len(p), nil
	}
	w.buf.Write(p)
	if bytes.Contains(w.buf.Bytes(), w.target) {
		w.target = nil
		w.buf.Reset()
		close(w.seen)
	}
	return len(p), nil
}

// expect arms the writer for target and returns the channel closed when it
// is drawn.
func (w *frameWriter) expect(target string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	w.target = []byte(target)
	w.seen = make(chan struct{})
	return w.seen
}

// paneMarks are key descriptions in each pane's help line, drawn by that
// pane alone and in one style run: seeing one means the pane the key asked
// for is on screen.
var paneMarks = []string{"open path", "sweep all layers", "start jobs", "live / results", "follow newest", "next view", "compare marked"}

// BenchmarkKeyToRedraw measures the time from a key press (a number key
// switching panes) to the moment the new pane is written to the terminal,
// through the real program loop and renderer in true colour. "idle" is the
// peer; "two-training-jobs" runs two CNN trainings on the engine at once,
// which keep both cores busy; "two-queued-jobs" runs them on a second
// engine on the same store, as another process would, and the explorer's
// engine follows them through the store's queue (their events read from
// the files). Run with -benchtime 300x for a stable p99:
//
//	go test ./ui -run '^$' -bench KeyToRedraw -benchtime 300x
func BenchmarkKeyToRedraw(b *testing.B) {
	ds, err := data.Open("demo:210325")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		trainings int
		queued    bool
	}{{"idle", 0, false}, {"two-training-jobs", 2, false}, {"two-queued-jobs", 2, true}} {
		b.Run(c.name, func(b *testing.B) { benchKeys(b, ds, c.trainings, c.queued) })
	}
}

func benchKeys(b *testing.B, ds *data.Dataset, trainings int, queued bool) {
	store, err := runs.OpenStore(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	store.Matrices = npy.Matrices{}
	eng := jobs.NewEngine(store, 2)
	runner := eng
	if queued {
		runner = jobs.NewEngine(&runs.Store{Dir: store.Dir, Matrices: store.Matrices}, 2)
		eng.Follow()
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		runner.Shutdown(ctx)
		eng.Shutdown(ctx)
	}()

	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.TrueColor)
	r.SetHasDarkBackground(true)
	app := New(Options{Engine: eng, Store: store, Renderer: r, Width: testW, Height: testH,
		Open: func(string) (*data.Dataset, error) { return ds, nil }, Initial: "demo:210325"})
	out := &frameWriter{}
	p := tea.NewProgram(app, tea.WithInput(nil), tea.WithOutput(out), tea.WithoutSignals(), tea.WithFPS(FPS))
	done := make(chan struct{})
	go func() { p.Run(); close(done) }()
	defer func() { p.Quit(); <-done }()
	p.Send(tea.WindowSizeMsg{Width: testW, Height: testH})
	<-out.expect("opened demo:210325")

	if trainings > 0 {
		ch, unsub := eng.Subscribe()
		cfg := train.DefaultTrainConfig()
		cfg.Epochs, cfg.Patience = 1000, 0
		for i := range trainings {
			cfg.Seed = uint64(i)
			if _, err := runner.Submit(train.TrainJob(ds, cfg, "cnn bench")); err != nil {
				b.Fatal(err)
			}
		}
		// Measure only once both jobs are past their set-up and stepping.
		stepping := map[jobs.JobID]bool{}
		for ev := range ch {
			if ev.Kind == jobs.EventStep {
				stepping[ev.Job] = true
			}
			if ev.Kind.Terminal() {
				b.Fatalf("a training job ended before the benchmark: %v", ev)
			}
			if len(stepping) == trainings {
				break
			}
		}
		unsub()
	}

	lat := make([]time.Duration, 0, b.N)
	pane := 0
	b.ResetTimer()
	for range b.N {
		pane = (pane + 1) % len(paneMarks)
		seen := out.expect(paneMarks[pane])
		start := time.Now()
		p.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{rune('1' + pane)}})
		select {
		case <-seen:
		case <-time.After(10 * time.Second):
			b.Fatalf("pane %d was not drawn within 10 s", pane+1)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	if trainings > 0 {
		for _, j := range eng.Snapshot() {
			if j.State != runs.Running || j.Foreign != queued {
				b.Fatalf("job %d was %s at the end; want both training throughout", j.ID, j.State)
			}
		}
	}
	slices.Sort(lat)
	q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-ms")
	b.ReportMetric(q(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
