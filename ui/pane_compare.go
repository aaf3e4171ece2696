package ui

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"itscope/data"
	"itscope/model/figures"
	"itscope/model/jobs"
	"itscope/model/readout"
	"itscope/model/runs"
)

var compareColumns = []string{"model", "strategy", "EV", "r", "MSE", "ceil EV", "dataset", "settings"}

// Compare's columns by index in compareColumns.
const (
	colModel = iota
	colStrategy
	colEV
	colR
	colMSE
	colCeilEV
	colDataset
	colSettings
)

// compareLoadedMsg carries the marked runs, loaded for their histograms,
// the marked training jobs, and, for two runs on the open dataset, their
// paired comparison.
type compareLoadedMsg struct {
	runs   []*runs.Run
	live   []jobs.JobID
	paired *readout.Comparison
	err    error
}

// comparePane lists every run as the study's Table 1, and the trainings
// still running, sortable and filterable, with the hyperparameter columns
// the user chooses; it puts marked runs' EV histograms side by side on the
// same axes, or overlays their curves.
type comparePane struct {
	paneBase
	row     cursor
	sortCol int // compareColumns index, or colHparams+i for hparams[i]
	desc    bool
	filter  lineInput
	note    lineInput // editing the note of noteID
	noteID  string
	marked  map[string]bool
	// hparams are the hyperparameter columns chosen with C; nil until the
	// user chooses, while one settings column shows what tells runs apart.
	hparams   []string
	choosing  bool // the column chooser is open
	chooser   cursor
	sideOpen  bool        // the side-by-side view of the marked runs
	side      []*runs.Run // the marked runs, loaded
	sideLive  []jobs.JobID
	curves    bool // the side view shows curves, not histograms
	curveOpts curveOptions
	paired    *readout.Comparison
	exportDir string
}

func newComparePane(ctx *Context, exportDir string) *comparePane {
	return &comparePane{paneBase: paneBase{ctx: ctx}, exportDir: exportDir, sortCol: 2, desc: true, marked: map[string]bool{},
		filter: lineInput{prompt: "filter (regexp): "}, note: lineInput{prompt: "note: "}}
}

func (p *comparePane) Title() string   { return "Compare" }
func (p *comparePane) Capturing() bool { return p.filter.active || p.note.active }
func (p *comparePane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	switch {
	case p.choosing:
		return []key.Binding{k.Up, k.Down, withHelp(k.Mark, "space", "show/hide"), withHelp(k.Columns, "C", "done")}
	case p.sideOpen && p.curves:
		return []key.Binding{withHelp(k.Back, "esc", "back to table"), k.Curves, k.Smooth, k.LogY, k.XAxis}
	case p.sideOpen:
		return []key.Binding{withHelp(k.Back, "esc", "back to table"), k.Curves}
	}
	return []key.Binding{k.Up, k.Down, k.Mark, withHelp(k.Enter, "enter", "compare marked"), k.Columns, k.Sort, k.Filter, k.Export, k.Figure}
}
func (p *comparePane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom},
		{k.Mark, withHelp(k.Enter, "enter", "compare marked"), withHelp(k.Back, "esc", "back")},
		{k.Sort, k.Reverse, k.Filter, withHelp(k.Columns, "C", "choose hyperparameter columns"), withHelp(k.Export, "e", "export table CSV")},
		{withHelp(k.Figure, "f", "save the marked runs' figure (PNG)"), withHelp(k.Note, "n", "note on the run")},
	}
}

// settings are the settings that tell the scored runs apart beyond the
// model and strategy columns, whatever the filter shows.
func (p *comparePane) settings() []string {
	return apartSettings(append(slices.Clone(p.ctx.Runs), p.liveRows()...))
}

// apartSettings are the settings that tell the scored runs (and trainings
// still running) of all apart beyond what runLabel and strategyLabel show
// (the read-out, the features or CNN, the PCA and alpha).
func apartSettings(all []runs.RunMeta) []string {
	var scoredRuns []runs.RunMeta
	for _, r := range all {
		if _, live := liveJob(r.ID); scored(r) || live {
			scoredRuns = append(scoredRuns, r)
		}
	}
	var names []string
	for _, n := range runs.DistinctHparams(scoredRuns) {
		switch n {
		case "readout", "features", "cnn", "pca", "alpha":
		default:
			names = append(names, n)
		}
	}
	return names
}

