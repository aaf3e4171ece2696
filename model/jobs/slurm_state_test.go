package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"itscope/model/runs"
)

// submitOneSlurmJob queues one job and sends it to the fake Slurm as task
// 100_0.
func submitOneSlurmJob(t *testing.T, s *Slurm) string {
	t.Helper()
	ids := submitSlurmJobs(t, s.Queue, "fit", 1)
	if _, err := s.Submit(SlurmBatch{Name: "g", Jobs: ids}); err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

func TestSlurmSyncMapsEveryState(t *testing.T) {
	const live, viaSqueue, viaScontrol = "live", "squeue", "scontrol"
	for _, tc := range []struct {
		slurm, reason, exit string
		requeue             bool
		from                string // which command reports the task
		state, why          string // the job's state and reason after Sync ("" why: unchanged)
	}{
		{"PENDING", "Priority", "", false, viaSqueue, "queued", ""},
		{"CONFIGURING", "None", "", false, viaSqueue, "queued", ""},
		{"RUNNING", "None", "", false, viaSqueue, "queued", ""},
		{"COMPLETING", "None", "", false, viaSqueue, "queued", ""},
		{"SUSPENDED", "None", "", false, viaSqueue, "queued", ""},
		{"REQUEUED", "None", "", false, viaSqueue, "queued", ""},
		{"PREEMPTED", "None", "0:15", true, viaScontrol, "queued", ""},
		{"NODE_FAIL", "None", "0:0", true, viaScontrol, "queued", ""},
		{"PREEMPTED", "None", "0:15", false, viaScontrol, "failed", "preempted by Slurm (submit with --requeue to have it requeued), killed by signal 15"},
		{"NODE_FAIL", "None", "0:0", false, viaScontrol, "failed", "its node failed (NODE_FAIL; submit with --requeue to have it requeued)"},
		{"COMPLETED", "None", "0:0", false, viaScontrol, "failed", "the Slurm task ended (COMPLETED) without recording an end"},
		{"CANCELLED", "None", "0:15", false, viaScontrol, "cancelled", "cancelled in Slurm (scancel), killed by signal 15"},
		{"FAILED", "NonZeroExitCode", "2:0", false, viaScontrol, "failed", "the Slurm task failed (FAILED), exit code 2"},
		{"FAILED", "NonZeroExitCode", "0:9", true, viaScontrol, "failed", "the Slurm task failed (FAILED), killed by signal 9"},
		{"TIMEOUT", "TimeLimit", "0:15", false, viaScontrol, "failed", "time limit reached (TIMEOUT; raise --slurm-time), killed by signal 15"},
		{"OUT_OF_MEMORY", "OutOfMemory", "0:125", false, viaScontrol, "failed", "out of memory (OUT_OF_MEMORY; raise --slurm-mem), killed by signal 125"},
		{"BOOT_FAIL", "None", "0:0", false, viaScontrol, "failed", "its node failed to boot (BOOT_FAIL)"},
		{"DEADLINE", "None", "0:0", false, viaScontrol, "failed", "its deadline passed (DEADLINE)"},
		{"", "", "", false, "", "failed", ReasonLostByScheduler},
	} {
		state := fakeSlurm(t)
		s := newTestSlurm(t, SlurmConfig{Requeue: tc.requeue})
		id := submitOneSlurmJob(t, s)
		switch tc.from {
		case viaSqueue:
			fakeWrite(t, state, "squeue.out", "100_0|"+tc.slurm+"|"+tc.reason+"\n")
		case viaScontrol:
			fakeWrite(t, state, "job-100", "JobId=100 ArrayJobId=100 ArrayTaskId=0 UserId=ada(1000) JobState="+tc.slurm+
				" Reason="+tc.reason+" Dependency=(null) ExitCode="+tc.exit+" RunTime=00:00:03\n")
			info, _, _ := s.Queue.ReadSlurmInfo(id)
			fakeWrite(t, filepath.Dir(info.Log), filepath.Base(info.Log), "the task's output\n")
		}
		list, _ := s.Queue.List()
		views, err := s.Queue.Sync(list)
		if err != nil {
			t.Fatalf("%s: %v", tc.slurm, err)
		}
		if v := views[id]; v.Task.State != tc.slurm || v.Info.ExecutorID() != "100_0" {
			t.Errorf("%s: view %+v", tc.slurm, v)
		}
		e, _ := s.Queue.Get(id)
		why := tc.why
		if why != "" && tc.from != "" {
			why += "; log " + views[id].Info.Log
		}
		if string(e.State) != tc.state || e.Reason != why {
			t.Errorf("%s (requeue %v): job %s %q, want %s %q", tc.slurm, tc.requeue, e.State, e.Reason, tc.state, why)
		}
		if tc.from == viaSqueue && len(fakeCalls(t, state, "scontrol")) != 1 {
			t.Errorf("%s: scontrol asked about a task squeue reported", tc.slurm)
		}
	}
}

func TestSlurmSyncLeavesRecordedEnds(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	done := submitOneSlurmJob(t, s)
	l, err := s.Queue.Claim(done, ExecutorSlurm, "100_0")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	if err := l.Finish("done", "", "run-1"); err != nil {
		t.Fatal(err)
	}
	// A job another process runs, under another executor id, while Slurm
	// says its task failed: the live holder decides.
	held := submitSlurmJobs(t, s.Queue, "fit", 1)[0]
	if _, err := s.Submit(SlurmBatch{Name: "g", Jobs: []string{held}}); err != nil {
		t.Fatal(err)
	}
	l2, err := s.Queue.Claim(held, ExecutorLocal, LocalExecutorID())
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Start(); err != nil {
		t.Fatal(err)
	}
	defer l2.Finish("done", "", "")
	fakeWrite(t, state, "job-100", "JobId=100 ArrayJobId=100 ArrayTaskId=0 JobState=COMPLETED Reason=None ExitCode=0:0\n")
	fakeWrite(t, state, "job-101", "JobId=101 ArrayJobId=101 ArrayTaskId=0 JobState=FAILED Reason=None ExitCode=1:0\n")
	list, _ := s.Queue.List()
	if _, err := s.Queue.Sync(list); err != nil {
		t.Fatal(err)
	}
	if e, _ := s.Queue.Get(done); e.State != "done" || e.Record.RunID != "run-1" || e.Record.Attempt != 1 {
		t.Errorf("finished job became %s %q attempt %d", e.State, e.Reason, e.Record.Attempt)
	}
	if e, _ := s.Queue.Get(held); e.State != "running" {
		t.Errorf("job held by a live local runner became %s %q", e.State, e.Reason)
	}
}

func TestSlurmSyncKilledTaskFailsAtOnce(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	id := submitOneSlurmJob(t, s)
	l, err := s.Queue.Claim(id, ExecutorSlurm, "100_0")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	// kill -9 of the task's process: its heartbeat is fresh, Slurm knows.
	fakeWrite(t, state, "job-100", "JobId=100 ArrayJobId=100 ArrayTaskId=0 JobState=FAILED Reason=NonZeroExitCode ExitCode=0:9\n")
	list, _ := s.Queue.List()
	if _, err := s.Queue.Sync(list); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Queue.Get(id)
	if e.State != "failed" || !strings.HasPrefix(e.Reason, "the Slurm task failed (FAILED), killed by signal 9") || e.Record.ExecutorID != "100_0" {
		t.Errorf("killed task's job: %s %q executor id %q", e.State, e.Reason, e.Record.ExecutorID)
	}
	if err := l.Finish("done", "", "late"); !errors.Is(err, ErrLostClaim) {
		t.Errorf("the killed attempt could still record an end: %v", err)
	}
}

func TestSlurmSyncSchedulerDownIsNotLost(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	id := submitOneSlurmJob(t, s)
	fakeWrite(t, state, "squeue.fail", "slurm_load_jobs error: Unable to contact slurm controller (connect failure)\n")
	list, _ := s.Queue.List()
	if _, err := s.Queue.Sync(list); err == nil || !strings.Contains(err.Error(), "Unable to contact slurm controller") {
		t.Errorf("error %v, want squeue's", err)
	}
	if e, _ := s.Queue.Get(id); e.State != "queued" {
		t.Errorf("job %s %q while the scheduler was unreachable, want queued", e.State, e.Reason)
	}
}

func TestSlurmRequeuedTaskDoesNotRunTwice(t *testing.T) {
	fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{Requeue: true})
	id := submitOneSlurmJob(t, s)
	l, err := s.Queue.Claim(id, ExecutorSlurm, "100_0")
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	if err := l.Finish("done", "", "run-1"); err != nil {
		t.Fatal(err)
	}
	// `scontrol requeue` starts the same task again.
	if _, err := s.Queue.Claim(id, ExecutorSlurm, "100_0"); !errors.Is(err, ErrFinished) {
		t.Errorf("requeued task could claim its finished job: %v", err)
	}
}

