package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"itscope/model/runs"
)

// fakeSlurmCLI puts minimal sbatch, squeue, scontrol and scancel on PATH
// (model/jobs tests every Slurm state; these check the command line's
// wiring): sbatch answers 42, squeue knows no task, scontrol reports the
// array's tasks as state.txt says, scancel logs its arguments.
func fakeSlurmCLI(t *testing.T) string {
	t.Helper()
	bin := t.TempDir()
	scripts := map[string]string{
		"sbatch":   "echo \"$@\" >> \"$FAKE_SLURM/sbatch.log\"\necho 42\n",
		"squeue":   "echo 'slurm_load_jobs error: Invalid job id specified' >&2\nexit 1\n",
		"scancel":  "echo \"$@\" >> \"$FAKE_SLURM/scancel.log\"\n",
		"scontrol": "if [ \"$1\" = show ] && [ \"$2\" = config ]; then echo 'MaxArraySize = 1001'; exit 0; fi\ncat \"$FAKE_SLURM/state.txt\"\n",
	}
	for name, text := range scripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/bash\n"+text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	state := t.TempDir()
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SLURM", state)
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	return state
}

func TestSlurmFlagErrors(t *testing.T) {
	fakeSlurmCLI(t)
	grid := writeGrid(t, map[string]any{"kind": "fit", "features": []string{"pixels:8"}, "model": []string{"ridge"}, "alphas": []float64{1}})
	store := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--executor", "pbs"}, `--executor "pbs": want local or slurm`},
		{[]string{"--dry-run"}, "--dry-run is for --executor slurm"},
		{[]string{"--executor", "slurm", "--slurm-time", "soon"}, `--slurm-time (config key "time") "soon"`},
		{[]string{"--executor", "slurm", "--slurm-args", "--array=1-9"}, `itscope sets --array itself`},
	} {
		args := append([]string{"grid", "--data", "demo:210325", "--grid", grid, "--runs", store}, tc.args...)
		code, _, errOut := run(t, args...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d: %s; want 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

func TestSlurmSubmitListCancel(t *testing.T) {
	state := fakeSlurmCLI(t)
	cfgDir := filepath.Join(os.Getenv("XDG_CONFIG_HOME"), "itscope")
	os.MkdirAll(cfgDir, 0o755)
	os.WriteFile(filepath.Join(cfgDir, "config.json"), []byte(`{"slurm": {"partition": "fromfile", "mem": "2G"}}`), 0o644)
	grid := writeGrid(t, map[string]any{"kind": "fit", "features": []string{"pixels:8"}, "model": []string{"ridge"}, "alphas": []float64{1, 10}})
	store := filepath.Join(t.TempDir(), "runs")
	base := []string{"grid", "--executor", "slurm", "--data", "demo:210325", "--grid", grid, "--runs", store}

	code, out, errOut := run(t, append(base, "--dry-run", "--slurm-mem", "4G", "--slurm-max-running", "1")...)
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"#SBATCH --array=0-1%1\n", "#SBATCH --partition=fromfile\n", "#SBATCH --mem=4G\n", "job run --runs '" + store + "' \"$job\""} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if rows := listJobsJSON(t, store); len(rows) != 0 {
		t.Errorf("dry run queued %d jobs", len(rows))
	}

	code, out, errOut = run(t, append(base, "--json")...)
	if code != 0 {
		t.Fatalf("submit: exit %d: %s", code, errOut)
	}
	var sub struct {
		Jobs   []string
		Arrays []string `json:"slurm_arrays"`
	}
	if err := json.Unmarshal([]byte(out), &sub); err != nil || len(sub.Jobs) != 2 || len(sub.Arrays) != 1 || sub.Arrays[0] != "42" {
		t.Fatalf("submit --json: %v in %s", err, out)
	}
	// Task 0 is still pending, task 1 was cancelled in Slurm.
	os.WriteFile(filepath.Join(state, "state.txt"), []byte("JobId=42 ArrayJobId=42 ArrayTaskId=0 JobState=PENDING Reason=Priority\n"+
		"JobId=43 ArrayJobId=42 ArrayTaskId=1 JobState=CANCELLED Reason=None ExitCode=0:0\n"), 0o644)
	rows := listJobsJSON(t, store)
	if len(rows) != 2 {
		t.Fatalf("jobs: %+v", rows)
	}
	for i, r := range rows {
		wantState := []runs.State{runs.Queued, runs.Cancelled}[i]
		if r.Executor != "slurm" || r.SlurmID != "42_"+string(rune('0'+i)) || !strings.HasSuffix(r.Log, "/42_"+string(rune('0'+i))+".out") ||
			r.State != wantState {
			t.Errorf("job %d: %+v, want slurm 42_%d %s", i, r, i, wantState)
		}
	}
	if rows[0].SlurmState != "PENDING" {
		t.Errorf("pending task shows Slurm state %q", rows[0].SlurmState)
	}
	code, out, errOut = run(t, "cancel", "--runs", store, rows[0].ID)
	if code != 0 || !strings.Contains(out, rows[0].ID+": cancelled") {
		t.Errorf("cancel: exit %d: %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(state, "scancel.log")); string(b) != "42_0\n" {
		t.Errorf("scancel called with %q, want 42_0", b)
	}
	code, out, errOut = run(t, "job", "retry", "--runs", store, rows[1].ID)
	if code != 0 || !strings.Contains(out, rows[1].ID+"  retried as  ") || !strings.Contains(out, "slurm 42_0") {
		t.Errorf("retry: exit %d: %s %s", code, out, errOut)
	}
	if b, _ := os.ReadFile(filepath.Join(state, "sbatch.log")); strings.Count(string(b), "\n") != 2 {
		t.Errorf("sbatch calls:\n%s\nwant the grid's and the retry's", b)
	}
}