// settingsText is a run's distinguishing settings and its note.
func settingsText(r runs.RunMeta, names []string) string {
	text := runs.HparamText(r, names)
	if r.Note != "" {
		text = strings.TrimSpace(text + " “" + r.Note + "”")
	}
	return text
}

// rowFilter matches runs against the filter: a case-insensitive regular
// expression over a run's model, strategy, dataset, kind, every setting and
// its note, or, while the expression does not parse, a plain substring.
func (p *comparePane) rowFilter() func(runs.RunMeta) bool {
	f := strings.TrimSpace(p.filter.value)
	if f == "" {
		return func(runs.RunMeta) bool { return true }
	}
	text := func(r runs.RunMeta) string {
		return strings.Join([]string{r.Model, r.Strategy, r.Dataset.Name, string(r.Kind),
			runs.HparamText(r, runs.HparamNames), r.Note}, " ")
	}
	if re, err := regexp.Compile("(?i)" + f); err == nil {
		return func(r runs.RunMeta) bool { return re.MatchString(text(r)) }
	}
	f = strings.ToLower(f)
	return func(r runs.RunMeta) bool { return strings.Contains(strings.ToLower(text(r)), f) }
}

// rows are the scored runs and the trainings still running that match the
// filter, sorted.
func (p *comparePane) rows() []runs.RunMeta {
	match := p.rowFilter()
	type row struct {
		meta runs.RunMeta
		s    string
		v    float64
	}
	var rows []row
	settings := p.settings()
	add := func(r runs.RunMeta) {
		if match(r) {
			s, v := sortKey(r, r.Hparams(), p.sortCol, p.hparams, settings)
			rows = append(rows, row{r, s, v})
		}
	}
	for _, r := range p.ctx.Runs {
		if scored(r) {
			add(r)
		}
	}
	for _, r := range p.liveRows() {
		add(r)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ra, rb := rows[a], rows[b]
		if ra.s != rb.s {
			return (ra.s < rb.s) != p.desc
		}
		if math.IsNaN(ra.v) != math.IsNaN(rb.v) {
			return math.IsNaN(rb.v)
		}
		return (ra.v < rb.v) != p.desc && ra.v != rb.v
	})
	out := make([]runs.RunMeta, len(rows))
	for i, r := range rows {
		out[i] = r.meta
	}
	return out
}

func (p *comparePane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case compareLoadedMsg:
		if msg.err != nil {
			return setError(msg.err)
		}
		p.side, p.sideLive, p.paired, p.sideOpen = msg.runs, msg.live, msg.paired, true
		if len(p.side) == 0 {
			p.curves = true // jobs have curves, no histograms yet
		}
		return nil
	case jobMsg, snapshotMsg:
		p.followFinished()
	}
	return nil
}