func TestSlurmCancel(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	ids := submitSlurmJobs(t, s.Queue, "fit", 2)
	if _, err := s.Submit(SlurmBatch{Name: "g", Jobs: ids}); err != nil {
		t.Fatal(err)
	}
	final, err := s.Queue.CancelSlurm(ids[0], "ada")
	if err != nil || !final {
		t.Fatalf("cancel queued: final %v err %v", final, err)
	}
	if e, _ := s.Queue.Get(ids[0]); e.State != "cancelled" {
		t.Errorf("queued job after cancel: %s", e.State)
	}
	l, err := s.Queue.Claim(ids[1], ExecutorSlurm, "100_1")
	if err != nil {
		t.Fatal(err)
	}
	l.Start()
	defer l.Finish("cancelled", "cancelled", "")
	// scancel of a task that has just ended is not an error.
	fakeWrite(t, state, "scancel.fail", "scancel: error: Kill job error on job id 100_1: Invalid job id specified\n")
	final, err = s.Queue.CancelSlurm(ids[1], "ada")
	if err != nil || final {
		t.Errorf("cancel running: final %v err %v, want the holder to stop", final, err)
	}
	if !l.CancelRequested() {
		t.Error("running job has no cancel file")
	}
	calls := fakeCalls(t, state, "scancel")
	if len(calls) != 2 || calls[0][0] != "100_0" || calls[1][0] != "100_1" {
		t.Errorf("scancel calls %v, want 100_0 then 100_1", calls)
	}
	fakeWrite(t, state, "scancel.fail", "scancel: error: Unable to contact slurm controller\n")
	other := submitOneSlurmJob(t, s)
	if _, err := s.Queue.CancelSlurm(other, "ada"); err == nil || !strings.Contains(err.Error(), "scancel 101_0: scancel: error: Unable to contact") {
		t.Errorf("scancel failure: %v", err)
	}
}

