package jobs

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"itscope/model/runs"
)

// countSpec is the payload of the test kind "count": Steps training steps
// of Sleep each, then an epoch; Fail makes it fail.
type countSpec struct {
	Steps int           `json:"steps"`
	Sleep time.Duration `json:"sleep"`
	Fail  bool          `json:"fail,omitempty"`
}

func countJob(name string, c countSpec) Job {
	payload, _ := json.Marshal(c)
	job, _ := testRegistry().Build(Spec{Kind: "count", Name: name, Owner: "ada", Payload: payload})
	return job
}

func testRegistry() Registry {
	return Registry{"count": func(spec Spec) (Job, error) {
		var c countSpec
		if err := json.Unmarshal(spec.Payload, &c); err != nil {
			return Job{}, err
		}
		return Job{Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
			for s := 1; s <= c.Steps; s++ {
				select {
				case <-ctx.Done():
					return nil, ctx.Err()
				case <-time.After(c.Sleep):
				}
				emit(Event{Kind: EventStep, Step: s, Epoch: 1, TrainLoss: 1 / float64(s), Done: s, Total: c.Steps})
			}
			emit(Event{Kind: EventEpoch, Epoch: 1, Step: c.Steps, TrainLoss: 0.5, ValLoss: 0.25, ValEV: 0.125})
			if c.Fail {
				return nil, errors.New("it was told to fail")
			}
			return &runs.Run{Meta: runs.RunMeta{Summary: runs.Summary{EVMean: float64(c.Steps)}}}, nil
		}}, nil
	}}
}

