package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"itscope/data/npy"
	"itscope/model/features"
	"itscope/model/nets"
	"itscope/model/readout"
	"itscope/model/runs"
)

// netFlags are the flags that choose a network.
type netFlags struct {
	net, weights string
	seed         uint64
}

func (n *netFlags) add(fs *flag.FlagSet) {
	n.addNet(fs)
	fs.Uint64Var(&n.seed, "seed", 0, "seed of NAME-random weights")
}

func (n *netFlags) addNet(fs *flag.FlagSet) {
	fs.StringVar(&n.net, "net", "", "network `NAME`: "+strings.Join(nets.NetworkNames(), ", ")+", or onnx:PATH")
	fs.StringVar(&n.weights, "weights", "", "ONNX export `FILE` of the torchvision network (scripts/export_torchvision.py)")
}

func (n *netFlags) open() (nets.Network, error) {
	if n.net == "" {
		return nil, errors.New("no network given (--net NAME)")
	}
	return nets.OpenNetwork(n.net, nets.NetOptions{Weights: n.weights, Seed: n.seed})
}

// runLayers lists taps; with --input X.npy and --dump DIR it also writes each
// tap's output for that input batch as DIR/TAP.npy (scripts/check_full_resnets.py
// compares them with PyTorch).
func runLayers(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("layers", "--net NET [--weights F] [--json] [--input X.npy --dump DIR]", stderr)
	var nf netFlags
	nf.add(fs)
	asJSON := fs.Bool("json", false, "print a JSON list of {\"name\", \"shape\"}")
	input := fs.String("input", "", "with --dump: a float32 .npy batch (N, 3, H, W) to run")
	dump := fs.String("dump", "", "with --input: folder to write each tap's output to, as TAP.npy")
	if status, ok := parseFlagsOnly(fs, args, "layers", stderr); !ok {
		return status
	}
	if (*input == "") != (*dump == "") {
		return usageError(stderr, "layers", "--input and --dump go together")
	}
	net, err := nf.open()
	if err != nil {
		return fail(stderr, "layers", err)
	}
	taps := net.Taps()
	if *dump != "" {
		if err := dumpTaps(net, *input, *dump); err != nil {
			return fail(stderr, "layers", err)
		}
	}
	if *asJSON {
		type tapJSON struct {
			Name  string `json:"name"`
			Shape []int  `json:"shape"`
		}
		out := make([]tapJSON, len(taps))
		for i, t := range taps {
			out[i] = tapJSON{t.Name, t.Shape}
		}
		return printJSON(stdout, stderr, "layers", out)
	}
	tw := newTable(stdout, false)
	fmt.Fprintf(tw, "%s (input %v)\nTAP\tSHAPE\tFEATURES\n", net.Name(), net.Input())
	for _, t := range taps {
		fmt.Fprintf(tw, "%s\t%v\t%d\n", t.Name, t.Shape, t.Size())
	}
	tw.Flush()
	return 0
}

func dumpTaps(net nets.Network, input, dir string) error {
	a, err := npy.ReadFile[float32](input)
	if err != nil {
		return err
	}
	x, shape := a.Data, a.Shape
	in := net.Input()
	size := in[0] * in[1] * in[2]
	if len(x)%size != 0 || len(x) == 0 {
		return fmt.Errorf("%s: want a batch of (%d, %d, %d) images, found shape %v", input, in[0], in[1], in[2], shape)
	}
	n := len(x) / size
	names := make([]string, len(net.Taps()))
	for i, t := range net.Taps() {
		names[i] = t.Name
	}
	out, err := net.Forward(x, n, names)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, name := range names {
		v := out[name]
		file := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_").Replace(name)+".npy")
		if err := npy.WriteFile(file, v, n, len(v)/n); err != nil {
			return err
		}
	}
	return nil
}

