package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/readout"
	"itscope/model/runs"
	"itscope/model/train"
)

// jobFlags are the flags of the commands that submit jobs to the run
// store's queue (fit, sweep, train, cotrain, grid).
type jobFlags struct {
	detach bool
	keep   time.Duration
	slurm  slurmFlags
}

func addJobFlags(fs *flag.FlagSet, j *jobFlags) {
	fs.BoolVar(&j.detach, "detach", false, "submit the jobs to the run store's queue and return; `itscope job run-queued` or a server runs them")
	addKeepFlag(fs, &j.keep)
	j.slurm.add(fs)
}

// queued reports whether the command only submits its jobs (--detach, or
// an executor other than this process) rather than running them.
func (j *jobFlags) queued() bool {
	return j.detach || j.slurm.executor != jobs.ExecutorLocal || j.slurm.dryRun
}

func addKeepFlag(fs *flag.FlagSet, keep *time.Duration) {
	fs.DurationVar(keep, "jobs-keep", jobs.DefaultKeep, "finished jobs older than this (`D`) are pruned from the queue")
}

// openQueue opens the queue of store and prunes its finished jobs older
// than keep; pruning is housekeeping, so its failure is not the command's.
func openQueue(store *runs.Store, keep time.Duration) (*jobs.Queue, error) {
	q, err := jobs.OpenQueue(store.Dir)
	if err != nil {
		return nil, err
	}
	q.Prune(keep)
	return q, nil
}

// jobCommand holds the flags of a command that makes runs through jobs
// (fit, sweep, train, cotrain, grid): the common ones, the queue's and
// --data.
type jobCommand struct {
	commonFlags
	jobs jobFlags
	data string
}

func addJobCommand(fs *flag.FlagSet, c *jobCommand) {
	addCommon(fs, &c.commonFlags)
	addJobFlags(fs, &c.jobs)
	fs.StringVar(&c.data, "data", "demo", dataUsage)
}

// submit marks js as the local user's and, when the command only queues
// them (--detach, or a cluster executor), submits them to store's queue:
// queued is then true and status the command's exit status. Otherwise the
// command runs them itself.
func (c *jobCommand) submit(name string, store *runs.Store, js []jobs.Job, stdout, stderr io.Writer) (status int, queued bool) {
	for i := range js {
		js[i].Owner = localOwner()
	}
	if !c.jobs.queued() {
		return 0, false
	}
	return submitDetached(name, store, c.jobs, js, c.json, stdout, stderr), true
}

// runOne submits job or runs it in this process (runOneJob).
func (c *jobCommand) runOne(name string, store *runs.Store, job jobs.Job, stdout, stderr io.Writer) int {
	js := []jobs.Job{job}
	if status, queued := c.submit(name, store, js, stdout, stderr); queued {
		return status
	}
	return runOneJob(name, store, c.jobs.keep, c.jobMemory(), js[0], c.json, stdout, stderr)
}

