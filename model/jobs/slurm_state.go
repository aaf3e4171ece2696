package jobs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"itscope/model/runs"
)

// slurmOutcome is what a Slurm task state means for the job it runs.
type slurmOutcome struct {
	live   bool       // the task will still run or is running: the queue decides
	state  runs.State // for a final task: the job's final state
	reason string     // and why
}

// slurmOutcomeOf maps a task's Slurm state (JobState, or squeue's %T) to
// the job's: every state squeue and scontrol report. With requeue, a
// preempted task or one whose node failed comes back as PENDING, so those
// states are not final.
func slurmOutcomeOf(state, reason string, requeue bool) slurmOutcome {
	failed := func(why string) slurmOutcome { return slurmOutcome{state: runs.Failed, reason: why} }
	switch state {
	case "PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED", "REQUEUED",
		"REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD":
		return slurmOutcome{live: true}
	case "PREEMPTED", "NODE_FAIL":
		if requeue {
			return slurmOutcome{live: true}
		}
		if state == "PREEMPTED" {
			return failed("preempted by Slurm (submit with --requeue to have it requeued)")
		}
		return failed("its node failed (NODE_FAIL; submit with --requeue to have it requeued)")
	case "COMPLETED":
		return failed("the Slurm task ended (COMPLETED) without recording an end")
	case "CANCELLED":
		if reason == "DependencyNeverSatisfied" {
			return failed("a job it waits for failed")
		}
		return slurmOutcome{state: runs.Cancelled, reason: "cancelled in Slurm (scancel)"}
	case "FAILED":
		return failed("the Slurm task failed (FAILED)")
	case "TIMEOUT":
		return failed("time limit reached (TIMEOUT; raise --slurm-time)")
	case "OUT_OF_MEMORY":
		return failed("out of memory (OUT_OF_MEMORY; raise --slurm-mem)")
	case "BOOT_FAIL":
		return failed("its node failed to boot (BOOT_FAIL)")
	case "DEADLINE":
		return failed("its deadline passed (DEADLINE)")
	case "":
		return failed(ReasonLostByScheduler)
	}
	return failed("the Slurm task ended in state " + state)
}

// ReasonLostByScheduler is the reason of a Slurm job whose task Slurm no
// longer knows while its queue entry has no final state.
const ReasonLostByScheduler = "lost by the scheduler"

// SlurmTask is one array task as Slurm reports it; State is "" when Slurm
// no longer knows it.
type SlurmTask struct {
	State, Reason, ExitCode string
}

// SlurmView is a Slurm job of the queue: its slurm.json and its task.
type SlurmView struct {
	Info SlurmInfo
	Task SlurmTask
}

// ReadSlurmInfo reads job id's slurm.json; ok is false for a job the Slurm
// executor did not submit (or not yet).
func (q *Queue) ReadSlurmInfo(id string) (info SlurmInfo, ok bool, err error) {
	err = readJSON(filepath.Join(q.Path(id), SlurmJSON), &info)
	if errors.Is(err, fs.ErrNotExist) {
		return info, false, nil
	}
	return info, err == nil, err
}

