package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"sync"
	"time"

	"itscope/model/runs"
)

// JobID identifies a job within one Engine.
type JobID int64

// Job is a unit of work for the Engine: a fit, a training run, one grid point.
type Job struct {
	Name string    // a human label for lists: "ridgecv on pixels:32"
	Kind runs.Kind // becomes RunMeta.Kind by default
	// Owner says who submitted the job: on a server the identity of the
	// session's key (its authorized_keys comment, a space, its SHA256
	// fingerprint), empty on one's own machine.
	Owner string
	// Memory is the bytes the job needs at its peak, estimated from its
	// spec before it starts (0: unknown). Submit refuses a job above the
	// engine's Limits.
	Memory int64
	// Payload, when set, describes the job completely, as JSON: the
	// Builder registered for Kind turns it back into the job. With it (and a
	// store) the job goes through the store's queue, where every process
	// sees it, follows it, and can run it.
	Payload json.RawMessage
	// Run does the work. It reports progress through emit (which never
	// blocks for long) and returns soon after ctx is cancelled, with
	// ctx.Err() (or an error wrapping it) and, if it has one, the best run so
	// far: the engine saves that run marked cancelled.
	Run func(ctx context.Context, emit func(Event)) (*runs.Run, error)
	// Release, when not nil, is called once the job has ended, however it
	// ended (done, failed, cancelled while queued or running): it frees
	// what the job held from its submission, such as pins on the cache
	// entries it will read.
	Release func()
}

// JobStatus is a job as Snapshot sees it.
type JobStatus struct {
	ID    JobID
	Name  string
	Kind  runs.Kind
	Owner string
	State runs.State
	// Payload is the job's description (Job.Payload), which names its
	// settings while it has no run yet; nil for a job without one.
	Payload json.RawMessage
	// Memory is the job's memory estimate in bytes, 0 when unknown;
	// CancelledBy says who cancelled it, when someone did.
	Memory      int64
	CancelledBy string

	// QueueID is the job's id in the run store's queue ("" for a job that
	// lives only in this engine); Executor names what runs it. Foreign is
	// set for a job another process runs, which this engine only follows.
	QueueID  string
	Executor string
	Foreign  bool

	Submitted, Started, Finished time.Time
	Elapsed                      time.Duration // running time so far, or in total

	Done, Total int
	Rate        float64       // units of Done per second since the start
	ETA         time.Duration // 0 when unknown
	Step, Epoch int
	Message     string // the last log or progress message

	// StepLoss holds the last (up to MaxStepPoints) training steps' losses,
	// Epochs every epoch's train and val loss and val EV: the loss curves.
	StepLoss []runs.LossPoint
	Epochs   []runs.LossPoint

	Err     string        // why it failed
	RunID   string        // the saved run, once finished
	Summary *runs.Summary // the run's scores, once done
}

// MaxStepPoints bounds the step-loss history kept per job.
const MaxStepPoints = 1000

// subscriberQueue bounds the events waiting for one slow subscriber; beyond
// it the oldest non-terminal events are dropped.
const subscriberQueue = 4096

type jobEntry struct {
	status JobStatus
	cancel context.CancelFunc
	done   chan struct{} // closed when finished
	// lease holds the queue job this engine runs, from its claim on.
	lease *Lease
	// fromQueue marks a job this engine took from the queue (RunQueued,
	// RunJob): if another process claims it first, the engine drops it
	// (dropped) instead of following it.
	fromQueue, dropped bool
	cursor             Cursor // a foreign job's events read so far
}

