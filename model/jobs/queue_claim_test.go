package jobs

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"itscope/model/runs"
)

// TestMain lets the two-process test re-run this test binary as a queue
// worker.
func TestMain(m *testing.M) {
	if dir := os.Getenv("ITSCOPE_QUEUE_WORKER"); dir != "" {
		os.Exit(queueWorker(dir))
	}
	if dir := os.Getenv("ITSCOPE_QUEUE_VICTIM"); dir != "" {
		os.Exit(queueVictim(dir))
	}
	os.Exit(m.Run())
}

// queueWorker submits 30 jobs to the queue of the store in dir, then runs
// queued jobs until none is left, as `itscope job run-queued` does. Each
// run leaves a marker created exclusively: a job run twice fails the worker.
func queueWorker(dir string) int {
	q, err := OpenQueue(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; i < 30; i++ {
		if _, err := q.Submit(Spec{Kind: "fit", Name: "p" + strconv.Itoa(os.Getpid())}, ""); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	for {
		list, err := q.List()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		ran := 0
		for _, e := range list {
			if e.State != "queued" {
				continue
			}
			l, err := q.Claim(e.ID, "local", LocalExecutorID())
			if errors.Is(err, ErrClaimed) || errors.Is(err, ErrFinished) {
				continue
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			if err := l.Start(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			marker, err := os.OpenFile(filepath.Join(dir, "ran-"+e.ID), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				fmt.Fprintln(os.Stderr, "ran twice:", err)
				return 3
			}
			marker.Close()
			if err := l.Finish("done", "", "run-of-"+e.ID); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			ran++
		}
		if ran == 0 {
			return 0
		}
	}
}

func TestTwoProcessesRunEveryJobOnce(t *testing.T) {
	dir := t.TempDir()
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "ITSCOPE_QUEUE_WORKER="+dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("worker: %v", err)
		}
	}
	q, _ := OpenQueue(dir)
	list, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 60 {
		t.Fatalf("%d jobs, want 60", len(list))
	}
	for _, e := range list {
		if e.State != "done" || e.Record.RunID != "run-of-"+e.ID || e.Record.Attempt != 1 {
			t.Errorf("job %s: state %s run %s attempt %d", e.ID, e.State, e.Record.RunID, e.Record.Attempt)
		}
		if _, err := os.Stat(filepath.Join(dir, "ran-"+e.ID)); err != nil {
			t.Errorf("job %s never ran: %v", e.ID, err)
		}
	}
}

func TestConcurrentClaimsHaveOneWinner(t *testing.T) {
	q := openTestQueue(t)
	for round := 0; round < 20; round++ {
		id := submit(t, q, "fit", "f")
		var wins, refused int
		var mu sync.Mutex
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := q.Claim(id, "local", "g"+strconv.Itoa(g))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, ErrClaimed):
					refused++
				default:
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 || refused != 7 {
			t.Fatalf("round %d: %d winners, %d refused; want 1 and 7", round, wins, refused)
		}
	}
}

func TestHeartbeatStaleness(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	q.Now = clock.Now
	id := submit(t, q, "train", "cnn")
	l, err := q.Claim(id, "local", "h:1")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	defer l.Finish("cancelled", "test over", "")
	for _, tc := range []struct {
		advance time.Duration
		touch   bool
		state   runs.State
		reason  string
	}{
		{0, false, "running", ""},
		{29 * time.Second, false, "running", ""},
		{2 * time.Second, false, "failed", ReasonProcessGone}, // 31 s without a beat
		{0, true, "running", ""},                              // it beats again
		{30 * time.Second, false, "running", ""},
		{time.Second, false, "failed", ReasonProcessGone},
	} {
		clock.Advance(tc.advance)
		if tc.touch {
			l.touch()
		}
		e, err := q.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if e.State != tc.state || e.Reason != tc.reason || e.Record.State != "running" {
			t.Errorf("at %s: state %s (%q), want %s (%q)", clock.Now().Format(time.TimeOnly), e.State, e.Reason, tc.state, tc.reason)
		}
	}
}

func TestClaimedButNeverStartedGoesStale(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	q.Now = clock.Now
	id := submit(t, q, "fit", "f")
	if _, err := q.Claim(id, "local", "dead:1"); err != nil {
		t.Fatal(err)
	}
	if e, _ := q.Get(id); e.State != "running" {
		t.Errorf("just claimed: %s, want running", e.State)
	}
	clock.Advance(StaleAfter + time.Second)
	if e, _ := q.Get(id); e.State != "failed" || e.Reason != ReasonProcessGone {
		t.Errorf("claim holder silent for %s: %s (%q), want failed (process gone)", StaleAfter+time.Second, e.State, e.Reason)
	}
}

func TestTakeOver(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	q.Now = clock.Now
	id := submit(t, q, "train", "cnn")
	first, err := q.Claim(id, "slurm", "77_3")
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Claim(id, "slurm", "77_4"); !errors.Is(err, ErrClaimed) {
		t.Fatalf("another task claims a live job: %v, want ErrClaimed", err)
	}
	// The scheduler requeued the same task: it takes over at once.
	second, err := q.Claim(id, "slurm", "77_3")
	if err != nil {
		t.Fatalf("the requeued task: %v", err)
	}
	if err := first.Finish("done", "", "stale-run"); !errors.Is(err, ErrLostClaim) {
		t.Errorf("the superseded holder finishes: %v, want ErrLostClaim", err)
	}
	// A stale holder can be taken over by anyone.
	clock.Advance(StaleAfter + time.Second)
	third, err := q.Claim(id, "local", "h:9")
	if err != nil {
		t.Fatalf("claim of a stale job: %v", err)
	}
	if err := second.Finish("done", "", "x"); !errors.Is(err, ErrLostClaim) {
		t.Errorf("second: %v, want ErrLostClaim", err)
	}
	if err := third.Start(); err != nil {
		t.Fatal(err)
	}
	if err := third.Finish("done", "", "run-3"); err != nil {
		t.Fatal(err)
	}
	e, _ := q.Get(id)
	rec := e.Record
	if rec.State != "done" || rec.RunID != "run-3" || rec.Attempt != 3 || rec.ExecutorID != "h:9" {
		t.Errorf("record %+v, want done by attempt 3 (h:9) with run-3", rec)
	}
	if _, err := q.Claim(id, "slurm", "77_3"); !errors.Is(err, ErrFinished) {
		t.Errorf("claim of a finished job: %v, want ErrFinished", err)
	}
}

func TestCancelQueuedJob(t *testing.T) {
	q := openTestQueue(t)
	id := submit(t, q, "fit", "f")
	final, err := q.Cancel(id, "ada")
	if err != nil || !final {
		t.Fatalf("Cancel = %v, %v; want final, nil", final, err)
	}
	e, _ := q.Get(id)
	if e.State != "cancelled" || !e.Record.Started.IsZero() || e.Record.Finished.IsZero() || !e.CancelRequested {
		t.Errorf("entry %+v, want cancelled, never started", e)
	}
	if _, err := q.Claim(id, "local", "h:1"); !errors.Is(err, ErrFinished) {
		t.Errorf("claim after cancel: %v, want ErrFinished", err)
	}
	if _, err := q.Cancel(id, "ada"); !errors.Is(err, ErrFinished) {
		t.Errorf("second cancel: %v, want ErrFinished", err)
	}
}

func TestCancelRunningJobIsNoticed(t *testing.T) {
	q := openTestQueue(t)
	id := submit(t, q, "train", "cnn")
	l, err := q.Claim(id, "local", LocalExecutorID())
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	final, err := q.Cancel(id, "bob")
	if err != nil || final {
		t.Fatalf("Cancel of a running job = %v, %v; want not final yet", final, err)
	}
	select {
	case <-l.Cancelled():
	case <-time.After(3 * watchTick):
		t.Fatal("the running job did not notice its cancel file")
	}
	if err := l.Finish("cancelled", "cancelled by bob", ""); err != nil {
		t.Fatal(err)
	}
	if e, _ := q.Get(id); e.State != "cancelled" || e.Reason != "cancelled by bob" {
		t.Errorf("state %s (%q)", e.State, e.Reason)
	}
}

func TestCancelOfDeadJobRecordsItFailed(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	q.Now = clock.Now
	id := submit(t, q, "train", "cnn")
	l, _ := q.Claim(id, "local", "gone:1")
	l.Start()
	close(l.stop) // the process died: nothing beats any more
	l.watching.Wait()
	clock.Advance(time.Minute)
	if final, err := q.Cancel(id, "ada"); err != nil || !final {
		t.Fatalf("Cancel = %v, %v", final, err)
	}
	if e, _ := q.Get(id); e.Record.State != "failed" || e.Record.Reason != ReasonProcessGone {
		t.Errorf("record %s (%q), want failed (process gone)", e.Record.State, e.Record.Reason)
	}
}

func TestPrune(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	q.Now = clock.Now
	old := submit(t, q, "fit", "old")
	q.Cancel(old, "ada")
	clock.Advance(time.Millisecond)
	dead := submit(t, q, "fit", "dead")
	q.Claim(dead, "local", "gone:1")
	clock.Advance(20 * 24 * time.Hour)
	recent := submit(t, q, "fit", "recent")
	q.Cancel(recent, "ada")
	clock.Advance(time.Millisecond)
	waiting := submit(t, q, "fit", "waiting")
	os.Mkdir(filepath.Join(q.Dir, ".submit-left"), 0o755)
	os.Chtimes(filepath.Join(q.Dir, ".submit-left"), clock.Now().Add(-2*time.Hour), clock.Now().Add(-2*time.Hour))
	clock.Advance(11 * 24 * time.Hour)
	// Another process's view of the queue caches the finished jobs; it
	// must still notice that they were pruned.
	other := &Queue{Dir: q.Dir, Now: clock.Now}
	if list, _ := other.List(); len(list) != 4 {
		t.Fatalf("before pruning, %d jobs", len(list))
	}
	pruned, err := q.Prune(DefaultKeep)
	if err != nil {
		t.Fatal(err)
	}
	if len(pruned) != 2 || pruned[0] != old || pruned[1] != dead {
		t.Errorf("pruned %v, want [%s %s]", pruned, old, dead)
	}
	for _, view := range []*Queue{q, other} {
		list, _ := view.List()
		if len(list) != 2 || list[0].ID != recent || list[1].ID != waiting {
			t.Errorf("left %v", list)
		}
	}
	if _, err := os.Stat(filepath.Join(q.Dir, ".submit-left")); err == nil {
		t.Error("an abandoned submission folder was kept")
	}
}