func openTestStore(t *testing.T) *runs.Store {
	t.Helper()
	st, err := runs.OpenStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// A job with a payload goes through the store's queue: its spec, state,
// events and run are there for any process to read.
func TestEngineRecordsQueueJobs(t *testing.T) {
	st := openTestStore(t)
	e := NewEngine(st, 2)
	id, err := e.Submit(countJob("c5", countSpec{Steps: 5}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := e.Wait(context.Background(), id)
	if err != nil || s.State != runs.Done || s.QueueID == "" {
		t.Fatalf("status %+v, %v", s, err)
	}
	q := e.Queue()
	qe, err := q.Get(s.QueueID)
	if err != nil {
		t.Fatal(err)
	}
	if qe.State != "done" || qe.Record.RunID != s.RunID || qe.Record.Executor != ExecutorLocal ||
		qe.Record.ExecutorID != LocalExecutorID() || qe.Spec.Owner != "ada" || qe.Spec.Name != "c5" {
		t.Errorf("queue entry %+v", qe)
	}
	evs, _, _, err := q.Events(s.QueueID, Cursor{})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, ev := range evs {
		kinds = append(kinds, string(ev.Kind))
	}
	if got := strings.Join(kinds, " "); got != "started step step step step step epoch done" {
		t.Errorf("events %q", got)
	}
	last := evs[len(evs)-2]
	if last.ValLoss != 0.25 || last.ValEV != 0.125 || evs[len(evs)-1].RunID != s.RunID {
		t.Errorf("epoch %+v, done %+v", last, evs[len(evs)-1])
	}
	m, err := st.LoadMeta(s.RunID)
	if err != nil || m.Summary.EVMean != 5 {
		t.Errorf("run %+v, %v", m, err)
	}
}

// An engine that follows the queue shows another engine's job, with its
// loss curve, and can cancel it.
func TestFollowShowsAndCancelsForeignJobs(t *testing.T) {
	st := openTestStore(t)
	runner := NewEngine(st, 1)
	viewer := NewEngine(&runs.Store{Dir: st.Dir}, 1)
	viewer.Follow()
	defer viewer.Shutdown(context.Background())
	events, stop := viewer.Subscribe()
	defer stop()
	done, _ := runner.Submit(countJob("quick", countSpec{Steps: 3}))
	runner.Wait(context.Background(), done)
	long, _ := runner.Submit(countJob("long", countSpec{Steps: 100000, Sleep: time.Millisecond}))

	var quick, slow JobStatus
	deadline := time.After(10 * time.Second)
	for quick.State != runs.Done || len(slow.StepLoss) < 20 {
		select {
		case <-events:
		case <-deadline:
			t.Fatalf("viewer sees quick %+v, long %s with %d steps", quick.State, slow.State, len(slow.StepLoss))
		}
		for _, s := range viewer.Snapshot() {
			switch s.Name {
			case "quick":
				quick = s
			case "long":
				slow = s
			}
		}
	}
	if !quick.Foreign || quick.Summary == nil || quick.Summary.EVMean != 3 || quick.RunID == "" || len(quick.Epochs) != 1 {
		t.Errorf("quick job as followed: %+v", quick)
	}
	if slow.State != runs.Running || slow.Executor != ExecutorLocal || slow.StepLoss[0].Step != 1 {
		t.Errorf("long job as followed: state %s executor %q first step %+v", slow.State, slow.Executor, slow.StepLoss[0])
	}
	viewer.Cancel(slow.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := runner.Wait(ctx, long)
	if err != nil || s.State != runs.Cancelled {
		t.Fatalf("the runner's job after the viewer's cancel: %s, %v", s.State, err)
	}
	s, err = viewer.Wait(ctx, slow.ID)
	if err != nil || s.State != runs.Cancelled || s.RunID == "" {
		t.Errorf("the viewer's view: %s run %q, %v", s.State, s.RunID, err)
	}
}

// Two engines running one queue: every job runs once and saves one run.
func TestTwoEnginesRunQueuedJobsOnce(t *testing.T) {
	st := openTestStore(t)
	q, _ := OpenQueue(st.Dir)
	const n = 24
	for i := 0; i < n; i++ {
		payload, _ := json.Marshal(countSpec{Steps: 2 + i%3, Sleep: time.Millisecond})
		if _, err := q.Submit(Spec{Kind: "count", Name: fmt.Sprint("p", i), Payload: payload}, ""); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	ran := make([]int, 2)
	for k := range ran {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := NewEngine(&runs.Store{Dir: st.Dir}, 3)
			var err error
			ran[k], err = e.RunQueued(context.Background(), testRegistry())
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ran[0]+ran[1] != n {
		t.Errorf("engines ran %d + %d jobs, want %d in all", ran[0], ran[1], n)
	}
	list, _ := q.List()
	saved, _ := st.List()
	if len(saved) != n {
		t.Errorf("%d runs saved, want %d", len(saved), n)
	}
	byID := map[string]bool{}
	for _, m := range saved {
		byID[m.ID] = true
	}
	for _, qe := range list {
		if qe.State != "done" || !byID[qe.Record.RunID] {
			t.Errorf("job %s: %s, run %q", qe.Spec.Name, qe.State, qe.Record.RunID)
		}
		delete(byID, qe.Record.RunID)
	}
}

func TestRunJobOfUnknownKindFailsIt(t *testing.T) {
	st := openTestStore(t)
	q, _ := OpenQueue(st.Dir)
	qid, _ := q.Submit(Spec{Kind: "mystery", Name: "m"}, "")
	e := NewEngine(st, 1)
	if _, err := e.RunJob(context.Background(), qid, testRegistry()); err == nil || !strings.Contains(err.Error(), `job kind "mystery": no builder (known: count)`) {
		t.Errorf("RunJob = %v", err)
	}
	if qe, _ := q.Get(qid); qe.State != "failed" || !strings.Contains(qe.Reason, "no builder") {
		t.Errorf("entry %s (%q), want failed", qe.State, qe.Reason)
	}
}

// Shutdown cancels the engine's own queue jobs and records them so.
func TestShutdownRecordsOwnQueueJobsCancelled(t *testing.T) {
	st := openTestStore(t)
	e := NewEngine(st, 1)
	running, _ := e.Submit(countJob("running", countSpec{Steps: 100000, Sleep: time.Millisecond}))
	waiting, _ := e.Submit(countJob("waiting", countSpec{Steps: 1}))
	for s, _ := e.Status(running); len(s.StepLoss) == 0; s, _ = e.Status(running) {
		time.Sleep(time.Millisecond)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []JobID{running, waiting} {
		s, _ := e.Status(id)
		qe, err := e.Queue().Get(s.QueueID)
		if err != nil || qe.State != "cancelled" {
			t.Errorf("%s: queue says %s (%v)", s.Name, qe.State, err)
		}
	}
}

// queueVictim runs two long jobs in an engine on the store in dir, says
// "running" once both have stepped and flushed steps, and waits to be
// killed.
func queueVictim(dir string) int {
	e := NewEngine(&runs.Store{Dir: dir}, 2)
	var ids []JobID
	for _, name := range []string{"a", "b"} {
		id, err := e.Submit(countJob(name, countSpec{Steps: 1 << 30, Sleep: time.Millisecond}))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		for s, _ := e.Status(id); len(s.StepLoss) == 0; s, _ = e.Status(id) {
			time.Sleep(time.Millisecond)
		}
	}
	time.Sleep(eventFlushEvery + watchTick) // the step events reach the log
	fmt.Println("running")
	select {}
}

// SIGKILL of the process running jobs: its jobs show failed ("process
// gone") once their heartbeat is 30 s old, and the store holds no run, whole
// or half-written.
func TestKilledProcessJobsShowFailed(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "ITSCOPE_QUEUE_VICTIM="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "running\n" {
		cmd.Process.Kill()
		t.Fatalf("victim said %q, %v", line, err)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	q, _ := OpenQueue(dir)
	list, err := q.List()
	if err != nil || len(list) != 2 {
		t.Fatalf("%d jobs, %v", len(list), err)
	}
	for _, qe := range list {
		if qe.State != "running" {
			t.Errorf("job %s just after the kill: %s, want running (its heartbeat is fresh)", qe.Spec.Name, qe.State)
		}
		evs, _, _, err := q.Events(qe.ID, Cursor{})
		if err != nil || len(evs) < 2 || evs[0].Kind != EventStarted {
			t.Errorf("job %s: %d events readable after the kill, %v", qe.Spec.Name, len(evs), err)
		}
	}
	late := time.Now().Add(StaleAfter + time.Second)
	q.Now = func() time.Time { return late }
	list, _ = q.List()
	for _, qe := range list {
		if qe.State != "failed" || qe.Reason != ReasonProcessGone {
			t.Errorf("job %s 31 s later: %s (%q), want failed (process gone)", qe.Spec.Name, qe.State, qe.Reason)
		}
	}
	saved, err := (&runs.Store{Dir: dir}).List()
	if err != nil || len(saved) != 0 {
		t.Errorf("store after the kill: %d runs, %v; want none", len(saved), err)
	}
}

// A job whose heartbeat stalled and that another process took over stops
// here and saves nothing: its run is the new holder's to save.
func TestTakenOverJobSavesNothing(t *testing.T) {
	st := openTestStore(t)
	e := NewEngine(st, 1)
	id, _ := e.Submit(countJob("long", countSpec{Steps: 1 << 30, Sleep: time.Millisecond}))
	for s, _ := e.Status(id); len(s.StepLoss) == 0; s, _ = e.Status(id) {
		time.Sleep(time.Millisecond)
	}
	s, _ := e.Status(id)
	later := time.Now().Add(StaleAfter + time.Second)
	other := &Queue{Dir: e.Queue().Dir, Now: func() time.Time { return later }}
	lease, err := other.Claim(s.QueueID, ExecutorLocal, "other:1")
	if err != nil {
		t.Fatalf("claim of a job whose heartbeat is 31 s old: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err = e.Wait(ctx, id)
	if err != nil || s.State != runs.Cancelled || !strings.Contains(s.Err, "taken over") || s.RunID != "" {
		t.Errorf("the engine's job after the take-over: %s (%q) run %q, %v", s.State, s.Err, s.RunID, err)
	}
	if saved, _ := st.List(); len(saved) != 0 {
		t.Errorf("%d runs saved by the engine that lost the job", len(saved))
	}
	if err := lease.Start(); err != nil {
		t.Fatal(err)
	}
	if err := lease.Finish(runs.Done, "", "run-of-other"); err != nil {
		t.Fatal(err)
	}
	if qe, _ := other.Get(s.QueueID); qe.Record.State != runs.Done || qe.Record.RunID != "run-of-other" || qe.Record.Attempt != 2 {
		t.Errorf("queue entry %+v", qe.Record)
	}
}

// A runner stopped while jobs it took from the queue wait for a slot
// leaves them queued for another runner; the one it ran is cancelled.
func TestStoppedRunnerLeavesWaitingJobsQueued(t *testing.T) {
	st := openTestStore(t)
	q, _ := OpenQueue(st.Dir)
	var ids []string
	for i := 0; i < 3; i++ {
		payload, _ := json.Marshal(countSpec{Steps: 1 << 30, Sleep: time.Millisecond})
		id, _ := q.Submit(Spec{Kind: "count", Name: fmt.Sprint("p", i), Payload: payload}, "")
		ids = append(ids, id)
	}
	e := NewEngine(st, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { _, err := e.RunQueued(ctx, testRegistry()); done <- err }()
	for {
		qe, _ := q.Get(ids[0])
		if qe.State == runs.Running {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("RunQueued = %v, want context.Canceled", err)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i, id := range ids {
		want := runs.Queued
		if i == 0 {
			want = runs.Cancelled
		}
		if qe, _ := q.Get(id); qe.State != want {
			t.Errorf("job %d: %s, want %s", i, qe.State, want)
		}
	}
}
