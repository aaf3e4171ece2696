package ui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"itscope/data"
	"itscope/model/features"
	"itscope/model/nets"
)

// tapsMsg carries a network's taps, listed in the background because opening
// a network reads its weights.
type tapsMsg struct {
	net  string
	taps []nets.Tap
	err  error
}

func listTaps(net, weights string) tea.Cmd {
	return func() tea.Msg {
		n, err := features.OpenNetworkShared(net, nets.NetOptions{Weights: weights})
		if err != nil {
			return tapsMsg{net: net, err: err}
		}
		return tapsMsg{net: net, taps: n.Taps()}
	}
}

var sources = []struct{ id, label string }{
	{srcPixels, "pixels"},
	{srcPretrained, "network, pretrained"},
	{srcRandom, "network, random weights"},
	{srcCNN, "CNN from scratch"},
	{srcCotrain, "co-trained network"},
}

var pixelSizes = []int{16, 32, 64, 112}

// modelPane picks the feature source, the network and its layer.
type modelPane struct {
	paneBase
	col    int // 0 source, 1 network, 2 layer
	src    cursor
	net    cursor
	tap    cursor
	errs   map[string]error
	asking string
}

func newModelPane(ctx *Context) *modelPane {
	return &modelPane{paneBase: paneBase{ctx: ctx}, errs: map[string]error{}}
}

func (p *modelPane) Title() string { return "Model" }
func (p *modelPane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	return []key.Binding{k.Up, k.Down, withHelp(k.Left, "←/→", "column"), k.Enter, k.Sweep}
}
func (p *modelPane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Left, k.Right}, {withHelp(k.Enter, "enter", "choose"), k.Sweep}}
}

// networks lists the networks for the chosen source: pretrained and
// co-trained use the named weights, random the "-random" twins.
func (p *modelPane) networks() []string {
	var out []string
	for _, n := range nets.NetworkNames() {
		random := strings.HasSuffix(n, "-random")
		if random == (sources[p.src.pos].id == srcRandom) {
			out = append(out, n)
		}
	}
	return out
}

func (p *modelPane) netName() string {
	nets := p.networks()
	if len(nets) == 0 {
		return ""
	}
	return nets[min(p.net.pos, len(nets)-1)]
}

func (p *modelPane) needsNetwork() bool {
	switch sources[p.src.pos].id {
	case srcPretrained, srcRandom, srcCotrain:
		return true
	}
	return false
}

func (p *modelPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tapsMsg:
		if p.asking == msg.net {
			p.asking = ""
		}
		if msg.err != nil {
			p.errs[msg.net] = msg.err
			return setError(msg.err)
		}
		p.ctx.Taps[msg.net] = msg.taps
		return nil
	}
	return nil
}

func (p *modelPane) Key(msg tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	cols := 1
	if p.needsNetwork() {
		cols = 3
	}
	switch {
	case keyIs(msg, k.Left):
		if sources[p.src.pos].id == srcPixels && p.col == 0 {
			return p.pixelSize(-1)
		}
		p.col = max(0, p.col-1)
		return nil
	case keyIs(msg, k.Right):
		if sources[p.src.pos].id == srcPixels && p.col == 0 {
			return p.pixelSize(1)
		}
		p.col = min(cols-1, p.col+1)
		return p.ensureTaps()
	case keyIs(msg, k.Sweep):
		if !p.needsNetwork() || sources[p.src.pos].id == srcCotrain {
			return setStatus("a sweep runs over the layers of a network: pick a pretrained or random one")
		}
		p.ctx.Choice.Sweep = !p.ctx.Choice.Sweep
		p.commit()
		return p.ensureTaps()
	case keyIs(msg, k.Enter):
		p.commit()
		if p.col < cols-1 {
			p.col++
			return p.ensureTaps()
		}
		return tea.Batch(setStatus("model: %s", p.describe()), gotoPane(paneGrid))
	}
	switch p.col {
	case 0:
		if navigate(k, msg, &p.src, len(sources), 5) {
			p.net.pos = 0
			p.tap.pos = 0
			p.commit()
		}
	case 1:
		if navigate(k, msg, &p.net, len(p.networks()), 5) {
			p.tap.pos = 0
			p.commit()
			return p.ensureTaps()
		}
	case 2:
		if navigate(k, msg, &p.tap, len(p.ctx.Taps[p.netName()]), max(1, p.h-4)) {
			p.commit()
		}
	}
	return nil
}

