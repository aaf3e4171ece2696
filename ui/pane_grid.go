package ui

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"itscope/data"
	"itscope/model/readout"
	"itscope/model/train"
)

// gridField is one editable list of the grid; only, when set, is the one
// source whose grid shows it (srcCNN or srcCotrain).
type gridField struct {
	key, label, value, hint, only string
}

var readouts = []string{"ridge", "ridgecv", "linear"}

// autoAlphas in the alphas field leaves ridge CV its default grid, the one
// the command line uses.
const autoAlphas = "auto"

// gridPane edits lists of hyperparameters, shows how many jobs they make and
// starts them. Its fields are saved per user whenever one changes.
type gridPane struct {
	paneBase
	fit     []gridField
	train   []gridField
	readout int
	row     cursor
	edit    lineInput
	path    string // where the fields are saved; "" for nowhere
	loadErr error
	slurm   bool // start sends the jobs to Slurm (ctx.SubmitSlurm)
}

func newGridPane(ctx *Context, settingsPath string) *gridPane {
	p := &gridPane{
		paneBase: paneBase{ctx: ctx},
		path:     settingsPath,
		fit: []gridField{
			{"pca", "PCA components", "0", "0 keeps the features as they are", ""},
			{"alphas", "ridge alphas", autoAlphas, "ridge: one job each; ridgecv: the CV grid, " + autoAlphas + " for " + readout.DefaultGridHelp(), ""},
			{"folds", "CV folds", "5", "ridgecv only", ""},
			{"seeds", "seeds", "0", "", ""},
		},
		train: []gridField{
			{"lr", "learning rates", "0.001", "", ""},
			{"wd", "weight decays", "0.001", "", ""},
			{"batch", "batch sizes", "32", "", ""},
			{"layers", "depths", "3", "conv blocks, 1 to 5", srcCNN},
			{"channels", "channels", "32-64-128", "widths per block, dash-separated; a smaller depth takes the first ones", srcCNN},
			{"epochs", "epochs", "10", "", ""},
			{"size", "input sizes", "64", "64, 112 or 224", srcCNN},
			{"seeds", "seeds", "0", "", ""},
			{"patience", "patience", "5", "epochs without a better val EV before stopping; 0 never stops", ""},
			{"optimizer", "optimisers", "adam", "adam, adamw or sgd", ""},
			{"kernel", "kernel sizes", "3", "square kernels, 1 to 15", srcCNN},
			{"dropout", "dropouts", "0", "after each block, 0 to 1", srcCNN},
			{"readout", "read-outs", "flatten", "flatten keeps where things are; gap averages it away", srcCNN},
			{"lambda", "object loss weight", "1", "co-training only", srcCotrain},
		},
	}
	s, err := loadGridSettings(settingsPath)
	p.loadErr = err
	if s != nil {
		apply := func(fields []gridField, saved map[string]string) {
			for i := range fields {
				if v, ok := saved[fields[i].key]; ok {
					fields[i].value = v
				}
			}
		}
		apply(p.fit, s.Fit)
		apply(p.train, s.Train)
		if i := slices.Index(readouts, s.Readout); i >= 0 {
			p.readout = i
		}
	}
	return p
}

// save writes the fields to the user's settings file.
func (p *gridPane) save() tea.Cmd {
	s := gridSettings{Readout: readouts[p.readout], Fit: map[string]string{}, Train: map[string]string{}}
	for _, f := range p.fit {
		s.Fit[f.key] = f.value
	}
	for _, f := range p.train {
		s.Train[f.key] = f.value
	}
	path := p.path
	return func() tea.Msg {
		if err := saveGridSettings(path, s); err != nil {
			return statusMsg{text: "grid settings not saved: " + err.Error(), isErr: true}
		}
		return nil
	}
}

func (p *gridPane) Title() string   { return "Grid" }
func (p *gridPane) Capturing() bool { return p.edit.active }
func (p *gridPane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	if p.edit.active {
		return []key.Binding{withHelp(k.Enter, "enter", "done"), withHelp(k.Back, "esc", "cancel")}
	}
	if p.ctx.SubmitSlurm != nil {
		return []key.Binding{k.Up, k.Down, k.Edit, k.Strategy, k.Executor, k.Start}
	}
	return []key.Binding{k.Up, k.Down, k.Edit, k.Strategy, k.Start}
}
func (p *gridPane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	if p.ctx.SubmitSlurm != nil {
		return [][]key.Binding{{k.Up, k.Down}, {k.Edit, k.Strategy, k.Executor, k.Start}}
	}
	return [][]key.Binding{{k.Up, k.Down}, {k.Edit, k.Strategy, k.Start}}
}