// Engine runs jobs in goroutines, at most MaxRunning at once, and tells any
// number of subscribers what they do. One Engine serves the CLI, the TUI and
// every SSH session. All methods are safe for concurrent use.
type Engine struct {
	store      *runs.Store // where finished jobs' runs are saved; nil saves nothing
	maxRunning int

	mu      sync.Mutex
	nextID  JobID
	jobs    map[JobID]*jobEntry
	queue   []queuedJob // waiting to start, in submission order
	running int
	subs    map[*subscriber]struct{}
	limits  Limits
	closed  bool
	wg      sync.WaitGroup

	shared               *Queue           // the store's queue; nil without a store
	executor, executorID string           // what this engine claims queue jobs as
	byQueue              map[string]JobID // queue id -> job, own and followed
	following            bool             // Follow was called
	pollStop             chan struct{}    // closed by Shutdown; nil while no poller runs
	pollDone             chan struct{}
	since                time.Time // jobs finished before are history, not followed
	stopReason           string    // recorded on the jobs cancelled from now on (SetStopReason)
}

type queuedJob struct {
	ctx context.Context
	ent *jobEntry
	job Job
}

// NewEngine returns an engine that saves runs to store (nil: do not save) and
// runs at most maxRunning jobs at once (at least 1).
// Jobs with a Payload go through the store's queue (see Follow, RunQueued).
func NewEngine(store *runs.Store, maxRunning int) *Engine {
	e := &Engine{
		store:      store,
		maxRunning: max(1, maxRunning),
		jobs:       map[JobID]*jobEntry{},
		subs:       map[*subscriber]struct{}{},
		executor:   ExecutorLocal,
		executorID: LocalExecutorID(),
		byQueue:    map[string]JobID{},
		since:      time.Now().Add(-followHistory),
	}
	if store != nil {
		// Without its queue folder the engine still runs and saves jobs;
		// they are only not visible to other processes.
		e.shared, _ = OpenQueue(store.Dir)
	}
	return e
}

// Store is the run store the engine saves into, or nil.
func (e *Engine) Store() *runs.Store { return e.store }

// ErrEngineClosed is returned by Submit after Shutdown.
var ErrEngineClosed = errors.New("job engine is shut down")

// Submit queues job and returns its id at once. After Shutdown, or when the
// job exceeds the engine's Limits, it returns an error.
func (e *Engine) Submit(job Job) (JobID, error) {
	ids, err := e.SubmitAll([]Job{job})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// SubmitAll queues every job, or none when one of them exceeds the
// engine's Limits (a grid starts whole or not at all).
func (e *Engine) SubmitAll(js []Job) ([]JobID, error) {
	e.mu.Lock()
	err := e.admitLocked(js)
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	qids := make([]string, len(js))
	withdraw := func() {
		for _, qid := range qids {
			if qid != "" {
				e.shared.Cancel(qid, "")
			}
		}
	}
	for i, job := range js {
		if e.shared != nil && job.Payload != nil {
			if qids[i], err = e.shared.Submit(Spec{Kind: job.Kind, Name: job.Name, Owner: job.Owner, Payload: job.Payload}, e.executor); err != nil {
				withdraw()
				return nil, err
			}
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// Checked again: another submission may have come in meanwhile.
	if err := e.admitLocked(js); err != nil {
		withdraw()
		return nil, err
	}
	ids := make([]JobID, len(js))
	for i, job := range js {
		ids[i] = e.enqueueLocked(job, qids[i], false)
	}
	return ids, nil
}

// enqueueLocked adds job (queue job qid, if not "") to the engine's own
// queue and returns its id.
func (e *Engine) enqueueLocked(job Job, qid string, fromQueue bool) JobID {
	e.nextID++
	id := e.nextID
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), memoryLimitKey{}, e.limits.JobMemory))
	ent := &jobEntry{
		status: JobStatus{ID: id, Name: job.Name, Kind: job.Kind, Owner: job.Owner, Memory: job.Memory, State: runs.Queued,
			Payload: job.Payload, Submitted: time.Now(), QueueID: qid, Executor: e.executor},
		cancel:    cancel,
		done:      make(chan struct{}),
		fromQueue: fromQueue,
	}
	e.jobs[id] = ent
	if qid != "" {
		e.byQueue[qid] = id
	}
	e.publishLocked(Event{Job: id, Kind: EventQueued, Time: ent.status.Submitted, Message: job.Name})
	e.wg.Add(1)
	e.queue = append(e.queue, queuedJob{ctx, ent, job})
	e.dispatchLocked()
	return id
}

