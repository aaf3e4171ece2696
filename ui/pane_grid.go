package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"itscope/model/readout"
)

// gridField is one editable list of the grid.
type gridField struct {
	key, label, value, hint string
}

var readouts = []string{"ridge", "ridgecv", "linear"}

// gridPane edits lists of hyperparameters, shows how many jobs they make and
// starts them.
type gridPane struct {
	ctx     *Context
	w, h    int
	fit     []gridField
	train   []gridField
	readout int
	row     cursor
	edit    lineInput
}

func newGridPane(ctx *Context) *gridPane {
	return &gridPane{
		ctx: ctx,
		fit: []gridField{
			{"pca", "PCA components", "0", "0 keeps the features as they are"},
			{"alphas", "ridge alphas", "0.1, 1, 10, 100, 1000", "ridge: one job each; ridgecv: the CV grid"},
			{"folds", "CV folds", "5", "ridgecv only"},
			{"seeds", "seeds", "0", ""},
		},
		train: []gridField{
			{"lr", "learning rates", "0.001", ""},
			{"wd", "weight decays", "0.001", ""},
			{"batch", "batch sizes", "32", ""},
			{"layers", "depths", "3", "conv blocks, 1 to 5"},
			{"channels", "channels", "32-64-128", "one entry per depth, dash-separated"},
			{"epochs", "epochs", "10", ""},
			{"size", "input size", "64", "64, 112 or 224"},
			{"seeds", "seeds", "0", ""},
			{"lambda", "object loss weight", "1", "co-training only"},
		},
	}
}

func (p *gridPane) Title() string    { return "Grid" }
func (p *gridPane) SetSize(w, h int) { p.w, p.h = w, h }
func (p *gridPane) Capturing() bool  { return p.edit.active }
func (p *gridPane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	if p.edit.active {
		return []key.Binding{withHelp(k.Enter, "enter", "done"), withHelp(k.Back, "esc", "cancel")}
	}
	return []key.Binding{k.Up, k.Down, k.Edit, k.Strategy, k.Start}
}
func (p *gridPane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{{k.Up, k.Down}, {k.Edit, k.Strategy, k.Start}}
}

func (p *gridPane) fields() []gridField {
	switch {
	case p.ctx.Choice.Source == srcCotrain:
		return p.train
	case p.ctx.Choice.Trains():
		return p.train[: len(p.train)-1 : len(p.train)-1] // no object loss weight
	}
	return p.fit
}

func (p *gridPane) field(name string) string {
	for _, f := range p.fields() {
		if f.key == name {
			return f.value
		}
	}
	return ""
}

func (p *gridPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
	k := p.ctx.Keys
	fields := p.fields()
	if p.edit.active {
		done, _ := p.edit.update(km)
		if done {
			fields[p.row.pos].value = strings.TrimSpace(p.edit.value)
			if _, err := p.expand(); err != nil {
				return setError(err)
			}
		}
		return nil
	}
	switch {
	case navigate(k, km, &p.row, len(fields), 5):
	case keyIs(km, k.Edit):
		p.edit = lineInput{prompt: "", value: fields[p.row.pos].value, active: true}
	case keyIs(km, k.Strategy):
		p.readout = (p.readout + 1) % len(readouts)
	case keyIs(km, k.Start):
		return p.start()
	}
	return nil
}

// plan is what the grid expands to: grid points plus, for a sweep, the
// network whose layers each point runs over.
type plan struct {
	points  []readout.GridPoint
	sweep   string
	lambdas []float64 // co-training: each point runs once per weight
}

// jobs is how many jobs the plan makes.
func (pl plan) jobs() int { return len(pl.points) * max(1, len(pl.lambdas)) }

// expand turns the fields and the Model choice into grid points.
func (p *gridPane) expand() (plan, error) {
	c := p.ctx.Choice
	seeds, err := parseUints(p.field("seeds"))
	if err != nil {
		return plan{}, fmt.Errorf("seeds: %w", err)
	}
	if c.Trains() {
		g := readout.GridSpec{Kind: "train", CNN: "size=" + p.field("size"), Seeds: seeds}
		if g.LR, err = parseFloats(p.field("lr")); err != nil {
			return plan{}, fmt.Errorf("learning rates: %w", err)
		}
		if g.WD, err = parseFloats(p.field("wd")); err != nil {
			return plan{}, fmt.Errorf("weight decays: %w", err)
		}
		if g.Batch, err = parseInts(p.field("batch")); err != nil {
			return plan{}, fmt.Errorf("batch sizes: %w", err)
		}
		if g.Layers, err = parseInts(p.field("layers")); err != nil {
			return plan{}, fmt.Errorf("depths: %w", err)
		}
		g.Channels = splitList(p.field("channels"))
		if g.Epochs, err = parseInts(p.field("epochs")); err != nil {
			return plan{}, fmt.Errorf("epochs: %w", err)
		}
		pts, err := g.Expand()
		pl := plan{points: pts}
		if c.Source == srcCotrain {
			if c.Network == "" || c.Tap == "" {
				return plan{}, fmt.Errorf("pick a network and the tap to train from in the Model pane first")
			}
			if pl.lambdas, err = parseFloats(p.field("lambda")); err != nil || len(pl.lambdas) == 0 {
				return plan{}, fmt.Errorf("object loss weight: want numbers separated by commas, found %q", p.field("lambda"))
			}
		}
		return pl, err
	}
	g := readout.GridSpec{Kind: "fit", Model: []string{readouts[p.readout]}, Seeds: seeds}
	if g.PCA, err = parseInts(p.field("pca")); err != nil {
		return plan{}, fmt.Errorf("PCA components: %w", err)
	}
	if g.Alphas, err = parseFloats(p.field("alphas")); err != nil {
		return plan{}, fmt.Errorf("ridge alphas: %w", err)
	}
	folds, err := parseInts(p.field("folds"))
	if err != nil || len(folds) != 1 {
		return plan{}, fmt.Errorf("CV folds: want one whole number, found %q", p.field("folds"))
	}
	g.Folds = folds[0]
	if c.Sweep {
		g.Features = []string{c.Network + ":*"}
		pts, err := g.Expand()
		return plan{points: pts, sweep: sweepNetwork(c)}, err
	}
	if c.FeatureSpec() == "" || strings.HasSuffix(c.FeatureSpec(), ":") {
		return plan{}, fmt.Errorf("pick a layer in the Model pane first")
	}
	g.Features = []string{c.FeatureSpec()}
	pts, err := g.Expand()
	return plan{points: pts}, err
}

