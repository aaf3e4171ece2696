package cli

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"itscope/data"
	"itscope/model/figures"
	"itscope/model/runs"
)

// runRefs is --run, repeatable: the runs a figure draws, by id or folder.
type runRefs []string

func (r *runRefs) String() string { return strings.Join(*r, ",") }
func (r *runRefs) Set(v string) error {
	if v == "" {
		return fmt.Errorf("want a run id or folder, found an empty string")
	}
	*r = append(*r, v)
	return nil
}

func runPlot(args []string, stdout, stderr io.Writer) int {
	const name = "plot"
	fs := newFlags(name, "--run RUN [--run RUN ...] --figure KIND -o FIG.png|FIG.svg [--neuron N] [--data SPEC] [--x steps|epochs|wall]", stderr)
	var c commonFlags
	fs.StringVar(&c.runs, "runs", "", runsFlagUsage(""))
	var refs runRefs
	fs.Var(&refs, "run", "a run to draw, by `ID` or folder; repeat it for curves and compare")
	kinds := make([]string, len(figures.Kinds))
	for i, k := range figures.Kinds {
		kinds[i] = string(k)
	}
	kind := fs.String("figure", "", "the `KIND` of figure: "+strings.Join(kinds, ", ")+
		" (layers: Figure 1a, EV per layer of the run's sweep; histogram: 1b; predicted: 1c)")
	out := fs.String("o", "", "output `FILE`: .png (200 dpi) or .svg, 6 x 4.5 inches")
	neuron := fs.Int("neuron", -1, "predicted: draw neuron `N` (0-based) as a scatter instead of the mean over neurons")
	xAxis := fs.String("x", "steps", "curves: the x `AXIS`: steps, epochs or wall (seconds since the training started)")
	dataSpec := fs.String("data", "", "predicted: the dataset the run was made on (default: the one the run names)")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	switch {
	case len(refs) == 0:
		return usageError(stderr, name, "--run RUN is required")
	case *kind == "":
		return usageError(stderr, name, "--figure is required: one of %s", strings.Join(kinds, ", "))
	case *out == "":
		return usageError(stderr, name, "-o FILE is required")
	}
	k, err := figures.ParseKind(*kind)
	if err != nil {
		return usageError(stderr, name, "%v", err)
	}
	if _, err := figures.Format(*out); err != nil {
		return usageError(stderr, name, "%v", err)
	}
	x, err := figures.ParseXAxis(*xAxis)
	if err != nil {
		return usageError(stderr, name, "--x: %v", err)
	}
	if len(refs) > 1 && k != figures.Curves && k != figures.Compare {
		return usageError(stderr, name, "--figure %s draws one run, found %d --run flags", k, len(refs))
	}
	in := figures.Input{Neuron: *neuron, X: x}
	for _, ref := range refs {
		r, err := loadRun(&c, ref)
		if err != nil {
			return fail(stderr, name, err)
		}
		in.Runs = append(in.Runs, r)
	}
	switch k {
	case figures.Layers:
		store, _, err := resolveRun(&c, refs[0])
		if err == nil {
			in.Listing, err = store.List()
		}
		if err != nil {
			return fail(stderr, name, err)
		}
	case figures.Predicted:
		if in.Pred, in.Actual, err = valPairs(in.Runs[0], *dataSpec, *neuron); err != nil {
			return fail(stderr, name, err)
		}
	}
	fig, err := figures.New(k, in)
	if err == nil {
		err = fig.Save(*out)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	abs, err := filepath.Abs(*out)
	if err != nil {
		abs = *out
	}
	fmt.Fprintf(stdout, "wrote %s\n", abs)
	return 0
}

// valPairs opens the dataset of run (or spec) and pairs its val predictions
// with the responses, refusing a dataset whose content changed since.
func valPairs(run *runs.Run, spec string, neuron int) (pred, actual []float64, err error) {
	if run.PredRows == 0 {
		return nil, nil, fmt.Errorf("run %s saved no val predictions (predictions.npy)", run.Meta.ID)
	}
	if spec == "" {
		spec = run.Meta.Dataset.Name
	}
	ds, err := data.Open(spec)
	if err != nil {
		return nil, nil, err
	}
	if run.Meta.Dataset.Hash != "" && ds.Hash != run.Meta.Dataset.Hash {
		return nil, nil, fmt.Errorf("dataset %s is not the one run %s was made on (hash %.12s, the run's %.12s)",
			spec, run.Meta.ID, ds.Hash, run.Meta.Dataset.Hash)
	}
	return figures.ValPairs(ds, run, neuron)
}