// Sync asks Slurm about the tasks of the queue's unfinished Slurm jobs and
// records the end of each job whose task ended without recording one (it
// was cancelled before it started, killed, lost): the queue files stay the
// truth, Slurm fills in what they cannot say. squeue gives the queued and
// running tasks, `scontrol show job` the recently finished ones; a task
// neither knows is lost by the scheduler. It returns every unfinished
// Slurm job's view, by job id. Any number of processes may Sync at once:
// an end is recorded under a claim, which one of them wins.
func (q *Queue) Sync(list []Entry) (map[string]SlurmView, error) {
	views := map[string]SlurmView{}
	byArray := map[string][]string{}
	for _, e := range list {
		if e.Record.State.Finished() || e.Record.Executor != ExecutorSlurm {
			continue
		}
		info, ok, err := q.ReadSlurmInfo(e.ID)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		views[e.ID] = SlurmView{Info: info}
		byArray[info.ArrayJob] = append(byArray[info.ArrayJob], e.ID)
	}
	if len(views) == 0 {
		return views, nil
	}
	// Slurm is asked before the queue files are read again: a task that
	// Slurm reports ended has exited, so whatever its process recorded
	// is on disk by then.
	arrays := make([]string, 0, len(byArray))
	for a := range byArray {
		arrays = append(arrays, a)
	}
	sort.Strings(arrays)
	tasks, err := squeueTasks(arrays)
	if err != nil {
		return nil, err
	}
	for _, a := range arrays {
		missing := false
		for _, id := range byArray[a] {
			if _, ok := tasks[views[id].Info.ExecutorID()]; !ok {
				missing = true
			}
		}
		if !missing {
			continue
		}
		if err := scontrolTasks(a, tasks); err != nil {
			return nil, err
		}
	}
	for id, v := range views {
		v.Task = tasks[v.Info.ExecutorID()]
		views[id] = v
		out := slurmOutcomeOf(v.Task.State, v.Task.Reason, v.Info.Config.Requeue)
		if out.live {
			continue
		}
		reason := out.reason
		switch {
		case v.Task.State == "CANCELLED" && v.Task.Reason == "DependencyNeverSatisfied" && v.Info.AfterFailed != "":
			reason = v.Info.AfterFailed
		default:
			reason += exitCodeText(v.Task.ExitCode)
		}
		if _, err := os.Stat(v.Info.Log); err == nil {
			reason += "; log " + v.Info.Log
		}
		// The claim is the task's own, so it is granted even while the
		// task's last heartbeat is fresh; a job another process runs,
		// or that has ended meanwhile, is left alone.
		l, err := q.Claim(id, ExecutorSlurm, v.Info.ExecutorID())
		if errors.Is(err, ErrClaimed) || errors.Is(err, ErrFinished) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := l.Finish(out.state, reason, ""); err != nil && !errors.Is(err, ErrLostClaim) {
			return nil, err
		}
	}
	return views, nil
}

// exitCodeText explains Slurm's ExitCode CODE:SIGNAL.
func exitCodeText(exit string) string {
	code, sig, _ := strings.Cut(exit, ":")
	switch {
	case sig != "" && sig != "0":
		return ", killed by signal " + sig
	case code != "" && code != "0":
		return ", exit code " + code
	}
	return ""
}

// squeueTasks asks squeue for the queued and running tasks of arrays, one
// line per task (-r).
func squeueTasks(arrays []string) (map[string]SlurmTask, error) {
	tasks := map[string]SlurmTask{}
	out, err := runSlurm("squeue", "-r", "-h", "-o", "%i|%T|%r", "-j", strings.Join(arrays, ","))
	if unknownToSlurm(err) {
		return tasks, nil // none of them is queued or running
	}
	if err != nil {
		return nil, err
	}
	for n, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" {
			continue
		}
		f := strings.Split(line, "|")
		if len(f) != 3 || !strings.Contains(f[0], "_") {
			return nil, fmt.Errorf("slurm: squeue output line %d %q: want ARRAY_TASK|STATE|REASON", n+1, line)
		}
		tasks[f[0]] = SlurmTask{State: f[1], Reason: f[2]}
	}
	return tasks, nil
}

var scontrolField = regexp.MustCompile(`(\w+)=(\S*)`)

// scontrolTasks adds what `scontrol show job -o ARRAY` says of the tasks
// of array that tasks lacks: one record per task, or one record for a
// range of tasks that never started (ArrayTaskId=0-3%2). An array Slurm
// has forgotten adds nothing.
func scontrolTasks(array string, tasks map[string]SlurmTask) error {
	out, err := runSlurm("scontrol", "show", "job", "-o", array)
	if unknownToSlurm(err) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := map[string]string{}
		for _, m := range scontrolField.FindAllStringSubmatch(line, -1) {
			if _, seen := f[m[1]]; !seen {
				f[m[1]] = m[2]
			}
		}
		if f["ArrayJobId"] != array || f["JobState"] == "" {
			continue
		}
		ids, err := expandTaskIDs(f["ArrayTaskId"])
		if err != nil {
			return fmt.Errorf("slurm: scontrol show job %s: %w", array, err)
		}
		for _, t := range ids {
			key := array + "_" + strconv.Itoa(t)
			if _, ok := tasks[key]; !ok {
				tasks[key] = SlurmTask{State: f["JobState"], Reason: f["Reason"], ExitCode: f["ExitCode"]}
			}
		}
	}
	return nil
}

// maxTaskRange bounds a task range read from scontrol, so a forged
// "0-99999999999" cannot make a huge list.
const maxTaskRange = 1 << 20