// dispatchLocked starts queued jobs, oldest first, while there is room.
func (e *Engine) dispatchLocked() {
	for e.running < e.maxRunning && len(e.queue) > 0 {
		q := e.queue[0]
		e.queue = e.queue[1:]
		e.running++
		go e.run(q.ctx, q.ent, q.job)
	}
}

// unqueueLocked removes job id from the queue, if it is there.
func (e *Engine) unqueueLocked(id JobID) (queuedJob, bool) {
	for i, q := range e.queue {
		if q.ent.status.ID == id {
			e.queue = append(e.queue[:i:i], e.queue[i+1:]...)
			return q, true
		}
	}
	return queuedJob{}, false
}

// cancelQueued ends a job that never started.
func (e *Engine) cancelQueued(q queuedJob) {
	defer e.wg.Done()
	defer close(q.ent.done)
	q.ent.cancel()
	e.finish(q.ent, q.job, nil, context.Canceled)
}

func (e *Engine) run(ctx context.Context, ent *jobEntry, job Job) {
	defer e.wg.Done()
	handedOff := false
	defer func() {
		if !handedOff {
			close(ent.done)
		}
	}()
	defer func() {
		e.mu.Lock()
		e.running--
		e.dispatchLocked()
		e.mu.Unlock()
	}()
	defer ent.cancel()
	id := ent.status.ID
	if qid := ent.status.QueueID; qid != "" {
		switch e.claim(ent, qid) {
		case claimFollow:
			handedOff = true
			return
		case claimNone:
			return
		}
	}

	e.mu.Lock()
	ent.status.State = runs.Running
	ent.status.Started = time.Now()
	started := Event{Job: id, Kind: EventStarted, Time: ent.status.Started, Message: job.Name}
	e.publishLocked(started)
	e.mu.Unlock()
	ent.logEvent(started)

	emit := func(ev Event) { e.record(ent, ev) }
	run, err := runSafely(ctx, job, emit)
	e.finish(ent, job, run, err)
}

// runSafely turns a panic in a job into its error, so one bad job cannot
// take down a server full of sessions.
func runSafely(ctx context.Context, job Job, emit func(Event)) (run *runs.Run, err error) {
	defer func() {
		if p := recover(); p != nil {
			run, err = nil, fmt.Errorf("job %q panicked: %v", job.Name, p)
		}
	}()
	if job.Run == nil {
		return nil, fmt.Errorf("job %q has nothing to run", job.Name)
	}
	return job.Run(ctx, emit)
}

// record applies a job's event to its status and passes it on.
func (e *Engine) record(ent *jobEntry, ev Event) {
	if ev.Kind.Terminal() || ev.Kind == EventQueued || ev.Kind == EventStarted {
		ev.Kind = EventLog // only the engine ends or starts jobs
	}
	now := time.Now()
	e.mu.Lock()
	st := &ent.status
	if st.State != runs.Running {
		e.mu.Unlock()
		return
	}
	ev.Job, ev.Time = st.ID, now
	ev.Elapsed = now.Sub(st.Started)
	applyEvent(st, &ev)
	e.publishLocked(ev)
	e.mu.Unlock()
	ent.logEvent(ev)
}

