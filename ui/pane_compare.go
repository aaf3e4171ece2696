package ui

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"itscope/data"
	"itscope/model/readout"
	"itscope/model/runs"
)

var compareColumns = []string{"model", "strategy", "EV", "r", "MSE", "ceil EV", "dataset"}

// compareLoadedMsg carries the marked runs, loaded for their histograms,
// and, for two runs on the open dataset, their paired comparison.
type compareLoadedMsg struct {
	runs   []*runs.Run
	paired *readout.Comparison
	err    error
}

// comparePane lists every run as the study's Table 1, sortable and
// filterable, and puts marked runs' EV histograms side by side on the same
// axes.
type comparePane struct {
	ctx       *Context
	w, h      int
	row       cursor
	sortCol   int
	desc      bool
	filter    lineInput
	marked    map[string]bool
	side      []*runs.Run // non-nil: side-by-side view
	paired    *readout.Comparison
	exportDir string
}

func newComparePane(ctx *Context, exportDir string) *comparePane {
	return &comparePane{ctx: ctx, exportDir: exportDir, sortCol: 2, desc: true, marked: map[string]bool{},
		filter: lineInput{prompt: "filter: "}}
}

func (p *comparePane) Title() string    { return "Compare" }
func (p *comparePane) SetSize(w, h int) { p.w, p.h = w, h }
func (p *comparePane) Capturing() bool  { return p.filter.active }
func (p *comparePane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	if p.side != nil {
		return []key.Binding{withHelp(k.Back, "esc", "back to table")}
	}
	return []key.Binding{k.Up, k.Down, k.Mark, withHelp(k.Enter, "enter", "compare marked"), k.Sort, k.Filter, k.Export}
}
func (p *comparePane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom},
		{k.Mark, withHelp(k.Enter, "enter", "compare marked"), withHelp(k.Back, "esc", "back")},
		{k.Sort, k.Reverse, k.Filter, withHelp(k.Export, "e", "export table CSV")},
	}
}

func (p *comparePane) rows() []runs.RunMeta {
	f := strings.ToLower(strings.TrimSpace(p.filter.value))
	var out []runs.RunMeta
	for _, r := range p.ctx.Runs {
		if !scored(r) {
			continue
		}
		if f != "" && !strings.Contains(strings.ToLower(r.Model+" "+r.Strategy+" "+r.Dataset.Name+" "+string(r.Kind)), f) {
			continue
		}
		out = append(out, r)
	}
	key := func(r runs.RunMeta) (string, float64) {
		s := r.Summary
		switch p.sortCol {
		case 0:
			return r.Model, 0
		case 1:
			return r.Strategy, 0
		case 2:
			return "", s.EVMean
		case 3:
			return "", s.RMean
		case 4:
			return "", s.MSEMean
		case 5:
			return "", s.CeilingEVMean
		}
		return r.Dataset.Name, 0
	}
	sort.SliceStable(out, func(a, b int) bool {
		sa, va := key(out[a])
		sb, vb := key(out[b])
		if sa != sb {
			return (sa < sb) != p.desc
		}
		if math.IsNaN(va) != math.IsNaN(vb) {
			return math.IsNaN(vb)
		}
		return (va < vb) != p.desc && va != vb
	})
	return out
}

func (p *comparePane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case compareLoadedMsg:
		if msg.err != nil {
			return setError(msg.err)
		}
		p.side, p.paired = msg.runs, msg.paired
		return nil
	case tea.KeyMsg:
		return p.key(msg)
	}
	return nil
}

