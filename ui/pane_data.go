package ui

import (
	"fmt"
	"image"
	"slices"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"itscope/data"
	"itscope/model/readout"
)

// datasetMsg reports a dataset loaded (or not) in the background.
type datasetMsg struct {
	spec string
	ds   *data.Dataset
	info *readout.DataInfo
	err  error
}

// imageMsg carries a decoded stimulus for the image browser.
type imageMsg struct {
	ds    *data.Dataset
	index int
	img   image.Image
	err   error
}

func openDataset(ctx *Context, spec string) tea.Cmd {
	open := ctx.Open
	return func() tea.Msg {
		ds, err := open(spec)
		if err != nil {
			return datasetMsg{spec: spec, err: err}
		}
		info, err := readout.DescribeDataset(ds)
		return datasetMsg{spec: spec, ds: ds, info: info, err: err}
	}
}

func decodeImage(ds *data.Dataset, i int) tea.Cmd {
	return func() tea.Msg {
		img, err := ds.Images.RGB(i)
		return imageMsg{ds: ds, index: i, img: img, err: err}
	}
}

// dataPane lists datasets, summarises the open one and browses its stimuli
// and responses.
type dataPane struct {
	paneBase
	specs    []string
	list     cursor
	loading  string
	image    int
	neuron   int
	img      image.Image
	imgIndex int
	imgErr   error
	path     lineInput
	stats    *datasetStats
	info     *readout.DataInfo
	pic      string
	picKey   [3]int
}

func newDataPane(ctx *Context, specs []string) *dataPane {
	if len(specs) == 0 {
		specs = []string{"demo", "demo:210325"}
	}
	return &dataPane{paneBase: paneBase{ctx: ctx}, specs: slices.Clone(specs), imgIndex: -1,
		path: lineInput{prompt: "open: "}}
}

func (p *dataPane) Title() string   { return "Data" }
func (p *dataPane) Capturing() bool { return p.path.active }
func (p *dataPane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	return []key.Binding{withHelp(k.Enter, "enter", "open"), withHelp(k.Left, "←/→", "image"), withHelp(k.PrevNeuron, "[/]", "neuron"), k.OpenPath}
}
func (p *dataPane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{
		{k.Up, k.Down, k.Enter, k.OpenPath},
		{withHelp(k.Left, "←/h", "prev image"), withHelp(k.Right, "→/l", "next image"), withHelp(k.PageUp, "pgup", "10 images back"), withHelp(k.PageDown, "pgdn", "10 images on")},
		{k.PrevNeuron, k.NextNeuron},
	}
}

func withHelp(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
}

func (p *dataPane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case datasetMsg:
		if msg.spec != p.loading && p.loading != "" {
			// An older request finished after a newer one was made.
			return nil
		}
		p.loading = ""
		if msg.err != nil {
			return setError(msg.err)
		}
		p.ctx.Dataset, p.ctx.DatasetSpec = msg.ds, msg.spec
		p.addSpec(msg.spec)
		p.image, p.neuron, p.img, p.imgIndex, p.pic = 0, 0, nil, -1, ""
		p.stats = computeStats(msg.ds)
		p.info = msg.info
		return tea.Batch(decodeImage(msg.ds, 0),
			setStatus("opened %s: %d images, %d neurons", msg.spec, msg.ds.Images.Len(), msg.ds.NumNeurons))
	case imageMsg:
		if msg.ds == p.ctx.Dataset && msg.index == p.image {
			p.img, p.imgIndex, p.imgErr, p.pic = msg.img, msg.index, msg.err, ""
		}
		return nil
	}
	return nil
}

func (p *dataPane) addSpec(spec string) {
	if !slices.Contains(p.specs, spec) {
		p.specs = append(p.specs, spec)
	}
	p.list.pos = slices.Index(p.specs, spec)
}

func (p *dataPane) Key(msg tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	if p.path.active {
		done, _ := p.path.update(msg)
		if done && strings.TrimSpace(p.path.value) != "" {
			p.loading = strings.TrimSpace(p.path.value)
			return tea.Batch(openDataset(p.ctx, p.loading), setStatus("opening %s…", p.loading))
		}
		return nil
	}
	ds := p.ctx.Dataset
	switch {
	case keyIs(msg, k.Up):
		p.list.move(-1, len(p.specs))
	case keyIs(msg, k.Down):
		p.list.move(1, len(p.specs))
	case keyIs(msg, k.Enter):
		p.loading = p.specs[p.list.pos]
		return tea.Batch(openDataset(p.ctx, p.loading), setStatus("opening %s…", p.loading))
	case keyIs(msg, k.OpenPath):
		p.path.active, p.path.value = true, ""
	case ds == nil:
	case keyIs(msg, k.Left):
		return p.showImage(p.image - 1)
	case keyIs(msg, k.Right):
		return p.showImage(p.image + 1)
	case keyIs(msg, k.PageUp):
		return p.showImage(p.image - 10)
	case keyIs(msg, k.PageDown):
		return p.showImage(p.image + 10)
	case keyIs(msg, k.PrevNeuron):
		p.neuron = (p.neuron + ds.NumNeurons - 1) % ds.NumNeurons
	case keyIs(msg, k.NextNeuron):
		p.neuron = (p.neuron + 1) % ds.NumNeurons
	}
	return nil
}