// applyEvent folds a running job's event into its status, filling in the
// event's ETA from its progress when the job gave none.
func applyEvent(st *JobStatus, ev *Event) {
	switch ev.Kind {
	case EventProgress:
		st.Done, st.Total = ev.Done, ev.Total
		if secs := ev.Elapsed.Seconds(); secs > 0 {
			st.Rate = float64(ev.Done) / secs
		}
		if ev.ETA == 0 && ev.Total > 0 && ev.Done > 0 && ev.Done <= ev.Total {
			ev.ETA = time.Duration(float64(ev.Elapsed) * float64(ev.Total-ev.Done) / float64(ev.Done))
		}
		st.ETA = ev.ETA
	case EventStep:
		st.Step, st.Epoch = ev.Step, ev.Epoch
		st.StepLoss = append(st.StepLoss, runs.LossPoint{Step: ev.Step, Epoch: ev.Epoch, TrainLoss: ev.TrainLoss,
			ValLoss: math.NaN(), ValEV: math.NaN(), Elapsed: ev.Elapsed.Seconds()})
		if len(st.StepLoss) >= 2*MaxStepPoints {
			st.StepLoss = append(st.StepLoss[:0:0], st.StepLoss[len(st.StepLoss)-MaxStepPoints:]...)
		}
	case EventEpoch:
		st.Epoch = ev.Epoch
		if ev.Step > 0 {
			st.Step = ev.Step
		}
		st.Epochs = append(st.Epochs, runs.LossPoint{Step: st.Step, Epoch: ev.Epoch, TrainLoss: ev.TrainLoss,
			ValLoss: ev.ValLoss, ValEV: ev.ValEV, Elapsed: ev.Elapsed.Seconds()})
	}
	if ev.Kind == EventEpoch || ev.Kind == EventStep {
		if ev.ETA > 0 {
			st.ETA = ev.ETA
		}
		if ev.Total > 0 {
			st.Done, st.Total = ev.Done, ev.Total
		}
	}
	if ev.Message != "" {
		st.Message = ev.Message
	}
}

// finish records how a job ended, saves its run, releases what the job
// held and tells subscribers.
func (e *Engine) finish(ent *jobEntry, job Job, run *runs.Run, err error) {
	e.mu.Lock()
	st := &ent.status
	started := st.Started
	e.mu.Unlock()

	state := runs.Done
	switch {
	case err == nil:
	case errors.Is(err, context.Canceled):
		state = runs.Cancelled
	default:
		state = runs.Failed
	}
	finished := time.Now()
	// A job another process took over (its heartbeat had stalled) is that
	// process's to save: saving here too would save it twice.
	lost := ent.lease != nil && ent.lease.Lost()
	if lost {
		state, err = runs.Cancelled, ErrLostClaim
	}
	e.mu.Lock()
	if why := e.stopReason; state == runs.Cancelled && !lost && why != "" {
		err = &StopReason{Reason: why}
	}
	e.mu.Unlock()

	var runID string
	var saveErr error
	if e.store != nil && !lost && !(state == runs.Cancelled && started.IsZero()) {
		if run == nil {
			run = &runs.Run{} // a record that the job failed or was cancelled
		}
		m := &run.Meta
		if m.Kind == "" {
			m.Kind = job.Kind
		}
		if m.Name == "" {
			m.Name = job.Name
		}
		m.Status = state
		if err != nil && state == runs.Failed {
			m.Error = err.Error()
		}
		if m.Started.IsZero() {
			m.Started = started
		}
		if m.Finished.IsZero() {
			m.Finished = finished
		}
		runID, saveErr = e.store.Save(run)
	} else if run != nil {
		runID = run.Meta.ID
	}
	if saveErr != nil && state == runs.Done {
		state, err = runs.Failed, saveErr
	}
	// Released before the end shows in the status or an event: whoever
	// goes on from there (a sweep's caller checking the cache) finds the
	// job's pins gone.
	if job.Release != nil {
		job.Release()
	}

	e.mu.Lock()
	st.State = state
	st.Finished = finished
	if !started.IsZero() {
		st.Elapsed = finished.Sub(started)
	}
	st.RunID = runID
	st.ETA = 0
	if err != nil {
		st.Err = err.Error()
	}
	if run != nil && state == runs.Done {
		s := run.Meta.Summary
		st.Summary = &s
	}
	end := Event{Job: st.ID, Kind: EventKind(state), Time: finished, Elapsed: st.Elapsed, Message: st.Err, RunID: runID,
		Done: st.Done, Total: st.Total}
	e.mu.Unlock()
	// The queue hears first: a process that exits on this event must
	// leave the job's final state behind.
	e.recordInQueue(ent, end)
	e.mu.Lock()
	e.publishLocked(end)
	e.mu.Unlock()
}

