package jobs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"itscope/model/runs"
)

// Errors of Claim and Lease.Finish.
var (
	ErrClaimed   = errors.New("job is claimed by another process")
	ErrFinished  = errors.New("job has already finished")
	ErrLostClaim = errors.New("job was taken over by another process")
)

// LocalExecutorID is this process's id as the local executor: host:pid.
func LocalExecutorID() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// claimHolder is the content of a claim file.
type claimHolder struct {
	Executor   string    `json:"executor"`
	ExecutorID string    `json:"executor_id"`
	Time       time.Time `json:"time"`
}

// lastClaim returns the highest claim attempt in dir (0 if none) and its
// holder.
func lastClaim(dir string) (int, claimHolder, error) {
	var h claimHolder
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, h, err
	}
	n := 0
	for _, e := range ents {
		if a, ok := strings.CutPrefix(e.Name(), claimPrefix); ok {
			if k, err := strconv.Atoi(a); err == nil && k > n {
				n = k
			}
		}
	}
	if n > 0 {
		// A claim file is complete when it appears (it is linked into
		// place), so an unreadable one is an error worth reporting.
		if err := readJSON(claimPath(dir, n), &h); err != nil {
			return n, h, err
		}
	}
	return n, h, nil
}

func claimPath(dir string, attempt int) string {
	return filepath.Join(dir, claimPrefix+strconv.Itoa(attempt))
}

// linkExclusive makes target a second name of the complete file tmp unless
// target exists, and reports whether it did. A hard link is created
// atomically by the file server, on a local disk and on NFS alike; on NFS a
// lost reply can make a retried link fail with EEXIST although it worked, so
// the link count of tmp decides (the method open(2) gives for O_EXCL on NFS).
func linkExclusive(tmp, target string) (bool, error) {
	err := os.Link(tmp, target)
	if err == nil {
		return true, nil
	}
	if fi, serr := os.Stat(tmp); serr == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink == 2 {
			return true, nil
		}
	}
	if errors.Is(err, fs.ErrExist) {
		return false, nil
	}
	return false, err
}

// Claim makes this process the one that runs job id, for executor with the
// executor's own id for the job. Exactly one of any number of processes
// claiming the same job at once gets it: the others get ErrClaimed. A job
// already claimed can be claimed again (a new attempt) only when the
// holder's heartbeat is stale or the holder had the same executor id (a
// Slurm task requeued by the scheduler is the same task); a finished job
// gives ErrFinished.
func (q *Queue) Claim(id, executor, executorID string) (*Lease, error) {
	dir, rec, err := q.unfinished(id)
	if err != nil {
		return nil, err
	}
	n, holder, err := lastClaim(dir)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	if n > 0 {
		// A local executor's id names a process, which may hold several
		// claims at once; only a task id (Slurm's) names one job's task.
		sameTask := executorID != "" && executor != ExecutorLocal && holder.Executor == executor && holder.ExecutorID == executorID
		if !sameTask && !q.stale(dir, holder.Time) {
			return nil, fmt.Errorf("job %s: held by %s %s: %w", id, holder.Executor, holder.ExecutorID, ErrClaimed)
		}
	}
	now := q.now().UTC()
	b, err := jsonLine(claimHolder{Executor: executor, ExecutorID: executorID, Time: now})
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(dir, ".claim-tmp-")
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, werr := f.Write(b)
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("job %s: %w", id, werr)
	}
	ok, err := linkExclusive(tmp, claimPath(dir, n+1))
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	if !ok {
		return nil, fmt.Errorf("job %s: %w", id, ErrClaimed)
	}
	l := &Lease{q: q, id: id, dir: dir, attempt: n + 1, rec: rec, executor: executor, executorID: executorID,
		cancelled: make(chan struct{})}
	l.touch()
	return l, nil
}

// stale reports whether a job folder's holder has shown no life for
// StaleAfter: its heartbeat, or the claim time when it has none yet.
func (q *Queue) stale(dir string, claimed time.Time) bool {
	last := claimed
	if fi, err := os.Stat(filepath.Join(dir, HeartbeatFile)); err == nil && fi.ModTime().After(last) {
		last = fi.ModTime()
	}
	return q.now().Sub(last) > StaleAfter
}

// Lease is a claimed job: the right to write its state, heartbeat and
// events. Start it, run the job while watching Cancelled, then Finish.
type Lease struct {
	q                    *Queue
	id, dir              string
	attempt              int
	rec                  Record
	executor, executorID string

	events    *EventWriter
	cancelled chan struct{}
	cancelOne sync.Once
	stop      chan struct{}
	watching  sync.WaitGroup
}

// CancelRequested reports whether some process has asked the job to stop.
func (l *Lease) CancelRequested() bool {
	_, err := os.Stat(filepath.Join(l.dir, CancelFile))
	return err == nil
}

// Cancelled is closed once the cancel file appears or another process
// takes the job over; Start watches for both every second.
func (l *Lease) Cancelled() <-chan struct{} { return l.cancelled }

