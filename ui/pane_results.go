package ui

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"itscope/data"
	"itscope/model/figures"
	"itscope/model/runs"
)

// openRunMsg asks the Results pane to show a run.
type openRunMsg string

func openRun(id string) tea.Cmd { return func() tea.Msg { return openRunMsg(id) } }

// runLoadedMsg is a run read from the store, with each validation image's
// mean actual and mean predicted response for Figure 1c.
type runLoadedMsg struct {
	run             *runs.Run
	pred, actual    []float64
	err, figureCErr error
}

func loadRun(ctx *Context, id string) tea.Cmd {
	store, open, cur := ctx.Store, ctx.Open, ctx.Dataset
	return func() tea.Msg {
		run, err := store.Load(id)
		if err != nil {
			return runLoadedMsg{err: err}
		}
		msg := runLoadedMsg{run: run}
		if run.PredRows == 0 {
			return msg
		}
		ds := cur
		if ds == nil || ds.Hash != run.Meta.Dataset.Hash {
			if ds, err = open(run.Meta.Dataset.Name); err != nil {
				msg.figureCErr = err
				return msg
			}
			if run.Meta.Dataset.Hash != "" && ds.Hash != run.Meta.Dataset.Hash {
				msg.figureCErr = fmt.Errorf("dataset %s has changed since the run was made", run.Meta.Dataset.Name)
				return msg
			}
		}
		msg.pred, msg.actual, msg.figureCErr = figures.ValPairs(ds, run, -1)
		return msg
	}
}

// Result views.
const (
	viewHistogram = iota
	viewLayers
	viewRates
	viewNeurons
	viewCurves
	numViews
)

var viewNames = []string{"1b EV", "1a layers", "1c predicted", "neurons", "curves"}

var neuronColumns = []string{"neuron", "EV", "r", "MSE", "ceiling"}

// resultsPane shows one run: its EV histogram, the sweep's EV per layer, the
// predicted against actual rate per image, and a sortable neuron table.
type resultsPane struct {
	paneBase
	exportDir string
	list      cursor
	run       *runs.Run
	pred, act []float64
	figCErr   error
	loading   string
	view      int
	sortCol   int
	desc      bool
	rows      cursor
	focusList bool
	best      bestLayersMsg // the best layer per neuron of the run's sweep
}

func newResultsPane(ctx *Context, exportDir string) *resultsPane {
	return &resultsPane{paneBase: paneBase{ctx: ctx}, exportDir: exportDir, sortCol: 1, desc: true, focusList: true}
}

func (p *resultsPane) Title() string { return "Results" }
func (p *resultsPane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	return []key.Binding{k.Up, k.Down, k.Enter, k.View, k.Sort, k.Export, k.Figure}
}
func (p *resultsPane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{
		{k.Up, k.Down, withHelp(k.Enter, "enter", "open run"), withHelp(k.Back, "esc", "back to runs")},
		{k.View, k.Sort, k.Reverse, k.Export, withHelp(k.Figure, "f", "save the view as PNG")},
	}
}

// runs are the finished runs, newest first.
func (p *resultsPane) runs() []runs.RunMeta {
	var out []runs.RunMeta
	for i := len(p.ctx.Runs) - 1; i >= 0; i-- {
		if scored(p.ctx.Runs[i]) {
			out = append(out, p.ctx.Runs[i])
		}
	}
	return out
}

func (p *resultsPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case openRunMsg:
		for i, r := range p.runs() {
			if r.ID == string(msg) {
				p.list.pos = i
			}
		}
		p.loading = string(msg)
		p.view = viewHistogram
		return loadRun(p.ctx, string(msg))
	case runLoadedMsg:
		p.loading = ""
		if msg.err != nil {
			return setError(msg.err)
		}
		p.run, p.pred, p.act, p.figCErr = msg.run, msg.pred, msg.actual, msg.figureCErr
		p.focusList = false
		p.rows = cursor{}
		p.best = bestLayersMsg{}
		return loadBestLayers(p.ctx, p.run.Meta)
	case bestLayersMsg:
		if p.run != nil && msg.runID == p.run.Meta.ID {
			p.best = msg
		}
	case runsMsg:
		// A sweep still running adds layers: choose again over them all.
		if p.run != nil {
			if _, _, metas, _ := figures.SweepLayers(p.ctx.Runs, p.run.Meta); !slices.Equal(runIDs(metas), p.best.ids) {
				return loadBestLayers(p.ctx, p.run.Meta)
			}
		}
	}
	return nil
}