// expandTaskIDs expands Slurm's task id list: 3, 0-7, 0-7%2, 1-9:2, and
// comma-separated lists of those.
func expandTaskIDs(s string) ([]int, error) {
	s, _, _ = strings.Cut(s, "%")
	var out []int
	for _, part := range strings.Split(s, ",") {
		rng, stepS, hasStep := strings.Cut(part, ":")
		loS, hiS, isRange := strings.Cut(rng, "-")
		lo, err1 := strconv.Atoi(loS)
		hi, err2 := lo, error(nil)
		if isRange {
			hi, err2 = strconv.Atoi(hiS)
		}
		step, err3 := 1, error(nil)
		if hasStep {
			step, err3 = strconv.Atoi(stepS)
		}
		if err1 != nil || err2 != nil || err3 != nil || lo < 0 || hi < lo || step < 1 || hi-lo > maxTaskRange {
			return nil, fmt.Errorf("ArrayTaskId %q: want N, N-M, N-M:STEP or a comma list of them", s)
		}
		for t := lo; t <= hi; t += step {
			out = append(out, t)
		}
	}
	return out, nil
}

// CancelSlurm cancels job id like Cancel and, for a job the Slurm
// executor submitted, removes its task from Slurm (scancel): a queued task
// never starts, a running one gets TERM, stops at its next batch and
// records the cancel. It reports whether the job's state was final on
// return.
func (q *Queue) CancelSlurm(id, by string) (bool, error) {
	final, err := q.Cancel(id, by)
	if err != nil {
		return final, err
	}
	info, ok, ierr := q.ReadSlurmInfo(id)
	if ierr != nil || !ok {
		return final, ierr
	}
	if _, err := runSlurm("scancel", info.ExecutorID()); err != nil && !unknownToSlurm(err) {
		return final, err
	}
	return final, nil
}

// Retry resubmits failed or cancelled jobs: each as a new job with the
// same spec, sent to Slurm with the options it was first sent with (a job
// first run locally gets s's), and returns the new ids in the order of
// ids. A job retried together with a job it waited for (a sweep's fits
// with its extraction) waits for that job's new submission.
func (s *Slurm) Retry(ids []string) ([]string, error) {
	q := s.Queue
	newID := map[string]string{}
	type group struct {
		cfg        SlurmConfig
		after      []string
		afterWhy   string
		old, fresh []string
	}
	var groups []*group
	for _, id := range ids {
		e, err := q.Get(id)
		if err != nil {
			return nil, err
		}
		if e.State != runs.Failed && e.State != runs.Cancelled {
			return nil, fmt.Errorf("job %s is %s: only failed or cancelled jobs can be retried", id, e.State)
		}
		info, ok, err := q.ReadSlurmInfo(id)
		if err != nil {
			return nil, err
		}
		cfg := s.Config
		if ok {
			cfg = info.Config
		}
		fresh, err := q.Submit(e.Spec, ExecutorSlurm)
		if err != nil {
			return nil, err
		}
		newID[id] = fresh
		var g *group
		for _, h := range groups {
			if fmt.Sprint(h.cfg) == fmt.Sprint(cfg) && fmt.Sprint(h.after) == fmt.Sprint(info.After) {
				g = h
			}
		}
		if g == nil {
			g = &group{cfg: cfg, after: info.After, afterWhy: info.AfterFailed}
			groups = append(groups, g)
		}
		g.old, g.fresh = append(g.old, id), append(g.fresh, fresh)
	}
	// Groups that wait for nothing retried here go first.
	sort.SliceStable(groups, func(i, j int) bool {
		return !retriedAfter(groups[i].after, newID) && retriedAfter(groups[j].after, newID)
	})
	subs := map[string]SlurmSubmission{}
	for _, g := range groups {
		b := SlurmBatch{Name: "retry", Jobs: g.fresh, AfterFailed: g.afterWhy}
		seen := map[string]bool{}
		for _, a := range g.after {
			if sub, ok := subs[newID[a]]; ok && !seen[sub.Arrays[0]] {
				seen[sub.Arrays[0]] = true
				b.After = append(b.After, sub)
			}
		}
		x := *s
		x.Config = g.cfg
		sub, err := x.Submit(b)
		if err != nil {
			return nil, err
		}
		for _, id := range g.fresh {
			subs[id] = sub
		}
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = newID[id]
	}
	return out, nil
}

// retriedAfter reports whether a job waits for one retried with it.
func retriedAfter(after []string, newID map[string]string) bool {
	for _, a := range after {
		if _, ok := newID[a]; ok {
			return true
		}
	}
	return false
}
