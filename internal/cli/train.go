package cli

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"itscope/data"
	"itscope/data/npy"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/readout"
	"itscope/model/runs"
	"itscope/model/train"
)

// trainCommand holds the flags of train and cotrain: a job command's and
// the optimiser's.
type trainCommand struct {
	jobCommand
	lr, wd                  float64
	batch, epochs, patience int
	optimizer               string
}

func addTrainCommand(fs *flag.FlagSet, t *trainCommand, def train.TrainConfig) {
	addJobCommand(fs, &t.jobCommand)
	fs.Float64Var(&t.lr, "lr", def.LR, "learning rate")
	fs.Float64Var(&t.wd, "wd", def.WeightDecay, "weight decay (Adam: added to the gradient, as torch.optim.Adam)")
	fs.IntVar(&t.batch, "batch", def.Batch, "minibatch size")
	fs.IntVar(&t.epochs, "epochs", def.Epochs, "maximum number of epochs")
	fs.IntVar(&t.patience, "patience", def.Patience, "stop after this many epochs without a better val EV (0: never)")
	fs.StringVar(&t.optimizer, "optimizer", def.Optimizer, "adam, adamw or sgd (momentum 0.9)")
}

// apply sets cfg's optimiser and seed from the flags.
func (t *trainCommand) apply(cfg *train.TrainConfig) {
	cfg.LR, cfg.WeightDecay, cfg.Batch, cfg.Epochs, cfg.Patience = t.lr, t.wd, t.batch, t.epochs, t.patience
	cfg.Optimizer, cfg.Seed = t.optimizer, t.seed
}

func runTrain(args []string, stdout, stderr io.Writer) int {
	const name = "train"
	fs := newFlags(name, "--data SPEC [--cnn SPEC] [--lr --wd --batch --epochs --patience --seed] [--json] [--runs DIR] [--detach]", stderr)
	var c trainCommand
	def := train.DefaultTrainConfig()
	addTrainCommand(fs, &c, def)
	cnnSpec := fs.String("cnn", "", "CNN spec, e.g. layers=3,channels=32-64-128,kernel=3,stride=1,pool=2,bn=on,dropout=0,size=64,readout=flatten (every key has a default)")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	spec, err := train.ParseCNNSpec(*cnnSpec)
	if err != nil {
		return usageError(stderr, name, "--cnn: %v", err)
	}
	cfg := def
	cfg.CNN = spec
	c.apply(&cfg)
	if err := cfg.Validate(); err != nil {
		return usageError(stderr, name, "%v", err)
	}
	ds, store, err := c.openDataAndStore(c.data)
	if err != nil {
		return fail(stderr, name, err)
	}
	if !c.json && !c.jobs.queued() {
		fmt.Fprintf(stdout, "training cnn %s on %s: lr %g, wd %g, batch %d, up to %d epochs (patience %d), seed %d\n",
			spec, ds.Name, cfg.LR, cfg.WeightDecay, cfg.Batch, cfg.Epochs, cfg.Patience, cfg.Seed)
	}
	return c.runOne(name, store, train.TrainJob(ds, cfg, ""), stdout, stderr)
}

