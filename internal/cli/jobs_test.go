package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"itscope/model/runs"
)

// itscope starts the command line in a child process.
func itscope(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ITSCOPE_CLI_ARGS="+string(a))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd
}

func writeGrid(t *testing.T, v any) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grid.json")
	b, _ := json.Marshal(v)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func listJobsJSON(t *testing.T, store string) []jobRow {
	t.Helper()
	code, out, errOut := run(t, "jobs", "--json", "--all", "--runs", store)
	if code != 0 {
		t.Fatalf("jobs: exit %d: %s", code, errOut)
	}
	var rows []jobRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("jobs --json: %v in %s", err, out)
	}
	return rows
}

// checkEveryJobRanOnce checks that the store's queue holds want jobs, each
// done with a run of its own that the store holds, and no other run.
func checkEveryJobRanOnce(t *testing.T, store string, want int) {
	t.Helper()
	rows := listJobsJSON(t, store)
	st, _ := runs.OpenStore(store)
	saved, err := st.List()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, m := range saved {
		ids[m.ID] = true
	}
	if len(rows) != want || len(saved) != want {
		t.Errorf("%d jobs and %d runs, want %d of each", len(rows), len(saved), want)
	}
	for _, r := range rows {
		if r.State != runs.Done || !ids[r.RunID] {
			t.Errorf("job %s (%s): %s, run %q", r.ID, r.Name, r.State, r.RunID)
		}
		delete(ids, r.RunID)
	}
}

// `itscope jobs` in another process sees a grid's jobs and their progress
// while they run.
func TestJobsSeesGridOfAnotherProcess(t *testing.T) {
	store := filepath.Join(t.TempDir(), "runs")
	grid := writeGrid(t, map[string]any{"cnn": "layers=1,channels=4,size=64", "lr": []float64{1e-3, 3e-3},
		"epochs": []int{4}, "batch": []int{64}, "patience": 0, "seeds": []int{1}})
	child := itscope(t, "grid", "--data", "demo:210325", "--grid", grid, "--jobs", "2", "--runs", store)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("never saw both grid points running with progress: %+v", listJobsJSON(t, store))
		}
		rows := listJobsJSON(t, store)
		progressing := 0
		for _, r := range rows {
			if r.State == runs.Running && r.Owner != "" && r.Executor == "local" && r.Epoch >= 1 && r.Total > 0 {
				progressing++
			}
		}
		if progressing == 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("grid: %v: %s", err, child.Stdout)
	}
	checkEveryJobRanOnce(t, store, 2)
}

// Processes submitting and running jobs against one store at once: every
// job runs once and saves one run.
func TestProcessesShareOneQueue(t *testing.T) {
	store := filepath.Join(t.TempDir(), "runs")
	fits := func(alphas ...float64) string {
		return writeGrid(t, map[string]any{"kind": "fit", "features": []string{"pixels:8"}, "model": []string{"ridge"},
			"alphas": alphas})
	}
	if code, _, errOut := run(t, "grid", "--detach", "--data", "demo:210325", "--grid", fits(1, 10, 100, 1e3, 1e4, 1e5), "--runs", store); code != 0 {
		t.Fatalf("grid --detach: exit %d: %s", code, errOut)
	}
	var cmds []*exec.Cmd
	cmds = append(cmds,
		itscope(t, "grid", "--data", "demo:210325", "--grid", fits(2, 20, 200, 2e3), "--jobs", "2", "--runs", store),
		itscope(t, "job", "run-queued", "--jobs", "2", "--runs", store),
		itscope(t, "job", "run-queued", "--runs", store),
	)
	var wg sync.WaitGroup
	for _, c := range cmds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Wait(); err != nil {
				t.Errorf("%v: %v: %s", c.Args, err, c.Stdout)
			}
		}()
	}
	wg.Wait()
	// What the runners left (the grid's own jobs may have been theirs to
	// run, and the other way round) is run now.
	if code, _, errOut := run(t, "job", "run-queued", "--runs", store); code != 0 {
		t.Fatalf("job run-queued: exit %d: %s", code, errOut)
	}
	checkEveryJobRanOnce(t, store, 10)
}

// A detached job runs with `job run`; a second `job run` of it (a requeued
// task) runs nothing and saves no second run; a cancelled job never runs.
func TestDetachRunAndCancel(t *testing.T) {
	store := filepath.Join(t.TempDir(), "runs")
	grid := writeGrid(t, map[string]any{"kind": "fit", "features": []string{"pixels:8"}, "model": []string{"ridge"},
		"alphas": []float64{1, 10}})
	code, out, errOut := run(t, "grid", "--detach", "--json", "--data", "demo:210325", "--grid", grid, "--runs", store)
	if code != 0 {
		t.Fatalf("grid --detach: exit %d: %s", code, errOut)
	}
	var sub struct{ Jobs []string }
	if err := json.Unmarshal([]byte(out), &sub); err != nil || len(sub.Jobs) != 2 {
		t.Fatalf("grid --detach --json: %v in %s", err, out)
	}
	code, out, _ = run(t, "cancel", "--runs", store, sub.Jobs[1])
	if code != 0 || !strings.Contains(out, sub.Jobs[1]+": cancelled") {
		t.Errorf("cancel of a queued job: exit %d: %s", code, out)
	}
	for i := 0; i < 2; i++ {
		code, out, errOut = run(t, "job", "run", "--runs", store, sub.Jobs[0])
		if code != 0 || !strings.Contains(out, "job "+sub.Jobs[0]+": done, run ") {
			t.Fatalf("job run (time %d): exit %d: %s %s", i+1, code, out, errOut)
		}
	}
	code, _, errOut = run(t, "job", "run", "--runs", store, sub.Jobs[1])
	if code != 1 {
		t.Errorf("job run of a cancelled job: exit %d (%s), want 1", code, errOut)
	}
	rows := listJobsJSON(t, store)
	if len(rows) != 2 || rows[0].State != runs.Done || rows[1].State != runs.Cancelled || rows[1].RunID != "" {
		t.Errorf("jobs: %+v", rows)
	}
	st, _ := runs.OpenStore(store)
	if saved, _ := st.List(); len(saved) != 1 || saved[0].ID != rows[0].RunID {
		t.Errorf("store holds %d runs, want the one of %s", len(saved), rows[0].ID)
	}
	code, _, errOut = run(t, "cancel", "--runs", store, "no-such-job")
	if code != 1 || !strings.Contains(errOut, `job "no-such-job": no such job`) {
		t.Errorf("cancel of an unknown job: exit %d: %s", code, errOut)
	}
}