// fields are the fields of the chosen source's grid.
func (p *gridPane) fields() []*gridField {
	c := p.ctx.Choice
	var out []*gridField
	if !c.Trains() {
		for i := range p.fit {
			out = append(out, &p.fit[i])
		}
		return out
	}
	for i := range p.train {
		if f := &p.train[i]; f.only == "" || f.only == c.Source {
			out = append(out, f)
		}
	}
	return out
}

func (p *gridPane) field(name string) string {
	for _, f := range p.fields() {
		if f.key == name {
			return f.value
		}
	}
	return ""
}

func (p *gridPane) Key(km tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	fields := p.fields()
	if p.edit.active {
		done, _ := p.edit.update(km)
		if done {
			fields[p.row.pos].value = strings.TrimSpace(p.edit.value)
			if _, err := p.expand(); err != nil {
				return tea.Batch(p.save(), setError(err))
			}
			return p.save()
		}
		return nil
	}
	switch {
	case navigate(k, km, &p.row, len(fields), 5):
	case keyIs(km, k.Edit):
		p.startEdit()
	case keyIs(km, k.Strategy):
		p.readout = (p.readout + 1) % len(readouts)
		return p.save()
	case keyIs(km, k.Executor) && p.ctx.SubmitSlurm != nil:
		p.slurm = !p.slurm
	case keyIs(km, k.Start):
		return p.start()
	}
	return nil
}

func (p *gridPane) startEdit() {
	p.edit = lineInput{prompt: "", value: p.fields()[p.row.pos].value, active: true}
}