// localOwner is who submits jobs from this command line: the local user.
func localOwner() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// absPath makes a path that exists absolute, so that a job's spec names
// the same file from any folder (job run-queued, a cluster node); anything
// else (demo, demo:SESSION, "") is returned as is.
func absPath(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	if _, err := os.Stat(p); err != nil {
		return p
	}
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// submitDetached writes js to the queue of store for another process to
// run (with --executor slurm: for Slurm, and sends them), and prints their
// ids (as JSON with asJSON).
func submitDetached(name string, store *runs.Store, jf jobFlags, js []jobs.Job, asJSON bool, stdout, stderr io.Writer) int {
	if err := jf.slurm.check(); err != nil {
		return usageError(stderr, name, "%v", err)
	}
	q, err := openQueue(store, jf.keep)
	if err != nil {
		return fail(stderr, name, err)
	}
	if jf.slurm.executor == jobs.ExecutorSlurm {
		return submitSlurm(name, q, store, jf.slurm, js, asJSON, stdout, stderr)
	}
	var ids []string
	for _, j := range js {
		if j.Payload == nil {
			return fail(stderr, name, fmt.Errorf("job %q cannot be written to the queue (no payload); run it without --detach", j.Name))
		}
		id, err := q.Submit(jobs.Spec{Kind: j.Kind, Name: j.Name, Owner: j.Owner, Payload: j.Payload}, jobs.ExecutorLocal)
		if err != nil {
			return fail(stderr, name, err)
		}
		ids = append(ids, id)
	}
	if asJSON {
		return printJSON(stdout, stderr, name, map[string]any{"jobs": ids, "runs": store.Dir})
	}
	tw := newTable(stdout, false)
	for i, id := range ids {
		fmt.Fprintf(tw, "submitted\t%s\t%s\n", id, js[i].Name)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "run them with: itscope job run-queued --runs %s   (follow with: itscope jobs --watch --runs %s)\n", store.Dir, store.Dir)
	return 0
}

// runJobWith runs job in an engine on store (through its queue), passes
// its events to onEvent, cancels it on Ctrl-C, and returns how it ended; a
// job that did not end done is an error, with its reason.
func runJobWith(store *runs.Store, keep time.Duration, job jobs.Job, onEvent func(jobs.Event)) (jobs.JobStatus, error) {
	if _, err := openQueue(store, keep); err != nil {
		return jobs.JobStatus{}, err
	}
	engine := jobs.NewEngine(store, 1)
	events, unsubscribe := engine.Subscribe()
	defer unsubscribe()
	id, err := engine.Submit(job)
	if err != nil {
		return jobs.JobStatus{}, err
	}
	interrupt, stopInterrupts := interrupts()
	defer stopInterrupts()
	for done := false; !done; {
		select {
		case <-interrupt:
			engine.Cancel(id)
		case ev := <-events:
			if ev.Job != id {
				continue
			}
			onEvent(ev)
			done = ev.Kind.Terminal()
		}
	}
	st, _ := engine.Status(id)
	switch {
	case st.State == runs.Done:
		return st, nil
	case st.Err != "":
		return st, errors.New(st.Err)
	}
	return st, fmt.Errorf("%s: %s", job.Name, st.State)
}

// jobRegistry is every job kind's builder, for running queued jobs; each
// dataset opens once per process, whatever number of jobs use it.
func jobRegistry(cache cacheFlags) jobs.Registry {
	var mu sync.Mutex
	opened := map[string]*data.Dataset{}
	open := func(spec string) (*data.Dataset, error) {
		mu.Lock()
		defer mu.Unlock()
		if ds, ok := opened[spec]; ok {
			return ds, nil
		}
		ds, err := data.Open(spec)
		if err == nil {
			opened[spec] = ds
		}
		return ds, err
	}
	reg := jobs.Registry{}
	readout.RegisterJobs(reg, open, cache.dir, cache.maxBytes())
	train.RegisterJobs(reg, open, cache.dir, cache.maxBytes())
	return reg
}

// jobsRecent is how long `itscope jobs` (without --all) keeps showing a
// finished job.
const jobsRecent = 24 * time.Hour

// jobRow is one job as `itscope jobs --json` prints it: its state.json
// record (with the derived state and reason: a job whose holder is gone is
// failed) and what its progress and Slurm files say.
type jobRow struct {
	ID   string    `json:"id"`
	Kind runs.Kind `json:"kind"`
	Name string    `json:"name"`
	jobs.Record
	Done       int     `json:"done,omitempty"`
	Total      int     `json:"total,omitempty"`
	Epoch      int     `json:"epoch,omitempty"`
	Step       int     `json:"step,omitempty"`
	ETASeconds float64 `json:"eta_seconds,omitempty"`
	Message    string  `json:"message,omitempty"`
	// SlurmID is a Slurm job's array task (%A_%a), SlurmState what Slurm
	// says of it while it is unfinished, Log its output file.
	SlurmID    string `json:"slurm_id,omitempty"`
	SlurmState string `json:"slurm_state,omitempty"`
	Log        string `json:"log,omitempty"`
}

func runJobsList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("jobs", "[--runs DIR] [--json] [--watch] [--all]", stderr)
	runsDir := fs.String("runs", "", runsFlagUsage(""))
	asJSON := fs.Bool("json", false, "print the jobs as a JSON list")
	watch := fs.Bool("watch", false, "redraw every second until every listed job has finished (or Ctrl-C)")
	all := fs.Bool("all", false, "list every job the queue keeps, not only unfinished ones and those of the last day")
	var keep time.Duration
	addKeepFlag(fs, &keep)
	if status, ok := parseFlagsOnly(fs, args, "jobs", stderr); !ok {
		return status
	}
	store, err := openRunStore(*runsDir)
	if err != nil {
		return fail(stderr, "jobs", err)
	}
	q, err := openQueue(store, keep)
	if err != nil {
		return fail(stderr, "jobs", err)
	}
	ctx, stop := interruptible()
	defer stop()
	for {
		rows, err := listJobs(q, *all, stderr)
		if err != nil {
			return fail(stderr, "jobs", err)
		}
		if *watch && !*asJSON {
			fmt.Fprint(stdout, "\x1b[H\x1b[2J")
		}
		if *asJSON {
			err = writeJSON(stdout, rows)
		} else {
			err = printJobs(stdout, rows)
		}
		if err != nil {
			return fail(stderr, "jobs", err)
		}
		unfinished := 0
		for _, r := range rows {
			if !r.State.Finished() {
				unfinished++
			}
		}
		if !*watch || unfinished == 0 {
			return 0
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(time.Second):
		}
	}
}

