package jobs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"itscope/model/runs"
)

// ExecutorSlurm is the executor that sends jobs to a Slurm cluster as job
// arrays. Each array task runs `itscope job run --runs STORE JOB` on a node
// that sees the store, and writes the job's state, events and heartbeat
// through the queue like any runner.
const ExecutorSlurm = "slurm"

// SlurmJSON is the file the Slurm executor writes into a job's folder once
// sbatch has accepted the job: which array task runs it and where its log
// is. Its one writer is the submitter.
const SlurmJSON = "slurm.json"

// slurmDir is the folder of the executor's batch scripts, manifests and
// task logs inside the queue; hidden, so List does not take it for a job.
const slurmDir = ".slurm"

// SlurmInfo is a job's slurm.json.
type SlurmInfo struct {
	ArrayJob string `json:"array_job"` // %A
	Task     int    `json:"task"`      // %a
	Log      string `json:"log"`       // the task's output file
	Script   string `json:"script"`
	// After lists the queue jobs this one waits for (afterok), and
	// AfterFailed is its reason when one of them fails.
	After       []string    `json:"after,omitempty"`
	AfterFailed string      `json:"after_failed,omitempty"`
	Config      SlurmConfig `json:"config"`
	Submitted   time.Time   `json:"submitted"`
}

// ExecutorID is the task's Slurm id, %A_%a: what squeue and scancel take.
func (s SlurmInfo) ExecutorID() string { return s.ArrayJob + "_" + strconv.Itoa(s.Task) }

// Slurm is the Slurm executor for the queue of one run store.
type Slurm struct {
	Queue *Queue
	// Store is the run store's absolute path, as the nodes see it.
	Store string
	// Binary is the absolute path of the itscope the tasks run (the same
	// binary as the submitter's, on storage the nodes share).
	Binary string
	Config SlurmConfig
}

// NewSlurm returns the Slurm executor for the run store in storeDir,
// running tasks with this process's own binary.
func NewSlurm(q *Queue, storeDir string, cfg SlurmConfig) (*Slurm, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	store, err := filepath.Abs(storeDir)
	if err != nil {
		return nil, err
	}
	bin, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("slurm: the path of the itscope binary: %w", err)
	}
	if bin, err = filepath.EvalSymlinks(bin); err != nil {
		return nil, fmt.Errorf("slurm: the path of the itscope binary: %w", err)
	}
	return &Slurm{Queue: q, Store: store, Binary: bin, Config: cfg}, nil
}

// SlurmBatch is a set of queued jobs sent to Slurm together: one job array
// per chunk of at most the cluster's MaxArraySize tasks.
type SlurmBatch struct {
	Name string   // the arrays' job name, after "itscope-"
	Jobs []string // queue job ids, submitted with executor "slurm"
	// After are the submissions the batch waits for: its tasks start when
	// every task of them succeeded, and are removed by Slurm if one fails
	// (--dependency=afterok --kill-on-invalid-dep=yes); the jobs then
	// fail with AfterFailed as reason.
	After       []SlurmSubmission
	AfterFailed string
}

// SlurmSubmission is what sbatch accepted for a batch.
type SlurmSubmission struct {
	Arrays []string // Slurm array job ids, one per chunk
	Jobs   []string // the queue jobs, in task order across the arrays
}

// slurmChunk is one sbatch call: its script, manifest and command line.
type slurmChunk struct {
	script, manifest string
	jobs             []string
	args             []string // sbatch's arguments before the script
	text             string   // the script
}

var maxArraySizeLine = regexp.MustCompile(`(?m)^MaxArraySize\s*=\s*(\d+)`)