// SetStopReason gives the reason recorded for the jobs cancelled from now
// on, instead of "context canceled": why the process is stopping them (a
// Slurm task's time limit, a scancel).
func (e *Engine) SetStopReason(why string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopReason = why
}

// Cancel asks job id to stop. A queued job is cancelled at once; a running
// one when it next checks its context; one another process runs through
// the queue's cancel file (and scancel, for a Slurm job). It reports
// whether the job exists.
func (e *Engine) Cancel(id JobID) bool { return e.CancelBy(id, "") }

// CancelBy is Cancel recording who asked (JobStatus.CancelledBy, and the
// queue's cancel file for a job another process runs), when the job has
// not finished yet.
func (e *Engine) CancelBy(id JobID, by string) bool {
	e.mu.Lock()
	ent, ok := e.jobs[id]
	if ok && by != "" && !ent.status.State.Finished() && ent.status.CancelledBy == "" {
		ent.status.CancelledBy = by
	}
	q, queued := e.unqueueLocked(id)
	foreign := ok && ent.status.Foreign && !ent.status.State.Finished()
	e.mu.Unlock()
	switch {
	case queued:
		e.cancelQueued(q)
	case foreign:
		// CancelSlurm also removes a Slurm job's task from the cluster.
		e.shared.CancelSlurm(ent.status.QueueID, by)
	case ok:
		ent.cancel()
	}
	return ok
}

// Wait blocks until job id finishes or ctx ends, and returns its status.
func (e *Engine) Wait(ctx context.Context, id JobID) (JobStatus, error) {
	e.mu.Lock()
	ent, ok := e.jobs[id]
	e.mu.Unlock()
	if !ok {
		return JobStatus{}, fmt.Errorf("no job %d", id)
	}
	select {
	case <-ent.done:
	case <-ctx.Done():
		return e.status(id), ctx.Err()
	}
	return e.status(id), nil
}

func (e *Engine) status(id JobID) JobStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.copyStatusLocked(e.jobs[id])
}

// Status returns job id's status.
func (e *Engine) Status(id JobID) (JobStatus, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ent, ok := e.jobs[id]
	if !ok {
		return JobStatus{}, false
	}
	return e.copyStatusLocked(ent), true
}

func (e *Engine) copyStatusLocked(ent *jobEntry) JobStatus {
	st := ent.status
	st.StepLoss = append([]runs.LossPoint(nil), st.StepLoss...)
	st.Epochs = append([]runs.LossPoint(nil), st.Epochs...)
	if st.State == runs.Running {
		st.Elapsed = time.Since(st.Started)
	}
	return st
}

