package serve

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
	"itscope/model/train"
)

// panes are the explorer's panes by number key, each with text only its own
// view draws (a box title in the top border).
var panes = []struct{ key, marker string }{
	{"1", "▶ Datasets"}, {"2", "▶ Source"}, {"3", "▶ Grid "}, {"4", "▶ Jobs"},
	{"5", "▶ Live"}, {"6", "▶ Runs"}, {"7", "▶ Compare"},
}

// TestLoadTwentySessions holds 20 SSH sessions at once, each moving through
// the panes, while two CNNs train on the shared engine. Every key must be
// answered by a redraw, every session must stay up, and the server's memory
// must stay bounded. Set ITSCOPE_LOAD_SECONDS for a longer run; the figures
// in BENCHMARKS.md come from `go test -run TestLoadTwentySessions -v
// ./ui/serve` with ITSCOPE_LOAD_SECONDS=30.
func TestLoadTwentySessions(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const thinkTime = 150 * time.Millisecond // a quick person's pace between keys
	sessions, seconds := 20, 8
	if raceEnabled {
		sessions, seconds = 4, 3
	}
	if s, err := strconv.Atoi(os.Getenv("ITSCOPE_LOAD_SECONDS")); err == nil && s > 0 {
		seconds = s
	}
	ts := startServer(t, func(c *Config) { c.MaxSessions = sessions })
	ds, err := data.Open("demo")
	if err != nil {
		t.Fatal(err)
	}
	// Two real trainings keep both cores busy for the whole test.
	var jobIDs []jobs.JobID
	for i := range 2 {
		cfg := train.DefaultTrainConfig()
		cfg.CNN, err = train.ParseCNNSpec("layers=2,channels=8-16,size=64")
		if err != nil {
			t.Fatal(err)
		}
		cfg.Epochs, cfg.Patience, cfg.Seed = 1000, 0, uint64(i+1)
		id, err := ts.engine.Submit(jobs.Job{
			Name: fmt.Sprintf("load-train-%d", i), Kind: "train",
			Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
				return train.TrainCNN(ctx, ds, cfg, emit)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		jobIDs = append(jobIDs, id)
	}

	// Measure from when both trainings are under way.
	for _, id := range jobIDs {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
			if st, _ := ts.engine.Status(id); st.Step > 0 || time.Now().After(deadline) {
				break
			}
		}
	}
	var baseline runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&baseline)

	terms := make([]*terminal, sessions)
	for i := range terms {
		terms[i] = openTerminal(t, ts.addr, ts.client, 100, 30)
	}
	for _, term := range terms {
		term.waitFor(t, "▶ Datasets", 20*time.Second)
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failures  []string
		peakHeap  uint64
	)
	stop := time.Now().Add(time.Duration(seconds) * time.Second)
	sampler := make(chan struct{})
	go func() {
		for {
			select {
			case <-sampler:
				return
			case <-time.After(100 * time.Millisecond):
			}
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			mu.Lock()
			peakHeap = max(peakHeap, m.HeapInuse)
			mu.Unlock()
		}
	}()
	var wg sync.WaitGroup
	for i, term := range terms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for step := i; time.Now().Before(stop); step++ {
				p := panes[step%len(panes)]
				if p.key == "1" && step == i { // each session starts on the Data pane
					continue
				}
				time.Sleep(thinkTime)
				term.out.Reset() // what it holds next is the answer to this key
				sent := time.Now()
				if _, err := term.in.Write([]byte(p.key)); err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("session %d: write: %v", i, err))
					mu.Unlock()
					return
				}
				for !strings.Contains(term.screen(), p.marker) {
					if time.Since(sent) > 10*time.Second {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("session %d: key %s drew no %q in 10s", i, p.key, p.marker))
						mu.Unlock()
						return
					}
					time.Sleep(2 * time.Millisecond)
				}
				mu.Lock()
				latencies = append(latencies, time.Since(sent))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(sampler)
	for _, f := range failures {
		t.Error(f)
	}
	for i, term := range terms {
		select {
		case <-term.done:
			t.Errorf("session %d closed during the load", i)
		default:
		}
	}
	for _, id := range jobIDs {
		st, _ := ts.engine.Status(id)
		if st.State != runs.Running {
			t.Errorf("training job %d is %s, want running through the load (%s)", id, st.State, st.Err)
		}
		if st.Step == 0 {
			t.Errorf("training job %d made no step during the load", id)
		}
	}
	if len(latencies) == 0 {
		t.Fatal("no key was answered")
	}
	// Live heap with every session still open: what the sessions hold, not
	// the garbage a collector pacing at GOGC=100 lets pile up.
	var live runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&live)
	slices.Sort(latencies)
	q := func(p float64) time.Duration { return latencies[int(p*float64(len(latencies)-1))] }
	grown := int64(live.HeapAlloc) - int64(baseline.HeapAlloc)
	t.Logf("%d sessions held for %ds with 2 trainings running; %d keys answered: latency p50 %s, p90 %s, p99 %s, max %s; live heap %.1f MiB before the sessions, %.1f MiB with them (peak in use %.1f MiB); process peak RSS %s",
		sessions, seconds, len(latencies), q(0.5), q(0.9), q(0.99), latencies[len(latencies)-1],
		float64(baseline.HeapAlloc)/(1<<20), float64(live.HeapAlloc)/(1<<20), float64(peakHeap)/(1<<20), peakRSS())
	// Each session holds a screen, its panes and a copy of the run list: a
	// few MiB, not growing with the keys pressed. The two trainings' batch in
	// flight moves the live heap by tens of MiB between any two GCs, hence
	// the allowance; under the race detector its shadow memory swamps both.
	const trainingNoise = 64 << 20
	if limit := int64(sessions)*8<<20 + trainingNoise; grown > limit && !raceEnabled {
		t.Errorf("live heap grew by %.0f MiB with %d sessions, want under %d MiB", float64(grown)/(1<<20), sessions, limit>>20)
	}
	for _, id := range jobIDs {
		ts.engine.Cancel(id)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		if st, err := ts.engine.Wait(ctx, id); err != nil || st.State != runs.Cancelled {
			t.Errorf("training job %d after cancel: %s, %v", id, st.State, err)
		}
		cancel()
	}
}

// peakRSS is the process's peak resident set (VmHWM), as the kernel counts it.
func peakRSS() string {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
