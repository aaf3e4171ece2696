package jobs

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"itscope/model/runs"
)

func TestSlurmScriptRunsEachTasksJob(t *testing.T) {
	state := fakeSlurm(t)
	cfg := SlurmConfig{Partition: "gpu", Account: "lab", QOS: "short", Constraint: "avx512", Time: "1-02:00:00",
		Mem: "8G", CPUsPerTask: 4, GPUs: "a100:1", MaxRunning: 2, Args: []string{"--exclusive"}, Requeue: true}
	s := newTestSlurm(t, cfg)
	ids := submitSlurmJobs(t, s.Queue, "fit", 5)
	sub, err := s.Submit(SlurmBatch{Name: "grid 1", Jobs: ids})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sub.Arrays, ",") != "100" || strings.Join(sub.Jobs, ",") != strings.Join(ids, ",") {
		t.Fatalf("submission %+v: want array 100 with %v", sub, ids)
	}
	calls := fakeCalls(t, state, "sbatch")
	if len(calls) != 1 {
		t.Fatalf("sbatch called %d times, want 1", len(calls))
	}
	args := calls[0]
	script := args[len(args)-1]
	if got := strings.Join(args[:len(args)-1], " "); got != "--parsable --exclusive" {
		t.Errorf("sbatch arguments %q, want \"--parsable --exclusive\"", got)
	}
	text, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	batchDir := filepath.Dir(script)
	for _, want := range []string{
		"#SBATCH --job-name=itscope-grid_1\n",
		"#SBATCH --array=0-4%2\n",
		"#SBATCH --output=" + batchDir + "/%A_%a.out\n",
		"#SBATCH --signal=B:TERM@60\n",
		"#SBATCH --partition=gpu\n#SBATCH --account=lab\n#SBATCH --qos=short\n#SBATCH --constraint=avx512\n" +
			"#SBATCH --time=1-02:00:00\n#SBATCH --mem=8G\n#SBATCH --cpus-per-task=4\n#SBATCH --gres=gpu:a100:1\n#SBATCH --requeue\n",
		"exec '" + s.Binary + "' job run --runs '" + s.Store + "' \"$job\"\n",
	} {
		if !strings.Contains(string(text), want) {
			t.Errorf("script lacks %q:\n%s", want, text)
		}
	}
	// Each task runs the job on its line of the manifest (the fake
	// itscope echoes its arguments).
	for task, id := range ids {
		cmd := exec.Command("bash", script)
		cmd.Env = append(os.Environ(), "SLURM_ARRAY_TASK_ID="+strconv.Itoa(task))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("task %d: %v", task, err)
		}
		if got, want := strings.TrimSpace(string(out)), "job run --runs "+s.Store+" "+id; got != want {
			t.Errorf("task %d runs %q, want %q", task, got, want)
		}
		info, ok, err := s.Queue.ReadSlurmInfo(id)
		if err != nil || !ok {
			t.Fatalf("job %s: slurm.json: %v %v", id, ok, err)
		}
		if info.ExecutorID() != "100_"+strconv.Itoa(task) || info.Log != filepath.Join(batchDir, "100_"+strconv.Itoa(task)+".out") ||
			info.Script != script || !info.Config.Requeue || info.Config.Partition != "gpu" {
			t.Errorf("job %s: slurm.json %+v", id, info)
		}
	}
}

func TestSlurmChunksToMaxArraySize(t *testing.T) {
	for _, tc := range []struct {
		maxArray, jobs, maxRunning int
		arrays                     []string // each chunk's --array
		deps                       []string // each chunk's --dependency ("" none)
	}{
		{3, 7, 0, []string{"0-2", "0-2", "0-0"}, []string{"", "", ""}},
		// With a throttle, a chunk waits for the one before it, so at
		// most K tasks run across chunks.
		{3, 7, 2, []string{"0-2%2", "0-2%2", "0-0%2"}, []string{"", "afterany:100", "afterany:101"}},
		{5, 5, 0, []string{"0-4"}, []string{""}},
		{5, 6, 0, []string{"0-4", "0-0"}, []string{"", ""}},
	} {
		state := fakeSlurm(t)
		fakeWrite(t, state, "maxarray", strconv.Itoa(tc.maxArray))
		s := newTestSlurm(t, SlurmConfig{MaxRunning: tc.maxRunning})
		ids := submitSlurmJobs(t, s.Queue, "fit", tc.jobs)
		sub, err := s.Submit(SlurmBatch{Name: "g", Jobs: ids})
		if err != nil {
			t.Fatal(err)
		}
		calls := fakeCalls(t, state, "sbatch")
		if len(calls) != len(tc.arrays) || len(sub.Arrays) != len(tc.arrays) {
			t.Fatalf("%+v: %d sbatch calls, %d arrays; want %d", tc, len(calls), len(sub.Arrays), len(tc.arrays))
		}
		var manifest []string
		for i, args := range calls {
			text, _ := os.ReadFile(args[len(args)-1])
			if !strings.Contains(string(text), "#SBATCH --array="+tc.arrays[i]+"\n") {
				t.Errorf("%+v chunk %d: want --array=%s in\n%s", tc, i, tc.arrays[i], text)
			}
			dep := ""
			for _, a := range args {
				if d, ok := strings.CutPrefix(a, "--dependency="); ok {
					dep = d
				}
			}
			if dep != tc.deps[i] {
				t.Errorf("%+v chunk %d: dependency %q, want %q", tc, i, dep, tc.deps[i])
			}
			m, _ := os.ReadFile(strings.TrimSuffix(args[len(args)-1], ".sh") + ".jobs")
			manifest = append(manifest, strings.Fields(string(m))...)
		}
		if strings.Join(manifest, ",") != strings.Join(ids, ",") {
			t.Errorf("%+v: manifests list %d jobs, want the %d submitted in order", tc, len(manifest), len(ids))
		}
		last, _, _ := s.Queue.ReadSlurmInfo(ids[len(ids)-1])
		wantLast := strconv.Itoa(100+len(tc.arrays)-1) + "_" + strconv.Itoa((tc.jobs-1)%tc.maxArray)
		if last.ExecutorID() != wantLast {
			t.Errorf("%+v: last job runs as %s, want %s", tc, last.ExecutorID(), wantLast)
		}
	}
}

