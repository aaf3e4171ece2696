package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// slurmFlags are the --executor slurm options of the commands that submit
// jobs; unset ones come from the user's config file (docs/cluster.md).
type slurmFlags struct {
	executor string
	cfg      jobs.SlurmConfig
	args     string
	dryRun   bool
}

func (s *slurmFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&s.executor, "executor", jobs.ExecutorLocal, "where the jobs run: local (this process), or slurm (job arrays on a Slurm cluster; see docs/cluster.md)")
	fs.StringVar(&s.cfg.Partition, "slurm-partition", "", "Slurm partition `P` (--executor slurm)")
	fs.StringVar(&s.cfg.Account, "slurm-account", "", "Slurm account `A`")
	fs.StringVar(&s.cfg.QOS, "slurm-qos", "", "Slurm QOS `Q`")
	fs.StringVar(&s.cfg.Constraint, "slurm-constraint", "", "Slurm node feature constraint `C`")
	fs.StringVar(&s.cfg.Time, "slurm-time", "", "Slurm time limit `T` per task (minutes, HH:MM:SS, D-HH:MM:SS)")
	fs.StringVar(&s.cfg.Mem, "slurm-mem", "", "Slurm memory `M` per task (8G, 500M)")
	fs.IntVar(&s.cfg.CPUsPerTask, "slurm-cpus", 0, "Slurm CPUs per task (`N`)")
	fs.StringVar(&s.cfg.GPUs, "slurm-gpus", "", "Slurm GPUs per task: a count or TYPE:COUNT (`G`)")
	fs.IntVar(&s.cfg.MaxRunning, "slurm-max-running", 0, "at most `K` Slurm tasks run at once (array throttle %K)")
	fs.StringVar(&s.args, "slurm-args", "", "more sbatch `ARGS`, split at spaces")
	fs.BoolVar(&s.cfg.Requeue, "requeue", false, "let Slurm requeue a preempted task or one whose node failed")
	fs.BoolVar(&s.dryRun, "dry-run", false, "with --executor slurm: print the sbatch command lines and batch scripts, submit nothing")
}

// check validates the executor and the Slurm options.
func (s *slurmFlags) check() error {
	switch s.executor {
	case jobs.ExecutorLocal:
		if s.dryRun {
			return fmt.Errorf("--dry-run is for --executor slurm")
		}
		return nil
	case jobs.ExecutorSlurm:
	default:
		return fmt.Errorf("--executor %q: want local or slurm", s.executor)
	}
	s.cfg.Args = strings.Fields(s.args)
	return s.cfg.Validate()
}

// slurmExecutor is the Slurm executor of store with the user's config file
// under the command line's options.
func slurmExecutor(q *jobs.Queue, store *runs.Store, over jobs.SlurmConfig) (*jobs.Slurm, error) {
	path, err := jobs.UserConfigPath()
	if err != nil {
		return nil, err
	}
	cfg, err := jobs.LoadSlurmConfig(path)
	if err != nil {
		return nil, err
	}
	return jobs.NewSlurm(q, store.Dir, cfg.Override(over))
}

// submitSlurm queues js for the Slurm executor and sends them to the
// cluster (queueForSlurm), or prints what it would send (--dry-run), and
// prints the job ids with their Slurm task ids.
func submitSlurm(name string, q *jobs.Queue, store *runs.Store, sf slurmFlags, js []jobs.Job, asJSON bool, stdout, stderr io.Writer) int {
	sub, dry, err := queueForSlurm(name, q, store, sf, js)
	if err != nil {
		return fail(stderr, name, err)
	}
	if sf.dryRun {
		fmt.Fprint(stdout, dry)
		return 0
	}
	return printSlurmSubmission(q, store, sub, asJSON, stdout, stderr, name)
}