func (p *modelPane) pixelSize(d int) tea.Cmd {
	i := slices.Index(pixelSizes, p.ctx.Choice.Pixels)
	i = max(0, min(len(pixelSizes)-1, i+d))
	p.ctx.Choice.Pixels = pixelSizes[i]
	p.commit()
	return nil
}

func (p *modelPane) ensureTaps() tea.Cmd {
	net := p.netName()
	if !p.needsNetwork() || net == "" {
		return nil
	}
	if _, ok := p.ctx.Taps[net]; ok {
		return nil
	}
	if p.asking == net {
		return nil
	}
	delete(p.errs, net) // asking again retries
	p.asking = net
	return tea.Batch(listTaps(net, p.ctx.Weights[net]), setStatus("reading the taps of %s…", net))
}

// commit writes the selection into the shared context for the Grid pane.
func (p *modelPane) commit() {
	c := &p.ctx.Choice
	c.Source = sources[p.src.pos].id
	c.Network, c.Tap = "", ""
	if p.needsNetwork() {
		c.Network = strings.TrimSuffix(p.netName(), "-random")
		if taps := p.ctx.Taps[p.netName()]; len(taps) > 0 {
			c.Tap = taps[min(p.tap.pos, len(taps)-1)].Name
		}
	} else {
		c.Sweep = false
	}
	if c.Source == srcCotrain {
		c.Sweep = false
	}
}

func (p *modelPane) describe() string {
	c := p.ctx.Choice
	switch c.Source {
	case srcCNN:
		return "a CNN trained from scratch"
	case srcCotrain:
		return fmt.Sprintf("%s co-trained from %s on", c.Network, c.Tap)
	}
	if c.Sweep {
		return fmt.Sprintf("every layer of %s", c.FeatureSpec()[:strings.Index(c.FeatureSpec(), ":")])
	}
	return c.FeatureSpec()
}

// pick focuses column col and selects its item i (clamped), as the keys
// would: a new source or network resets the columns right of it.
func (p *modelPane) pick(col, i int) tea.Cmd {
	p.col = col
	var c *cursor
	var n int
	switch col {
	case 0:
		c, n = &p.src, len(sources)
	case 1:
		c, n = &p.net, len(p.networks())
	default:
		c, n = &p.tap, len(p.ctx.Taps[p.netName()])
	}
	c.pos = max(0, min(n-1, i))
	switch col {
	case 0:
		p.net.pos, p.tap.pos = 0, 0
	case 1:
		p.tap.pos = 0
	}
	p.commit()
	return p.ensureTaps()
}

// column records the mouse zone of column col's rows.
func (p *modelPane) column(col, x, w, first, n int, c *cursor) {
	p.ctx.zones.rows(x+1, 1, w-2, first, n, func(i int) tea.Cmd { return p.pick(col, i) },
		func(d int) tea.Cmd { return p.pick(col, c.pos+d) })
}

// nextStep is the hint under the boxes: what enter does from here.
func (p *modelPane) nextStep() string {
	c := p.ctx.Choice
	switch {
	case !p.needsNetwork():
		if c.Source == srcPixels {
			return "enter: send " + c.FeatureSpec() + " to Grid (←/→ change the size)"
		}
		return "enter: set this CNN's training grid in Grid"
	case p.col == 0:
		return "enter: pick a network"
	case p.col == 1 || c.Tap == "":
		return "enter: list its layers"
	case c.Source == srcCotrain:
		return "enter: train " + c.Network + " from " + c.Tap + " in Grid"
	case c.Sweep:
		return "enter: send every layer of " + sweepNetwork(c) + " to Grid (w: one layer)"
	}
	return "enter: send " + c.FeatureSpec() + " to Grid (w: sweep every layer)"
}