func (p *dataPane) showImage(i int) tea.Cmd {
	n := p.ctx.Dataset.Images.Len()
	i = ((i % n) + n) % n
	p.image = i
	return decodeImage(p.ctx.Dataset, i)
}

// datasetStats are computed once per dataset for the summary and the neuron
// view.
type datasetStats struct {
	reliab  []float64
	hasRows []bool
}

func computeStats(ds *data.Dataset) *datasetStats {
	st := &datasetStats{hasRows: make([]bool, ds.Images.Len())}
	for _, s := range ds.Splits {
		if s.HasResponses {
			for _, i := range s.Indices {
				st.hasRows[i] = true
			}
		}
	}
	if ds.Repeats != nil && ds.NumTrials >= 2 {
		st.reliab = splitHalfReliability(ds, st.hasRows)
	}
	return st
}

func (p *dataPane) View() string {
	st := p.ctx.Styles
	leftW := min(30, p.w/3)
	rightW := p.w - leftW

	// The dataset list and the summary.
	var left strings.Builder
	listH := min(len(p.specs), max(3, p.h/3))
	first, end := p.list.window(len(p.specs), listH)
	z := &p.ctx.zones
	z.rows(1, 1, leftW-2, first, end-first, func(i int) tea.Cmd {
		p.list.pos = i
		return nil
	}, scroll(&p.list, func() int { return len(p.specs) }))
	for i := first; i < end; i++ {
		mark := "  "
		if p.specs[i] == p.ctx.DatasetSpec {
			mark = "● "
		}
		line := mark + data.Printable(p.specs[i])
		if i == p.list.pos {
			line = selectLine(st, line, leftW-2)
		}
		left.WriteString(line + "\n")
	}
	if p.path.active {
		left.WriteString(p.path.view(st) + "\n")
	}
	left.WriteString("\n")
	ds := p.ctx.Dataset
	switch {
	case p.loading != "":
		left.WriteString(st.Dim.Render("loading " + data.Printable(p.loading) + "…"))
	case ds == nil:
		left.WriteString(st.Dim.Render("enter: open the selected\ndataset; o: open a path"))
	default:
		left.WriteString(p.summary(ds, leftW-2))
	}
	leftBox := box(st, "Datasets", left.String(), leftW, p.h, true)
	if ds == nil {
		return lipgloss.JoinHorizontal(lipgloss.Top, leftBox, box(st, "Stimulus", "", rightW, p.h, false))
	}

	// The stimulus and the responses.
	imgCols, imgRows := p.pictureSize(rightW)
	var pic string
	switch {
	case p.imgErr != nil:
		pic = st.Bad.Render(data.Printable(p.imgErr.Error()))
	case p.img != nil && p.imgIndex == p.image:
		// Drawing converts every cell's colours, and a protocol encodes
		// the picture: keep the result until the image or the size
		// changes, as most redraws are for other reasons.
		key := [3]int{p.imgIndex, imgCols, imgRows}
		if p.picKey != key || p.pic == "" {
			if p.ctx.Images == imagesBlocks {
				p.pic = drawImage(p.img, imgCols, imgRows, p.ctx.Profile)
			} else {
				p.pic = encodeImage(p.ctx.Images, p.img, imgCols, imgRows)
			}
			p.picKey = key
		}
		pic = p.pic
		if p.ctx.Images != imagesBlocks {
			// The cells stay blank; the app draws the escape over them.
			p.ctx.picture = picture{x: leftW + 1, y: 1, rows: imgRows, seq: pic}
			pic = ""
		}
	default:
		pic = st.Dim.Render("decoding…")
	}
	info := p.imageInfo(ds, max(10, rightW-imgCols-5))
	top := lipgloss.JoinHorizontal(lipgloss.Top, fitBlock(pic, imgCols, imgRows), "  ", info)
	neuronH := p.h - 2 - imgRows - 1
	bottom := p.neuronView(ds, rightW-2, neuronH)
	// The wheel turns the images over the stimulus and the neurons over
	// their histogram.
	z.add(leftW+1, 1, imgCols, imgRows, nil, func(d int) tea.Cmd { return p.showImage(p.image + d) })
	z.add(leftW+1, 1+imgRows+1, rightW-2, neuronH, nil, func(d int) tea.Cmd {
		p.neuron = ((p.neuron+d)%ds.NumNeurons + ds.NumNeurons) % ds.NumNeurons
		return nil
	})
	right := box(st, "Stimulus", top+"\n\n"+bottom, rightW, p.h, false)
	return lipgloss.JoinHorizontal(lipgloss.Top, leftBox, right)
}

