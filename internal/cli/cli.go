package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"itscope/compute"
	"itscope/compute/nn"
	"itscope/compute/onnx"
	"itscope/data"
	"itscope/data/npy"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// command is one subcommand: `itscope NAME ARGS...`.
type command struct {
	name    string
	summary string // one line for `itscope help`
	// run executes the command with the arguments after its name and returns
	// the exit status: 0 success, 1 failure, 2 bad usage. It writes results to
	// stdout and errors to stderr, never to os.Stdout/os.Stderr directly, so
	// that tests (and the SSH server) can run it in-process.
	run func(args []string, stdout, stderr io.Writer) int
}

// commandTable lists every command in the order `itscope help` shows them;
// docs/cli.md is generated from it (WriteDocs).
func commandTable() []command {
	return []command{
		{"cache", "show the feature cache's size and files; `cache prune` removes the least recently used", runCache},
		{"cancel", "cancel queued or running jobs of the run store's queue, whichever process runs them", runCancel},
		{"classify", "top-5 ImageNet classes of photos (checks a network's weights)", runClassify},
		{"compare", "paired bootstrap of two runs on the same val images: the difference in mean EV and r, its interval", runCompare},
		{"cotrain", "co-train a pretrained trunk's last stages on responses and object labels", runCotrain},
		{"data", "summarise a dataset: images, neurons, splits, response range, noise ceiling", runData},
		{"export", "write the comparison table of saved runs as CSV", runExport},
		{"fit", "fit a linear read-out from features to neurons on train, score it on val, save the run", runFit},
		{"grid", "run every point of a JSON grid of trainings or fits, table sorted by val EV", runGrid},
		{"job", "run queued jobs: job run --runs STORE JOB (one, as an executor does), job run-queued (all)", runJob},
		{"jobs", "list the run store's jobs, from any process: state, progress, ETA, run (--watch, --json, --all)", runJobsList},
		{"layers", "list a network's taps with their output shapes", runLayers},
		{"plot", "draw a run's figure as PNG or SVG: layers (1a), histogram (1b), predicted (1c), curves, compare", runPlot},
		{"predict", "predict responses on any split with a saved run (-o predictions.npy)", runPredict},
		{"runs", "list the saved runs", runRuns},
		{"score", "Brain-Score's neural predictivity: PLS on raw features over 10 shuffled 90/10 splits, median r, ceiling", runScore},
		{"serve", "serve the explorer over SSH: one job engine and run store for every session", runServe},
		{"sweep", "fit a read-out on every layer of a network (EV and r per layer)", runSweep},
		{"train", "train a CNN from scratch on the images, live loss per epoch", runTrain},
		{"tui", "open the terminal explorer (also: itscope with no command)", runTUI},
	}
}

// lookup finds the command called name.
func lookup(name string) (command, bool) {
	for _, c := range commandTable() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

// Run runs the command named by args[0] (args are os.Args[1:]) and returns
// the process's exit status. With no arguments it opens the terminal
// explorer.
func Run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		return runTUI(nil, stdout, stderr)
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				return c.run([]string{"-h"}, stdout, stderr)
			}
		}
		usage(stdout)
		return 0
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "itscope", runs.Version())
		fmt.Fprint(stdout, "blas: ", compute.UseOpenBLAS())
		if core, forcedBy := compute.BLASCore(); core != "" {
			fmt.Fprintf(stdout, " (%s kernels", core)
			if forcedBy != "" {
				fmt.Fprintf(stdout, ", forced by OPENBLAS_CORETYPE=%s", forcedBy)
			}
			fmt.Fprint(stdout, ")")
		}
		if t := compute.BLASIdleTimeout(); t >= 0 {
			fmt.Fprintf(stdout, ", idle threads sleep after 2^%d cycles", t)
		}
		fmt.Fprintln(stdout)
		fmt.Fprintln(stdout, "float kernels:", nn.FloatKernel())
		fmt.Fprintln(stdout, "int8 kernels:", onnx.Int8Kernel())
		return 0
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stderr, "itscope: unknown command %q\n\n", name)
		usage(stderr)
		return 2
	}
	return c.run(args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "itscope predicts neural responses to images from pixels, pretrained and trained networks.")
	fmt.Fprintln(w, "\nUsage: itscope COMMAND [flags]    (itscope with no command opens the explorer)")
	fmt.Fprintln(w, "\nCommands:")
	for _, c := range commandTable() {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "show this list, or `itscope help COMMAND` for a command's flags")
	fmt.Fprintf(w, "  %-10s %s\n", "version", "print the version")
}