// queueForSlurm queues js for the Slurm executor and sends them to the
// cluster as one batch (a grid's points); with sf.dryRun it queues
// nothing and returns what it would send. A sweep is two batches: its
// first layer's job fills the feature cache with every layer in one pass
// (the extraction), and the other layers' fits wait for it and read the
// cache; if it fails they fail, "extraction failed".
func queueForSlurm(name string, q *jobs.Queue, store *runs.Store, sf slurmFlags, js []jobs.Job) (jobs.SlurmSubmission, string, error) {
	var all jobs.SlurmSubmission
	x, err := slurmExecutor(q, store, sf.cfg)
	if err != nil {
		return all, "", err
	}
	batches := []jobs.SlurmBatch{{Name: name}}
	lead := len(js)
	if name == "sweep" && len(js) > 1 {
		lead = 1
		batches[0].Name = "sweep-extract"
		batches = append(batches, jobs.SlurmBatch{Name: "sweep-fits", AfterFailed: "extraction failed"})
	}
	var ids []string
	for i, j := range js {
		id := fmt.Sprintf("<job %d: %s>", i+1, j.Name)
		if !sf.dryRun {
			if j.Payload == nil {
				return all, "", fmt.Errorf("job %q cannot be written to the queue (no payload); run it with --executor local", j.Name)
			}
			if id, err = q.Submit(jobs.Spec{Kind: j.Kind, Name: j.Name, Owner: j.Owner, Payload: j.Payload}, jobs.ExecutorSlurm); err != nil {
				return all, "", err
			}
		}
		ids = append(ids, id)
	}
	batches[0].Jobs = ids[:lead]
	if len(batches) > 1 {
		batches[1].Jobs = ids[lead:]
	}
	if sf.dryRun {
		var text strings.Builder
		for i, b := range batches {
			if i > 0 {
				b.After = []jobs.SlurmSubmission{{Arrays: []string{"<" + batches[0].Name + ">"}}}
			}
			t, err := x.DryRun(b)
			if err != nil {
				return all, "", err
			}
			text.WriteString(t)
		}
		return all, text.String(), nil
	}
	for i, b := range batches {
		if i > 0 {
			b.After = []jobs.SlurmSubmission{all}
		}
		sub, err := x.Submit(b)
		if err != nil {
			for _, rest := range batches[i+1:] {
				x.FailJobs(rest.Jobs, "not submitted: "+err.Error())
			}
			return all, "", err
		}
		all.Arrays, all.Jobs = append(all.Arrays, sub.Arrays...), append(all.Jobs, sub.Jobs...)
	}
	return all, "", nil
}

// tuiSlurmSubmit is the explorer's Slurm executor: it sends a Grid pane's
// jobs to Slurm with the options of the user's config file.
func tuiSlurmSubmit(q *jobs.Queue, store *runs.Store) func(name string, js []jobs.Job) (string, error) {
	return func(name string, js []jobs.Job) (string, error) {
		sub, _, err := queueForSlurm(name, q, store, slurmFlags{executor: jobs.ExecutorSlurm}, js)
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("sent %d job(s) to Slurm (arrays %s)", len(sub.Jobs), strings.Join(sub.Arrays, ", ")), nil
	}
}

func printSlurmSubmission(q *jobs.Queue, store *runs.Store, sub jobs.SlurmSubmission, asJSON bool, stdout, stderr io.Writer, name string) int {
	if asJSON {
		return printJSON(stdout, stderr, name, map[string]any{"jobs": sub.Jobs, "slurm_arrays": sub.Arrays, "runs": store.Dir})
	}
	tw := newTable(stdout, false)
	for _, id := range sub.Jobs {
		info, _, _ := q.ReadSlurmInfo(id)
		spec, _ := q.Spec(id)
		fmt.Fprintf(tw, "submitted\t%s\tslurm %s\t%s\n", id, info.ExecutorID(), spec.Name)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "Slurm arrays %s; follow with: itscope jobs --watch --runs %s\n", strings.Join(sub.Arrays, ", "), store.Dir)
	return 0
}

// runJobRetry resubmits failed or cancelled jobs to Slurm.
func runJobRetry(args []string, stdout, stderr io.Writer) int {
	const name = "job retry"
	fs := newFlags(name, "[--runs STORE] [--json] JOB...", stderr)
	runsDir := fs.String("runs", "", runsFlagUsage(""))
	asJSON := fs.Bool("json", false, "print the new job ids as JSON")
	ids, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if len(ids) == 0 {
		return usageError(stderr, name, "no job given (ids as `itscope jobs` lists them)")
	}
	store, err := openRunStore(*runsDir)
	if err != nil {
		return fail(stderr, name, err)
	}
	q, err := jobs.OpenQueue(store.Dir)
	if err != nil {
		return fail(stderr, name, err)
	}
	x, err := slurmExecutor(q, store, jobs.SlurmConfig{})
	if err != nil {
		return fail(stderr, name, err)
	}
	fresh, err := x.Retry(ids)
	if err != nil {
		return fail(stderr, name, err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, name, map[string]any{"retried": ids, "jobs": fresh})
	}
	tw := newTable(stdout, false)
	for i, id := range fresh {
		info, _, _ := q.ReadSlurmInfo(id)
		fmt.Fprintf(tw, "%s\tretried as\t%s\tslurm %s\n", ids[i], id, info.ExecutorID())
	}
	if err := tw.Flush(); err != nil {
		return fail(stderr, name, err)
	}
	return 0
}
