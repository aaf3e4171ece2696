package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"codeberg.org/sbinet/npyio"

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
		if err := writeJSON(stdout, out); err != nil {
			return fail(stderr, "layers", err)
		}
		return 0
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
	x, shape, err := readFloat32Npy(input)
	if err != nil {
		return err
	}
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
		err := runs.WriteFileAtomic(file, func(w io.Writer) error { return runs.WriteNPY(w, v, n, len(v)/n) })
		if err != nil {
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
		if err := writeJSON(stdout, results); err != nil {
			return fail(stderr, "classify", err)
		}
		return 0
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
	fs := newFlags("sweep", "--data SPEC --net NET [--weights F] --layers all|L1,L2 --pca N --model ridgecv [--json] [--runs DIR] [--seed S]", stderr)
	var c commonFlags
	addCommon(fs, &c)
	var jf jobFlags
	addJobFlags(fs, &jf)
	var nf netFlags
	nf.addNet(fs)
	dataSpec := fs.String("data", "demo", "dataset: demo, demo:SESSION, an NX-414 .h5 file or a folder")
	layers := fs.String("layers", "all", "taps to fit: all, or a comma-separated `LIST`")
	pca := fs.Int("pca", 1000, "PCA components fitted on train before the read-out (0: none)")
	readoutName := fs.String("model", readout.ModelRidgeCV, "read-out: linear, ridge or ridgecv")
	alpha := fs.Float64("alpha", 0, "ridge penalty (--model ridge)")
	cacheDir := fs.String("cache", "", "feature cache `DIR` (default $ITSCOPE_CACHE, else $XDG_CACHE_HOME/itscope)")
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
	spec := readout.SweepSpec{
		Fit: readout.FitSpec{Data: absPath(*dataSpec), Weights: absPath(nf.weights), PCA: *pca, Model: *readoutName,
			Alpha: *alpha, Seed: c.seed, CacheDir: *cacheDir},
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
		fmt.Fprintf(stdout, "%d layers of %s cached in %s (%.1f s)\n", len(list), net.Name(), extractDir(*cacheDir), time.Since(start).Seconds())
		return 0
	}
	layerJobs, err := readout.SweepJobs(spec)
	if err != nil {
		return fail(stderr, "sweep", err)
	}
	for i := range layerJobs {
		layerJobs[i].Owner = localOwner()
	}
	if jf.queued() {
		return submitDetached("sweep", store, jf, layerJobs, c.json, stdout, stderr)
	}
	out := []json.RawMessage{}
	// Rows are printed as each layer finishes, so the columns are fixed.
	const row = "%-14s %7s %7s %9s %5s  %s\n"
	if !c.json {
		fmt.Fprintf(stdout, row, "LAYER", "EV", "r", "ALPHA", "PCA", "RUN")
	}
	// One layer at a time, in order, as before the queue: the first fills
	// the feature cache with every layer in one pass of the network.
	for i, job := range layerJobs {
		st, err := runJobWith(store, jf.keep, job, progress.emit)
		progress.finish()
		if err != nil {
			return fail(stderr, "sweep", fmt.Errorf("layer %s: %w", list[i], err))
		}
		meta, err := store.LoadMeta(st.RunID)
		if err != nil {
			return fail(stderr, "sweep", err)
		}
		s := meta.Summary
		if c.json {
			b, err := marshalLayer(list[i], s, meta.ID)
			if err != nil {
				return fail(stderr, "sweep", err)
			}
			out = append(out, b)
			continue
		}
		fmt.Fprintf(stdout, row, list[i], num(s.EVMean, 4), num(s.RMean, 4), num(s.Alpha, 3), fmt.Sprint(s.PCA), meta.ID)
	}
	if c.json {
		if err := writeJSON(stdout, out); err != nil {
			return fail(stderr, "sweep", err)
		}
	}
	return 0
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

// readFloat32Npy reads a float32 .npy file of any shape.
func readFloat32Npy(path string) ([]float32, []int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r, err := npyio.NewReader(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: not a .npy file: %v", path, err)
	}
	if dt := strings.Trim(r.Header.Descr.Type, `'"`); dt != "<f4" {
		return nil, nil, fmt.Errorf("%s: want float32 ('<f4'), found %q", path, dt)
	}
	var x []float32
	if err := r.Read(&x); err != nil {
		return nil, nil, fmt.Errorf("%s: %v", path, err)
	}
	return x, r.Header.Descr.Shape, nil
}

func extractDir(flagDir string) string {
	if flagDir != "" {
		return flagDir
	}
	return features.DefaultCacheDir()
}