func TestSlurmSweepFitsWaitForExtraction(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	extract := submitSlurmJobs(t, s.Queue, "extract", 1)
	fits := submitSlurmJobs(t, s.Queue, "fit", 3)
	ex, err := s.Submit(SlurmBatch{Name: "sweep-extract", Jobs: extract})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(SlurmBatch{Name: "sweep-fits", Jobs: fits, After: []SlurmSubmission{ex}, AfterFailed: "extraction failed"}); err != nil {
		t.Fatal(err)
	}
	calls := fakeCalls(t, state, "sbatch")
	if got := strings.Join(calls[1][:len(calls[1])-1], " "); got != "--parsable --dependency=afterok:100 --kill-on-invalid-dep=yes" {
		t.Errorf("fits' sbatch arguments %q, want --dependency=afterok:100 --kill-on-invalid-dep=yes", got)
	}
	// The extraction fails; Slurm cancels the fits, which never ran.
	fakeWrite(t, state, "job-100", "JobId=100 ArrayJobId=100 ArrayTaskId=0 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0\n")
	fakeWrite(t, state, "job-101", "JobId=101 ArrayJobId=101 ArrayTaskId=0-2 JobState=CANCELLED Reason=DependencyNeverSatisfied ExitCode=0:0\n")
	exInfo, _, _ := s.Queue.ReadSlurmInfo(extract[0])
	fakeWrite(t, filepath.Dir(exInfo.Log), filepath.Base(exInfo.Log), "the task's output\n")
	list, _ := s.Queue.List()
	if _, err := s.Queue.Sync(list); err != nil {
		t.Fatal(err)
	}
	for _, id := range append(extract, fits...) {
		e, _ := s.Queue.Get(id)
		info, _, _ := s.Queue.ReadSlurmInfo(id)
		want := "extraction failed" // the fits never ran: no log
		if id == extract[0] {
			want = "the Slurm task failed (FAILED), exit code 3; log " + info.Log
		}
		if e.State != "failed" || e.Reason != want {
			t.Errorf("job %s (%s): %s %q, want failed %q", id, e.Spec.Kind, e.State, e.Reason, want)
		}
	}
}

func TestSlurmSbatchRefusalNamesTheOption(t *testing.T) {
	for _, tc := range []struct {
		cfg        SlurmConfig
		says, want string
	}{
		{SlurmConfig{Partition: "nosuch"}, "sbatch: error: Batch job submission failed: Invalid partition name specified",
			`(partition "nosuch", from --slurm-partition or "partition" in the config file)`},
		{SlurmConfig{}, "sbatch: error: Batch job submission failed: Invalid partition name specified",
			"the cluster's default partition was used: set one with --slurm-partition"},
		{SlurmConfig{Account: "x"}, "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified",
			`(account "x", from --slurm-account`},
		{SlurmConfig{Time: "99-00"}, "sbatch: error: Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)",
			`(time "99-00", from --slurm-time`},
	} {
		state := fakeSlurm(t)
		fakeWrite(t, state, "sbatch.fail", tc.says+"\n")
		s := newTestSlurm(t, tc.cfg)
		ids := submitSlurmJobs(t, s.Queue, "fit", 2)
		_, err := s.Submit(SlurmBatch{Name: "g", Jobs: ids})
		if err == nil || !strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want sbatch's words and %q", tc.cfg, err, tc.want)
			continue
		}
		for _, id := range ids {
			e, _ := s.Queue.Get(id)
			if e.State != "failed" || !strings.Contains(e.Reason, tc.says) {
				t.Errorf("job %s: %s %q, want failed with sbatch's reason", id, e.State, e.Reason)
			}
		}
	}
}