func runClassify(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("classify", "--net NET [--weights F] [--json] IMAGE...", stderr)
	var nf netFlags
	nf.add(fs)
	asJSON := fs.Bool("json", false, "print a JSON list of {\"image\", \"top5\": [{\"index\", \"label\", \"prob\"}]}")
	images, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	if len(images) == 0 {
		return usageError(stderr, "classify", "no images given")
	}
	net, err := nf.open()
	if err != nil {
		return fail(stderr, "classify", err)
	}
	results, err := nets.Classify(net, images, 5)
	if err != nil {
		return fail(stderr, "classify", err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, "classify", results)
	}
	for _, r := range results {
		fmt.Fprintln(stdout, r.Image)
		for _, c := range r.Top5 {
			fmt.Fprintf(stdout, "  %6.2f%%  %4d  %s\n", 100*c.Prob, c.Index, c.Label)
		}
	}
	return 0
}

func runSweep(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sweep", "--data SPEC --net NET [--weights F] --layers all|L1,L2 --pca N --model ridgecv [--json] [--runs DIR] [--seed S] [--detach]", stderr)
	var c jobCommand
	addJobCommand(fs, &c)
	var nf netFlags
	nf.addNet(fs)
	layers := fs.String("layers", "all", "taps to fit: all, or a comma-separated `LIST`")
	pca := fs.Int("pca", 1000, "PCA components fitted on train before the read-out (0: none)")
	readoutName := fs.String("model", readout.ModelRidgeCV, "read-out: linear, ridge or ridgecv")
	alpha := fs.Float64("alpha", 0, "ridge penalty (--model ridge)")
	alphas := fs.String("alphas", "", "ridge CV grid, as for fit (default "+readout.DefaultGridHelp()+")")
	folds := fs.Int("folds", 5, "cross-validation folds (--model ridgecv), stratified by object label when there are labels")
	foldsInOrder := fs.Bool("folds-in-order", false, foldsInOrderHelp)
	var cf cacheFlags
	addCache(fs, &cf, "")
	batch := fs.Int("batch", features.DefaultNetBatch, "images per forward pass")
	extractOnly := fs.Bool("extract-only", false, "fill the feature cache for the layers (one forward pass per batch) and fit nothing")
	if status, ok := parseFlagsOnly(fs, args, "sweep", stderr); !ok {
		return status
	}
	if nf.net == "" {
		return usageError(stderr, "sweep", "no network given (--net NAME)")
	}
	nf.seed = c.seed
	net, err := features.OpenNetworkShared(nf.net, nets.NetOptions{Weights: nf.weights, Seed: nf.seed})
	if err != nil {
		return fail(stderr, "sweep", err)
	}
	list, err := features.SweepLayers(net, *layers)
	if err != nil {
		return usageError(stderr, "sweep", "%v", err)
	}
	store, err := c.openStore()
	if err != nil {
		return fail(stderr, "sweep", err)
	}
	var grid []float64
	if *alphas != "" {
		if grid, err = readout.ParseAlphas(*alphas); err != nil {
			return usageError(stderr, "sweep", "--alphas: %v", err)
		}
	}
	spec := readout.SweepSpec{
		Fit: readout.FitSpec{Data: absPath(c.data), Weights: absPath(nf.weights), PCA: *pca, Model: *readoutName,
			Alpha: *alpha, Alphas: grid, Folds: *folds, FoldsInOrder: *foldsInOrder, Seed: c.seed, CacheDir: cf.dir, CacheMax: cf.maxBytes(), MaxMemory: c.jobMemory()},
		Net: nf.net, Layers: list, BatchSize: *batch, ExtractOnly: *extractOnly,
	}
	start := time.Now()
	progress := newProgressPrinter(stderr, c.json)
	if *extractOnly {
		// Filling the cache makes no run, so it is no job of the queue.
		ctx, stop := interruptible()
		defer stop()
		err := readout.Sweep(ctx, spec, progress.emit, nil)
		progress.finish()
		if err != nil {
			return fail(stderr, "sweep", err)
		}
		fmt.Fprintf(stdout, "%d layers of %s cached in %s (%.1f s)\n", len(list), net.Name(), extractDir(cf.dir), time.Since(start).Seconds())
		return 0
	}
	layerJobs, err := readout.SweepJobs(spec)
	if err != nil {
		return fail(stderr, "sweep", err)
	}
	if status, queued := c.submit("sweep", store, layerJobs, stdout, stderr); queued {
		return status
	}
	out := []json.RawMessage{}
	// Rows are printed as each layer finishes, so the columns are fixed.
	const row = "%-14s %7s %7s %9s %5s  %s\n"
	if !c.json {
		fmt.Fprintf(stdout, row, "LAYER", "EV", "r", "ALPHA", "PCA", "RUN")
	}
	var best bestLayers
	// One layer at a time, in order, as before the queue: the first fills
	// the feature cache with every layer in one pass of the network.
	for i, job := range layerJobs {
		layer := list[i]
		st, err := runJobWith(store, c.jobs.keep, job, progress.emit)
		progress.finish()
		if err != nil {
			return fail(stderr, "sweep", fmt.Errorf("layer %s: %w", layer, err))
		}
		run, err := store.Load(st.RunID)
		if err != nil {
			return fail(stderr, "sweep", err)
		}
		best.add(layer, run)
		s := run.Meta.Summary
		if c.json {
			b, err := marshalLayer(layer, s, run.Meta.ID)
			if err != nil {
				return fail(stderr, "sweep", err)
			}
			out = append(out, b)
			continue
		}
		printWarnings(stderr, " ("+layer+")", run.Meta)
		fmt.Fprintf(stdout, row, layer, num(s.EVMean, 4), num(s.RMean, 4), num(s.Alpha, 3), fmt.Sprint(s.PCA), run.Meta.ID)
	}
	choice, err := best.choose()
	if err != nil {
		return fail(stderr, "sweep", err)
	}
	if c.json {
		obj := map[string]any{"layers": out}
		if choice != nil {
			obj["best_layer_per_neuron"] = perNeuron(choice)
			obj["best_layer_val_ev_mean"] = jsonNum(choice.ValEVMean)
		}
		return printJSON(stdout, stderr, "sweep", obj)
	}
	if choice != nil {
		printBestLayers(stdout, choice)
	}
	return 0
}