func (p *comparePane) Key(msg tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	if p.filter.active {
		p.filter.update(msg)
		p.row.pos = 0
		return nil
	}
	if p.note.active {
		done, _ := p.note.update(msg)
		if !done {
			return nil
		}
		store, id, text := p.ctx.Store, p.noteID, p.note.value
		return func() tea.Msg {
			if err := store.SetNote(id, text); err != nil {
				return statusMsg{text: err.Error(), isErr: true}
			}
			return loadRuns(store)()
		}
	}
	if p.choosing {
		p.chooseKey(msg)
		return nil
	}
	if p.sideOpen {
		switch {
		case keyIs(msg, k.Back) || keyIs(msg, k.Enter):
			p.sideOpen, p.side, p.sideLive = false, nil, nil
		case keyIs(msg, k.Curves):
			p.curves = !p.curves
		case keyIs(msg, k.Smooth):
			p.curveOpts.smooth = (p.curveOpts.smooth + 1) % len(smoothings)
		case keyIs(msg, k.LogY):
			p.curveOpts.logY = !p.curveOpts.logY
		case keyIs(msg, k.XAxis):
			p.curveOpts.x = p.curveOpts.x.Next()
		}
		return nil
	}
	rows := p.rows()
	switch {
	case navigate(k, msg, &p.row, len(rows), p.h-5):
	case keyIs(msg, k.Mark) && len(rows) > 0:
		id := rows[p.row.pos].ID
		p.marked[id] = !p.marked[id]
		if !p.marked[id] {
			delete(p.marked, id)
		}
		p.row.move(1, len(rows))
	case keyIs(msg, k.Sort):
		p.nextSort()
	case keyIs(msg, k.Columns):
		p.openChooser()
	case keyIs(msg, k.Reverse):
		p.desc = !p.desc
	case keyIs(msg, k.Filter):
		p.filter.active = true
	case keyIs(msg, k.Back):
		p.filter.value = ""
	case keyIs(msg, k.Export):
		return p.export()
	case keyIs(msg, k.Note) && len(rows) > 0:
		if _, live := liveJob(rows[p.row.pos].ID); live {
			return setStatus("a training still running has no run to note yet")
		}
		p.noteID = rows[p.row.pos].ID
		p.note.value, p.note.active = rows[p.row.pos].Note, true
	case keyIs(msg, k.Figure) && len(rows) > 0:
		ids, _ := p.markedIDs(rows)
		if len(ids) == 0 {
			ids = []string{rows[p.row.pos].ID}
		}
		if _, live := liveJob(ids[0]); live && len(ids) == 1 {
			return setStatus("a training still running has no run to draw yet")
		}
		store := p.ctx.Store
		name := ids[0]
		if len(ids) > 1 {
			name += fmt.Sprintf("+%d", len(ids)-1)
		}
		return saveFigure(p.exportDir, name, figures.Compare, func() (figures.Input, error) {
			var in figures.Input
			for _, id := range ids {
				r, err := store.Load(id)
				if err != nil {
					return in, err
				}
				in.Runs = append(in.Runs, r)
			}
			return in, nil
		})
	case keyIs(msg, k.Enter):
		ids, live := p.markedIDs(rows)
		if len(ids)+len(live) == 0 && len(rows) > 0 {
			return setStatus("mark runs with space first, then enter puts them side by side")
		}
		store, ds := p.ctx.Store, p.ctx.Dataset
		return func() tea.Msg {
			var runs []*runs.Run
			for _, id := range ids {
				r, err := store.Load(id)
				if err != nil {
					return compareLoadedMsg{err: err}
				}
				runs = append(runs, r)
			}
			msg := compareLoadedMsg{runs: runs, live: live}
			if len(runs) == 2 && ds != nil && runs[0].Meta.Dataset.Hash == ds.Hash && runs[1].Meta.Dataset.Hash == ds.Hash {
				msg.paired, _ = readout.CompareRuns(ds, runs[0], runs[1]) // nil (not shown) when they predict other images
			}
			return msg
		}
	}
	return nil
}

// markedIDs are the marked runs and training jobs among rows, in the rows'
// order.
func (p *comparePane) markedIDs(rows []runs.RunMeta) (ids []string, live []jobs.JobID) {
	for _, r := range rows {
		if !p.marked[r.ID] {
			continue
		}
		if j, ok := liveJob(r.ID); ok {
			live = append(live, j)
		} else {
			ids = append(ids, r.ID)
		}
	}
	return ids, live
}

func (p *comparePane) export() tea.Cmd {
	store, dir := p.ctx.Store, p.exportDir
	return func() tea.Msg {
		path, err := exportPath(dir, "itscope-runs.csv")
		if err == nil {
			err = store.Export(path)
		}
		if err != nil {
			return statusMsg{text: data.Printable(err.Error()), isErr: true}
		}
		return statusMsg{text: "wrote " + path}
	}
}