// newFlags returns a flag set for a command that reports errors (and -h) to
// stderr instead of exiting. synopsis is the usage line after "itscope NAME".
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: itscope %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlagsOnly parses the flags of a command that takes no positional
// arguments, refusing any with a usage error.
func parseFlagsOnly(fs *flag.FlagSet, args []string, name string, stderr io.Writer) (status int, ok bool) {
	pos, status, ok := parseFlags(fs, args)
	if !ok {
		return status, false
	}
	if len(pos) > 0 {
		return usageError(stderr, name, "unexpected argument %q", pos[0]), false
	}
	return 0, true
}

// parseFlagsN parses the flags of a command that takes exactly n positional
// arguments, refusing any other number with a usage error that says what it
// wants ("two runs (ids or folders)").
func parseFlagsN(fs *flag.FlagSet, args []string, name string, stderr io.Writer, n int, want string) (pos []string, status int, ok bool) {
	pos, status, ok = parseFlags(fs, args)
	if !ok {
		return nil, status, false
	}
	if len(pos) != n {
		return nil, usageError(stderr, name, "want %s, found %d arguments", want, len(pos)), false
	}
	return pos, 0, true
}

// parseFlags parses args with fs, allowing flags after positional arguments
// (`itscope classify a.jpg --json`). It returns the positional arguments and
// the exit status to use when parsing fails (2 for bad usage, 0 for -h), with
// ok false; the flag package has already written the message naming the flag.
func parseFlags(fs *flag.FlagSet, args []string) (positional []string, status int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0, false
			}
			return nil, 2, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		// fs.Parse stops at the first non-flag or after "--".
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), 0, true
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// dataUsage is the help of --data for the commands that read a dataset.
const dataUsage = "dataset: demo, demo:SESSION, an NX-414 .h5 file or a folder"

// commonFlags are the flags of every command that makes runs.
type commonFlags struct {
	runs      string
	seed      uint64
	json      bool
	maxMemory memoryFlag
}

// addCommon registers --runs, --seed, --json and --max-job-memory on fs.
func addCommon(fs *flag.FlagSet, c *commonFlags) {
	fs.StringVar(&c.runs, "runs", "", runsFlagUsage(""))
	fs.Uint64Var(&c.seed, "seed", 0, "random seed: the same seed gives the same run")
	fs.BoolVar(&c.json, "json", false, "print the result as JSON")
	addMaxJobMemory(fs, &c.maxMemory, "half")
}

// jobMemory is the --max-job-memory of a command: by default half the
// machine's memory.
func (c *commonFlags) jobMemory() int64 { return c.maxMemory.bytes(2) }

// newEngine makes the engine of a command, running at most running jobs at
// once and refusing those above --max-job-memory.
func (c *commonFlags) newEngine(store *runs.Store, running int) *jobs.Engine {
	e := jobs.NewEngine(store, running)
	e.SetLimits(jobs.Limits{JobMemory: c.jobMemory()})
	return e
}

// openStore opens the run store named by --runs, or the default one.
func (c *commonFlags) openStore() (*runs.Store, error) {
	return openRunStore(c.runs)
}

// runsFlagUsage is the help of --runs; where says whose store it is.
func runsFlagUsage(where string) string {
	return "run store `DIR`" + where + " (default $ITSCOPE_RUNS, else $XDG_DATA_HOME/itscope/runs)"
}

// openRunStore opens the run store in dir, or in the default folder when dir
// is "": the one place the command line resolves that default.
func openRunStore(dir string) (*runs.Store, error) {
	if dir == "" {
		dir = runs.DefaultRunsDir()
	}
	store, err := runs.OpenStore(dir)
	if err != nil {
		return nil, err
	}
	store.Matrices = npy.Matrices{}
	return store, nil
}

// openDataAndStore opens the dataset a command works on and the run store it
// saves into.
func (c *commonFlags) openDataAndStore(spec string) (*data.Dataset, *runs.Store, error) {
	ds, err := data.Open(absPath(spec))
	if err != nil {
		return nil, nil, err
	}
	store, err := c.openStore()
	return ds, store, err
}

// fail prints an error for command name to stderr and returns exit status 1.
func fail(stderr io.Writer, name string, err error) int {
	msg := err.Error()
	if !strings.HasPrefix(msg, "itscope") {
		msg = "itscope " + name + ": " + msg
	}
	fmt.Fprintln(stderr, msg)
	return 1
}

// usageError prints a usage problem (a missing or contradictory flag) and
// returns exit status 2.
func usageError(stderr io.Writer, name, format string, args ...any) int {
	fmt.Fprintf(stderr, "itscope %s: %s\n", name, fmt.Sprintf(format, args...))
	fmt.Fprintf(stderr, "run `itscope help %s` for its flags\n", name)
	return 2
}
