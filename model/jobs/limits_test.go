package jobs

import (
	"context"
	"strings"
	"testing"

	"itscope/model/runs"
)

// blockingJob runs until its context is cancelled.
func blockingJob(name, owner string, memory int64) Job {
	return Job{Name: name, Kind: "test", Owner: owner, Memory: memory,
		Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}}
}

func TestSubmitRefusesAJobAboveTheMemoryLimit(t *testing.T) {
	e := NewEngine(nil, 1)
	e.SetLimits(Limits{JobMemory: 2 << 30})
	_, err := e.Submit(blockingJob("big", "", 3<<30+1<<29))
	if err == nil {
		t.Fatal("a job estimated at 3.5 GiB was accepted under a 2 GiB limit")
	}
	for _, want := range []string{`job "big"`, "3.5 GiB", "2.0 GiB", "--max-job-memory"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if n := len(e.Snapshot()); n != 0 {
		t.Errorf("the refused job is listed: %d jobs", n)
	}
	id, err := e.Submit(blockingJob("small", "", 1<<30))
	if err != nil {
		t.Fatalf("a job under the limit: %v", err)
	}
	e.Cancel(id)
	waitAll(t, e, id)
}

func TestSubmitAllBoundsJobsPerOwner(t *testing.T) {
	e := NewEngine(nil, 1)
	e.SetLimits(Limits{JobsPerOwner: 3})
	ids, err := e.SubmitAll([]Job{blockingJob("a1", "alice", 0), blockingJob("a2", "alice", 0)})
	if err != nil {
		t.Fatal(err)
	}
	// Two more would make 4: refused whole, nothing of the batch queued.
	_, err = e.SubmitAll([]Job{blockingJob("a3", "alice", 0), blockingJob("a4", "alice", 0)})
	if err == nil || !strings.Contains(err.Error(), "you have 2 queued or running and the limit is 3 per user (--max-jobs-per-user)") {
		t.Fatalf("a batch over alice's limit: err = %v", err)
	}
	if n := len(e.Snapshot()); n != 2 {
		t.Errorf("%d jobs after a refused batch, want 2", n)
	}
	// Another owner and local jobs (no owner) are not counted against her.
	more, err := e.SubmitAll([]Job{blockingJob("b1", "bob", 0), blockingJob("local", "", 0), blockingJob("a3", "alice", 0)})
	if err != nil {
		t.Fatal(err)
	}
	// Finished jobs free their place.
	e.CancelBy(ids[0], "alice (SHA256:a)")
	waitAll(t, e, ids[0])
	last, err := e.Submit(blockingJob("a4", "alice", 0))
	if err != nil {
		t.Fatalf("after one of alice's jobs ended: %v", err)
	}
	st, _ := e.Status(ids[0])
	if st.State != runs.Cancelled || st.CancelledBy != "alice (SHA256:a)" {
		t.Errorf("cancelled job: state %s, cancelled by %q", st.State, st.CancelledBy)
	}
	for _, id := range append(append(ids[1:], more...), last) {
		e.Cancel(id)
	}
	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestCancelByDoesNotRewriteAFinishedJob(t *testing.T) {
	e := NewEngine(nil, 1)
	id, err := e.Submit(blockingJob("j", "alice", 0))
	if err != nil {
		t.Fatal(err)
	}
	e.CancelBy(id, "first")
	waitAll(t, e, id)
	e.CancelBy(id, "second")
	if st, _ := e.Status(id); st.CancelledBy != "first" {
		t.Errorf("CancelledBy = %q, want the first canceller", st.CancelledBy)
	}
}

func TestFormatBytesAndMachineMemory(t *testing.T) {
	for _, tt := range []struct {
		n    int64
		want string
	}{{512, "512 bytes"}, {3 << 10, "3 KiB"}, {700 << 20, "700 MiB"}, {3<<30 + 1<<29, "3.5 GiB"}} {
		if got := FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if m := MachineMemory(); m < 64<<20 {
		t.Errorf("MachineMemory() = %d, want at least 64 MiB on any machine that runs these tests", m)
	}
}
