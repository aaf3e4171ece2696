package jobs

import (
	"context"
	"time"

	"itscope/model/runs"
)

// Follow makes the engine show every job of its store's queue, whoever
// submitted it and wherever it runs: jobs of other processes (and of other
// users of the store) appear in Snapshot, and their events, read from the
// queue four times a second, reach subscribers as if they ran here. The
// engine runs none of them; Cancel asks their process to stop. Jobs that
// had finished more than an hour before the engine started are not shown.
func (e *Engine) Follow() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.shared == nil || e.closed {
		return
	}
	e.following = true
	e.startPollerLocked()
}

func (e *Engine) startPollerLocked() {
	if e.pollStop != nil || e.closed {
		return
	}
	e.pollStop, e.pollDone = make(chan struct{}), make(chan struct{})
	go e.pollLoop(e.pollStop, e.pollDone)
}

// stopPoller ends the poller, if one runs, and waits for it.
func (e *Engine) stopPoller(ctx context.Context) {
	e.mu.Lock()
	stop, done := e.pollStop, e.pollDone
	e.pollStop = nil
	e.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// slurmSyncEvery is how often a following engine asks Slurm about the
// store's unfinished Slurm jobs (Queue.Sync), so that the explorer shows a
// task that Slurm ended without it recording an end (cancelled while
// pending, killed, lost) as ended.
const slurmSyncEvery = 10 * time.Second

func (e *Engine) pollLoop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var synced time.Time
	for {
		if time.Since(synced) >= slurmSyncEvery {
			if list, err := e.shared.List(); err == nil {
				e.shared.Sync(list) // no Slurm here, or unreachable: the queue's view stands
			}
			synced = time.Now()
		}
		e.poll()
		select {
		case <-stop:
			return
		case <-t.C:
		}
	}
}

// poll reads the queue once and brings the followed jobs up to date.
func (e *Engine) poll() {
	list, err := e.shared.List()
	if err != nil {
		return // the store went away for a moment; try again next tick
	}
	for _, qe := range list {
		e.mu.Lock()
		ent := e.jobs[e.byQueue[qe.ID]]
		switch {
		case ent == nil && (!e.following || qe.Finished() && queueEnd(qe).Before(e.since)):
			ent = nil
		case ent == nil:
			ent = e.adoptLocked(qe)
		case !ent.status.Foreign || ent.dropped || ent.status.State.Finished():
			ent = nil
		}
		e.mu.Unlock()
		if ent != nil {
			e.catchUp(ent, qe)
		}
	}
}

// queueEnd is when a finished queue job ended: its finish time, or its
// last heartbeat when its process is gone.
func queueEnd(qe Entry) time.Time {
	if !qe.Record.Finished.IsZero() {
		return qe.Record.Finished
	}
	return qe.Heartbeat
}

// adoptLocked adds queue job qe, which another process submitted, to the
// engine's jobs.
func (e *Engine) adoptLocked(qe Entry) *jobEntry {
	e.nextID++
	id := e.nextID
	ent := &jobEntry{
		status: JobStatus{ID: id, Name: qe.Spec.Name, Kind: qe.Spec.Kind, Owner: qe.Spec.Owner, State: runs.Queued,
			Payload: qe.Spec.Payload, Submitted: qe.Record.Submitted, QueueID: qe.ID, Executor: qe.Record.Executor, Foreign: true},
		cancel: func() {},
		done:   make(chan struct{}),
	}
	e.jobs[id] = ent
	e.byQueue[qe.ID] = id
	e.publishLocked(Event{Job: id, Kind: EventQueued, Time: qe.Record.Submitted, Message: qe.Spec.Name})
	return ent
}

// catchUp applies a followed job's new events and its queue state.
func (e *Engine) catchUp(ent *jobEntry, qe Entry) {
	evs, next, reset, _ := e.shared.Events(qe.ID, ent.cursor)
	e.mu.Lock()
	st := &ent.status
	ent.cursor = next
	if reset {
		st.StepLoss, st.Epochs = nil, nil
	}
	st.Executor = qe.Record.Executor
	for _, ev := range evs {
		ev.Job = st.ID
		switch {
		case ev.Kind == EventStarted:
			st.State, st.Started = runs.Running, ev.Time
		case ev.Kind.Terminal() || ev.Kind == EventQueued:
			continue // the queue's state says how the job ended
		default:
			applyEvent(st, &ev)
		}
		e.publishLocked(ev)
	}
	if st.State == runs.Queued && qe.State == runs.Running {
		st.State, st.Started = runs.Running, qe.Record.Started
		if st.Started.IsZero() {
			st.Started = qe.Heartbeat
		}
		e.publishLocked(Event{Job: st.ID, Kind: EventStarted, Time: st.Started, Message: st.Name})
	}
	e.mu.Unlock()
	if qe.Finished() {
		e.endFromQueue(ent, qe)
		close(ent.done)
	}
}