// runOneJob runs job on an engine saving into store, refusing it above
// maxMemory, prints its epochs (not with --json), cancels it on Ctrl-C (the
// best run so far is saved), then prints the saved run's summary as a
// table or JSON.
func runOneJob(name string, store *runs.Store, keep time.Duration, maxMemory int64, job jobs.Job, asJSON bool, stdout, stderr io.Writer) int {
	if _, err := openQueue(store, keep); err != nil {
		return fail(stderr, name, err)
	}
	engine := jobs.NewEngine(store, 1)
	engine.SetLimits(jobs.Limits{JobMemory: maxMemory})
	events, unsubscribe := engine.Subscribe()
	defer unsubscribe()
	id, err := engine.Submit(job)
	if err != nil {
		return fail(stderr, name, err)
	}
	interrupt, stopInterrupts := interrupts()
	defer stopInterrupts()
	var last jobs.Event
	for done := false; !done; {
		select {
		case <-interrupt:
			fmt.Fprintln(stderr, "itscope "+name+": interrupted; stopping at the next batch and saving the best epoch so far")
			engine.Cancel(id)
		case ev, ok := <-events:
			if !ok {
				done = true
				break
			}
			if ev.Job != id {
				continue
			}
			switch ev.Kind {
			case jobs.EventEpoch:
				if !asJSON {
					fmt.Fprintln(stdout, epochLine(ev))
				}
			case jobs.EventLog:
				if !asJSON && ev.Message != "" {
					fmt.Fprintln(stdout, ev.Message)
				}
			}
			if ev.Kind.Terminal() {
				last, done = ev, true
			}
		}
	}
	st, _ := engine.Status(id)
	if st.RunID == "" {
		if st.Err != "" {
			return fail(stderr, name, errors.New(st.Err))
		}
		return fail(stderr, name, fmt.Errorf("%s ended (%s) without saving a run", job.Name, last.Kind))
	}
	meta, err := store.LoadMeta(st.RunID)
	if err != nil {
		return fail(stderr, name, err)
	}
	if asJSON {
		if err := printRunJSON(stdout, meta); err != nil {
			return fail(stderr, name, err)
		}
	} else {
		printRunTable(stdout, []runs.RunMeta{meta})
		fmt.Fprintf(stdout, "saved run %s in %s\n", meta.ID, store.Path(meta.ID))
	}
	switch st.State {
	case runs.Failed:
		return fail(stderr, name, errors.New(st.Err))
	case runs.Cancelled:
		fmt.Fprintln(stderr, "itscope "+name+": cancelled; the best epoch so far is saved")
		return 1
	}
	return 0
}

func runCotrain(args []string, stdout, stderr io.Writer) int {
	const name = "cotrain"
	fs := newFlags(name, "--data SPEC --net NET [--weights F] --trainable TAP --lambda L [--epochs N] [--cache DIR] [--json] [--runs DIR] [--detach]", stderr)
	var c trainCommand
	def := train.DefaultCotrainConfig()
	addTrainCommand(fs, &c, def.Train)
	net := fs.String("net", "", "pretrained trunk: mobilenetv2, resnet18, resnet50 (with --weights) or NAME-random")
	weights := fs.String("weights", "", "ONNX export of the torchvision network (resnet18, resnet50)")
	trainable := fs.String("trainable", "", "the first trainable stage, by tap (layer4, features.17); it and every later stage train, the rest is frozen")
	lambda := fs.Float64("lambda", def.Lambda, "weight of the object-classification cross-entropy in the loss (MSE + lambda * CE)")
	var cf cacheFlags
	addCache(fs, &cf, " for the frozen part")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	if *net == "" {
		return usageError(stderr, name, "--net is required (mobilenetv2, resnet18, resnet50, NAME-random)")
	}
	if *trainable == "" {
		return usageError(stderr, name, "--trainable is required: the tap of the first trainable stage (layer4, features.17)")
	}
	cfg := def
	c.apply(&cfg.Train)
	cfg.Net, cfg.Weights, cfg.Trainable, cfg.Lambda, cfg.CacheDir, cfg.CacheMax = *net, absPath(*weights), *trainable, *lambda, cf.dir, cf.maxBytes()
	if err := cfg.Validate(); err != nil {
		return usageError(stderr, name, "%v", err)
	}
	ds, store, err := c.openDataAndStore(c.data)
	if err != nil {
		return fail(stderr, name, err)
	}
	job := train.CotrainJob(ds, cfg, "")
	trunk, err := features.OpenNetworkShared(cfg.Net, nets.NetOptions{Weights: cfg.Weights, Seed: cfg.Train.Seed})
	if err != nil {
		return fail(stderr, name, err)
	}
	if job.Memory, err = train.CotrainMemory(cfg, ds, trunk); err != nil {
		return fail(stderr, name, err)
	}
	return c.runOne(name, store, job, stdout, stderr)
}