func (p *resultsPane) Key(msg tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	runs := p.runs()
	switch {
	case keyIs(msg, k.Enter):
		if len(runs) == 0 {
			return nil
		}
		p.loading = runs[p.list.pos].ID
		return loadRun(p.ctx, p.loading)
	case keyIs(msg, k.Back):
		p.focusList = true
	case keyIs(msg, k.View):
		p.view = (p.view + 1) % numViews
	case keyIs(msg, k.Sort) && p.run != nil:
		p.view = viewNeurons
		p.sortCol = (p.sortCol + 1) % len(neuronColumns)
	case keyIs(msg, k.Reverse):
		p.desc = !p.desc
	case keyIs(msg, k.Export) && p.run != nil:
		return p.export()
	case keyIs(msg, k.Figure) && p.run != nil:
		return p.saveFigure()
	case p.view == viewNeurons && !p.focusList && p.run != nil:
		if !navigate(k, msg, &p.rows, len(p.run.Neurons), p.h-6) && (keyIs(msg, k.Left)) {
			p.focusList = true
		}
	default:
		navigate(k, msg, &p.list, len(runs), p.h-4)
	}
	return nil
}

// viewFigures is the figure each view saves: the neuron table saves its
// histogram.
var viewFigures = [numViews]figures.Kind{figures.Histogram, figures.Layers, figures.Predicted, figures.Histogram, figures.Curves}

// saveFigure writes the open run's current view as a publication figure.
func (p *resultsPane) saveFigure() tea.Cmd {
	in := figures.Input{Runs: []*runs.Run{p.run}, Listing: p.ctx.Runs, Pred: p.pred, Actual: p.act, Neuron: -1}
	figCErr := p.figCErr
	return saveFigure(p.exportDir, p.run.Meta.ID, viewFigures[p.view], func() (figures.Input, error) {
		if p.view == viewRates && figCErr != nil {
			return in, figCErr
		}
		return in, nil
	})
}

func (p *resultsPane) export() tea.Cmd {
	run := p.run
	dir := p.exportDir
	return func() tea.Msg {
		path, err := exportPath(dir, run.Meta.ID+"-neurons.csv")
		if err == nil {
			err = runs.WriteFileAtomic(path, func(w io.Writer) error { return writeNeuronTable(w, run) })
		}
		if err != nil {
			return statusMsg{text: data.Printable(err.Error()), isErr: true}
		}
		return statusMsg{text: "wrote " + path}
	}
}

func writeNeuronTable(w io.Writer, run *runs.Run) error {
	if _, err := fmt.Fprintln(w, "neuron,ev,r,mse,r2,ceiling,ev_corrected"); err != nil {
		return err
	}
	for _, n := range run.Neurons {
		if _, err := fmt.Fprintf(w, "%d,%s,%s,%s,%s,%s,%s\n", n.Neuron, csvFloat(n.EV), csvFloat(n.R), csvFloat(n.MSE),
			csvFloat(n.R2), csvFloat(n.Ceiling), csvFloat(n.EVCorrected)); err != nil {
			return err
		}
	}
	return nil
}

func csvFloat(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return fmt.Sprintf("%.8g", v)
}

func (p *resultsPane) sortedNeurons() []runs.NeuronScore {
	ns := slices.Clone(p.run.Neurons)
	val := func(n runs.NeuronScore) float64 {
		switch p.sortCol {
		case 1:
			return n.EV
		case 2:
			return n.R
		case 3:
			return n.MSE
		case 4:
			return n.Ceiling
		}
		return float64(n.Neuron)
	}
	sort.SliceStable(ns, func(a, b int) bool {
		va, vb := val(ns[a]), val(ns[b])
		if math.IsNaN(va) != math.IsNaN(vb) {
			return math.IsNaN(vb) // NaN last either way
		}
		if p.desc {
			return va > vb
		}
		return va < vb
	})
	return ns
}