// listJobs reads the queue's jobs (with all, every one; else the
// unfinished ones and those finished in the last day) with their progress.
// Slurm is asked about the unfinished Slurm jobs first (jobs.Queue.Sync),
// which records the end of those whose task ended without one; when it
// cannot be asked, a warning goes to warn and the queue's view is listed.
func listJobs(q *jobs.Queue, all bool, warn io.Writer) ([]jobRow, error) {
	list, err := q.List()
	if err != nil {
		return nil, err
	}
	views, err := q.Sync(list)
	if err != nil {
		fmt.Fprintln(warn, "itscope jobs: warning:", err)
	} else if list, err = q.List(); err != nil {
		return nil, err
	}
	rows := []jobRow{}
	for _, e := range list {
		if !all && e.Finished() && time.Since(e.Record.Finished) > jobsRecent && time.Since(e.Heartbeat) > jobsRecent {
			continue
		}
		r := jobRow{ID: e.ID, Kind: e.Spec.Kind, Name: e.Spec.Name, Record: e.Record}
		r.State, r.Reason, r.Owner = e.State, e.Reason, e.Spec.Owner
		if info, ok, _ := q.ReadSlurmInfo(e.ID); ok {
			r.SlurmID, r.Log, r.SlurmState = info.ExecutorID(), info.Log, views[e.ID].Task.State
		}
		if p, err := q.Progress(e.ID); err == nil {
			r.Done, r.Total, r.Epoch, r.Step, r.Message = p.Done, p.Total, p.Epoch, p.Step, p.Message
			if e.State == runs.Running {
				r.ETASeconds = p.ETA.Seconds()
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

func printJobs(w io.Writer, rows []jobRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no jobs")
		return err
	}
	tw := newTable(w, false)
	fmt.Fprintln(tw, "id\towner\tkind\tname\texecutor\tstate\tprogress\tETA\trun\treason")
	for _, r := range rows {
		progress := ""
		switch {
		case r.Total > 0:
			progress = fmt.Sprintf("%d/%d", r.Done, r.Total)
		case r.Epoch > 0:
			progress = fmt.Sprintf("epoch %d step %d", r.Epoch, r.Step)
		}
		if r.Total > 0 && r.Epoch > 0 {
			progress += fmt.Sprintf(" (epoch %d)", r.Epoch)
		}
		eta := ""
		if r.ETASeconds > 0 {
			eta = (time.Duration(r.ETASeconds) * time.Second).String()
		}
		executor := r.Executor
		if r.SlurmID != "" {
			executor += " " + r.SlurmID
			if r.SlurmState != "" {
				executor += " (" + r.SlurmState + ")"
			}
		}
		reason := r.Reason
		if r.Log != "" && !strings.Contains(reason, r.Log) {
			reason = strings.TrimPrefix(reason+"; log "+r.Log, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Owner, r.Kind, r.Name, executor, r.State,
			progress, eta, r.RunID, reason)
	}
	return tw.Flush()
}

func runCancel(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("cancel", "[--runs DIR] JOB...", stderr)
	runsDir := fs.String("runs", "", runsFlagUsage(""))
	ids, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if len(ids) == 0 {
		return usageError(stderr, "cancel", "no job given (ids as `itscope jobs` lists them)")
	}
	store, err := openRunStore(*runsDir)
	if err != nil {
		return fail(stderr, "cancel", err)
	}
	q, err := jobs.OpenQueue(store.Dir)
	if err != nil {
		return fail(stderr, "cancel", err)
	}
	code := 0
	for _, id := range ids {
		final, err := q.CancelSlurm(id, localOwner())
		switch {
		case errors.Is(err, jobs.ErrFinished):
			fmt.Fprintf(stdout, "%s: already finished\n", id)
		case err != nil:
			code = fail(stderr, "cancel", err)
		case final:
			e, _ := q.Get(id)
			fmt.Fprintf(stdout, "%s: %s\n", id, e.State)
		default:
			fmt.Fprintf(stdout, "%s: asked to stop; its process stops within a second and records it\n", id)
		}
	}
	return code
}

func runJob(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return usageError(stderr, "job", "want a subcommand: run JOB, or run-queued")
	}
	switch args[0] {
	case "-h", "-help", "--help":
		runJobRun(args[:1], stdout, stderr)
		fmt.Fprintln(stderr)
		runJobRunQueued(args[:1], stdout, stderr)
		fmt.Fprintln(stderr)
		return runJobRetry(args[:1], stdout, stderr)
	case "run":
		return runJobRun(args[1:], stdout, stderr)
	case "run-queued":
		return runJobRunQueued(args[1:], stdout, stderr)
	case "retry":
		return runJobRetry(args[1:], stdout, stderr)
	}
	return usageError(stderr, "job", "unknown subcommand %q: want run, run-queued or retry", args[0])
}

// jobRunnerFlags are the flags of job run and job run-queued.
type jobRunnerFlags struct {
	runs  string
	cache cacheFlags
	keep  time.Duration
}

func (f *jobRunnerFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&f.runs, "runs", "", runsFlagUsage(" whose queue holds the jobs"))
	addCache(fs, &f.cache, " of the jobs' features")
	addKeepFlag(fs, &f.keep)
}

func runJobRun(args []string, stdout, stderr io.Writer) int {
	const name = "job run"
	fs := newFlags(name, "--runs STORE [--executor NAME --executor-id ID] [--cache DIR] JOB", stderr)
	var rf jobRunnerFlags
	rf.add(fs)
	executor := fs.String("executor", jobs.ExecutorLocal, "the executor running the job, as recorded (local, slurm)")
	executorID := fs.String("executor-id", "", "the executor's own id for the job (default host:pid)")
	ids, status, ok := parseFlagsN(fs, args, name, stderr, 1, "one job id")
	if !ok {
		return status
	}
	store, err := openRunStore(rf.runs)
	if err != nil {
		return fail(stderr, name, err)
	}
	if _, err := openQueue(store, rf.keep); err != nil {
		return fail(stderr, name, err)
	}
	engine := jobs.NewEngine(store, 1)
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	// A Slurm array task claims its job as that task, so that the task
	// requeued by Slurm takes its job back.
	if task, ok := jobs.SlurmTaskID(); ok && !set["executor"] && !set["executor-id"] {
		*executor, *executorID = jobs.ExecutorSlurm, task
	}
	if *executorID == "" {
		*executorID = jobs.LocalExecutorID()
	}
	engine.SetExecutor(*executor, *executorID)
	// TERM (Slurm's time-limit warning, scancel) stops the job at its
	// next batch; it is recorded cancelled with the reason.
	ctx, stop := jobs.StopOnTerm(context.Background())
	defer stop()
	finish := printJobEvents(engine, stdout)
	st, err := engine.RunJob(ctx, ids[0], jobRegistry(rf.cache))
	var why *jobs.StopReason
	if errors.As(context.Cause(ctx), &why) {
		engine.SetStopReason(why.Reason)
	}
	shutdown(engine, stderr, name)
	finish()
	if err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintf(stdout, "job %s: %s", ids[0], st.State)
	if st.RunID != "" {
		fmt.Fprintf(stdout, ", run %s", st.RunID)
	}
	if st.Err != "" {
		fmt.Fprintf(stdout, ": %s", st.Err)
	}
	fmt.Fprintln(stdout)
	if st.State != runs.Done {
		return 1
	}
	return 0
}

func runJobRunQueued(args []string, stdout, stderr io.Writer) int {
	const name = "job run-queued"
	fs := newFlags(name, "[--runs STORE] [--jobs N] [--cache DIR]", stderr)
	var rf jobRunnerFlags
	rf.add(fs)
	parallel := fs.Int("jobs", 1, "how many jobs run at once (`N`)")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	if *parallel < 1 {
		return usageError(stderr, name, "--jobs: want at least 1, found %d", *parallel)
	}
	store, err := openRunStore(rf.runs)
	if err != nil {
		return fail(stderr, name, err)
	}
	if _, err := openQueue(store, rf.keep); err != nil {
		return fail(stderr, name, err)
	}
	engine := jobs.NewEngine(store, *parallel)
	ctx, stop := interruptible()
	defer stop()
	finish := printJobEvents(engine, stdout)
	n, err := engine.RunQueued(ctx, jobRegistry(rf.cache))
	shutdown(engine, stderr, name)
	finish()
	fmt.Fprintf(stdout, "ran %d jobs\n", n)
	if err != nil && !errors.Is(err, context.Canceled) {
		return fail(stderr, name, err)
	}
	return 0
}

// printJobEvents prints a line when each of engine's jobs starts, ends an
// epoch and ends. The returned finish, called once the engine has shut
// down, waits until the end of every job has been printed.
func printJobEvents(engine *jobs.Engine, w io.Writer) (finish func()) {
	events, unsubscribe := engine.Subscribe()
	ended := map[jobs.JobID]bool{}
	want := make(chan []jobs.JobID)
	done := make(chan struct{})
	go func() {
		defer close(done)
		var waitFor []jobs.JobID
		all := func() bool {
			for _, id := range waitFor {
				if !ended[id] {
					return false
				}
			}
			return waitFor != nil
		}
		timeout := make(<-chan time.Time)
		for !all() {
			select {
			case waitFor = <-want:
				timeout = time.After(2 * time.Second)
				continue
			case <-timeout:
				return
			case ev := <-events:
				st, _ := engine.Status(ev.Job)
				switch {
				case ev.Kind == jobs.EventStarted:
					fmt.Fprintf(w, "[%s] started: %s\n", st.QueueID, st.Name)
				case ev.Kind == jobs.EventEpoch:
					fmt.Fprintf(w, "[%s] %s\n", st.QueueID, epochLine(ev))
				case ev.Kind.Terminal():
					ended[ev.Job] = true
					line := fmt.Sprintf("[%s] %s", st.QueueID, ev.Kind)
					if ev.RunID != "" {
						line += ", run " + ev.RunID
					}
					if ev.Message != "" {
						line += ": " + ev.Message
					}
					fmt.Fprintln(w, line)
				}
			}
		}
	}()
	return func() {
		var ids []jobs.JobID
		for _, st := range engine.Snapshot() {
			if st.State.Finished() && !st.Foreign {
				ids = append(ids, st.ID)
			}
		}
		want <- append([]jobs.JobID{}, ids...)
		<-done
		unsubscribe()
	}
}

// shutdown cancels what engine still runs and waits (a minute at most) for
// it to be recorded.
func shutdown(engine *jobs.Engine, stderr io.Writer, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := engine.Shutdown(ctx); err != nil {
		fmt.Fprintf(stderr, "itscope %s: jobs still running after a minute: %v\n", name, err)
	}
}
