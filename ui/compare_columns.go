package ui

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/model/runs"
)

// Compare's hyperparameter columns, as TensorBoard's hparams table: C opens
// a chooser of every setting the runs have (and their note); the chosen
// ones become columns of their own, sorted by s and matched by the filter
// like the others. Until the user chooses, one settings column shows what
// tells the runs apart.

// colHparams is the index of the first chosen hyperparameter column:
// column colHparams+i shows p.hparams[i].
var colHparams = len(compareColumns)

// noteColumn is the chooser's name for a run's note.
const noteColumn = "note"

// hparamValue is run r's value of a chosen column, from its settings h.
func hparamValue(r runs.RunMeta, h map[string]string, name string) string {
	if name == noteColumn {
		return r.Note
	}
	return h[name]
}

// hparamChoices are the settings some listed run has, in HparamNames order,
// then the note: what C offers.
func (p *comparePane) hparamChoices(rows []runs.RunMeta) []string {
	has := map[string]bool{}
	for _, r := range rows {
		for n, v := range r.Hparams() {
			has[n] = has[n] || v != ""
		}
		has[noteColumn] = has[noteColumn] || r.Note != ""
	}
	var out []string
	for _, n := range append(slices.Clone(runs.HparamNames), noteColumn) {
		if has[n] || slices.Contains(p.hparams, n) {
			out = append(out, n)
		}
	}
	return out
}

// sortable are the columns s steps through: the fixed ones, then the
// settings column or the chosen hyperparameters.
func (p *comparePane) sortable() []int {
	cols := []int{colModel, colStrategy, colEV, colR, colMSE, colCeilEV, colDataset}
	if p.hparams == nil {
		return append(cols, colSettings)
	}
	for i := range p.hparams {
		cols = append(cols, colHparams+i)
	}
	return cols
}

// nextSort sorts by the column after the current one.
func (p *comparePane) nextSort() {
	cols := p.sortable()
	i := slices.Index(cols, p.sortCol)
	p.sortCol = cols[(i+1)%len(cols)]
}

func (p *comparePane) columnName(i int) string {
	if i >= colHparams {
		return p.hparams[i-colHparams]
	}
	return compareColumns[i]
}

// sortKey orders rows by column col: text, or a number when the value is
// one (an lr of 0.0003 before 0.001), a run without the value last.
func sortKey(r runs.RunMeta, h map[string]string, col int, hparams, settings []string) (string, float64) {
	s := r.Summary
	switch col {
	case colModel:
		return r.Model, 0
	case colStrategy:
		return r.Strategy, 0
	case colEV:
		return "", s.EVMean
	case colR:
		return "", s.RMean
	case colMSE:
		return "", s.MSEMean
	case colCeilEV:
		return "", s.CeilingEVMean
	case colSettings:
		return settingsText(r, settings), 0
	case colDataset:
		return r.Dataset.Name, 0
	}
	v := hparamValue(r, h, hparams[col-colHparams])
	if v == "" {
		return "", math.NaN()
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return "", f
	}
	return v, 0
}

// chooseKey handles a key while the chooser is open: up and down move,
// space shows or hides the column under the cursor, C, esc or enter close.
func (p *comparePane) chooseKey(msg tea.KeyMsg) {
	k := p.ctx.Keys
	choices := p.hparamChoices(p.rows())
	switch {
	case navigate(k, msg, &p.chooser, len(choices), p.h-4):
	case keyIs(msg, k.Mark) && len(choices) > 0:
		name := choices[p.chooser.pos]
		if i := slices.Index(p.hparams, name); i >= 0 {
			p.hparams = slices.Delete(p.hparams, i, i+1)
		} else {
			// Keep the chosen columns in the chooser's order.
			p.hparams = append(p.hparams, name)
			slices.SortStableFunc(p.hparams, func(a, b string) int {
				return slices.Index(choices, a) - slices.Index(choices, b)
			})
		}
		if p.sortCol >= colHparams {
			p.sortCol = colEV // its column may have moved or gone
		}
	case keyIs(msg, k.Columns), keyIs(msg, k.Back), keyIs(msg, k.Enter):
		p.choosing = false
	}
}

// openChooser starts from the columns shown: those chosen before, or the
// settings that tell the runs apart.
func (p *comparePane) openChooser() {
	p.choosing, p.chooser = true, cursor{}
	if p.hparams == nil {
		p.hparams = slices.Clone(p.settings())
		if p.sortCol == colSettings {
			p.sortCol = colEV
		}
	}
	if p.hparams == nil {
		p.hparams = []string{} // chosen: none
	}
}

// chooserView lists every setting with a box ticked when it is shown, and
// the values the runs take.
func (p *comparePane) chooserView() string {
	st := p.ctx.Styles
	rows := p.rows()
	choices := p.hparamChoices(rows)
	var b strings.Builder
	b.WriteString(st.Dim.Render(fitLine("space shows or hides a column; C, enter or esc go back to the table", p.w-4)) + "\n")
	if len(choices) == 0 {
		b.WriteString(st.Dim.Render("no run has settings to show"))
	}
	first, end := p.chooser.window(len(choices), p.h-3)
	settings := make([]map[string]string, len(rows))
	for i, r := range rows {
		settings[i] = r.Hparams()
	}
	for i := first; i < end; i++ {
		name := choices[i]
		box := " [ ] "
		if slices.Contains(p.hparams, name) {
			box = " [x] "
		}
		var values []string
		for j, r := range rows {
			if v := hparamValue(r, settings[j], name); v != "" && !slices.Contains(values, v) {
				values = append(values, v)
			}
		}
		line := fmt.Sprintf("%s%-10s %d value%s: %s", box, name, len(values), map[bool]string{true: "", false: "s"}[len(values) == 1],
			strings.Join(values, ", "))
		line = fitLine(line, p.w-4)
		if i == p.chooser.pos {
			line = selectLine(st, line, p.w-4)
		}
		b.WriteString(line + "\n")
	}
	return box(st, fmt.Sprintf("Compare — choose columns, %d shown", len(p.hparams)), b.String(), p.w, p.h, true)
}

// hparamColumns are the chosen columns that fit in room, each as wide as
// its widest value (at most 24, cut from the left: a CNN spec's end
// differs), and how many did not fit.
func (p *comparePane) hparamColumns(rows []runs.RunMeta, settings []map[string]string, room int) (cols []column, hidden int) {
	for i, name := range p.hparams {
		w := utf8.RuneCountInString(name) + 1 // the sort arrow
		for j, r := range rows {
			w = max(w, utf8.RuneCountInString(hparamValue(r, settings[j], name)))
		}
		w = min(w, 24)
		if w+1 > room {
			hidden++
			continue
		}
		room -= w + 1
		cols = append(cols, column{index: colHparams + i, width: w, left: name == "cnn" || name == "features"})
	}
	return cols, hidden
}
