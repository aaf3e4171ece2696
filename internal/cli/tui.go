package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/term"
	"github.com/muesli/termenv"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"
	"itscope/ui"
)

func runTUI(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("tui", "[--data SPEC] [--runs DIR] [--jobs N] [--max-job-memory SIZE] [--weights NAME=FILE]... [FILE...]", stderr)
	spec := fs.String("data", "", "dataset `SPEC` to open at start: demo, demo:SESSION, an .h5 file or a folder")
	runsDir := fs.String("runs", "", runsFlagUsage(""))
	parallel := fs.Int("jobs", 0, "jobs running at once (`N`, default half the cores); the rest queue")
	exportDir := fs.String("export-dir", ".", "`DIR` where Results and Compare write CSV files")
	mouse := fs.Bool("mouse", false, "enable mouse reporting: clicks select tabs, rows and fields; the wheel scrolls")
	images := fs.String("images", "auto", "how stimuli are drawn: `MODE` (one of "+strings.Join(ui.ImageModes, ", ")+"; auto asks the terminal)")
	var maxMemory memoryFlag
	addMaxJobMemory(fs, &maxMemory, "half")
	var cf cacheFlags
	addCache(fs, &cf, "")
	weights := networkWeights{}
	fs.Var(weights, "weights", "`NAME=FILE`: a torchvision ONNX export for network NAME (resnet18, resnet50, vgg19, mobilenetv2); repeatable")
	files, status, ok := parseFlags(fs, args)
	if !ok {
		return status
	}
	// Datasets are recorded in the specs of queued jobs, which another
	// process may run from another folder.
	*spec = absPath(*spec)
	for i := range files {
		files[i] = absPath(files[i])
	}
	if err := ui.CheckImageMode(*images); err != nil {
		return usageError(stderr, "tui", "%v", err)
	}
	if *parallel < 0 {
		return usageError(stderr, "tui", "--jobs: want at least 1, found %d", *parallel)
	}
	if *parallel == 0 {
		*parallel = max(1, runtime.NumCPU()/2)
	}
	if f, isFile := stdout.(*os.File); !isFile || !term.IsTerminal(f.Fd()) || !term.IsTerminal(os.Stdin.Fd()) {
		fmt.Fprintln(stderr, "itscope tui: the explorer needs a terminal; for scripts use the headless commands (itscope help)")
		return 1
	}
	store, err := openRunStore(*runsDir)
	if err != nil {
		return fail(stderr, "tui", err)
	}
	engine := jobs.NewEngine(store, *parallel)
	engine.SetLimits(jobs.Limits{JobMemory: maxMemory.bytes(2)})
	// The Jobs and Live panes show every job of the store: grids started
	// from another terminal, other users' jobs, cluster jobs.
	engine.Follow()

	datasets := []string{"demo", "demo:" + data.DemoSessions[1]}
	datasets = append(datasets, files...)
	if *spec != "" {
		datasets = append(datasets, *spec)
	}
	datasets = append(datasets, recentDatasets(store, 5)...)
	datasets = dedupe(datasets)
	initial := *spec
	if initial == "" && len(files) > 0 {
		initial = files[0]
	}

	out := stdout.(*os.File)
	renderer := lipgloss.NewRenderer(out, termenv.WithColorCache(true))
	if os.Getenv("NO_COLOR") != "" {
		renderer.SetColorProfile(termenv.Ascii)
	}
	w, h, _ := term.GetSize(out.Fd())
	opts := ui.Options{
		Engine: engine, Store: store, Renderer: renderer, Width: w, Height: h,
		Datasets: datasets, Initial: initial, ExportDir: *exportDir, Weights: weights,
		Images: *images, CacheDir: cf.dir, CacheMax: cf.maxBytes(),
	}
	// With Slurm's sbatch at hand the Grid pane can send its jobs there.
	if _, err := exec.LookPath("sbatch"); err == nil && engine.Queue() != nil {
		opts.SubmitSlurm = tuiSlurmSubmit(engine.Queue(), store)
	}
	app := ui.New(opts)
	progOpts := []tea.ProgramOption{tea.WithAltScreen(), tea.WithOutput(out), tea.WithFPS(ui.FPS)}
	if *mouse {
		progOpts = append(progOpts, tea.WithMouseCellMotion())
	}
	_, runErr := tea.NewProgram(app, progOpts...).Run()

	// Quitting cancelled this session's jobs; wait for them to be recorded as
	// cancelled so that no run is left half-written.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := engine.Shutdown(ctx); err != nil {
		fmt.Fprintln(stderr, "itscope tui: jobs still running after a minute:", err)
	}
	if runErr != nil {
		return fail(stderr, "tui", runErr)
	}
	return 0
}

// recentDatasets are the datasets of the newest runs, newest first.
func recentDatasets(store *runs.Store, n int) []string {
	runs, err := store.List()
	if err != nil {
		return nil
	}
	var out []string
	for i := len(runs) - 1; i >= 0 && len(out) < n; i-- {
		if name := runs[i].Dataset.Name; name != "" && !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out
}

// dedupe drops specs that name a dataset already listed (runs record
// "demo" as "demo:201025"), keeping the first spelling.
func dedupe(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if canon := data.CanonicalSpec(x); !seen[canon] {
			seen[canon] = true
			out = append(out, x)
		}
	}
	return out
}

// networkWeights is --weights NAME=FILE, repeatable: the ONNX export the
// explorer loads for a pretrained network that ships without weights.
type networkWeights map[string]string

func (w networkWeights) String() string {
	var parts []string
	for name, file := range w {
		parts = append(parts, name+"="+file)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func (w networkWeights) Set(v string) error {
	name, file, ok := strings.Cut(v, "=")
	if !ok || file == "" {
		return fmt.Errorf("want NAME=FILE (for example resnet50=r50.onnx), found %q", v)
	}
	var pretrained []string
	for _, n := range nets.NetworkNames() {
		if !strings.HasSuffix(n, "-random") {
			pretrained = append(pretrained, n)
		}
	}
	if !slices.Contains(pretrained, name) {
		return fmt.Errorf("%q: want one of %s", name, strings.Join(pretrained, ", "))
	}
	if st, err := os.Stat(file); err != nil || st.IsDir() {
		return fmt.Errorf("%s: want an ONNX file exported from torchvision (scripts/export_torchvision.py)", file)
	}
	w[name] = file
	return nil
}
