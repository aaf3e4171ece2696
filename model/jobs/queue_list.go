package jobs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"itscope/model/runs"
)

// Entry is one job as a reader of the queue sees it.
type Entry struct {
	ID     string
	Spec   Spec
	Record Record // state.json as its writer last wrote it
	// State and Reason are derived: Record's, except that a job with no
	// final state whose holder has shown no life for StaleAfter is failed
	// with ReasonProcessGone, and a claimed job not yet started is running.
	State  runs.State
	Reason string
	// Heartbeat is the holder's last sign of life (zero if never claimed).
	Heartbeat       time.Time
	CancelRequested bool
}

// Finished reports whether the entry's derived state is final.
func (e Entry) Finished() bool { return e.State.Finished() }

// Get reads job id and derives its state.
func (q *Queue) Get(id string) (Entry, error) {
	if _, err := q.jobDir(id); err != nil {
		return Entry{}, err
	}
	return q.entry(id)
}

// List returns every job of the queue, in submission order. Folders
// being submitted or pruned (hidden names) are not jobs; a job whose files
// cannot be read is skipped.
func (q *Queue) List() ([]Entry, error) {
	ents, err := os.ReadDir(q.Dir)
	if err != nil {
		return nil, fmt.Errorf("job queue %s: %w", q.Dir, err)
	}
	var out []Entry
	present := make(map[string]bool, len(ents))
	for _, d := range ents {
		if !d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			continue
		}
		present[d.Name()] = true
		e, err := q.entry(d.Name())
		if err != nil {
			continue
		}
		out = append(out, e)
	}
	q.mu.Lock()
	for id := range q.finished {
		if !present[id] {
			delete(q.finished, id) // pruned by another process
		}
	}
	q.mu.Unlock()
	// Ids sort by submission time to the millisecond; the recorded time
	// orders jobs submitted within one.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Record.Submitted, out[j].Record.Submitted
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func (q *Queue) entry(id string) (Entry, error) {
	q.mu.Lock()
	e, ok := q.finished[id]
	q.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := q.readEntry(id)
	if err == nil && e.Record.State.Finished() {
		q.mu.Lock()
		if q.finished == nil {
			q.finished = map[string]Entry{}
		}
		q.finished[id] = e
		q.mu.Unlock()
	}
	return e, err
}

func (q *Queue) readEntry(id string) (Entry, error) {
	dir := q.Path(id)
	e := Entry{ID: id}
	if err := readJSON(filepath.Join(dir, SpecJSON), &e.Spec); err != nil {
		return e, err
	}
	if err := readJSON(filepath.Join(dir, StateJSON), &e.Record); err != nil {
		return e, err
	}
	e.State, e.Reason = e.Record.State, e.Record.Reason
	_, err := os.Stat(filepath.Join(dir, CancelFile))
	e.CancelRequested = err == nil
	if e.State.Finished() {
		return e, nil
	}
	n, holder, err := lastClaim(dir)
	if err != nil {
		return e, err
	}
	if n == 0 {
		return e, nil
	}
	e.Heartbeat = holder.Time
	if fi, err := os.Stat(filepath.Join(dir, HeartbeatFile)); err == nil && fi.ModTime().After(e.Heartbeat) {
		e.Heartbeat = fi.ModTime()
	}
	if q.now().Sub(e.Heartbeat) > StaleAfter {
		e.State, e.Reason = runs.Failed, ReasonProcessGone
	} else {
		e.State = runs.Running
	}
	return e, nil
}

// Prune removes the folders of jobs that finished more than keep ago (for
// a job whose process is gone: whose last heartbeat is that old), and
// leftovers of interrupted submissions, and returns the pruned ids. Several
// processes may prune at once: a folder is renamed to a hidden name before
// it is removed, and only one rename wins.
func (q *Queue) Prune(keep time.Duration) ([]string, error) {
	list, err := q.List()
	if err != nil {
		return nil, err
	}
	now := q.now()
	var pruned []string
	for _, e := range list {
		end := e.Record.Finished
		if !e.Record.State.Finished() {
			end = e.Heartbeat
		}
		if !e.Finished() || now.Sub(end) <= keep {
			continue
		}
		tmp := filepath.Join(q.Dir, ".prune-"+e.ID)
		if err := os.Rename(q.Path(e.ID), tmp); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // another process pruned it
			}
			return pruned, fmt.Errorf("job queue %s: prune %s: %w", q.Dir, e.ID, err)
		}
		q.mu.Lock()
		delete(q.finished, e.ID)
		q.mu.Unlock()
		if err := os.RemoveAll(tmp); err != nil {
			return pruned, fmt.Errorf("job queue %s: prune %s: %w", q.Dir, e.ID, err)
		}
		pruned = append(pruned, e.ID)
	}
	// A submission or prune that died midway left a hidden folder; one
	// younger than an hour may still be in use.
	ents, err := os.ReadDir(q.Dir)
	if err != nil {
		return pruned, err
	}
	for _, d := range ents {
		if !d.IsDir() || !(strings.HasPrefix(d.Name(), ".submit-") || strings.HasPrefix(d.Name(), ".prune-")) {
			continue
		}
		if fi, err := d.Info(); err == nil && now.Sub(fi.ModTime()) > time.Hour {
			os.RemoveAll(filepath.Join(q.Dir, d.Name()))
		}
	}
	q.pruneSlurmBatches(now)
	return pruned, nil
}