// Events is the job's event log, open from Start to Finish.
func (l *Lease) Events() *EventWriter { return l.events }

// Start records the job as running, opens its event log and starts
// touching the heartbeat every HeartbeatInterval and watching for a cancel.
func (l *Lease) Start() error {
	l.rec.State = runs.Running
	l.rec.Executor, l.rec.ExecutorID, l.rec.Attempt = l.executor, l.executorID, l.attempt
	l.rec.Started = l.q.now().UTC()
	l.rec.Finished, l.rec.Reason, l.rec.RunID = time.Time{}, "", ""
	if err := writeJSONAtomic(filepath.Join(l.dir, StateJSON), l.rec); err != nil {
		return err
	}
	ev, err := openEventWriter(filepath.Join(l.dir, EventsJSONL))
	if err != nil {
		return err
	}
	l.events = ev
	l.stop = make(chan struct{})
	l.watching.Add(1)
	go l.watch()
	return nil
}

// watchTick is how often a running job checks for a cancel and flushes
// buffered events.
const watchTick = time.Second

func (l *Lease) watch() {
	defer l.watching.Done()
	t := time.NewTicker(watchTick)
	defer t.Stop()
	lastBeat := time.Now()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		lost := l.Lost()
		if lost {
			// The events log is the new holder's from now on.
			l.events.abandon(ErrLostClaim)
		}
		if lost || l.CancelRequested() {
			l.cancelOne.Do(func() { close(l.cancelled) })
		}
		if time.Since(lastBeat) >= HeartbeatInterval-watchTick/2 {
			l.touch()
			lastBeat = time.Now()
		}
		l.events.flushIfDue()
	}
}

// touch sets the heartbeat's time to now, creating it if needed.
func (l *Lease) touch() {
	path := filepath.Join(l.dir, HeartbeatFile)
	now := l.q.now()
	if err := os.Chtimes(path, now, now); err != nil {
		if f, err := os.Create(path); err == nil {
			f.Close()
			os.Chtimes(path, now, now)
		}
	}
}

// Lost reports whether another process has claimed the job since: its
// work is then no longer this lease's to record.
func (l *Lease) Lost() bool {
	_, err := os.Stat(claimPath(l.dir, l.attempt+1))
	return err == nil
}

// Finish records how the job ended (done, failed or cancelled), why, and
// the run it saved, after closing its event log. A lease taken over by
// another process writes nothing and returns ErrLostClaim.
func (l *Lease) Finish(state runs.State, reason, runID string) error {
	if !state.Finished() {
		return fmt.Errorf("job %s: finish with state %q: want done, failed or cancelled", l.id, state)
	}
	var evErr error
	if l.stop != nil {
		close(l.stop)
		l.watching.Wait()
		l.stop = nil
		evErr = l.events.Close()
	}
	if l.Lost() {
		return fmt.Errorf("job %s: %w", l.id, ErrLostClaim)
	}
	l.rec.State, l.rec.Reason, l.rec.RunID = state, reason, runID
	l.rec.Attempt = l.attempt
	l.rec.Finished = l.q.now().UTC()
	if err := writeJSONAtomic(filepath.Join(l.dir, StateJSON), l.rec); err != nil {
		return err
	}
	return evErr
}

// Cancel asks job id to stop: it leaves a cancel file that the running
// process notices within a second, and a job that no process holds is
// claimed and recorded as cancelled at once (or, when the process that held
// it is gone, as failed). It reports whether the job's state was final on
// return; cancelling a finished job is ErrFinished.
func (q *Queue) Cancel(id, by string) (bool, error) {
	dir, rec, err := q.unfinished(id)
	if err != nil {
		return errors.Is(err, ErrFinished), err
	}
	note := claimHolder{Executor: by, ExecutorID: LocalExecutorID(), Time: q.now().UTC()}
	if err := writeJSONAtomic(filepath.Join(dir, CancelFile), note); err != nil {
		return false, err
	}
	l, err := q.Claim(id, "cancel", LocalExecutorID())
	switch {
	case errors.Is(err, ErrClaimed):
		return false, nil // the holder stops within a second
	case errors.Is(err, ErrFinished):
		return true, nil // it ended meanwhile
	case err != nil:
		return false, err
	}
	if rec.State == runs.Queued {
		return true, l.Finish(runs.Cancelled, "cancelled before it started by "+by, "")
	}
	return true, l.Finish(runs.Failed, ReasonProcessGone, "")
}

// unfinished is the folder and record of job id; a job that has ended is an
// error wrapping ErrFinished.
func (q *Queue) unfinished(id string) (dir string, rec Record, err error) {
	if dir, err = q.jobDir(id); err != nil {
		return "", rec, err
	}
	if err := readJSON(filepath.Join(dir, StateJSON), &rec); err != nil {
		return "", rec, err
	}
	if rec.State.Finished() {
		return "", rec, fmt.Errorf("job %s: %s: %w", id, rec.State, ErrFinished)
	}
	return dir, rec, nil
}
