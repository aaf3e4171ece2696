package cli

import (
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"itscope/compute"
	"itscope/data"
	"itscope/data/npy"
	"itscope/model/readout"
	"itscope/model/runs"
)

func runCompare(args []string, stdout, stderr io.Writer) int {
	const name = "compare"
	fs := newFlags(name, "RUN_A RUN_B [--json] [--runs DIR] [--data SPEC]", stderr)
	var c commonFlags
	fs.StringVar(&c.runs, "runs", "", runsFlagUsage(""))
	fs.BoolVar(&c.json, "json", false, "print the comparison as JSON")
	dataSpec := fs.String("data", "", "dataset the runs were made on (default: the one run A names)")
	pos, status, ok := parseFlagsN(fs, args, name, stderr, 2, "two runs (ids or folders)")
	if !ok {
		return status
	}
	var pair [2]*runs.Run
	for k, ref := range pos {
		r, err := loadRun(&c, ref)
		if err != nil {
			return fail(stderr, name, err)
		}
		pair[k] = r
	}
	spec := *dataSpec
	if spec == "" {
		spec = pair[0].Meta.Dataset.Name
	}
	ds, err := data.Open(spec)
	if err != nil {
		return fail(stderr, name, err)
	}
	cmp, err := readout.CompareRuns(ds, pair[0], pair[1])
	if err != nil {
		return fail(stderr, name, err)
	}
	a, b := pair[0].Meta, pair[1].Meta
	if c.json {
		stat := func(d compute.Difference, av, bv float64) map[string]any {
			return map[string]any{"a": jsonNum(av), "b": jsonNum(bv), "difference": jsonNum(d.Estimate), "lo": jsonNum(d.Lo),
				"hi": jsonNum(d.Hi), "b_better": jsonNum(d.BBetter), "resamples": d.Used}
		}
		obj := map[string]any{"a": a.ID, "b": b.ID, "dataset": cmp.Dataset, "split": data.Val, "n_images": cmp.Images,
			"n_neurons": cmp.Neurons, "seed": runs.BootstrapSeed,
			"ev_mean": stat(cmp.EV, a.Summary.EVMean, b.Summary.EVMean), "r_mean": stat(cmp.R, a.Summary.RMean, b.Summary.RMean)}
		return printJSON(stdout, stderr, name, obj)
	}
	fmt.Fprintf(stdout, "A  %s  %s %s\nB  %s  %s %s\n\n", a.ID, a.Model, a.Strategy, b.ID, b.Model, b.Strategy)
	tw := newTable(stdout, true)
	fmt.Fprintln(tw, "\tA\tB\tB - A\t95% interval\tB better\t")
	for _, row := range []struct {
		label string
		d     compute.Difference
		a, b  float64
	}{{"mean EV", cmp.EV, a.Summary.EVMean, b.Summary.EVMean}, {"mean r", cmp.R, a.Summary.RMean, b.Summary.RMean}} {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t[%s, %s]\t%.1f%%\t\n", row.label, num(row.a, 4), num(row.b, 4), num(row.d.Estimate, 4),
			num(row.d.Lo, 4), num(row.d.Hi, 4), 100*row.d.BBetter)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "\npaired bootstrap over the %d val images of %s (%d neurons), %d resamples\n", cmp.Images, cmp.Dataset, cmp.Neurons, cmp.EV.Used)
	return 0
}

// loadRun loads a run given as a folder or as an id in the run store.
func loadRun(c *commonFlags, ref string) (*runs.Run, error) {
	store, id, err := resolveRun(c, ref)
	if err != nil {
		return nil, err
	}
	return store.Load(id)
}

// resolveRun is the store and id of a run given as a folder (its parent and
// its name) or as an id in the --runs store.
func resolveRun(c *commonFlags, ref string) (*runs.Store, string, error) {
	if st, err := os.Stat(filepath.Join(ref, runs.RunJSON)); err == nil && !st.IsDir() {
		clean := filepath.Clean(ref)
		return &runs.Store{Dir: filepath.Dir(clean), Matrices: npy.Matrices{}}, filepath.Base(clean), nil
	}
	store, err := c.openStore()
	return store, ref, err
}

// jsonNum is x, or nil (JSON null) when it is NaN or infinite.
func jsonNum(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return x
}
