package jobs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"itscope/model/runs"
)

// The queue's folder inside a run store and the files of one job's folder.
// Each file has one writer: spec.json the submitter (once), state.json and
// heartbeat the process holding the job's claim, events.jsonl the process
// running it; cancel any process.
const (
	QueueDir      = ".jobs"
	SpecJSON      = "spec.json"
	StateJSON     = "state.json"
	EventsJSONL   = "events.jsonl"
	HeartbeatFile = "heartbeat"
	CancelFile    = "cancel"
	claimPrefix   = "claim-"
)

// Timing of the queue's liveness rules.
const (
	// HeartbeatInterval is how often the running process touches heartbeat.
	HeartbeatInterval = 5 * time.Second
	// StaleAfter is the heartbeat age past which a job that has no final
	// state is reported failed ("process gone").
	StaleAfter = 30 * time.Second
	// DefaultKeep is how long finished jobs' folders are kept.
	DefaultKeep = 30 * 24 * time.Hour
	// ReasonProcessGone is the reason given for a job whose process died.
	ReasonProcessGone = "process gone"
)

// ExecutorLocal is the executor that runs jobs in goroutines of the
// process that holds them: the CLI, `itscope job run-queued`, a server.
const ExecutorLocal = "local"

// Spec is a fully resolved job: everything needed to run it again with no
// other input. Payload is defined by the job builder registered for Kind.
type Spec struct {
	Kind    runs.Kind       `json:"kind"`
	Name    string          `json:"name"`
	Owner   string          `json:"owner,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Record is the content of state.json: where a job is in its life and who
// runs it.
type Record struct {
	State runs.State `json:"state"`
	Owner string     `json:"owner,omitempty"`
	// Executor names what runs the job ("local", "slurm"); ExecutorID is
	// the executor's own id for it (host:pid, a Slurm array task id).
	Executor   string `json:"executor,omitempty"`
	ExecutorID string `json:"executor_id,omitempty"`
	// Attempt is the claim the record was written under (0 while queued).
	Attempt   int       `json:"attempt,omitempty"`
	Submitted time.Time `json:"submitted"`
	Started   time.Time `json:"started,omitzero"`
	Finished  time.Time `json:"finished,omitzero"`
	Reason    string    `json:"reason,omitempty"`
	RunID     string    `json:"run_id,omitempty"`
}

// Queue is the job queue of one run store. Its methods may be called from
// any number of processes at once.
type Queue struct {
	Dir string // <store>/.jobs
	// Now is the clock used for timestamps and staleness; nil is time.Now.
	Now func() time.Time

	// finished caches the entries of finished jobs, whose files no longer
	// change, so that a display polling List reads only the live jobs.
	mu       sync.Mutex
	finished map[string]Entry
}

// OpenQueue opens (creating if needed) the queue of the run store in
// storeDir.
func OpenQueue(storeDir string) (*Queue, error) {
	dir := filepath.Join(storeDir, QueueDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("job queue %s: %w", dir, err)
	}
	return &Queue{Dir: dir}, nil
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// Path is the folder of job id.
func (q *Queue) Path(id string) string { return filepath.Join(q.Dir, id) }

// ErrNoJob is wrapped by the errors for an id the queue does not hold.
var ErrNoJob = errors.New("no such job")

// jobDir checks that id names a job folder of the queue and returns it.
func (q *Queue) jobDir(id string) (string, error) {
	if id == "" || id[0] == '.' || strings.ContainsAny(id, `/\`) {
		return "", fmt.Errorf("job queue %s: job %q: %w", q.Dir, id, ErrNoJob)
	}
	dir := q.Path(id)
	if _, err := os.Stat(filepath.Join(dir, SpecJSON)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("job queue %s: job %q: %w", q.Dir, id, ErrNoJob)
		}
		return "", err
	}
	return dir, nil
}

// Submit adds spec to the queue as a queued job for executor ("" lets any
// local runner take it) and returns its id. The job's folder appears
// complete or not at all: it is written under a hidden name and renamed.
func (q *Queue) Submit(spec Spec, executor string) (string, error) {
	if spec.Kind == "" {
		return "", fmt.Errorf("job queue %s: submit: the spec has no kind", q.Dir)
	}
	if len(spec.Payload) > 0 && !json.Valid(spec.Payload) {
		return "", fmt.Errorf("job queue %s: submit %s job %q: the payload is not valid JSON", q.Dir, spec.Kind, spec.Name)
	}
	tmp, err := os.MkdirTemp(q.Dir, ".submit-")
	if err != nil {
		return "", fmt.Errorf("job queue %s: %w", q.Dir, err)
	}
	defer os.RemoveAll(tmp) // empty after a successful rename
	if err := writeJSONAtomic(filepath.Join(tmp, SpecJSON), spec); err != nil {
		return "", err
	}
	rec := Record{State: runs.Queued, Owner: spec.Owner, Executor: executor, Submitted: q.now().UTC()}
	if err := writeJSONAtomic(filepath.Join(tmp, StateJSON), rec); err != nil {
		return "", err
	}
	// Renaming a folder onto an existing non-empty one fails, so two
	// submitters that drew the same id (same millisecond and random
	// suffix) cannot both win it; the loser draws again.
	for attempt := 0; ; attempt++ {
		id := runs.NewRunID(string(spec.Kind))
		if err := os.Rename(tmp, q.Path(id)); err == nil {
			return id, nil
		} else if attempt >= 5 {
			return "", fmt.Errorf("job queue %s: %w", q.Dir, err)
		}
	}
}

// Spec reads job id's spec.json.
func (q *Queue) Spec(id string) (Spec, error) {
	var s Spec
	dir, err := q.jobDir(id)
	if err != nil {
		return s, err
	}
	return s, readJSON(filepath.Join(dir, SpecJSON), &s)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}