func (p *resultsPane) View() string {
	st := p.ctx.Styles
	// The list grows with a terminal wider than 100 columns, up to 80.
	listW := min(40, p.w*2/5)
	if p.w > 100 {
		listW = min(80, 40+(p.w-100)/2)
	}
	list := p.runs()
	apart := apartSettings(p.ctx.Runs)
	// Labels are cut from the left, keeping their end: the layer, the
	// settings that tell the runs apart.
	labelCol := column{width: listW - 10, left: true}
	var l strings.Builder
	if len(list) == 0 {
		l.WriteString(st.Dim.Render("No finished runs yet."))
	} else {
		l.WriteString(st.Heading.Render(fmt.Sprintf(" %-*s %6s", listW-10, "run, newest first", "mean EV")) + "\n")
	}
	first, end := p.list.window(len(list), p.h-3)
	z := &p.ctx.zones
	// A click selects a run, a second click on it opens it.
	z.rows(1, 2, listW-2, first, end-first, func(i int) tea.Cmd {
		again := i == p.list.pos && p.focusList
		p.list.pos, p.focusList = i, true
		if again {
			p.loading = list[i].ID
			return loadRun(p.ctx, p.loading)
		}
		return nil
	}, scroll(&p.list, func() int { return len(p.runs()) }))
	for i := first; i < end; i++ {
		r := list[i]
		label := strings.TrimSpace(runLabel(r) + " " + runs.HparamText(r, apart))
		line := labelCol.cell(label) + " " + fmt.Sprintf("%6s", fmtNum(r.Summary.EVMean))
		if p.run != nil && r.ID == p.run.Meta.ID {
			line = "●" + line
		} else {
			line = " " + line
		}
		if i == p.list.pos && p.focusList {
			line = selectLine(st, line, listW-2)
		}
		l.WriteString(line + "\n")
	}
	left := box(st, "Runs", l.String(), listW, p.h, p.focusList)
	rightW := p.w - listW
	if p.run == nil {
		msg := "enter opens the selected run"
		if p.loading != "" {
			msg = "loading " + p.loading + "…"
		}
		return lipgloss.JoinHorizontal(lipgloss.Top, left, box(st, "Run", st.Dim.Render(msg), rightW, p.h, false))
	}
	m := p.run.Meta
	s := m.Summary
	stat := func(k, v string) string { return st.Label.Render(k) + " " + st.Value.Render(v) + "  " }
	head := st.Heading.Render(runLabel(m)) + "\n" +
		stat("EV", fmtNum(s.EVMean)) + stat("median", fmtNum(s.EVMedian)) + stat("r", fmtNum(s.RMean)) +
		stat("MSE", fmtNum(s.MSEMean)) + stat("ceil EV", fmtNum(s.CeilingEVMean)) + "\n"
	if note := s.ConstantNote(); note != "" {
		head += st.Dim.Render(note) + "\n"
	}
	if m.Note != "" {
		head += st.Label.Render("note") + " " + st.Value.Render(ansiCut(data.Printable(m.Note), 0, rightW-9)) + "\n"
	}
	for _, w := range m.Warnings {
		head += st.Bad.Render(ansiCut("warning: "+w, 0, rightW-4)) + "\n"
	}
	if s.EVMeanLo < s.EVMeanHi {
		head += st.Label.Render("95% bootstrap") + " " + st.Value.Render(fmt.Sprintf("EV%s  r%s", interval(s.EVMeanLo, s.EVMeanHi), interval(s.RMeanLo, s.RMeanHi))) + "\n"
	}
	tabs := make([]string, numViews)
	tabsY := 1 + strings.Count(head, "\n") // under the box's top border
	sep := st.Dim.Render(" │ ")
	// The wheel over the run turns its views (or scrolls the neuron table,
	// added below); a click on a view's name shows it.
	z.add(listW, 0, rightW, p.h, nil, func(d int) tea.Cmd {
		p.view = ((p.view+d)%numViews + numViews) % numViews
		return nil
	})
	x := listW + 1
	for i, n := range viewNames {
		if i == p.view {
			if st.Plain {
				n = "[" + n + "]"
			}
			tabs[i] = st.TabActive.Render(n)
		} else {
			tabs[i] = st.TabInactive.Render(n)
		}
		z.add(x, tabsY, ansiWidth(tabs[i]), 1, func(int, int) tea.Cmd {
			p.view, p.focusList = i, false
			return nil
		}, nil)
		x += ansiWidth(tabs[i]) + ansiWidth(sep)
	}
	head += strings.Join(tabs, sep) + "\n\n"
	innerW, innerH := rightW-2, p.h-2-lipgloss.Height(head)
	var body string
	switch p.view {
	case viewHistogram:
		body = p.histogramView(innerW, innerH)
	case viewLayers:
		body = p.layersView(innerW)
	case viewRates:
		if p.figCErr != nil {
			body = st.Bad.Render(data.Printable(p.figCErr.Error()))
		} else {
			r := pearson(p.act, p.pred)
			body = st.Label.Render(fmt.Sprintf("mean response per validation image, %d images, r = %s", len(p.act), fmtNum(r))) + "\n" +
				scatter(st, p.act, p.pred, min(innerW, 2*innerH+20), innerH-3, "actual →", "pred")
		}
	case viewCurves:
		body = p.curvesView(innerW, innerH)
	case viewNeurons:
		body = p.neuronTable(innerW, innerH)
		first := p.rows.top
		z.rows(listW+1, 1+lipgloss.Height(head), innerW, first, min(len(p.run.Neurons)-first, innerH-1), func(i int) tea.Cmd {
			p.rows.pos, p.focusList = i, false
			return nil
		}, scroll(&p.rows, func() int { return len(p.run.Neurons) }))
	}
	right := box(st, "Run "+m.ID, head+body, rightW, p.h, !p.focusList)
	return lipgloss.JoinHorizontal(lipgloss.Top, left, right)
}