func TestSlurmRetryResubmitsWithDependencies(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{Partition: "a"})
	extract := submitSlurmJobs(t, s.Queue, "extract", 1)
	fits := submitSlurmJobs(t, s.Queue, "fit", 2)
	ex, _ := s.Submit(SlurmBatch{Name: "x", Jobs: extract})
	if _, err := s.Submit(SlurmBatch{Name: "f", Jobs: fits, After: []SlurmSubmission{ex}, AfterFailed: "extraction failed"}); err != nil {
		t.Fatal(err)
	}
	fakeWrite(t, state, "job-100", "JobId=100 ArrayJobId=100 ArrayTaskId=0 JobState=FAILED Reason=None ExitCode=1:0\n")
	fakeWrite(t, state, "job-101", "JobId=101 ArrayJobId=101 ArrayTaskId=0-1 JobState=CANCELLED Reason=DependencyNeverSatisfied ExitCode=0:0\n")
	list, _ := s.Queue.List()
	s.Queue.Sync(list)
	s.Config.Partition = "b" // retries keep the options they were sent with
	fresh, err := s.Retry(append(fits, extract...))
	if err != nil {
		t.Fatal(err)
	}
	calls := fakeCalls(t, state, "sbatch")
	if len(calls) != 4 {
		t.Fatalf("%d sbatch calls, want 4", len(calls))
	}
	if got := strings.Join(calls[3][:len(calls[3])-1], " "); got != "--parsable --dependency=afterok:102 --kill-on-invalid-dep=yes" {
		t.Errorf("retried fits' arguments %q, want them after the retried extraction 102", got)
	}
	for i, id := range append(fits, extract...) {
		old, _ := s.Queue.Spec(id)
		e, _ := s.Queue.Get(fresh[i])
		info, _, _ := s.Queue.ReadSlurmInfo(fresh[i])
		if e.State != "queued" || e.Spec.Kind != old.Kind || info.Config.Partition != "a" {
			t.Errorf("retry of %s: %s %s partition %q", id, e.State, e.Spec.Kind, info.Config.Partition)
		}
	}
	if got, _, _ := s.Queue.ReadSlurmInfo(fresh[0]); len(got.After) != 1 || got.After[0] != fresh[2] {
		t.Errorf("retried fit waits for %v, want the new extraction %s", got.After, fresh[2])
	}
	if _, err := s.Retry(fresh[:1]); err == nil || !strings.Contains(err.Error(), "is queued: only failed or cancelled jobs can be retried") {
		t.Errorf("retry of a queued job: %v", err)
	}
}

