package jobs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"itscope/model/runs"
)

// followHistory is how far back Follow shows jobs that had already
// finished when the engine started; older ones are history (itscope jobs
// --all lists them).
const followHistory = time.Hour

// pollEvery is how often a following engine reads the queue.
const pollEvery = 250 * time.Millisecond

// A Builder turns a queued job's spec back into the job: the inverse of the
// job builder that made the spec's Payload.
type Builder func(spec Spec) (Job, error)

// Registry maps a job kind to its Builder. The packages that make jobs
// register theirs explicitly (readout.RegisterJobs, train.RegisterJobs).
type Registry map[runs.Kind]Builder

// Build makes the job spec describes; its name, kind, owner and payload
// are the spec's.
func (r Registry) Build(spec Spec) (Job, error) {
	b, ok := r[spec.Kind]
	if !ok {
		kinds := make([]string, 0, len(r))
		for k := range r {
			kinds = append(kinds, string(k))
		}
		sort.Strings(kinds)
		return Job{}, fmt.Errorf("job kind %q: no builder (known: %s)", spec.Kind, strings.Join(kinds, ", "))
	}
	job, err := b(spec)
	if err != nil {
		return Job{}, fmt.Errorf("%s job %q: %w", spec.Kind, spec.Name, err)
	}
	job.Kind, job.Name, job.Owner, job.Payload = spec.Kind, spec.Name, spec.Owner, spec.Payload
	return job, nil
}

// SetExecutor names what this engine claims queue jobs as: an executor and
// its own id for the job (a Slurm task runs `itscope job run` as slurm,
// with its array task id). By default it is local, host:pid.
func (e *Engine) SetExecutor(executor, executorID string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.executor, e.executorID = executor, executorID
}

// Queue is the run store's queue the engine uses, or nil.
func (e *Engine) Queue() *Queue { return e.shared }

type claimOutcome int

const (
	claimRun    claimOutcome = iota // this engine runs the job
	claimFollow                     // another process runs it; the engine follows
	claimNone                       // the job is over or not this engine's any more
)

// claim takes queue job qid for this engine before it runs, starting its
// heartbeat and cancel watch.
func (e *Engine) claim(ent *jobEntry, qid string) claimOutcome {
	e.mu.Lock()
	executor, executorID := e.executor, e.executorID
	e.mu.Unlock()
	lease, err := e.shared.Claim(qid, executor, executorID)
	if err == nil {
		if err = lease.Start(); err != nil {
			lease.Finish(runs.Failed, err.Error(), "")
		}
	}
	switch {
	case err == nil:
		ent.lease = lease
		go func() {
			select {
			case <-lease.Cancelled():
				ent.cancel()
			case <-ent.done:
			}
		}()
		return claimRun
	case errors.Is(err, ErrClaimed) && !ent.fromQueue:
		e.mu.Lock()
		ent.status.Foreign = true
		e.startPollerLocked()
		e.mu.Unlock()
		return claimFollow
	case errors.Is(err, ErrClaimed) || ent.fromQueue && errors.Is(err, ErrFinished):
		// Another process took or finished the job it was picked for.
		e.mu.Lock()
		ent.dropped = true
		ent.status.Foreign = true
		e.mu.Unlock()
		return claimNone
	case errors.Is(err, ErrFinished):
		if qe, gerr := e.shared.Get(qid); gerr == nil {
			e.endFromQueue(ent, qe)
			return claimNone
		}
	}
	e.endFromQueue(ent, Entry{State: runs.Failed, Reason: err.Error()})
	return claimNone
}