// maxArraySize asks the cluster for MaxArraySize: array task indices run
// from 0 to MaxArraySize-1.
func maxArraySize() (int, error) {
	out, err := runSlurm("scontrol", "show", "config")
	if err != nil {
		return 0, err
	}
	m := maxArraySizeLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("slurm: `scontrol show config` has no MaxArraySize line")
	}
	n, _ := strconv.Atoi(string(m[1]))
	if n < 1 {
		return 0, fmt.Errorf("slurm: the cluster does not allow job arrays (MaxArraySize = %d)", n)
	}
	return n, nil
}

// plan splits b into chunks of at most size tasks and writes nothing.
func (s *Slurm) plan(b SlurmBatch, size int, batchDir string) []slurmChunk {
	var chunks []slurmChunk
	var prev string
	for start, i := 0, 0; start < len(b.Jobs); start, i = start+size, i+1 {
		jobs := b.Jobs[start:min(start+size, len(b.Jobs))]
		c := slurmChunk{jobs: jobs,
			script:   filepath.Join(batchDir, fmt.Sprintf("chunk%d.sh", i)),
			manifest: filepath.Join(batchDir, fmt.Sprintf("chunk%d.jobs", i))}
		array := fmt.Sprintf("0-%d", len(jobs)-1)
		if s.Config.MaxRunning > 0 {
			array += "%" + strconv.Itoa(s.Config.MaxRunning)
		}
		c.args = append([]string{"--parsable"}, s.Config.Args...)
		var deps []string
		for _, a := range b.After {
			deps = append(deps, a.Arrays...)
		}
		dep := ""
		if len(deps) > 0 {
			dep = "afterok:" + strings.Join(deps, ":")
		}
		// The throttle holds across chunks: a chunk starts once the one
		// before it has ended.
		if s.Config.MaxRunning > 0 && i > 0 {
			dep = strings.TrimPrefix(dep+",afterany:"+prev, ",")
		}
		if dep != "" {
			c.args = append(c.args, "--dependency="+dep, "--kill-on-invalid-dep=yes")
		}
		var w strings.Builder
		w.WriteString("#!/bin/bash\n")
		fmt.Fprintf(&w, "# itscope batch %q, chunk %d: %d tasks; task i runs the job on line i+1 of the manifest\n", b.Name, i, len(jobs))
		for _, opt := range append([]string{
			"--job-name=itscope-" + shellSafe(b.Name),
			"--array=" + array,
			"--output=" + filepath.Join(batchDir, "%A_%a.out"),
			// TERM 60 s before the time limit: the task stops at its
			// next batch and saves what a cancel saves.
			"--signal=B:TERM@60",
		}, s.Config.sbatchOptions()...) {
			fmt.Fprintf(&w, "#SBATCH %s\n", opt)
		}
		w.WriteString("set -eu\n")
		fmt.Fprintf(&w, "job=$(sed -n \"$((SLURM_ARRAY_TASK_ID + 1))p\" %s)\n", shellQuote(c.manifest))
		fmt.Fprintf(&w, "exec %s job run --runs %s \"$job\"\n", shellQuote(s.Binary), shellQuote(s.Store))
		c.text = w.String()
		chunks = append(chunks, c)
		prev = "<chunk" + strconv.Itoa(i) + ">"
	}
	return chunks
}

// DryRun returns the sbatch command lines and batch scripts that Submit
// would use for b, writing nothing. A chunk that waits for the one before
// it names it <chunkN>, and the manifests list b's job ids.
func (s *Slurm) DryRun(b SlurmBatch) (string, error) {
	if len(b.Jobs) == 0 {
		return "", fmt.Errorf("slurm: batch %q has no jobs", b.Name)
	}
	size, err := maxArraySize()
	if err != nil {
		return "", err
	}
	var w strings.Builder
	for _, c := range s.plan(b, size, filepath.Join(s.Queue.Dir, slurmDir, "<batch>")) {
		fmt.Fprintf(&w, "# sbatch %s %s\n# %s:\n", strings.Join(c.args, " "), c.script, c.manifest)
		for _, id := range c.jobs {
			fmt.Fprintf(&w, "#   %s\n", id)
		}
		w.WriteString(c.text)
	}
	return w.String(), nil
}