// curvesView is a saved training's curves from its loss.csv: the training
// loss per step, its y range from the 2nd to the 98th percentile after the
// first 5% of steps (figures.SettledRange; points beyond are drawn at the
// edge, so the first steps' spike does not flatten the rest), and the val
// EV per epoch.
func (p *resultsPane) curvesView(w, h int) string {
	st := p.ctx.Styles
	var loss, ev []float64
	for _, q := range p.run.Loss {
		if !math.IsNaN(q.TrainLoss) && !math.IsInf(q.TrainLoss, 0) {
			loss = append(loss, q.TrainLoss)
		}
		if !math.IsNaN(q.ValEV) && !math.IsInf(q.ValEV, 0) {
			ev = append(ev, q.ValEV)
		}
	}
	if len(loss) == 0 && len(ev) == 0 {
		return st.Dim.Render("No training curves: only trained networks save a loss.csv.")
	}
	chartH := max(2, (h-5)/2)
	caption := fmt.Sprintf("training loss, %d steps", len(loss))
	if lo, hi, ok := figures.SettledRange([][]float64{loss}); ok {
		clipped := 0
		for i, v := range loss {
			if v < lo || v > hi {
				loss[i] = math.Max(lo, math.Min(hi, v))
				clipped++
			}
		}
		if clipped > 0 {
			caption += fmt.Sprintf("; %d clipped to the 2-98%% range", clipped)
		}
	}
	return st.Label.Render(caption) + "\n" +
		lineChart(st, [][]float64{downsample(loss, w-10)}, w, chartH, "") + "\n" +
		st.Label.Render(fmt.Sprintf("val EV per epoch (%d epochs)", len(ev))) + "\n" +
		lineChart(st, [][]float64{stretch(ev, w-10)}, w, chartH, "")
}

