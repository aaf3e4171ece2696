package jobs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"itscope/model/runs"
)

// Fake Slurm commands for the executor's tests. They keep their state in
// the folder $FAKE_SLURM: sbatch numbers arrays from 100 and logs each
// call's arguments (one line, fields joined by |); sbatch.fail, squeue.fail
// and scancel.fail, when present, are printed to stderr and the command
// fails; squeue prints squeue.out; `scontrol show job -o ID` prints
// job-ID or, without it, Slurm's "Invalid job id specified".
var fakeSlurmScripts = map[string]string{
	"sbatch": `#!/bin/bash
IFS='|'; echo "$*" >> "$FAKE_SLURM/sbatch.log"
if [ -e "$FAKE_SLURM/sbatch.fail" ]; then cat "$FAKE_SLURM/sbatch.fail" >&2; exit 1; fi
n=$(cat "$FAKE_SLURM/next" 2>/dev/null || echo 100)
echo $((n + 1)) > "$FAKE_SLURM/next"
echo "$n;ci"
`,
	"squeue": `#!/bin/bash
IFS='|'; echo "$*" >> "$FAKE_SLURM/squeue.log"
if [ -e "$FAKE_SLURM/squeue.fail" ]; then cat "$FAKE_SLURM/squeue.fail" >&2; exit 1; fi
if [ -e "$FAKE_SLURM/squeue.out" ]; then cat "$FAKE_SLURM/squeue.out"; exit 0; fi
echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1
`,
	"scontrol": `#!/bin/bash
IFS='|'; echo "$*" >> "$FAKE_SLURM/scontrol.log"
if [ "$1 $2" = "show config" ]; then
  echo "Configuration data as of 2026-12-04T22:00:00"
  echo "MaxArraySize            = $(cat "$FAKE_SLURM/maxarray" 2>/dev/null || echo 1001)"
  echo "MaxJobCount             = 10000"
  exit 0
fi
if [ "$1 $2 $3" = "show job -o" ] && [ -e "$FAKE_SLURM/job-$4" ]; then cat "$FAKE_SLURM/job-$4"; exit 0; fi
echo "slurm_load_jobs error: Invalid job id specified" >&2; exit 1
`,
	"scancel": `#!/bin/bash
IFS='|'; echo "$*" >> "$FAKE_SLURM/scancel.log"
if [ -e "$FAKE_SLURM/scancel.fail" ]; then cat "$FAKE_SLURM/scancel.fail" >&2; exit 1; fi
`,
}

// fakeSlurm puts the fake Slurm commands first on PATH and returns their
// state folder.
func fakeSlurm(t *testing.T) string {
	t.Helper()
	bin, state := t.TempDir(), t.TempDir()
	for name, text := range fakeSlurmScripts {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv("FAKE_SLURM", state)
	return state
}

// fakeWrite writes a fake command's input file.
func fakeWrite(t *testing.T, state, name, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(state, name), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeCalls returns a fake command's logged calls, each as its arguments.
func fakeCalls(t *testing.T, state, name string) [][]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(state, name+".log"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		calls = append(calls, strings.Split(line, "|"))
	}
	return calls
}

// newTestSlurm returns a Slurm executor for a fresh store whose tasks
// would run bin.
func newTestSlurm(t *testing.T, cfg SlurmConfig) *Slurm {
	t.Helper()
	q := openTestQueue(t)
	bin := filepath.Join(t.TempDir(), "itscope")
	if err := os.WriteFile(bin, []byte("#!/bin/bash\necho \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &Slurm{Queue: q, Store: filepath.Dir(q.Dir), Binary: bin, Config: cfg}
}

// submitSlurmJobs queues n jobs for the Slurm executor.
func submitSlurmJobs(t *testing.T, q *Queue, kind string, n int) []string {
	t.Helper()
	var ids []string
	for i := 0; i < n; i++ {
		id, err := q.Submit(Spec{Kind: runs.Kind(kind), Name: kind}, ExecutorSlurm)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}
