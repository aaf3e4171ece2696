package jobs

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"itscope/model/runs"
)

func waitAll(t *testing.T, e *Engine, ids ...JobID) []JobStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out []JobStatus
	for _, id := range ids {
		st, err := e.Wait(ctx, id)
		if err != nil {
			t.Fatalf("job %d: %v", id, err)
		}
		out = append(out, st)
	}
	return out
}

func TestEngineConcurrencyLimit(t *testing.T) {
	e := NewEngine(nil, 2)
	var running, peak atomic.Int32
	job := Job{Name: "sleep", Kind: "test", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		running.Add(-1)
		return &runs.Run{}, nil
	}}
	var ids []JobID
	for range 6 {
		id, err := e.Submit(job)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for _, st := range waitAll(t, e, ids...) {
		if st.State != runs.Done {
			t.Errorf("job %d: state %s (%s)", st.ID, st.State, st.Err)
		}
	}
	if p := peak.Load(); p != 2 {
		t.Errorf("peak running = %d, want 2", p)
	}
}

// A job that trains until cancelled, emitting a step event per iteration
// and returning its best run so far.
func trainingJob(started chan<- struct{}) Job {
	return Job{Name: "train", Kind: "train", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
		close(started)
		for step := 1; ; step++ {
			emit(Event{Kind: EventStep, Step: step, Epoch: step / 100, TrainLoss: 1 / float64(step)})
			if step%100 == 0 {
				emit(Event{Kind: EventEpoch, Epoch: step / 100, TrainLoss: 1, ValLoss: 2, ValEV: 0.1})
			}
			if ctx.Err() != nil {
				s := runs.NaNSummary()
				s.EVMean = 0.1
				return &runs.Run{Meta: runs.RunMeta{Model: "cnn", Summary: s},
					Loss: []runs.LossPoint{{Step: step, TrainLoss: 1, ValLoss: 2, ValEV: 0.1}}}, ctx.Err()
			}
		}
	}}
}

func TestEngineCancelSavesRunAsCancelled(t *testing.T) {
	st, _ := runs.OpenStore(t.TempDir())
	e := NewEngine(st, 1)
	started := make(chan struct{})
	id, _ := e.Submit(trainingJob(started))
	// A second job waits in the queue and is cancelled there.
	queued, _ := e.Submit(Job{Name: "never", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
		t.Error("a job cancelled while queued ran")
		return nil, nil
	}})
	<-started
	e.Cancel(queued)
	time.Sleep(5 * time.Millisecond)
	e.Cancel(id)
	sts := waitAll(t, e, id, queued)
	if sts[0].State != runs.Cancelled || sts[0].RunID == "" {
		t.Fatalf("training job: %+v", sts[0])
	}
	if sts[1].State != runs.Cancelled || sts[1].RunID != "" {
		t.Errorf("queued job: state %s run %q", sts[1].State, sts[1].RunID)
	}
	if sts[0].Step == 0 || len(sts[0].StepLoss) == 0 || len(sts[0].StepLoss) > 2*MaxStepPoints {
		t.Errorf("step history: step %d, %d points", sts[0].Step, len(sts[0].StepLoss))
	}
	// Each step point has its wall time since the job started.
	for i, q := range sts[0].StepLoss {
		if !(q.Elapsed > 0) || q.Elapsed > sts[0].Elapsed.Seconds() || (i > 0 && q.Elapsed < sts[0].StepLoss[i-1].Elapsed) {
			t.Fatalf("step %d's wall time %v s (the previous %v s, the job took %v)", q.Step, q.Elapsed, sts[0].StepLoss[max(0, i-1)].Elapsed, sts[0].Elapsed)
		}
	}
	run, err := st.Load(sts[0].RunID)
	if err != nil {
		t.Fatal(err)
	}
	if run.Meta.Status != runs.Cancelled || run.Meta.Kind != "train" || run.Meta.Summary.EVMean != 0.1 || len(run.Loss) != 1 {
		t.Errorf("saved run = %+v", run.Meta)
	}
}

func TestEngineFailuresAndPanics(t *testing.T) {
	st, _ := runs.OpenStore(t.TempDir())
	e := NewEngine(st, 2)
	a, _ := e.Submit(Job{Name: "fails", Kind: "fit", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
		return nil, errors.New("demo: bad spec")
	}})
	b, _ := e.Submit(Job{Name: "panics", Kind: "fit", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
		var m map[string]int
		m["x"] = 1
		return nil, nil
	}})
	sts := waitAll(t, e, a, b)
	for _, s := range sts {
		if s.State != runs.Failed || s.Err == "" || s.RunID == "" {
			t.Errorf("job %s: %+v", s.Name, s)
		}
	}
	m, err := st.LoadMeta(sts[0].RunID)
	if err != nil || m.Status != runs.Failed || m.Error != "demo: bad spec" {
		t.Errorf("failed run record = %+v, %v", m, err)
	}
}