// bestLayers collects a sweep's layers for the best layer per neuron.
type bestLayers []readout.LayerScores

func (b *bestLayers) add(layer string, run *runs.Run) {
	*b = append(*b, readout.LayerScoresOf(layer, run))
}

// choose picks each neuron's layer by training CV score; nil when some layer
// has no CV scores (a read-out other than ridge CV).
func (b bestLayers) choose() (*readout.BestLayers, error) {
	if len(b) == 0 {
		return nil, nil
	}
	c, err := readout.ChooseBestLayers(b)
	if errors.Is(err, readout.ErrNoCVScores) {
		return nil, nil
	}
	return c, err
}

// bestNeuron is one neuron's chosen layer in `sweep --json`.
type bestNeuron struct {
	Neuron  int    `json:"neuron"`
	Layer   string `json:"layer"`
	Depth   int    `json:"depth"` // the layer's position in the sweep, 0 shallowest
	CVScore any    `json:"cv_score"`
	ValEV   any    `json:"val_ev"`
}

func perNeuron(c *readout.BestLayers) []bestNeuron {
	out := make([]bestNeuron, len(c.Layer))
	for j, l := range c.Layer {
		out[j] = bestNeuron{Neuron: j, Depth: l, ValEV: jsonNum(c.ValEV[j])}
		if l >= 0 {
			out[j].Layer, out[j].CVScore = c.Layers[l].Layer, jsonNum(c.Layers[l].CVScore[j])
		}
	}
	return out
}

// printBestLayers writes the histogram of best-layer depth and the val EV
// of the chosen layers.
func printBestLayers(w io.Writer, c *readout.BestLayers) {
	fmt.Fprintf(w, "\nbest layer per neuron, chosen by training CV R² (not val): mean val EV %s over %d neurons\n", num(c.ValEVMean, 4), c.Count)
	most := max(1, slices.Max(c.Histogram))
	for l, n := range c.Histogram {
		fmt.Fprintf(w, "  %-14s %4d  %s\n", c.Layers[l].Layer, n, strings.Repeat("#", (n*40+most-1)/most))
	}
}

// marshalLayer is the summary's JSON with "layer" and "run_id" added.
func marshalLayer(layer string, s runs.Summary, runID string) (json.RawMessage, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	m["layer"], _ = json.Marshal(layer)
	m["run_id"], _ = json.Marshal(runID)
	return json.Marshal(m)
}

func extractDir(flagDir string) string {
	if flagDir != "" {
		return flagDir
	}
	return features.DefaultCacheDir()
}