func TestStopOnTermSaysWhy(t *testing.T) {
	now := time.Now()
	stamp := func(d time.Duration) string { return now.Add(d).Local().Format("2006-01-02T15:04:05") }
	for _, tc := range []struct {
		record string
		want   string
	}{
		{"JobState=RUNNING Reason=None EndTime=" + stamp(55*time.Second), ReasonTimeLimit},
		{"JobState=RUNNING Reason=None EndTime=" + stamp(2*time.Hour), ReasonTerm + " (Slurm: JobState=RUNNING EndTime=" + stamp(2*time.Hour) + ")"},
		{"JobState=COMPLETING Reason=None EndTime=" + stamp(0), ReasonSlurmCancel},
		{"JobState=CANCELLED Reason=None EndTime=" + stamp(0), ReasonSlurmCancel},
		{"JobState=PREEMPTED Reason=None EndTime=" + stamp(0), ReasonSlurmPreempt},
		{"", ReasonTerm + " (slurm: scontrol show job -o 77: slurm_load_jobs error: Invalid job id specified)"}, // scontrol cannot say
	} {
		state := fakeSlurm(t)
		t.Setenv("SLURM_JOB_ID", "77")
		if tc.record != "" {
			fakeWrite(t, state, "job-77", "JobId=77 ArrayJobId=76 ArrayTaskId=1 "+tc.record+" TimeLimit=00:10:00\n")
		}
		ctx, stop := StopOnTerm(context.Background())
		syscall.Kill(os.Getpid(), syscall.SIGTERM)
		select {
		case <-ctx.Done():
		case <-time.After(10 * time.Second):
			t.Fatal("SIGTERM did not cancel the context")
		}
		var why *StopReason
		if !errors.Is(ctx.Err(), context.Canceled) || !errors.As(context.Cause(ctx), &why) || why.Reason != tc.want {
			t.Errorf("%q: err %v cause %v, want %q", tc.record, ctx.Err(), context.Cause(ctx), tc.want)
		}
		stop()
	}
}

func TestSlurmTaskID(t *testing.T) {
	t.Setenv("SLURM_ARRAY_JOB_ID", "")
	if _, ok := SlurmTaskID(); ok {
		t.Error("a task id outside Slurm")
	}
	t.Setenv("SLURM_ARRAY_JOB_ID", "4242")
	t.Setenv("SLURM_ARRAY_TASK_ID", "17")
	if id, ok := SlurmTaskID(); !ok || id != "4242_17" {
		t.Errorf("task id %q %v, want 4242_17", id, ok)
	}
}

func TestLoadSlurmConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(text string) string {
		p := filepath.Join(dir, "config.json")
		os.WriteFile(p, []byte(text), 0o644)
		return p
	}
	c, err := LoadSlurmConfig(filepath.Join(dir, "missing.json"))
	if err != nil || c.Partition != "" {
		t.Errorf("missing file: %+v %v", c, err)
	}
	p := write(`{"theme":"dark","slurm":{"partition":"gpu","time":"2:00:00","mem":"16G","cpus_per_task":8,"gpus":"1","max_running":20,"args":["--exclusive"],"requeue":true}}`)
	c, err = LoadSlurmConfig(p)
	if err != nil {
		t.Fatal(err)
	}
	want := SlurmConfig{Partition: "gpu", Time: "2:00:00", Mem: "16G", CPUsPerTask: 8, GPUs: "1", MaxRunning: 20, Args: []string{"--exclusive"}, Requeue: true}
	if c.Partition != want.Partition || c.Time != want.Time || c.Mem != want.Mem || c.CPUsPerTask != 8 || c.GPUs != "1" ||
		c.MaxRunning != 20 || len(c.Args) != 1 || !c.Requeue {
		t.Errorf("config %+v, want %+v", c, want)
	}
	o := c.Override(SlurmConfig{Partition: "cpu", Mem: "4G", Args: []string{"--nice=10"}})
	if o.Partition != "cpu" || o.Mem != "4G" || o.Time != "2:00:00" || o.Args[0] != "--nice=10" || !o.Requeue || o.MaxRunning != 20 {
		t.Errorf("override: %+v", o)
	}
	for _, tc := range []struct{ text, want string }{
		{`{"slurm":{"partitoin":"gpu"}}`, `unknown field "partitoin"`},
		{`{"slurm":{"time":"two hours"}}`, `--slurm-time (config key "time") "two hours": want minutes`},
		{`{"slurm":{"mem":"16GB"}}`, `--slurm-mem (config key "mem") "16GB"`},
		{`{"slurm":{"gpus":"a100"}}`, `--slurm-gpus (config key "gpus") "a100"`},
		{`{"slurm":{"max_running":-1}}`, `--slurm-max-running (config key "max_running") "-1"`},
		{`{"slurm":{"args":["--array=0-3"]}}`, `--slurm-args (config key "args") "--array=0-3": itscope sets --array itself`},
		{`{"slurm":{"args":["-ofoo"]}}`, `itscope sets -o itself`},
		{`{"slurm":{"partition":"a b"}}`, `--slurm-partition (config key "partition") "a b": want no spaces or quotes`},
		{`{"slurm":`, `unexpected end of JSON input`},
	} {
		p := write(tc.text)
		if _, err := LoadSlurmConfig(p); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %v, want the file and %q", tc.text, err, tc.want)
		}
	}
}

func TestUserConfigPath(t *testing.T) {
	t.Setenv("XDG_CONFIG_HOME", "/cfg")
	if p, err := UserConfigPath(); err != nil || p != "/cfg/itscope/config.json" {
		t.Errorf("path %q %v", p, err)
	}
}

// A Slurm task stopped by TERM records why: the engine's stop reason goes
// into the job's status and the queue's state, and its best run so far is
// saved cancelled.
func TestEngineRecordsStopReason(t *testing.T) {
	st, _ := runs.OpenStore(t.TempDir())
	e := NewEngine(st, 1)
	started := make(chan struct{})
	job := trainingJob(started)
	job.Payload = json.RawMessage(`{}`) // so that it goes through the queue
	id, _ := e.Submit(job)
	<-started
	e.SetStopReason(ReasonTimeLimit)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := e.Status(id)
	if s.State != runs.Cancelled || s.Err != ReasonTimeLimit || s.RunID == "" {
		t.Errorf("stopped job: %s %q run %q, want cancelled %q with a run", s.State, s.Err, s.RunID, ReasonTimeLimit)
	}
	q, _ := OpenQueue(st.Dir)
	list, _ := q.List()
	if len(list) != 1 || list[0].State != runs.Cancelled || list[0].Reason != ReasonTimeLimit || list[0].Record.RunID != s.RunID {
		t.Errorf("queue: %+v", list)
	}
}

// The explorer's engine asks Slurm too: a task cancelled while pending
// (scancel outside itscope) shows cancelled, not queued for ever.
func TestFollowingEngineSyncsSlurmJobs(t *testing.T) {
	state := fakeSlurm(t)
	s := newTestSlurm(t, SlurmConfig{})
	id := submitOneSlurmJob(t, s)
	fakeWrite(t, state, "job-100", "JobId=100 ArrayJobId=100 ArrayTaskId=0 JobState=CANCELLED Reason=None ExitCode=0:0\n")
	st, _ := runs.OpenStore(filepath.Dir(s.Queue.Dir))
	viewer := NewEngine(st, 1)
	viewer.Follow()
	defer viewer.Shutdown(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got JobStatus
		for _, js := range viewer.Snapshot() {
			if js.QueueID == id {
				got = js
			}
		}
		if got.State == runs.Cancelled && got.Err == "cancelled in Slurm (scancel)" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("followed Slurm job: %s %q, want cancelled in Slurm", got.State, got.Err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