func (p *comparePane) View() string {
	st := p.ctx.Styles
	switch {
	case p.choosing:
		return p.chooserView()
	case p.sideOpen && (p.curves || len(p.side) == 0):
		return p.curvesView()
	case p.sideOpen:
		return p.sideView()
	}
	rows := p.rows()
	settings := p.settings()
	hparams := make([]map[string]string, len(rows))
	for i, r := range rows {
		hparams[i] = r.Hparams()
	}
	cols, hidden := p.layout(rows, hparams, settings)
	var b strings.Builder
	var head []string
	for _, c := range cols {
		name := p.columnName(c.index)
		if c.index == p.sortCol {
			if p.desc {
				name += "▼"
			} else {
				name += "▲"
			}
		}
		head = append(head, c.cell(name))
	}
	b.WriteString("  " + st.Heading.Render(strings.Join(head, " ")) + "\n")
	if len(rows) == 0 {
		b.WriteString(st.Dim.Render("  no runs" + map[bool]string{true: " match the filter", false: " yet"}[p.filter.value != ""]))
	}
	listH := p.h - 4
	if p.filter.active || p.filter.value != "" || p.note.active {
		listH--
	}
	first, end := p.row.window(len(rows), listH)
	p.ctx.zones.rows(1, 2, p.w-2, first, end-first, func(i int) tea.Cmd {
		p.row.pos = i
		return nil
	}, scroll(&p.row, func() int { return len(p.rows()) }))
	for i := first; i < end; i++ {
		r := rows[i]
		s := r.Summary
		mark := "  "
		if p.marked[r.ID] {
			mark = st.Marked.Render("◆ ")
		}
		values := map[int]string{colModel: r.Model, colStrategy: strategyLabel(r), colEV: fmtNum(s.EVMean), colR: fmtNum(s.RMean),
			colMSE: fmtNum(s.MSEMean), colCeilEV: fmtNum(s.CeilingEVMean), colDataset: r.Dataset.Name,
			colSettings: settingsText(r, settings)}
		for k, name := range p.hparams {
			values[colHparams+k] = hparamValue(r, hparams[i], name)
		}
		var cells []string
		for _, c := range cols {
			cells = append(cells, c.cell(values[c.index]))
		}
		line := strings.Join(cells, " ")
		if i == p.row.pos {
			b.WriteString(selectLine(st, mark+line, p.w-2) + "\n")
			continue
		}
		b.WriteString(mark + line + "\n")
	}
	switch {
	case p.note.active:
		b.WriteString(p.note.view(st) + "\n")
	case p.filter.active || p.filter.value != "":
		b.WriteString(p.filter.view(st) + "\n")
	}
	title := fmt.Sprintf("Compare — %d runs, %d marked", len(rows), len(p.marked))
	if p.hparams != nil {
		title += fmt.Sprintf(" · %d columns (C)", len(p.hparams))
		if hidden > 0 {
			title += fmt.Sprintf(", %d too wide", hidden)
		}
	}
	return box(st, title, b.String(), p.w, p.h, true)
}

// column is one shown column of Compare's table.
type column struct {
	index, width int
	right        bool // numbers are right-aligned
	left         bool // cut from the left, keeping the end (a strategy's layer)
}

func (c column) cell(s string) string {
	if n := utf8.RuneCountInString(s); n > c.width {
		r := []rune(s)
		if c.left {
			s = "…" + string(r[n-c.width+1:])
		} else {
			s = string(r[:c.width-1]) + "…"
		}
	}
	if c.right {
		return fmt.Sprintf("%*s", c.width, s)
	}
	return fmt.Sprintf("%-*s", c.width, s)
}

// layout picks Compare's columns for the pane's width: model, strategy, EV
// and r always; the chosen hyperparameters that fit beside a strategy of
// 12 (and how many did not), or else the settings that tell the runs apart
// when they differ; then MSE, ceiling EV and dataset while the strategy
// keeps 24 columns. The strategy takes what is left, so the table grows
// with the terminal.
func (p *comparePane) layout(rows []runs.RunMeta, hparams []map[string]string, settings []string) (cols []column, hidden int) {
	avail := p.w - 2 - 2 // the box, the mark
	fixed := []column{{index: colModel, width: 8}, {index: colStrategy, left: true}, {index: colEV, width: 7, right: true},
		{index: colR, width: 7, right: true}}
	rest := avail - 8 - 1 - 2*8
	var extra []column
	if p.hparams != nil {
		extra, hidden = p.hparamColumns(rows, hparams, rest-12-1)
		for _, c := range extra {
			rest -= c.width + 1
		}
	} else if setW := p.settingsWidth(rows, settings, avail); setW > 0 {
		extra = append(extra, column{index: colSettings, width: setW})
		rest -= setW + 1
	}
	for _, c := range []column{{index: colMSE, width: 7, right: true}, {index: colCeilEV, width: 7, right: true},
		{index: colDataset, width: 12}} {
		if rest-c.width-1 >= 24 {
			extra = append(extra, c)
			rest -= c.width + 1
		}
	}
	fixed[1].width = max(12, rest-1)
	cols = append(fixed, extra...)
	// Show them in compareColumns order, the chosen ones in theirs.
	sort.Slice(cols, func(a, b int) bool { return cols[a].index < cols[b].index })
	return cols, hidden
}