// scored is true for runs with scores to show: finished ones, and
// cancelled trainings that saved their best epoch.
func scored(m runs.RunMeta) bool {
	return m.Status == runs.Done || (m.Status == runs.Cancelled && !math.IsNaN(m.Summary.EVMean))
}

func runLabel(m runs.RunMeta) string {
	label := m.Model + " " + m.Strategy
	if m.Summary.PCA > 0 && !strings.Contains(m.Strategy, "PCA") {
		label += fmt.Sprintf(" pca%d", m.Summary.PCA)
	}
	if m.Model == "ridge" {
		label += " α=" + fmtNum(m.Summary.Alpha)
	}
	if m.Status == runs.Cancelled {
		label += " (cancelled)"
	}
	return label
}

func neuronEVs(run *runs.Run) []float64 {
	evs := make([]float64, len(run.Neurons))
	for i, n := range run.Neurons {
		evs[i] = n.EV
	}
	return evs
}

// evRange is the x range of EV histograms: [min(0, lowest), 1].
func evRange(evs ...[]float64) (lo, hi float64) {
	lo, hi = 0, 1
	for _, e := range evs {
		l, h := minMax(e)
		lo, hi = math.Min(lo, math.Floor(l*10)/10), math.Max(hi, math.Ceil(h*10)/10)
	}
	return lo, hi
}

func (p *resultsPane) histogramView(w, h int) string {
	st := p.ctx.Styles
	evs := neuronEVs(p.run)
	lo, hi := evRange(evs)
	bins := min(50, w-8)
	counts := histogram(evs, bins, lo, hi)
	mean := nanMean(evs)
	return st.Label.Render(fmt.Sprintf("explained variance of %d neurons, mean %s", len(evs), fmtNum(mean))) + "\n" +
		drawHistogram(st, counts, slices.Max(counts), max(3, h-5), lo, hi, "explained variance")
}

// layersView is Figure 1a: mean EV per layer over the runs that share this
// run's network, read-out and dataset (a sweep saves one run per layer).
func (p *resultsPane) layersView(w int) string {
	st := p.ctx.Styles
	m := p.run.Meta
	net, labels, metas, ok := figures.SweepLayers(p.ctx.Runs, m)
	if !ok {
		return st.Dim.Render("EV across layers needs runs on network layers (a sweep in Model, w).")
	}
	evs := make([]float64, len(metas))
	best := -1
	for i, r := range metas {
		evs[i] = r.Summary.EVMean
		if best < 0 || evs[i] > evs[best] {
			best = i
		}
	}
	title := st.Label.Render(fmt.Sprintf("mean EV per layer of %s (%s, pca %d)", net, m.Model, m.Summary.PCA)) + "\n"
	switch b := p.best; {
	case b.best != nil && slices.Equal(b.ids, runIDs(metas)):
		return title + withBestLayers(st, hbars(st, labels, evs, w-bestLayersWidth, best), b.best, evs[best], w)
	case b.err != nil:
		return title + hbars(st, labels, evs, w, best) + "\n\n" + st.Dim.Render(ansi.Wordwrap("best layer per neuron: "+b.err.Error(), w, ""))
	}
	return title + hbars(st, labels, evs, w, best)
}

func (p *resultsPane) neuronTable(w, h int) string {
	st := p.ctx.Styles
	ns := p.sortedNeurons()
	var b strings.Builder
	var head []string
	for i, c := range neuronColumns {
		if i == p.sortCol {
			arrow := "▲"
			if p.desc {
				arrow = "▼"
			}
			c += arrow
		}
		head = append(head, fmt.Sprintf("%9s", c))
	}
	b.WriteString(st.Heading.Render(strings.Join(head, " ")) + "\n")
	first, end := p.rows.window(len(ns), h-1)
	for i := first; i < end; i++ {
		n := ns[i]
		line := fmt.Sprintf("%9d %9s %9s %9s %9s", n.Neuron, fmtNum(n.EV), fmtNum(n.R), fmtNum(n.MSE), fmtNum(n.Ceiling))
		if i == p.rows.pos && !p.focusList {
			line = selectLine(st, line, ansiWidth(line))
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