// A subscriber that never reads must not slow a job down or lose the final
// event once it starts reading; a fast one sees every epoch.
func TestEngineSubscribersNeverBlockJobs(t *testing.T) {
	e := NewEngine(nil, 1)
	slow, cancelSlow := e.Subscribe()
	defer cancelSlow()
	fast, cancelFast := e.Subscribe()
	const steps = 20000
	id, _ := e.Submit(Job{Name: "emitter", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
		for i := 1; i <= steps; i++ {
			emit(Event{Kind: EventStep, Step: i, TrainLoss: 1})
			if i%1000 == 0 {
				emit(Event{Kind: EventEpoch, Epoch: i / 1000})
			}
			emit(Event{Kind: EventProgress, Done: i, Total: steps})
		}
		return &runs.Run{}, nil
	}})
	var epochs int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ev := range fast {
			if ev.Kind == EventEpoch {
				epochs++
			}
			if ev.Job == id && ev.Kind.Terminal() {
				cancelFast()
			}
		}
	}()
	st := waitAll(t, e, id)[0]
	wg.Wait()
	if st.State != runs.Done || st.Done != steps || st.Step != steps || st.Rate <= 0 {
		t.Errorf("status = %+v", st)
	}
	if epochs != steps/1000 {
		t.Errorf("fast subscriber saw %d epochs, want %d", epochs, steps/1000)
	}
	var last Event
	timeout := time.After(5 * time.Second)
	for !last.Kind.Terminal() {
		select {
		case last = <-slow:
		case <-timeout:
			t.Fatal("slow subscriber never got the done event")
		}
	}
	if last.Kind != EventDone {
		t.Errorf("last event %v", last)
	}
}

func TestEngineShutdownCancelsEverything(t *testing.T) {
	st, _ := runs.OpenStore(t.TempDir())
	e := NewEngine(st, 1)
	started := make(chan struct{})
	id, _ := e.Submit(trainingJob(started))
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.Status(id); s.State != runs.Cancelled {
		t.Errorf("state after shutdown = %s", s.State)
	}
	if _, err := e.Submit(Job{Name: "late"}); !errors.Is(err, ErrEngineClosed) {
		t.Errorf("Submit after Shutdown: %v", err)
	}
	if metas, _ := st.List(); len(metas) != 1 || metas[0].Status != runs.Cancelled {
		t.Errorf("runs = %+v", metas)
	}
	if snap := e.Snapshot(); len(snap) != 1 || snap[0].ID != id {
		t.Errorf("snapshot = %+v", snap)
	}
}

func TestEngineStartsJobsInSubmissionOrder(t *testing.T) {
	e := NewEngine(nil, 1)
	var mu sync.Mutex
	var order []int
	var ids []JobID
	for i := range 8 {
		id, _ := e.Submit(Job{Name: "ordered", Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) {
			mu.Lock()
			order = append(order, i)
			mu.Unlock()
			return &runs.Run{}, nil
		}})
		ids = append(ids, id)
	}
	waitAll(t, e, ids...)
	for i, got := range order {
		if got != i {
			t.Fatalf("start order %v, want submission order", order)
		}
	}
}

// Release runs once for every job however it ends: done, failed, cancelled
// while running, and cancelled before it started; and it has run by the
// time the job's end event arrives (a slow Release shows it), since a
// caller that goes on from that event expects the job's resources freed.
func TestReleaseRunsOnceWhateverTheEnd(t *testing.T) {
	e := NewEngine(nil, 1)
	events, unsubscribe := e.Subscribe()
	defer unsubscribe()
	released := map[string]int{}
	var mu sync.Mutex
	block := make(chan struct{})
	job := func(name string, run func(ctx context.Context) error) Job {
		return Job{Name: name, Kind: "test",
			Run: func(ctx context.Context, emit func(Event)) (*runs.Run, error) { return &runs.Run{}, run(ctx) },
			Release: func() {
				time.Sleep(20 * time.Millisecond)
				mu.Lock()
				released[name]++
				mu.Unlock()
			}}
	}
	running, _ := e.Submit(job("cancelled running", func(ctx context.Context) error {
		close(block)
		<-ctx.Done()
		return ctx.Err()
	}))
	queued, _ := e.Submit(job("cancelled queued", func(context.Context) error { return nil }))
	<-block
	e.Cancel(queued)
	e.Cancel(running)
	done, _ := e.Submit(job("done", func(context.Context) error { return nil }))
	failed, _ := e.Submit(job("failed", func(context.Context) error { return errors.New("boom") }))
	names := map[JobID]string{running: "cancelled running", queued: "cancelled queued", done: "done", failed: "failed"}
	states := map[string]runs.State{}
	releasedAtEnd := map[string]int{}
	timeout := time.After(10 * time.Second)
	for len(releasedAtEnd) < len(names) {
		select {
		case ev := <-events:
			if name, ok := names[ev.Job]; ok && ev.Kind.Terminal() {
				mu.Lock()
				releasedAtEnd[name] = released[name]
				mu.Unlock()
			}
		case <-timeout:
			t.Fatalf("end events for %v only", releasedAtEnd)
		}
	}
	for i, st := range waitAll(t, e, running, queued, done, failed) {
		states[[]string{"cancelled running", "cancelled queued", "done", "failed"}[i]] = st.State
	}
	want := map[string]runs.State{"cancelled running": runs.Cancelled, "cancelled queued": runs.Cancelled, "done": runs.Done, "failed": runs.Failed}
	mu.Lock()
	defer mu.Unlock()
	for name, state := range want {
		if states[name] != state || released[name] != 1 || releasedAtEnd[name] != 1 {
			t.Errorf("%s: state %s, released %d times (%d when its end event came); want %s, once, before the event",
				name, states[name], released[name], releasedAtEnd[name], state)
		}
	}
}