// plan is what the grid expands to: grid points plus, for a sweep, the
// network whose layers each point runs over.
type plan struct {
	points  []readout.GridPoint
	sweep   string
	lambdas []float64 // co-training: each point runs once per weight
	// notes say how the depths and channels were paired: the combinations
	// dropped and the channels a smaller depth borrowed.
	notes   []string
	dropped int
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
		return p.expandTrain(seeds)
	}
	g := readout.GridSpec{Kind: "fit", Model: []string{readouts[p.readout]}, Seeds: seeds}
	if g.PCA, err = parseInts(p.field("pca")); err != nil {
		return plan{}, fmt.Errorf("PCA components: %w", err)
	}
	if alphas := p.field("alphas"); alphas == autoAlphas {
		if readouts[p.readout] == "ridge" {
			return plan{}, fmt.Errorf("ridge alphas: %q is ridge CV's scale-free grid; type the alphas to fit ridge with (one job each), or press m for ridgecv", autoAlphas)
		}
	} else if g.Alphas, err = parseFloats(alphas); err != nil {
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

// expandTrain is a training grid: readout.GridSpec varies the optimiser's
// settings, depths and channels over one base CNN spec, so the lists that
// go into the base spec (input size, kernel, dropout, read-out) and the
// optimisers are varied here, one GridSpec each.
func (p *gridPane) expandTrain(seeds []uint64) (plan, error) {
	c := p.ctx.Choice
	g := readout.GridSpec{Kind: "train", Seeds: seeds}
	var err error
	if g.LR, err = parseFloats(p.field("lr")); err != nil {
		return plan{}, fmt.Errorf("learning rates: %w", err)
	}
	if g.WD, err = parseFloats(p.field("wd")); err != nil {
		return plan{}, fmt.Errorf("weight decays: %w", err)
	}
	if g.Batch, err = parseInts(p.field("batch")); err != nil {
		return plan{}, fmt.Errorf("batch sizes: %w", err)
	}
	if g.Epochs, err = parseInts(p.field("epochs")); err != nil {
		return plan{}, fmt.Errorf("epochs: %w", err)
	}
	patience, err := parseInts(p.field("patience"))
	if err != nil || len(patience) != 1 || patience[0] < 0 {
		return plan{}, fmt.Errorf("patience: want one whole number (0 never stops early), found %q", p.field("patience"))
	}
	optimizers := splitList(p.field("optimizer"))
	for _, o := range optimizers {
		if o != "adam" && o != "adamw" && o != "sgd" {
			return plan{}, fmt.Errorf("optimisers: want adam, adamw or sgd, found %q", o)
		}
	}
	if len(optimizers) == 0 {
		optimizers = []string{""}
	}
	pl := plan{}
	// A base spec per combination of the CNN's scalar lists; co-training
	// trains a network's own layers and has none.
	bases := []cnnBase{{}}
	if c.Source == srcCNN {
		if bases, err = p.cnnBases(); err != nil {
			return plan{}, err
		}
		layers, err := parseInts(p.field("layers"))
		if err != nil {
			return plan{}, fmt.Errorf("depths: %w", err)
		}
		g.Layers = layers
		g.Channels, pl.notes, pl.dropped = pairChannels(layers, splitList(p.field("channels")))
		if len(layers) > 0 && len(g.Channels) == 0 && p.field("channels") != "" {
			return plan{}, fmt.Errorf("channels: no entry has enough widths for depths %s (%s)", p.field("layers"), strings.Join(pl.notes, "; "))
		}
	}
	for _, b := range bases {
		for _, opt := range optimizers {
			spec := g
			spec.CNN, spec.Optimizer = b.spec, opt
			pts, err := spec.Expand()
			if err != nil {
				return plan{}, err
			}
			for _, pt := range pts {
				pt.Train.Patience = patience[0]
				label := strings.TrimSpace(b.label + " " + pt.Label)
				if len(optimizers) > 1 {
					label += " opt=" + opt
				}
				pt.Label = label
				pl.points = append(pl.points, pt)
			}
		}
	}
	if c.Source == srcCotrain {
		if c.Network == "" || c.Tap == "" {
			return plan{}, fmt.Errorf("pick a network and the tap to train from in the Model pane first")
		}
		if pl.lambdas, err = parseFloats(p.field("lambda")); err != nil || len(pl.lambdas) == 0 {
			return plan{}, fmt.Errorf("object loss weight: want numbers separated by commas, found %q", p.field("lambda"))
		}
	}
	return pl, nil
}

// cnnBase is a base CNN spec and the label of what varies in it.
type cnnBase struct{ spec, label string }

// cnnBases is every combination of input size, kernel, dropout and
// read-out; the label names only the lists with more than one value.
func (p *gridPane) cnnBases() ([]cnnBase, error) {
	lists := []struct{ key, name string }{{"size", "size"}, {"kernel", "kernel"}, {"dropout", "dropout"}, {"readout", "readout"}}
	out := []cnnBase{{}}
	for _, l := range lists {
		vals := splitList(p.field(l.key))
		if len(vals) == 0 {
			continue
		}
		var next []cnnBase
		for _, b := range out {
			for _, v := range vals {
				nb := cnnBase{spec: strings.TrimPrefix(b.spec+","+l.name+"="+v, ","), label: b.label}
				if len(vals) > 1 {
					nb.label = strings.TrimSpace(b.label + " " + l.name + "=" + v)
				}
				next = append(next, nb)
			}
		}
		out = next
	}
	for _, b := range out {
		if _, err := train.ParseCNNSpec(b.spec); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// pairChannels pairs each depth with each channels entry. readout.GridSpec
// keeps the (depth, channels) pairs of equal length, so "2, 3" with
// "32-64-128" would train depth 3 alone. Here an entry longer than a depth
// lends that depth its first widths (depth 2 gets 32-64), and an entry too
// short for a depth is dropped with a note. The result is the channels
// list to give GridSpec: its equal-length pairs are exactly these.
func pairChannels(depths []int, channels []string) (paired, notes []string, dropped int) {
	if len(depths) == 0 || len(channels) == 0 {
		return channels, nil, 0
	}
	for _, d := range depths {
		for _, c := range channels {
			widths := strings.Split(c, "-")
			switch {
			case len(widths) < d:
				notes = append(notes, fmt.Sprintf("depth %d × channels %s dropped: %d widths for %d blocks", d, c, len(widths), d))
				dropped++
				continue
			case len(widths) > d:
				notes = append(notes, fmt.Sprintf("depth %d uses channels %s (the first %d of %s)", d, strings.Join(widths[:d], "-"), d, c))
			}
			if w := strings.Join(widths[:d], "-"); !slices.Contains(paired, w) {
				paired = append(paired, w)
			}
		}
	}
	return paired, notes, dropped
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
	pl, err := p.expand()
	if err != nil {
		return setError(err)
	}
	if n := pl.jobs(); n > confirmJobs {
		return confirm(fmt.Sprintf("start %d jobs?", n), func() tea.Cmd { return p.submit(pl) })
	}
	return p.submit(pl)
}

// confirmJobs is the largest grid that starts without asking.
const confirmJobs = 100

// submit builds the plan's jobs and submits them all, or none when the
// engine refuses one (its memory, the user's job limit).
func (p *gridPane) submit(pl plan) tea.Cmd {
	jobs, err := buildJobs(p.ctx, pl)
	if err != nil {
		return setError(err)
	}
	for i := range jobs {
		jobs[i].Owner = p.ctx.User
	}
	if p.slurm && p.ctx.SubmitSlurm != nil {
		name := "grid"
		if pl.sweep != "" {
			name = "sweep"
		}
		msg, err := p.ctx.SubmitSlurm(name, jobs)
		if err != nil {
			return setError(err)
		}
		return tea.Batch(setStatus("%s", msg), gotoPane(paneJobs))
	}
	ids, err := p.ctx.Engine.SubmitAll(jobs)
	if err != nil {
		return setError(err)
	}
	p.ctx.Started = append(p.ctx.Started, ids...)
	dropped := ""
	if pl.dropped > 0 {
		dropped = fmt.Sprintf(" (%d depth/channels combination(s) dropped, as the grid said)", pl.dropped)
	}
	return tea.Batch(setStatus("started %d job(s)%s", len(jobs), dropped), gotoPane(paneJobs))
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
		dsName = data.Printable(p.ctx.DatasetSpec)
	}
	b.WriteString(kv(st, "data", dsName) + "\n")
	b.WriteString(kv(st, "jobs of", what) + "\n")
	if p.ctx.SubmitSlurm != nil {
		where := "local: this process (c: Slurm)"
		if p.slurm {
			where = "slurm: job arrays, options from the config file (c: local)"
		}
		b.WriteString(kv(st, "executor", where) + "\n")
	}
	if !c.Trains() {
		b.WriteString(kv(st, "read-out", readouts[p.readout]) + st.Dim.Render("   (m to change)") + "\n")
	}
	b.WriteString("\n")
	firstRow := strings.Count(b.String(), "\n")
	labelW := 20
	fields := p.fields()
	for i, f := range fields {
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
	// A click selects a field, a second click on it edits it.
	p.ctx.zones.rows(1, 1+firstRow, p.w-2, 0, len(fields), func(i int) tea.Cmd {
		if i == p.row.pos {
			p.startEdit()
		}
		p.row.pos = i
		return nil
	}, scroll(&p.row, func() int { return len(p.fields()) }))
	b.WriteString("\n")
	pl, err := p.expand()
	var hint string
	if err != nil {
		b.WriteString(st.Bad.Render(data.Printable(err.Error())) + "\n")
		hint = "fix the field above, then s starts the jobs"
	} else {
		n := pl.jobs()
		if pl.sweep != "" {
			// A sweep runs each point once per layer.
			n *= max(1, len(p.ctx.Taps[pl.sweep]))
		}
		b.WriteString(st.Heading.Render(fmt.Sprintf("%d job(s)", n)))
		if pl.sweep != "" {
			b.WriteString(st.Dim.Render(fmt.Sprintf(" (%d setting(s) × every layer of %s)", pl.jobs(), pl.sweep)))
		}
		b.WriteString("\n")
		// The notes first: a dropped combination must be seen before s.
		room := p.h - 2 - strings.Count(b.String(), "\n") - 2
		for _, note := range pl.notes {
			if room <= 1 {
				break
			}
			style := st.Dim
			if strings.Contains(note, "dropped") {
				style = st.Warn
				note = "! " + note
			}
			b.WriteString(style.Render("  "+note) + "\n")
			room--
		}
		for i, pt := range pl.points {
			if i >= room-1 && i < len(pl.points)-1 {
				b.WriteString(st.Dim.Render(fmt.Sprintf("  … and %d more", len(pl.points)-i)) + "\n")
				break
			}
			label := pt.Label
			if len(pl.lambdas) > 0 {
				label += " × λ in " + fmtNums(pl.lambdas)
			}
			b.WriteString(st.Dim.Render("  "+label) + "\n")
		}
		hint = fmt.Sprintf("s: start %d job(s)", n)
		if pl.dropped > 0 {
			hint += fmt.Sprintf(", dropping %d combination(s) (see the ! lines)", pl.dropped)
		}
		if p.ctx.Dataset == nil {
			hint = "open a dataset in Data (1), then s starts the jobs"
		}
	}
	return box(st, "Grid", withNextStep(st, b.String(), hint, p.h-2), p.w, p.h, true)
}

// splitList splits on commas and spaces; an empty list is nil (FieldsFunc
// would give an empty slice).
func splitList(s string) []string {
	var out []string
	return append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })...)
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