func runGrid(args []string, stdout, stderr io.Writer) int {
	const name = "grid"
	fs := newFlags(name, "--data SPEC --grid FILE.json [--jobs N] [--json] [--runs DIR] [--cache DIR] [--detach]", stderr)
	var c jobCommand
	addJobCommand(fs, &c)
	var cf cacheFlags
	addCache(fs, &cf, " for fit points on network features")
	gridFile := fs.String("grid", "", "JSON grid spec (see README: lists of lr, wd, batch, layers, channels, epochs, seeds; or kind fit with features, pca, model, alphas)")
	parallel := fs.Int("jobs", 1, "how many grid points run at once")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	if *gridFile == "" {
		return usageError(stderr, name, "--grid FILE.json is required")
	}
	if *parallel < 1 {
		return usageError(stderr, name, "--jobs: want at least 1, found %d", *parallel)
	}
	grid, err := readout.ReadGridSpec(*gridFile)
	if err != nil {
		return fail(stderr, name, err)
	}
	points, err := grid.Expand()
	if err != nil {
		return fail(stderr, name, fmt.Errorf("%s: %w", *gridFile, err))
	}
	ds, store, err := c.openDataAndStore(c.data)
	if err != nil {
		return fail(stderr, name, err)
	}
	gridJobs := make([]jobs.Job, len(points))
	for i, p := range points {
		gridJobs[i] = readout.GridJob(ds, p, cf.dir, cf.maxBytes())
	}
	if status, queued := c.submit(name, store, gridJobs, stdout, stderr); queued {
		return status
	}
	if _, err := openQueue(store, c.jobs.keep); err != nil {
		return fail(stderr, name, err)
	}
	engine := c.newEngine(store, *parallel)
	events, unsubscribe := engine.Subscribe()
	defer unsubscribe()
	labels := map[jobs.JobID]string{}
	ids, err := engine.SubmitAll(gridJobs)
	if err != nil {
		return fail(stderr, name, err)
	}
	for i, id := range ids {
		labels[id] = points[i].Label
	}
	if !c.json {
		fmt.Fprintf(stdout, "grid %s: %d points on %s, %d at a time\n", *gridFile, len(points), ds.Name, *parallel)
	}
	interrupt, stopInterrupts := interrupts()
	defer stopInterrupts()
	for left := len(points); left > 0; {
		select {
		case <-interrupt:
			fmt.Fprintln(stderr, "itscope grid: interrupted; cancelling every point (the best epoch so far of each is saved)")
			for id := range labels {
				engine.Cancel(id)
			}
		case ev, ok := <-events:
			if !ok {
				left = 0
				break
			}
			if _, mine := labels[ev.Job]; !mine {
				continue
			}
			if !c.json {
				switch {
				case ev.Kind == jobs.EventEpoch:
					fmt.Fprintf(stdout, "[%s] %s\n", labels[ev.Job], epochLine(ev))
				case ev.Kind == jobs.EventStarted || ev.Kind.Terminal():
					line := fmt.Sprintf("[%s] %s", labels[ev.Job], ev.Kind)
					if ev.Message != "" {
						line += ": " + ev.Message
					}
					fmt.Fprintln(stdout, line)
				}
			}
			if ev.Kind.Terminal() {
				left--
			}
		}
	}
	var finished []runs.RunMeta
	failed := 0
	for _, st := range engine.Snapshot() {
		if st.State != runs.Done {
			failed++
		}
		if st.RunID == "" {
			continue
		}
		if m, err := store.LoadMeta(st.RunID); err == nil {
			finished = append(finished, m)
		}
	}
	sort.SliceStable(finished, func(i, j int) bool { return evOrder(finished[i]) > evOrder(finished[j]) })
	if c.json {
		out := make([]json.RawMessage, 0, len(finished))
		for _, m := range finished {
			var buf strings.Builder
			if err := printRunJSON(&buf, m); err != nil {
				return fail(stderr, name, err)
			}
			out = append(out, json.RawMessage(buf.String()))
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return fail(stderr, name, err)
		}
	} else {
		fmt.Fprintln(stdout)
		printRunTable(stdout, finished)
	}
	if failed > 0 {
		fmt.Fprintf(stderr, "itscope grid: %d of %d points did not finish\n", failed, len(points))
		return 1
	}
	return 0
}