func sweepNetwork(c ModelChoice) string {
	if c.Source == srcRandom {
		return c.Network + "-random"
	}
	return c.Network
}

func (p *gridPane) start() tea.Cmd {
	ds := p.ctx.Dataset
	if ds == nil {
		return setError(fmt.Errorf("open a dataset in the Data pane first"))
	}
	if p.ctx.Engine == nil {
		return setError(fmt.Errorf("no job engine"))
	}
	pl, err := p.expand()
	if err != nil {
		return setError(err)
	}
	jobs, err := buildJobs(p.ctx, pl)
	if err != nil {
		return setError(err)
	}
	for _, j := range jobs {
		j.Owner = p.ctx.User
		id, err := p.ctx.Engine.Submit(j)
		if err != nil {
			return setError(err)
		}
		p.ctx.Started = append(p.ctx.Started, id)
	}
	return tea.Batch(setStatus("started %d job(s)", len(jobs)), gotoPane(paneJobs))
}

func (p *gridPane) View() string {
	st := p.ctx.Styles
	c := p.ctx.Choice
	var b strings.Builder
	what := "read-out fits on " + c.FeatureSpec()
	switch {
	case c.Trains():
		what = "CNN training"
		if c.Source == srcCotrain {
			what = "co-training " + c.Network + " from " + c.Tap
		}
	case c.Sweep:
		what = "a sweep over every layer of " + sweepNetwork(c)
	}
	dsName := "no dataset (open one in Data)"
	if p.ctx.Dataset != nil {
		dsName = p.ctx.DatasetSpec
	}
	b.WriteString(kv(st, "data", dsName) + "\n")
	b.WriteString(kv(st, "jobs of", what) + "\n")
	if !c.Trains() {
		b.WriteString(kv(st, "read-out", readouts[p.readout]) + st.Dim.Render("   (m to change)") + "\n")
	}
	b.WriteString("\n")
	labelW := 20
	for i, f := range p.fields() {
		val := f.value
		if i == p.row.pos && p.edit.active {
			val = p.edit.view(st)
		}
		line := fmt.Sprintf("  %-*s %s", labelW, f.label, val)
		if i == p.row.pos && !p.edit.active {
			line = selectLine(st, line, min(p.w-4, 62))
		}
		b.WriteString(line)
		if f.hint != "" && i == p.row.pos {
			b.WriteString("  " + st.Dim.Render(f.hint))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	pl, err := p.expand()
	if err != nil {
		b.WriteString(st.Bad.Render(err.Error()))
	} else {
		n := pl.jobs()
		b.WriteString(st.Heading.Render(fmt.Sprintf("%d job(s)", n)))
		if pl.sweep != "" {
			b.WriteString(st.Dim.Render(" (each over every layer)"))
		}
		b.WriteString(st.Dim.Render("   s starts them") + "\n")
		for i, pt := range pl.points {
			if i >= p.h-len(p.fields())-10 {
				b.WriteString(st.Dim.Render(fmt.Sprintf("… and %d more", n-i)))
				break
			}
			label := pt.Label
			if len(pl.lambdas) > 0 {
				label += fmt.Sprintf(" × λ in %v", pl.lambdas)
			}
			b.WriteString(st.Dim.Render("  "+label) + "\n")
		}
	}
	return box(st, "Grid", b.String(), p.w, p.h, true)
}

// splitList splits on commas and spaces; an empty list is nil (FieldsFunc
// would give an empty slice).
func splitList(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		out = append(out, f)
	}
	return out
}

// parseList reads a list separated by commas or spaces; want names the
// element kind in the error.
func parseList[T any](s, want string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for _, f := range splitList(s) {
		v, err := parse(f)
		if err != nil {
			return nil, fmt.Errorf("want %s separated by commas, found %q", want, f)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	return parseList(s, "numbers", func(f string) (float64, error) { return strconv.ParseFloat(f, 64) })
}

func parseInts(s string) ([]int, error) { return parseList(s, "whole numbers", strconv.Atoi) }

func parseUints(s string) ([]uint64, error) {
	return parseList(s, "whole numbers", func(f string) (uint64, error) { return strconv.ParseUint(f, 10, 64) })
}