// Snapshot returns every job's status, in submission order.
func (e *Engine) Snapshot() []JobStatus {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]JobStatus, 0, len(e.jobs))
	for _, ent := range e.jobs {
		if !ent.dropped {
			out = append(out, e.copyStatusLocked(ent))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Shutdown stops taking jobs, cancels every queued and running job of its
// own, and waits (until ctx ends) for them to finish and be recorded as
// cancelled, in the store's queue too. Jobs it only follows go on.
func (e *Engine) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.closed = true
	queued := e.queue
	e.queue = nil
	for _, ent := range e.jobs {
		ent.cancel()
	}
	e.mu.Unlock()
	e.stopPoller(ctx)
	for _, q := range queued {
		e.cancelQueued(q)
	}
	done := make(chan struct{})
	go func() { e.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Subscribe returns a channel of every event from now on, and a function
// that ends the subscription (and closes the channel). Events reach each
// subscriber in order; a subscriber that falls behind loses consecutive
// progress and step events of a job (only the latest is kept) and, past a
// large backlog, the oldest non-terminal events, but never blocks a job.
// Snapshot gives the full state at any time.
func (e *Engine) Subscribe() (<-chan Event, func()) {
	s := &subscriber{
		signal: make(chan struct{}, 1),
		out:    make(chan Event, 64),
		quit:   make(chan struct{}),
	}
	e.mu.Lock()
	e.subs[s] = struct{}{}
	e.mu.Unlock()
	go s.pump()
	var once sync.Once
	return s.out, func() {
		once.Do(func() {
			e.mu.Lock()
			delete(e.subs, s)
			e.mu.Unlock()
			close(s.quit)
		})
	}
}

func (e *Engine) publishLocked(ev Event) {
	for s := range e.subs {
		s.push(ev)
	}
}

type coalesceKey struct {
	job  JobID
	kind EventKind
}

// subscriber queues events for one reader. pending is buf[head:]; latest
// maps a job's progress or step kind to the index in buf of its queued
// event, which a newer one overwrites in place.
type subscriber struct {
	mu     sync.Mutex
	buf    []Event
	head   int
	latest map[coalesceKey]int
	signal chan struct{}
	out    chan Event
	quit   chan struct{}
}

func (s *subscriber) push(ev Event) {
	s.mu.Lock()
	if s.latest == nil {
		s.latest = map[coalesceKey]int{}
	}
	key := coalesceKey{ev.Job, ev.Kind}
	coalesce := ev.Kind == EventProgress || ev.Kind == EventStep
	if i, ok := s.latest[key]; ok && coalesce {
		s.buf[i] = ev
	} else {
		if coalesce {
			s.latest[key] = len(s.buf)
		}
		s.buf = append(s.buf, ev)
		if len(s.buf)-s.head > subscriberQueue {
			s.dropLocked()
		}
	}
	s.mu.Unlock()
	select {
	case s.signal <- struct{}{}:
	default:
	}
}

// dropLocked drops the oldest pending event; terminal events are kept by
// dropping the oldest non-terminal one instead when it is near.
func (s *subscriber) dropLocked() {
	i := s.head
	for i < len(s.buf) && i < s.head+16 && s.buf[i].Kind.Terminal() {
		i++
	}
	if i == len(s.buf) || i == s.head+16 {
		i = s.head
	}
	dropped := s.buf[i]
	copy(s.buf[s.head+1:i+1], s.buf[s.head:i])
	s.head++
	for k, j := range s.latest {
		switch {
		case j == i && k.job == dropped.Job && k.kind == dropped.Kind:
			delete(s.latest, k)
		case j < i:
			s.latest[k] = j + 1
		}
	}
}

// popLocked takes the oldest pending event.
func (s *subscriber) popLocked() (Event, bool) {
	if s.head == len(s.buf) {
		return Event{}, false
	}
	ev := s.buf[s.head]
	if i, ok := s.latest[coalesceKey{ev.Job, ev.Kind}]; ok && i == s.head {
		delete(s.latest, coalesceKey{ev.Job, ev.Kind})
	}
	s.head++
	if s.head == len(s.buf) {
		s.buf, s.head = s.buf[:0], 0
	} else if s.head >= 1024 && s.head*2 >= len(s.buf) {
		n := copy(s.buf, s.buf[s.head:])
		for k, j := range s.latest {
			s.latest[k] = j - s.head
		}
		s.buf, s.head = s.buf[:n], 0
	}
	return ev, true
}

func (s *subscriber) pump() {
	defer close(s.out)
	for {
		select {
		case <-s.signal:
		case <-s.quit:
			return
		}
		for {
			s.mu.Lock()
			ev, ok := s.popLocked()
			s.mu.Unlock()
			if !ok {
				break
			}
			select {
			case s.out <- ev:
			case <-s.quit:
				return
			}
		}
	}
}