func (p *comparePane) key(msg tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	if p.filter.active {
		p.filter.update(msg)
		p.row.pos = 0
		return nil
	}
	if p.side != nil {
		if keyIs(msg, k.Back) || keyIs(msg, k.Enter) {
			p.side = nil
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
		p.sortCol = (p.sortCol + 1) % len(compareColumns)
	case keyIs(msg, k.Reverse):
		p.desc = !p.desc
	case keyIs(msg, k.Filter):
		p.filter.active = true
	case keyIs(msg, k.Back):
		p.filter.value = ""
	case keyIs(msg, k.Export):
		return p.export()
	case keyIs(msg, k.Enter):
		var ids []string
		for _, r := range rows {
			if p.marked[r.ID] {
				ids = append(ids, r.ID)
			}
		}
		if len(ids) == 0 && len(rows) > 0 {
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
			msg := compareLoadedMsg{runs: runs}
			if len(runs) == 2 && ds != nil && runs[0].Meta.Dataset.Hash == ds.Hash && runs[1].Meta.Dataset.Hash == ds.Hash {
				msg.paired, _ = readout.CompareRuns(ds, runs[0], runs[1]) // nil (not shown) when they predict other images
			}
			return msg
		}
	}
	return nil
}

func (p *comparePane) export() tea.Cmd {
	store, path := p.ctx.Store, filepath.Join(p.exportDir, "itscope-runs.csv")
	return func() tea.Msg {
		if err := store.Export(path); err != nil {
			return statusMsg{text: data.Printable(err.Error()), isErr: true}
		}
		return statusMsg{text: "wrote " + path}
	}
}

func (p *comparePane) View() string {
	st := p.ctx.Styles
	if p.side != nil {
		return p.sideView()
	}
	rows := p.rows()
	stratW := max(12, p.w-2-2-8-1-8*4-12-2)
	var b strings.Builder
	var head []string
	widths := []int{8, stratW, 7, 7, 7, 7, 12}
	for i, c := range compareColumns {
		if i == p.sortCol {
			if p.desc {
				c += "▼"
			} else {
				c += "▲"
			}
		}
		if i <= 1 || i == 6 {
			head = append(head, fmt.Sprintf("%-*s", widths[i], c))
		} else {
			head = append(head, fmt.Sprintf("%*s", widths[i], c))
		}
	}
	b.WriteString("  " + st.Heading.Render(strings.Join(head, " ")) + "\n")
	if len(rows) == 0 {
		b.WriteString(st.Dim.Render("  no runs" + map[bool]string{true: " match the filter", false: " yet"}[p.filter.value != ""]))
	}
	listH := p.h - 4
	if p.filter.active || p.filter.value != "" {
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
		line := fmt.Sprintf("%-8.8s %-*.*s %7s %7s %7s %7s %-12.12s", r.Model, stratW, stratW, strategyLabel(r),
			fmtNum(s.EVMean), fmtNum(s.RMean), fmtNum(s.MSEMean), fmtNum(s.CeilingEVMean), r.Dataset.Name)
		if i == p.row.pos {
			b.WriteString(selectLine(st, mark+line, p.w-2) + "\n")
			continue
		}
		b.WriteString(mark + line + "\n")
	}
	if p.filter.active || p.filter.value != "" {
		b.WriteString(p.filter.view(st) + "\n")
	}
	title := fmt.Sprintf("Compare — %d runs, %d marked", len(rows), len(p.marked))
	return box(st, title, b.String(), p.w, p.h, true)
}

func strategyLabel(r runs.RunMeta) string {
	s := r.Strategy
	if r.Summary.PCA > 0 && !strings.Contains(s, "PCA") {
		s += fmt.Sprintf(" pca%d", r.Summary.PCA)
	}
	if r.Model == "ridge" || r.Model == "ridgecv" {
		s += " α=" + fmtNum(r.Summary.Alpha)
	}
	if r.Status == runs.Cancelled {
		s += " (cancelled)"
	}
	return s
}

// sideView draws the marked runs' EV histograms with one x range and one
// count scale, so their shapes compare directly.
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
	maxCount := 1
	var counts [][]int
	for _, e := range all {
		c := histogram(e, bins, lo, hi)
		counts = append(counts, c)
		maxCount = max(maxCount, slices.Max(c))
	}
	var paired string
	if c := p.paired; c != nil {
		diff := func(name string, d readout.Difference) string {
			return fmt.Sprintf("  %-7s %+.4f [%+.4f, %+.4f]   right better in %.0f%% of resamples", name, d.Estimate, d.Lo, d.Hi, 100*d.BBetter)
		}
		paired = st.Label.Render(fitLine(fmt.Sprintf("right − left, paired bootstrap over the %d val images both predict (95%%):", c.Images), p.w-4)) + "\n" +
			fitLine(diff("mean EV", c.EV), p.w-4) + "\n" + fitLine(diff("mean r", c.R), p.w-4) + "\n"
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
			cols = append(cols, fitBlock(head+"\n"+drawHistogram(st, counts[i], maxCount, chartH, lo, hi, "explained variance"), colW, chartH+6))
		}
		grid = append(grid, lipgloss.JoinHorizontal(lipgloss.Top, cols...))
	}
	body := paired + strings.Join(grid, "\n")
	return box(st, fmt.Sprintf("Compare — %d runs on the same axes", n), body, p.w, p.h, true)
}

// interval renders a 95% bootstrap interval " [lo, hi]", or nothing when the
// run has none.
func interval(lo, hi float64) string {
	if !(lo < hi) {
		return ""
	}
	return fmt.Sprintf(" [%s, %s]", fmtNum(lo), fmtNum(hi))
}