func TestSlurmSubmitErrors(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	fakeWrite(t, state, "maxarray", "0")
	ids := submitSlurmJobs(t, s.Queue, "fit", 1)
	if _, err := s.Submit(SlurmBatch{Name: "g", Jobs: ids}); err == nil || !strings.Contains(err.Error(), "MaxArraySize = 0") {
		t.Errorf("no arrays: error %v, want it to name MaxArraySize = 0", err)
	}
	fakeWrite(t, state, "maxarray", "10")
	s.Binary = "itscope"
	ids = submitSlurmJobs(t, s.Queue, "fit", 1)
	if _, err := s.Submit(SlurmBatch{Name: "g", Jobs: ids}); err == nil || !strings.Contains(err.Error(), `itscope binary path "itscope" is not absolute`) {
		t.Errorf("relative binary: error %v", err)
	}
	if e, _ := s.Queue.Get(ids[0]); e.State != "failed" {
		t.Errorf("a job that never reached Slurm is %s, want failed", e.State)
	}
	if _, err := s.Submit(SlurmBatch{Name: "empty"}); err == nil || !strings.Contains(err.Error(), `batch "empty" has no jobs`) {
		t.Errorf("empty batch: error %v", err)
	}
	if calls := fakeCalls(t, state, "sbatch"); len(calls) != 0 {
		t.Errorf("sbatch called %d times for batches that cannot run", len(calls))
	}
}

func TestSlurmDryRunWritesNothing(t *testing.T) {
	state := fakeSlurm(t)
	fakeWrite(t, state, "maxarray", "2")
	s := newTestSlurm(t, SlurmConfig{Partition: "debug", MaxRunning: 1})
	ids := submitSlurmJobs(t, s.Queue, "fit", 3)
	text, err := s.DryRun(SlurmBatch{Name: "g", Jobs: ids})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"#SBATCH --array=0-1%1\n", "#SBATCH --array=0-0%1\n", "--dependency=afterany:<chunk0>",
		"#SBATCH --partition=debug\n", "#   " + ids[2] + "\n", "#SBATCH --signal=B:TERM@60\n"} {
		if !strings.Contains(text, want) {
			t.Errorf("dry run lacks %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(filepath.Join(s.Queue.Dir, slurmDir)); !os.IsNotExist(err) {
		t.Errorf("dry run wrote %s (err %v)", slurmDir, err)
	}
	if calls := fakeCalls(t, state, "sbatch"); len(calls) != 0 {
		t.Errorf("dry run called sbatch %d times", len(calls))
	}
}

func TestExpandTaskIDs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
	}{
		{"3", "[3]"}, {"0-3", "[0 1 2 3]"}, {"1-2%1", "[1 2]"}, {"1-7:3", "[1 4 7]"}, {"0,4-5,9", "[0 4 5 9]"},
		{"", "error"}, {"3-1", "error"}, {"0-99999999999", "error"}, {"a", "error"}, {"1-5:0", "error"}, {"-1", "error"},
	} {
		ids, err := expandTaskIDs(tc.in)
		got := "error"
		if err == nil {
			got = "[" + fmtInts(ids) + "]"
		}
		if got != tc.want {
			t.Errorf("expandTaskIDs(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func fmtInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, " ")
}

func TestPruneRemovesSlurmBatchesOfPrunedJobs(t *testing.T) {
	fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	ids := submitSlurmJobs(t, s.Queue, "fit", 2)
	if _, err := s.Submit(SlurmBatch{Name: "a", Jobs: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(SlurmBatch{Name: "b", Jobs: ids[1:]}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		l, _ := s.Queue.Claim(id, ExecutorSlurm, "")
		l.Finish(runs.Done, "", "")
	}
	infoA, _, _ := s.Queue.ReadSlurmInfo(ids[0])
	infoB, _, _ := s.Queue.ReadSlurmInfo(ids[1])
	// Batch a's job is old enough to prune; batch b's is not.
	old := time.Now().Add(-40 * 24 * time.Hour)
	os.Chtimes(filepath.Dir(infoA.Script), old, old)
	os.Chtimes(filepath.Dir(infoB.Script), old, old)
	clock := newTestClock(time.Now().Add(DefaultKeep / 2))
	s.Queue.Now = clock.Now
	if _, err := s.Queue.Prune(DefaultKeep / 4); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Dir(infoA.Script), filepath.Dir(infoB.Script)} {
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("batch folder %s of pruned jobs kept (%v)", dir, err)
		}
	}
	ids = submitSlurmJobs(t, s.Queue, "fit", 1)
	if _, err := s.Submit(SlurmBatch{Name: "c", Jobs: ids}); err != nil {
		t.Fatal(err)
	}
	infoC, _, _ := s.Queue.ReadSlurmInfo(ids[0])
	os.Chtimes(filepath.Dir(infoC.Script), old, old)
	s.Queue.Prune(DefaultKeep / 4)
	if _, err := os.Stat(infoC.Script); err != nil {
		t.Errorf("batch folder of a queued job removed: %v", err)
	}
}
