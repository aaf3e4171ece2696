package runs

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashChildEnv = "ITSCOPE_STORE_CRASH_CHILD"

// crashRun is run number seq of the crash test: large enough that a kill
// often lands in the middle of writing it, and derived from seq so that a
// reader can check every byte.
func crashRun(seq uint64) *Run {
	const rows, cols = 120, 168
	rng := rand.New(rand.NewPCG(seq, 7))
	run := &Run{
		Meta:     RunMeta{Kind: "fit", Name: fmt.Sprintf("crash-%d", seq), Seed: seq, Model: "ridge"},
		PredRows: rows, PredCols: cols,
		Predictions: make([]float32, rows*cols),
	}
	for i := range run.Predictions {
		run.Predictions[i] = rng.Float32()
	}
	for j := 0; j < cols; j++ {
		run.Neurons = append(run.Neurons, NeuronScore{Neuron: j, EV: float64(seq) + float64(j)/1000, R: 0.5, MSE: 1, R2: 0.25})
	}
	for s := 0; s < 50; s++ {
		run.Loss = append(run.Loss, LossPoint{Step: s, Epoch: s / 10, TrainLoss: float64(seq), ValLoss: 1, ValEV: 0.1})
	}
	return run
}

// TestStoreCrashChild is the child of TestStoreSurvivesSIGKILL: it saves runs
// until killed, printing each id once Save has returned.
func TestStoreCrashChild(t *testing.T) {
	dir := os.Getenv(crashChildEnv)
	if dir == "" {
		t.Skip("runs only as the child of TestStoreSurvivesSIGKILL")
	}
	store, err := openNpyStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	start, _ := strconv.ParseUint(os.Getenv(crashChildEnv+"_SEQ"), 10, 64)
	for seq := start; ; seq++ {
		id, err := store.Save(crashRun(seq))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("saved %s %d\n", id, seq)
	}
}

// TestStoreSurvivesSIGKILL kills a process that is writing runs at random
// moments, many times, and checks that every run it had finished is intact
// and that no partial run is ever listed.
func TestStoreSurvivesSIGKILL(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	dir := t.TempDir()
	store, err := openNpyStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	finished := map[string]uint64{} // id -> seq, as the child reported
	checked := map[string]bool{}    // ids whose content has been verified
	rng := rand.New(rand.NewPCG(1, 2))
	seq := uint64(0)
	for k := 0; k < kills; k++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestStoreCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir, fmt.Sprintf("%s_SEQ=%d", crashChildEnv, seq))
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Let it save at least one run, then kill it at a random moment.
		deadline := time.After(time.Duration(rng.IntN(150)+1) * time.Millisecond)
		first := true
	collect:
		for {
			var line string
			var open bool
			if first {
				line, open = <-lines
				first = false
			} else {
				select {
				case line, open = <-lines:
				case <-deadline:
					break collect
				}
			}
			if !open {
				t.Fatalf("kill %d: the child stopped by itself", k)
			}
			var id string
			var s uint64
			if _, err := fmt.Sscanf(line, "saved %s %d", &id, &s); err == nil {
				finished[id] = s
				seq = s + 1
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		for line := range lines { // what was printed before the kill also counts
			var id string
			var s uint64
			if _, err := fmt.Sscanf(line, "saved %s %d", &id, &s); err == nil {
				finished[id] = s
				seq = s + 1
			}
		}
		cmd.Wait()
		seq += 1000 // a run saved but not reported must not reuse a number

		// Every listed run must be whole; the ones seen after earlier kills
		// were checked then, and finished runs are never touched again.
		listed, err := store.List()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range listed {
			if strings.HasPrefix(m.ID, ".") {
				t.Fatalf("kill %d: a hidden (partial) run is listed: %s", k, m.ID)
			}
			if !checked[m.ID] {
				checkCrashRun(t, store, m.ID, m.Seed)
				checked[m.ID] = true
			}
		}
		for id := range finished {
			if !checked[id] {
				t.Fatalf("kill %d: run %s was reported saved but is not listed", k, id)
			}
		}
	}
	// A last full pass: nothing a later kill did may have damaged an earlier run.
	for id, s := range finished {
		checkCrashRun(t, store, id, s)
	}
	if len(finished) < kills {
		t.Errorf("only %d runs finished over %d kills: the test did not exercise the store", len(finished), kills)
	}
	// Partial folders left by kills mid-write show that kills hit writes.
	partial := 0
	if ents, err := os.ReadDir(dir); err == nil {
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				partial++
			}
		}
	}
	t.Logf("%d kills, %d runs reported finished, all intact; %d partial folders left hidden", kills, len(finished), partial)
}

func checkCrashRun(t *testing.T, store *Store, id string, seq uint64) {
	t.Helper()
	got, err := store.Load(id)
	if err != nil {
		t.Fatalf("run %s (seq %d) is not readable: %v", id, seq, err)
	}
	want := crashRun(seq)
	if got.Meta.Seed != seq || got.Meta.Name != want.Meta.Name || got.Meta.Status != Done {
		t.Fatalf("run %s: meta %+v, want seed %d name %s done", id, got.Meta, seq, want.Meta.Name)
	}
	if got.PredRows != want.PredRows || got.PredCols != want.PredCols || len(got.Neurons) != len(want.Neurons) || len(got.Loss) != len(want.Loss) {
		t.Fatalf("run %s: sizes %dx%d, %d neurons, %d loss rows; want %dx%d, %d, %d", id,
			got.PredRows, got.PredCols, len(got.Neurons), len(got.Loss), want.PredRows, want.PredCols, len(want.Neurons), len(want.Loss))
	}
	for i, v := range want.Predictions {
		if got.Predictions[i] != v {
			t.Fatalf("run %s: prediction %d = %v, want %v", id, i, got.Predictions[i], v)
		}
	}
	for j, n := range want.Neurons {
		if got.Neurons[j].EV != n.EV {
			t.Fatalf("run %s: neuron %d EV = %v, want %v", id, j, got.Neurons[j].EV, n.EV)
		}
	}
}