// settingsWidth is the settings column's: its widest text, at most a third
// of the table (12 at least).
func (p *comparePane) settingsWidth(rows []runs.RunMeta, settings []string, avail int) int {
	setW := 0
	for _, r := range rows {
		setW = max(setW, utf8.RuneCountInString(settingsText(r, settings)))
	}
	return min(setW, max(12, avail/3))
}

func strategyLabel(r runs.RunMeta) string {
	s := r.Strategy
	if r.Summary.PCA > 0 && !strings.Contains(s, "PCA") {
		s += fmt.Sprintf(" pca%d", r.Summary.PCA)
	}
	if r.Model == "ridge" || r.Model == "ridgecv" {
		s += " α=" + fmtNum(r.Summary.Alpha)
	}
	switch r.Status {
	case runs.Cancelled:
		s += " (cancelled)"
	case runs.Running:
		s += " (live)"
	case runs.Queued:
		s += " (queued)"
	}
	return s
}

// sideView draws the marked runs' EV histograms over one x range, each
// with its own count axis (labelled so), so that a run with most neurons in
// one bin does not flatten the others.
func (p *comparePane) sideView() string {
	st := p.ctx.Styles
	n := len(p.side)
	perRow := min(n, 3)
	if p.w < 120 {
		perRow = min(n, 2)
	}
	colW := (p.w - 2) / perRow
	var all [][]float64
	for _, r := range p.side {
		all = append(all, neuronEVs(r))
	}
	lo, hi := evRange(all...)
	bins := max(10, min(40, colW-8))
	var counts [][]int
	for _, e := range all {
		counts = append(counts, histogram(e, bins, lo, hi))
	}
	var paired string
	if c := p.paired; c != nil {
		diff := func(name string, d readout.Difference) string {
			return fmt.Sprintf("  %-7s %+.4f [%+.4f, %+.4f]   right better in %.0f%% of resamples", name, d.Estimate, d.Lo, d.Hi, 100*d.BBetter)
		}
		paired = st.Label.Render(fitLine(fmt.Sprintf("right − left, paired bootstrap over the %d val images both predict (95%%):", c.Images), p.w-4)) + "\n" +
			fitLine(diff("mean EV", c.EV), p.w-4) + "\n" + fitLine(diff("mean r", c.R), p.w-4) + "\n"
	}
	if len(p.sideLive) > 0 {
		paired += st.Dim.Render(fitLine(fmt.Sprintf("%d training%s still running: c shows %s", len(p.sideLive),
			map[bool]string{true: "", false: "s"}[len(p.sideLive) == 1], map[bool]string{true: "its curve", false: "their curves"}[len(p.sideLive) == 1]), p.w-4)) + "\n"
	}
	rowsOfCharts := (n + perRow - 1) / perRow
	chartH := max(3, (p.h-2-strings.Count(paired, "\n"))/rowsOfCharts-7)
	var grid []string
	for start := 0; start < n; start += perRow {
		var cols []string
		for i := start; i < min(n, start+perRow); i++ {
			r := p.side[i]
			head := st.Heading.Render(fitLine(runLabel(r.Meta), colW-2)) + "\n" +
				st.Dim.Render(fitLine(fmt.Sprintf("EV %s%s  r %s%s  %d neurons", fmtNum(r.Meta.Summary.EVMean), interval(r.Meta.Summary.EVMeanLo, r.Meta.Summary.EVMeanHi),
					fmtNum(r.Meta.Summary.RMean), interval(r.Meta.Summary.RMeanLo, r.Meta.Summary.RMeanHi), len(r.Neurons)), colW-2))
			chart := drawHistogram(st, counts[i], max(1, slices.Max(counts[i])), chartH, lo, hi, "explained variance (own count axis)")
			cols = append(cols, fitBlock(head+"\n"+chart, colW, chartH+6))
		}
		grid = append(grid, lipgloss.JoinHorizontal(lipgloss.Top, cols...))
	}
	body := paired + strings.Join(grid, "\n")
	return box(st, fmt.Sprintf("Compare — %d runs on the same EV axis", n), body, p.w, p.h, true)
}

// interval renders a 95% bootstrap interval " [lo, hi]", or nothing when the
// run has none.
func interval(lo, hi float64) string {
	if !(lo < hi) {
		return ""
	}
	return fmt.Sprintf(" [%s, %s]", fmtNum(lo), fmtNum(hi))
}