func (p *modelPane) View() string {
	st := p.ctx.Styles
	hint := st.Heading.Render("next → " + p.nextStep())
	h := p.h - 1
	srcW := 30
	var s strings.Builder
	for i, src := range sources {
		line := "  " + src.label
		if src.id == p.ctx.Choice.Source {
			line = "● " + src.label
		}
		if i == p.src.pos {
			line = p.sel(line, srcW-2, p.col == 0)
		}
		s.WriteString(line + "\n")
	}
	s.WriteString("\n")
	c := p.ctx.Choice
	switch c.Source {
	case srcPixels:
		s.WriteString(kv(st, "size", fmt.Sprintf("◀ %dx%d ▶", c.Pixels, c.Pixels)) + "\n")
		s.WriteString(st.Dim.Render("pixels resized, flattened and\nstandardised on train"))
	case srcCNN:
		s.WriteString(st.Dim.Render("a small CNN trained on the\nimages; set its grid in Grid"))
	case srcCotrain:
		s.WriteString(st.Dim.Render("trunk frozen up to the chosen\ntap; neural and object heads"))
	default:
		sweep := "off"
		if c.Sweep {
			sweep = "on (every layer)"
		}
		s.WriteString(kv(st, "sweep", sweep))
	}
	s.WriteString("\n\n" + st.Label.Render("choice") + "\n" + st.Value.Render(lipgloss.NewStyle().Width(srcW-2).Render(p.describe())))
	srcBox := box(st, "Source", s.String(), srcW, h, p.col == 0)
	p.column(0, 0, srcW, 0, len(sources), &p.src)
	if !p.needsNetwork() {
		return srcBox + "\n" + hint
	}

	netW := 26
	var n strings.Builder
	for i, name := range p.networks() {
		line := "  " + name
		if i == p.net.pos {
			line = p.sel("● "+name, netW-2, p.col == 1)
		}
		n.WriteString(line + "\n")
	}
	netBox := box(st, "Network", n.String(), netW, h, p.col == 1)
	p.column(1, srcW, netW, 0, len(p.networks()), &p.net)

	tapW := p.w - srcW - netW
	tapTitle := "Layer"
	if sources[p.src.pos].id == srcCotrain {
		tapTitle = "Trainable from"
	}
	var t strings.Builder
	net := p.netName()
	taps, ok := p.ctx.Taps[net]
	switch {
	case p.errs[net] != nil:
		t.WriteString(st.Bad.Render(lipgloss.NewStyle().Width(tapW - 4).Render(data.Printable(p.errs[net].Error()))))
	case !ok:
		t.WriteString(st.Dim.Render("→ or enter to list the taps"))
	default:
		first, end := p.tap.window(len(taps), h-2)
		p.column(2, srcW+netW, tapW, first, end-first, &p.tap)
		for i := first; i < end; i++ {
			tp := taps[i]
			line := fmt.Sprintf("  %-*s %s", max(8, tapW-22), tp.Name, st.Dim.Render(shapeString(tp.Shape)))
			if c.Sweep {
				line = "◆ " + line[2:]
			}
			if i == p.tap.pos {
				line = p.sel(fmt.Sprintf("● %-*s %s", max(8, tapW-22), tp.Name, shapeString(tp.Shape)), tapW-2, p.col == 2)
			}
			t.WriteString(line + "\n")
		}
	}
	tapBox := box(st, tapTitle, t.String(), tapW, h, p.col == 2)
	return lipgloss.JoinHorizontal(lipgloss.Top, srcBox, netBox, tapBox) + "\n" + hint
}

func (p *modelPane) sel(line string, w int, focused bool) string {
	if focused {
		return selectLine(p.ctx.Styles, line, w)
	}
	if p.ctx.Styles.Plain {
		return line
	}
	return p.ctx.Styles.Heading.Render(line)
}

func shapeString(shape []int) string {
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(parts, "×") + ")"
}
