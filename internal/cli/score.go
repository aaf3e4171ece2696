package cli

import (
	"fmt"
	"io"
	"math"

	"itscope/compute"
	"itscope/model/readout"
	"itscope/model/runs"
)

func runScore(args []string, stdout, stderr io.Writer) int {
	const name = "score"
	fs := newFlags(name, "--data SPEC --features F [--model pls|ridgecv] [--components N] [--splits N] [--pca N] [--json] [--runs DIR]", stderr)
	var c commonFlags
	addCommon(fs, &c)
	var spec readout.ScoreSpec
	fs.StringVar(&spec.Data, "data", "demo", dataUsage)
	fs.StringVar(&spec.Features, "features", "", "features: pixels[:SIZE][:gray], or a network NET[:LAYER]")
	fs.StringVar(&spec.Weights, "weights", "", "ONNX weights `FILE` for a pretrained network")
	var cf cacheFlags
	addCache(fs, &cf, "")
	fs.StringVar(&spec.Model, "model", compute.BrainScorePLS, "read-out: pls (Brain-Score's PLSRegression, scale=False) or ridgecv")
	fs.IntVar(&spec.Components, "components", compute.BrainScoreComponents, "PLS components")
	fs.IntVar(&spec.Splits, "splits", compute.BrainScoreSplits, "shuffled 90/10 splits, stratified by object label where labels exist")
	fs.IntVar(&spec.PCA, "pca", 0, "reduce the features to `N` principal components first (off: Brain-Score uses PCA only to choose a layer)")
	noSave := fs.Bool("no-save", false, "do not save the run")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	if spec.Features == "" {
		return usageError(stderr, name, "no features given (--features)")
	}
	spec.Seed, spec.CacheDir, spec.CacheMax = c.seed, cf.dir, cf.maxBytes()
	var store *runs.Store
	if !*noSave {
		var err error
		if store, err = c.openStore(); err != nil {
			return fail(stderr, name, err)
		}
	}
	ctx, stop := interruptible()
	defer stop()
	progress := newProgressPrinter(stderr, c.json)
	run, err := readout.Score(ctx, spec, progress.emit)
	progress.finish()
	if err != nil {
		return fail(stderr, name, err)
	}
	if store != nil {
		if _, err := store.Save(run); err != nil {
			return fail(stderr, name, err)
		}
	}
	if c.json {
		return printJSON(stdout, stderr, name, summaryWithID(run.Meta))
	}
	s := run.Meta.Summary
	fmt.Fprintf(stdout, "Brain-Score neural predictivity of %s on %s (%s, %d neurons)\n", run.Meta.Strategy, s.Dataset, s.Model, s.NNeurons)
	tw := newTable(stdout, false)
	fmt.Fprintf(tw, "score (median r over neurons, mean over splits)\t%s ± %s (standard error)\n", num(s.BrainScore, 4), num(s.BrainScoreStdErr, 4))
	fmt.Fprintf(tw, "splits\t%d x %d train / %d test images\n", spec.Splits, s.NTrain, s.NVal)
	if !math.IsNaN(s.BrainScoreCeiling) {
		fmt.Fprintf(tw, "ceiling (internal consistency)\t%s\n", num(s.BrainScoreCeiling, 4))
		fmt.Fprintf(tw, "score / ceiling\t%s\n", num(s.BrainScoreCeiled, 4))
		fmt.Fprintf(tw, "(score / ceiling)²\t%s\n", num(s.BrainScoreCeiledSquared, 4))
	} else {
		fmt.Fprintf(tw, "ceiling\tunknown (no repeats)\n")
	}
	tw.Flush()
	if store != nil {
		fmt.Fprintf(stdout, "saved run %s in %s\n", run.Meta.ID, store.Dir)
	}
	return 0
}