// Submit sends b's jobs to Slurm, one job array per chunk, and records in
// each job's slurm.json which task runs it and where its log is. Jobs of a
// chunk that sbatch refused are recorded failed, with sbatch's reason, and
// the error names the option to change.
func (s *Slurm) Submit(b SlurmBatch) (SlurmSubmission, error) {
	var sub SlurmSubmission
	if len(b.Jobs) == 0 {
		return sub, fmt.Errorf("slurm: batch %q has no jobs", b.Name)
	}
	size, err := maxArraySize()
	if err == nil {
		err = s.checkTaskVisible()
	}
	if err != nil {
		s.FailJobs(b.Jobs, err.Error())
		return sub, err
	}
	batchDir := filepath.Join(s.Queue.Dir, slurmDir, runs.NewRunID("batch"))
	if err := os.MkdirAll(batchDir, 0o755); err != nil {
		return sub, fmt.Errorf("slurm: %w", err)
	}
	var afterJobs []string
	for _, a := range b.After {
		afterJobs = append(afterJobs, a.Jobs...)
	}
	chunks := s.plan(b, size, batchDir)
	for i, c := range chunks {
		if i > 0 {
			for j, a := range c.args {
				c.args[j] = strings.ReplaceAll(a, "<chunk"+strconv.Itoa(i-1)+">", sub.Arrays[i-1])
			}
		}
		array, err := s.sbatch(c)
		if err != nil {
			var rest []string
			for _, c := range chunks[i:] {
				rest = append(rest, c.jobs...)
			}
			s.FailJobs(rest, err.Error())
			return sub, err
		}
		sub.Arrays = append(sub.Arrays, array)
		for task, id := range c.jobs {
			info := SlurmInfo{ArrayJob: array, Task: task, Log: filepath.Join(batchDir, array+"_"+strconv.Itoa(task)+".out"),
				Script: c.script, After: afterJobs, AfterFailed: b.AfterFailed, Config: s.Config, Submitted: s.Queue.now().UTC()}
			if err := writeJSONAtomic(filepath.Join(s.Queue.Path(id), SlurmJSON), info); err != nil {
				return sub, fmt.Errorf("slurm: job %s (task %s): %w", id, info.ExecutorID(), err)
			}
			sub.Jobs = append(sub.Jobs, id)
		}
	}
	return sub, nil
}

// checkTaskVisible refuses a store or binary the nodes could not use:
// both must be absolute paths that exist (docs/cluster.md says they must
// be on storage the nodes share).
func (s *Slurm) checkTaskVisible() error {
	for _, p := range []struct{ what, path string }{{"run store", s.Store}, {"itscope binary", s.Binary}} {
		if !filepath.IsAbs(p.path) {
			return fmt.Errorf("slurm: the %s path %q is not absolute; the nodes need an absolute path on shared storage", p.what, p.path)
		}
		if _, err := os.Stat(p.path); err != nil {
			return fmt.Errorf("slurm: the %s: %w", p.what, err)
		}
	}
	return nil
}

// sbatch writes c's manifest and script and submits it, returning the
// array's job id.
func (s *Slurm) sbatch(c slurmChunk) (string, error) {
	for path, text := range map[string]string{c.manifest: strings.Join(c.jobs, "\n") + "\n", c.script: c.text} {
		if err := runs.WriteFileAtomic(path, func(w io.Writer) error {
			_, err := io.WriteString(w, text)
			return err
		}); err != nil {
			return "", fmt.Errorf("slurm: %w", err)
		}
	}
	out, err := runSlurm("sbatch", append(c.args, c.script)...)
	if err != nil {
		return "", s.explainSbatch(err)
	}
	// --parsable prints "ID" or "ID;CLUSTER".
	id, _, _ := strings.Cut(strings.TrimSpace(string(out)), ";")
	if _, perr := strconv.ParseUint(id, 10, 64); perr != nil {
		return "", fmt.Errorf("slurm: sbatch %s: want a job id, found %q", c.script, bytes.TrimSpace(out))
	}
	return id, nil
}