// endFromQueue gives a job that this engine did not run the final state
// the queue holds for it, and tells subscribers.
func (e *Engine) endFromQueue(ent *jobEntry, qe Entry) {
	var summary *runs.Summary
	if qe.State == runs.Done && qe.Record.RunID != "" && e.store != nil {
		if m, err := e.store.LoadMeta(qe.Record.RunID); err == nil {
			summary = &m.Summary
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	st := &ent.status
	st.State = qe.State
	st.Err, st.RunID, st.Summary = qe.Reason, qe.Record.RunID, summary
	if !qe.Record.Started.IsZero() {
		st.Started = qe.Record.Started
	}
	st.Finished = qe.Record.Finished
	if st.Finished.IsZero() {
		st.Finished = time.Now()
	}
	if !st.Started.IsZero() {
		st.Elapsed = st.Finished.Sub(st.Started)
	}
	st.ETA = 0
	e.publishLocked(Event{Job: st.ID, Kind: EventKind(st.State), Time: st.Finished, Elapsed: st.Elapsed, Message: st.Err,
		RunID: st.RunID, Done: st.Done, Total: st.Total})
}

// logEvent writes ev to the job's event log in the queue, if it has one.
// A write error (a full disk) costs the log, not the job.
func (ent *jobEntry) logEvent(ev Event) {
	if ent.lease != nil {
		ent.lease.Events().AppendEvent(ev)
	}
}

// recordInQueue writes how an own job ended to the queue: through its
// lease, or, for one submitted here and cancelled before it was claimed,
// as a cancel.
func (e *Engine) recordInQueue(ent *jobEntry, end Event) {
	switch {
	case ent.lease != nil:
		ent.logEvent(end)
		ent.lease.Finish(runs.State(end.Kind), end.Message, end.RunID)
	case ent.status.QueueID != "" && end.Kind == EventCancelled && !ent.fromQueue:
		e.shared.Cancel(ent.status.QueueID, "")
	}
	// A job this engine took from the queue but never claimed stays
	// queued there, for another runner.
}

// RunQueued runs the jobs of the store's queue that wait for this engine's
// executor (or for any), building each with reg, at most the engine's
// maximum at once, until no queued job is left or ctx ends. Another process
// may run the same queue at once: each job runs in exactly one of them. It
// returns how many jobs this engine ran.
func (e *Engine) RunQueued(ctx context.Context, reg Registry) (int, error) {
	if e.shared == nil {
		return 0, errors.New("job engine: no run store, so no queue")
	}
	ran := 0
	for {
		list, err := e.shared.List()
		if err != nil {
			return ran, err
		}
		var picked []JobID
		for _, qe := range list {
			e.mu.Lock()
			_, known := e.byQueue[qe.ID]
			executor := e.executor
			e.mu.Unlock()
			if known || qe.State != runs.Queued || (qe.Record.Executor != "" && qe.Record.Executor != executor) {
				continue
			}
			if id, err := e.pick(qe.ID, reg); err == nil {
				picked = append(picked, id)
			}
		}
		if len(picked) == 0 {
			return ran, ctx.Err()
		}
		for _, id := range picked {
			st, err := e.Wait(ctx, id)
			if err != nil {
				return ran, err
			}
			if !st.Foreign {
				ran++
			}
		}
	}
}

// RunJob runs queue job qid in this engine, building it with reg, and
// returns how it ended: the entry point an executor calls for one job
// (`itscope job run`). A job another process holds is an error wrapping
// ErrClaimed; a finished one returns its final status at once, unrun.
func (e *Engine) RunJob(ctx context.Context, qid string, reg Registry) (JobStatus, error) {
	if e.shared == nil {
		return JobStatus{}, errors.New("job engine: no run store, so no queue")
	}
	if qe, err := e.shared.Get(qid); err != nil {
		return JobStatus{}, err
	} else if qe.Record.State.Finished() {
		// A task started again after its job ended (a requeue) runs
		// nothing and saves no second run.
		return JobStatus{Name: qe.Spec.Name, Kind: qe.Spec.Kind, Owner: qe.Spec.Owner, State: qe.State,
			QueueID: qid, Executor: qe.Record.Executor, Foreign: true, Err: qe.Reason, RunID: qe.Record.RunID}, nil
	}
	id, err := e.pick(qid, reg)
	if err != nil {
		return JobStatus{}, err
	}
	st, err := e.Wait(ctx, id)
	if err == nil && st.Foreign {
		err = fmt.Errorf("job %s: %w", qid, ErrClaimed)
	}
	return st, err
}

// pick builds queue job qid with reg and queues it to run here. A job that
// cannot be built is claimed and recorded failed, so that it does not wait
// for ever.
func (e *Engine) pick(qid string, reg Registry) (JobID, error) {
	spec, err := e.shared.Spec(qid)
	if err != nil {
		return 0, err
	}
	job, err := reg.Build(spec)
	if err != nil {
		e.mu.Lock()
		executor, executorID := e.executor, e.executorID
		e.mu.Unlock()
		if l, cerr := e.shared.Claim(qid, executor, executorID); cerr == nil {
			l.Finish(runs.Failed, err.Error(), "")
		}
		return 0, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, ErrEngineClosed
	}
	return e.enqueueLocked(job, qid, true), nil
}