// pictureSize is the cells the stimulus gets: as many as the pane leaves
// beside the image's details (34 columns) and above the neuron histogram
// (10 rows), in the image's aspect with cells twice as tall as wide. Half
// blocks show two pixels a cell and never more pixels than the image has;
// an image protocol lets the terminal scale the picture to the cells.
func (p *dataPane) pictureSize(rightW int) (cols, rows int) {
	const infoW, neuronH = 34, 10
	maxCols, maxRows := max(8, rightW-2-infoW-2), max(4, p.h-2-neuronH-1)
	w, h := 1, 1 // square until the image is decoded
	if p.img != nil && !p.img.Bounds().Empty() {
		w, h = p.img.Bounds().Dx(), p.img.Bounds().Dy()
		if p.ctx.Images == imagesBlocks {
			maxCols, maxRows = min(maxCols, w), min(maxRows, (h+1)/2)
		}
	}
	// cols/rows = 2w/h, within both limits.
	rows = min(maxRows, maxCols*h/(2*w))
	cols = min(maxCols, max(1, rows*2*w/h))
	return cols, max(1, rows)
}

func (p *dataPane) summary(ds *data.Dataset, w int) string {
	st := p.ctx.Styles
	info := p.info
	var splits []string
	for _, s := range info.Splits {
		splits = append(splits, fmt.Sprintf("%s %d", s.Name, s.Images))
	}
	lines := []string{
		st.Heading.Render(data.Printable(ds.Name)),
		kv(st, "images", fmt.Sprintf("%d, %s", info.Images, info.ImageSize)),
		kv(st, "neurons", fmt.Sprint(info.Neurons)),
		kv(st, "splits", strings.Join(splits, ", ")),
		kv(st, "range", fmtNum(info.ResponseMin)+" … "+fmtNum(info.ResponseMax)),
	}
	if info.Trials > 0 {
		lines = append(lines, kv(st, "trials", fmt.Sprint(info.Trials)))
	}
	if info.CeilingMean != nil {
		lines = append(lines, kv(st, "ceiling", fmtNum(*info.CeilingMean)+" mean"))
	} else {
		lines = append(lines, kv(st, "ceiling", "— (no repeats)"))
	}
	if info.Objects > 0 {
		lines = append(lines, kv(st, "labels", fmt.Sprint(info.Objects)+" objects"))
	}
	if ds.Description != "" {
		lines = append(lines, "", st.Dim.Render(lipgloss.NewStyle().Width(w).Render(data.Printable(ds.Description))))
	}
	return strings.Join(lines, "\n")
}

func kv(st Styles, k, v string) string {
	return st.Label.Render(fmt.Sprintf("%-8s", k)) + " " + st.Value.Render(v)
}

func (p *dataPane) imageInfo(ds *data.Dataset, w int) string {
	st := p.ctx.Styles
	i := p.image
	split := "—"
	for _, s := range ds.Splits {
		if _, ok := slices.BinarySearch(s.Indices, i); ok {
			split = s.Name
		}
	}
	lines := []string{
		st.Heading.Render(fmt.Sprintf("image %d of %d", i+1, ds.Images.Len())),
		kv(st, "name", data.Printable(ds.Images.Name(i))),
		kv(st, "split", split),
	}
	if ds.Objects != nil {
		lines = append(lines, kv(st, "object", data.Printable(ds.Objects[i])))
	}
	if p.stats.hasRows[i] {
		row := ds.ResponseRow(i)
		vals := make([]float64, len(row))
		for j, v := range row {
			vals[j] = float64(v)
		}
		lines = append(lines, kv(st, "neuron", fmt.Sprintf("%d: %s", p.neuron, fmtNum(float64(row[p.neuron])))), "",
			st.Label.Render("responses across neurons"),
			lineChart(st, [][]float64{vals}, w, 5, ""))
	} else {
		lines = append(lines, "", st.Dim.Render("no responses for this split"))
	}
	return strings.Join(lines, "\n")
}

func (p *dataPane) neuronView(ds *data.Dataset, w, h int) string {
	st := p.ctx.Styles
	if h < 5 {
		return ""
	}
	var vals []float64
	for i, ok := range p.stats.hasRows {
		if ok {
			vals = append(vals, float64(ds.Responses[i*ds.NumNeurons+p.neuron]))
		}
	}
	lo, hi := minMax(vals)
	if !(hi > lo) {
		hi = lo + 1
	}
	mean, sd := meanSD(vals)
	head := st.Heading.Render(fmt.Sprintf("neuron %d", p.neuron)) +
		st.Dim.Render(fmt.Sprintf("   mean %s  sd %s  over %d images", fmtNum(mean), fmtNum(sd), len(vals)))
	if p.stats.reliab != nil {
		head += st.Dim.Render("  reliability ") + st.Value.Render(fmtNum(p.stats.reliab[p.neuron]))
	}
	bins := min(60, w-10)
	counts := histogram(vals, bins, lo, hi)
	return head + "\n" + drawHistogram(st, counts, slices.Max(counts), h-4, lo, hi, "response")
}
