package cli

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strings"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/readout"
	"itscope/model/runs"
)

func runData(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("data", "--data SPEC [--json]", stderr)
	spec := fs.String("data", "demo", dataUsage)
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	if status, ok := parseFlagsOnly(fs, args, "data", stderr); !ok {
		return status
	}
	ds, err := data.Open(*spec)
	if err != nil {
		return fail(stderr, "data", err)
	}
	info, err := readout.DescribeDataset(ds)
	if err != nil {
		return fail(stderr, "data", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, "data", info)
	}
	tw := newTable(stdout, false)
	fmt.Fprintf(tw, "dataset\t%s\n", info.Name)
	if info.Description != "" {
		fmt.Fprintf(tw, "source\t%s\n", info.Description)
	}
	fmt.Fprintf(tw, "images\t%d (%s)\n", info.Images, info.ImageSize)
	fmt.Fprintf(tw, "neurons\t%d\n", info.Neurons)
	for _, s := range info.Splits {
		note := ""
		if !s.HasResponses {
			note = " (no responses)"
		}
		fmt.Fprintf(tw, "split %s\t%d images%s\n", s.Name, s.Images, note)
	}
	if info.Objects > 0 {
		fmt.Fprintf(tw, "object labels\t%d distinct\n", info.Objects)
	}
	fmt.Fprintf(tw, "responses\tmin %.4g, max %.4g, mean %.4g\n", info.ResponseMin, info.ResponseMax, info.ResponseMean)
	if info.Trials > 0 {
		fmt.Fprintf(tw, "repeats\tup to %d trials per image\n", info.Trials)
	}
	if info.CeilingMean != nil {
		fmt.Fprintf(tw, "noise ceiling\tmean %.3f, median %.3f (split-half, Spearman-Brown)\n", *info.CeilingMean, deref(info.CeilingMedian))
	} else {
		fmt.Fprintf(tw, "noise ceiling\tunknown (no repeats)\n")
	}
	fmt.Fprintf(tw, "content hash\t%s\n", info.Hash)
	tw.Flush()
	return 0
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// foldsInOrderHelp is the --folds-in-order help of fit and sweep.
const foldsInOrderHelp = "make the CV folds consecutive blocks of the train rows (unshuffled, unstratified), as scikit-learn's RidgeCV(cv=K)"

func runFit(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("fit", "--data SPEC --features pixels[:SIZE] [--pca N] --model linear|ridge|ridgecv [flags]", stderr)
	var c jobCommand
	addJobCommand(fs, &c)
	var spec readout.FitSpec
	var alphas string
	fs.StringVar(&spec.Features, "features", "pixels", "features: pixels[:SIZE][:gray], or a network NET[:LAYER]")
	fs.StringVar(&spec.Weights, "weights", "", "ONNX weights `FILE` for a pretrained network")
	var cf cacheFlags
	addCache(fs, &cf, "")
	fs.IntVar(&spec.PCA, "pca", 0, "reduce the features to `N` principal components fitted on train (0: no PCA)")
	fs.StringVar(&spec.Model, "model", readout.ModelRidgeCV, "read-out: linear, ridge or ridgecv")
	fs.Float64Var(&spec.Alpha, "alpha", 0, "ridge penalty (--model ridge)")
	fs.StringVar(&alphas, "alphas", "", "ridge CV grid: a `LIST` 0.1,1,10 or START:STOP:COUNT log-spaced, tried as given (default "+readout.DefaultGridHelp()+")")
	fs.IntVar(&spec.Folds, "folds", 5, "cross-validation folds (--model ridgecv), stratified by object label when there are labels")
	fs.BoolVar(&spec.FoldsInOrder, "folds-in-order", false, foldsInOrderHelp)
	fs.BoolVar(&spec.PerNeuronAlpha, "per-neuron-alpha", false, "let ridge CV choose an alpha per neuron")
	fs.StringVar(&spec.Standardise, "standardise", "auto", "standardise features on train: auto (pixels only), on, off")
	noSave := fs.Bool("no-save", false, "do not save the run")
	if status, ok := parseFlagsOnly(fs, args, "fit", stderr); !ok {
		return status
	}
	spec.Data, spec.Seed = c.data, c.seed
	spec.MaxMemory = c.jobMemory()
	spec.CacheDir, spec.CacheMax = cf.dir, cf.maxBytes()
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if alphas != "" {
		if set["alpha"] {
			return usageError(stderr, "fit", "give --alpha or --alphas, not both")
		}
		a, err := readout.ParseAlphas(alphas)
		if err != nil {
			return usageError(stderr, "fit", "--alphas: %v", err)
		}
		spec.Alphas = a
		if spec.Model == readout.ModelRidge {
			return usageError(stderr, "fit", "--alphas is for --model ridgecv; --model ridge takes --alpha")
		}
	}
	if spec.Model == readout.ModelRidge && !set["alpha"] {
		return usageError(stderr, "fit", "--model ridge needs --alpha (or use --model ridgecv)")
	}
	if set["alpha"] && spec.Model != readout.ModelRidge {
		return usageError(stderr, "fit", "--alpha is for --model ridge")
	}
	if err := spec.Check(); err != nil {
		return usageError(stderr, "fit", "%v", err)
	}
	if *noSave && c.jobs.queued() {
		return usageError(stderr, "fit", "--detach submits the fit to the run store's queue: not with --no-save")
	}
	spec.Data, spec.Weights = absPath(spec.Data), absPath(spec.Weights)
	progress := newProgressPrinter(stderr, c.json)
	var meta runs.RunMeta
	var store *runs.Store
	if *noSave {
		// Nothing is saved, so nothing goes through the queue either.
		ctx, stop := interruptible()
		defer stop()
		run, err := readout.Fit(ctx, spec, progress.emit)
		progress.finish()
		if err != nil {
			return fail(stderr, "fit", err)
		}
		meta = run.Meta
	} else {
		var err error
		if store, err = c.openStore(); err != nil {
			return fail(stderr, "fit", err)
		}
		js := []jobs.Job{readout.FitJob(spec)}
		if status, queued := c.submit("fit", store, js, stdout, stderr); queued {
			return status
		}
		st, err := runJobWith(store, c.jobs.keep, js[0], progress.emit)
		progress.finish()
		if err != nil {
			return fail(stderr, "fit", err)
		}
		if meta, err = store.LoadMeta(st.RunID); err != nil {
			return fail(stderr, "fit", err)
		}
	}
	if !c.json {
		printWarnings(stderr, "", meta)
	}
	if c.json {
		return printJSON(stdout, stderr, "fit", summaryWithID(meta))
	}
	printComparison(stdout, []runs.RunMeta{meta}, false)
	s := meta.Summary
	fmt.Fprintf(stdout, "\n%d train and %d val images, %d neurons, dataset %s\n", s.NTrain, s.NVal, s.NNeurons, s.Dataset)
	if store != nil {
		fmt.Fprintf(stdout, "saved run %s in %s\n", meta.ID, store.Dir)
	}
	return 0
}

func runRuns(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("runs", "[--runs DIR] [--json]  |  runs note ID \"TEXT\" (an empty TEXT removes the note)", stderr)
	var c commonFlags
	fs.StringVar(&c.runs, "runs", "", runsFlagUsage(""))
	fs.BoolVar(&c.json, "json", false, "print the runs (run.json contents) as a JSON list")
	pos, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if len(pos) > 0 && pos[0] == "note" {
		return runsNote(&c, pos[1:], stdout, stderr)
	}
	if len(pos) > 0 {
		return usageError(stderr, "runs", "unexpected argument %q (runs note ID TEXT sets a note)", pos[0])
	}
	store, err := c.openStore()
	if err != nil {
		return fail(stderr, "runs", err)
	}
	metas, err := store.List()
	if err != nil {
		return fail(stderr, "runs", err)
	}
	if c.json {
		return printJSON(stdout, stderr, "runs", orEmpty(metas))
	}
	if len(metas) == 0 {
		fmt.Fprintf(stdout, "no runs in %s\n", store.Dir)
		return 0
	}
	printComparison(stdout, metas, true)
	return 0
}

// runsNote is `itscope runs note ID TEXT`: the note is kept in the run
// folder's note.txt, shown by `runs` and the explorer, and exported.
func runsNote(c *commonFlags, args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 {
		return usageError(stderr, "runs", "runs note wants a run id and the note's text, found %d arguments", len(args))
	}
	store, id, err := resolveRun(c, args[0])
	if err == nil {
		err = store.SetNote(id, args[1])
	}
	if err != nil {
		return fail(stderr, "runs", err)
	}
	if strings.TrimSpace(args[1]) == "" {
		fmt.Fprintf(stdout, "removed the note of run %s\n", id)
	} else {
		fmt.Fprintf(stdout, "noted run %s\n", id)
	}
	return 0
}

func runExport(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("export", "--runs DIR -o table.csv", stderr)
	var c commonFlags
	fs.StringVar(&c.runs, "runs", "", runsFlagUsage(""))
	out := fs.String("o", "", "output CSV `FILE` (- for standard output)")
	if status, ok := parseFlagsOnly(fs, args, "export", stderr); !ok {
		return status
	}
	if *out == "" {
		return usageError(stderr, "export", "-o FILE is required")
	}
	store, err := c.openStore()
	if err != nil {
		return fail(stderr, "export", err)
	}
	if *out == "-" {
		metas, err := store.List()
		if err == nil {
			err = runs.WriteComparisonCSV(stdout, metas)
		}
		if err != nil {
			return fail(stderr, "export", err)
		}
		return 0
	}
	if err := store.Export(*out); err != nil {
		return fail(stderr, "export", err)
	}
	return 0
}

// printWarnings prints each of a run's warnings once, after the label.
func printWarnings(w io.Writer, label string, m runs.RunMeta) {
	for _, msg := range m.Warnings {
		fmt.Fprintf(w, "warning%s: %s\n", label, msg)
	}
}