// sbatchRefusals map the start of sbatch's reasons to the option that
// caused them.
var sbatchRefusals = []struct{ says, flag, key string }{
	{"invalid partition", "partition", "partition"},
	{"invalid account", "account", "account"},
	{"invalid qos", "qos", "qos"},
	{"invalid feature specification", "constraint", "constraint"},
	{"requested time limit is invalid", "time", "time"},
	{"memory required by task is not available", "mem", "mem"},
	{"invalid generic resource", "gpus", "gpus"},
}

// explainSbatch turns sbatch's refusal into an error that names the
// option to change and its value.
func (s *Slurm) explainSbatch(err error) error {
	msg := strings.ToLower(err.Error())
	values := map[string]string{"partition": s.Config.Partition, "account": s.Config.Account, "qos": s.Config.QOS,
		"constraint": s.Config.Constraint, "time": s.Config.Time, "mem": s.Config.Mem, "gpus": s.Config.GPUs}
	for _, r := range sbatchRefusals {
		if strings.Contains(msg, r.says) {
			v := values[r.key]
			if v == "" {
				return fmt.Errorf("%w (the cluster's default %s was used: set one with --slurm-%s or %q in the config file)", err, r.key, r.flag, r.key)
			}
			return fmt.Errorf("%w (%s %q, from --slurm-%s or %q in the config file)", err, r.key, v, r.flag, r.key)
		}
	}
	return err
}

// FailJobs records queued jobs that will never reach Slurm as failed, with
// reason.
func (s *Slurm) FailJobs(ids []string, reason string) {
	for _, id := range ids {
		if l, err := s.Queue.Claim(id, ExecutorSlurm, ""); err == nil {
			l.Finish(runs.Failed, reason, "")
		}
	}
}

// pruneSlurmBatches removes the Slurm executor's batch folders (scripts,
// manifests, task logs) whose jobs have all been pruned; a folder younger
// than an hour may be a submission under way.
func (q *Queue) pruneSlurmBatches(now time.Time) {
	dir := filepath.Join(q.Dir, slurmDir)
	batches, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, b := range batches {
		fi, err := b.Info()
		if err != nil || !b.IsDir() || now.Sub(fi.ModTime()) <= time.Hour {
			continue
		}
		manifests, _ := filepath.Glob(filepath.Join(dir, b.Name(), "*.jobs"))
		live := false
		for _, m := range manifests {
			text, _ := os.ReadFile(m)
			for _, id := range strings.Fields(string(text)) {
				if _, err := os.Stat(q.Path(id)); err == nil {
					live = true
				}
			}
		}
		if !live {
			os.RemoveAll(filepath.Join(dir, b.Name()))
		}
	}
}

// runSlurm runs one of Slurm's commands and returns its output; a failure
// is an error with the command line and what the command said.
func runSlurm(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		said := strings.TrimSpace(stderr.String())
		if said == "" {
			said = err.Error()
		}
		return out, &slurmCommandError{cmd: name + " " + strings.Join(args, " "), said: said, exec: err}
	}
	return out, nil
}

// slurmCommandError is a Slurm command that failed.
type slurmCommandError struct {
	cmd, said string
	exec      error
}

func (e *slurmCommandError) Error() string { return "slurm: " + e.cmd + ": " + e.said }
func (e *slurmCommandError) Unwrap() error { return e.exec }

// unknownToSlurm reports whether err is Slurm saying it does not know a
// job id (it forgets finished jobs after MinJobAge).
func unknownToSlurm(err error) bool {
	var ce *slurmCommandError
	return errors.As(err, &ce) && strings.Contains(ce.said, "Invalid job id")
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// shellSafe keeps the characters of a job name that need no quoting.
func shellSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