// evOrder sorts runs by val EV with unknown scores last.
func evOrder(m runs.RunMeta) float64 {
	if math.IsNaN(m.Summary.EVMean) {
		return math.Inf(-1)
	}
	return m.Summary.EVMean
}

func runPredict(args []string, stdout, stderr io.Writer) int {
	const name = "predict"
	fs := newFlags(name, "--run DIR|ID --data SPEC [--split train|val|test] [-o FILE.npy|FILE.csv] [--json] [--runs DIR]", stderr)
	var common commonFlags
	addCommon(fs, &common)
	runRef := fs.String("run", "", "a saved run (fit, a sweep's layer, train or cotrain): its folder, or its id in the run store")
	dataSpec := fs.String("data", "demo", dataUsage)
	split := fs.String("split", data.Test, "split to predict: train, val or test (test may have no responses)")
	out := fs.String("o", "predictions.npy", "output `FILE`: .npy (images x neurons, float32) or .csv (header image,n0,n1,..., a row per image named by file name or index), in the split's image order")
	var cf cacheFlags
	addCache(fs, &cf, " for read-out runs")
	if status, ok := parseFlagsOnly(fs, args, name, stderr); !ok {
		return status
	}
	if *runRef == "" {
		return usageError(stderr, name, "--run is required: a run folder or id")
	}
	asCSV := strings.HasSuffix(strings.ToLower(*out), ".csv")
	if !asCSV && !strings.HasSuffix(strings.ToLower(*out), ".npy") {
		return usageError(stderr, name, "-o %s: want a .npy or .csv file", *out)
	}
	dir := *runRef
	if _, err := os.Stat(dir); err != nil {
		store, serr := common.openStore()
		if serr != nil {
			return fail(stderr, name, serr)
		}
		if _, merr := store.LoadMeta(*runRef); merr != nil {
			return fail(stderr, name, fmt.Errorf("--run %s: neither a folder nor a run in %s", *runRef, store.Dir))
		}
		dir = store.Path(*runRef)
	}
	ds, err := data.Open(*dataSpec)
	if err != nil {
		return fail(stderr, name, err)
	}
	ctx, stop := interruptible()
	defer stop()
	p, err := readout.PredictRun(ctx, dir, ds, *split, cf.dir, cf.maxBytes())
	if err != nil {
		return fail(stderr, name, err)
	}
	write := func() error { return npy.WriteFile(*out, p.Predictions, p.Rows, p.Cols) }
	if asCSV {
		write = func() error {
			return runs.WriteFileAtomic(*out, func(w io.Writer) error { return writePredictionsCSV(w, p, ds.Images.Name) })
		}
	}
	if err := write(); err != nil {
		return fail(stderr, name, err)
	}
	if common.json {
		obj := map[string]any{"run": dir, "split": *split, "n_images": p.Rows, "n_neurons": p.Cols, "output": *out}
		if p.Scores != nil {
			obj["ev_mean"], obj["r_mean"], obj["mse_mean"] = p.Scores.EVMean, p.Scores.RMean, p.Scores.MSEMean
		}
		return printJSON(stdout, stderr, name, obj)
	}
	fmt.Fprintf(stdout, "predicted %d images x %d neurons of split %s with %s -> %s\n", p.Rows, p.Cols, *split, dir, *out)
	if p.Scores != nil {
		fmt.Fprintf(stdout, "scores on %s: EV mean %.4f, r mean %.4f, MSE mean %.4g\n", *split, p.Scores.EVMean, p.Scores.RMean, p.Scores.MSEMean)
	}
	return 0
}

// writePredictionsCSV writes a course-style submission: a header
// image,n0,n1,... and one row per image, named by imageName, in row order.
func writePredictionsCSV(w io.Writer, p *train.Prediction, imageName func(int) string) error {
	cw := csv.NewWriter(w)
	row := make([]string, p.Cols+1)
	row[0] = "image"
	for j := range p.Cols {
		row[j+1] = "n" + strconv.Itoa(j)
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for i, img := range p.Images {
		row[0] = imageName(img)
		for j, v := range p.Predictions[i*p.Cols : (i+1)*p.Cols] {
			row[j+1] = strconv.FormatFloat(float64(v), 'g', -1, 32)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
