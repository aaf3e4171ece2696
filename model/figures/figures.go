package figures

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"itscope/model/runs"
)

// Kind names a figure.
type Kind string

// The figures, as `itscope plot --figure` names them.
const (
	Layers    Kind = "layers"    // Figure 1a: mean EV per layer of a sweep
	Histogram Kind = "histogram" // Figure 1b: EV over neurons
	Predicted Kind = "predicted" // Figure 1c: predicted against actual on val
	Curves    Kind = "curves"    // training loss and val EV of several runs
	Compare   Kind = "compare"   // mean EV of several runs with 95% intervals
)

// Kinds lists every figure in the order the help shows them.
var Kinds = []Kind{Layers, Histogram, Predicted, Curves, Compare}

// ParseKind returns the figure called name.
func ParseKind(name string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == name {
			return k, nil
		}
	}
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return "", fmt.Errorf("unknown figure %q: want one of %s", name, strings.Join(names, ", "))
}

// Input is what a figure draws from.
type Input struct {
	// Runs are the runs drawn: Layers, Histogram and Predicted draw the first,
	// Curves and Compare all of them.
	Runs []*runs.Run
	// Listing is the store's runs, from which Layers picks the first run's
	// sweep (SweepLayers).
	Listing []runs.RunMeta
	// Pred and Actual are the first run's val responses for Predicted, one
	// point per image (ValPairs), of Neuron or of the mean over neurons when
	// Neuron < 0.
	Pred, Actual []float64
	Neuron       int
	// X is the x axis of Curves.
	X XAxis
}

// Size is the size of a saved figure: 6 x 4.5 inches, drawn at DPI in PNG.
const (
	Width  = 6 * vg.Inch
	Height = 4.5 * vg.Inch
	DPI    = 200
)

// Figure is a drawn figure: one or more panels stacked vertically.
type Figure struct {
	panels []*plot.Plot
}

// New draws figure kind from in.
func New(kind Kind, in Input) (*Figure, error) {
	if len(in.Runs) == 0 {
		return nil, errors.New("figure " + string(kind) + ": no run to draw")
	}
	var panels []*plot.Plot
	var err error
	switch kind {
	case Layers:
		panels, err = layersPanel(in)
	case Histogram:
		panels, err = histogramPanel(in.Runs[0])
	case Predicted:
		panels, err = predictedPanel(in)
	case Curves:
		panels, err = curvesPanels(in.Runs, in.X)
	case Compare:
		panels, err = comparePanel(in.Runs)
	default:
		_, err = ParseKind(string(kind))
	}
	if err != nil {
		return nil, err
	}
	return &Figure{panels: panels}, nil
}

// draw lays the panels out one above the other on c, inside a margin.
func (f *Figure) draw(c vg.CanvasSizer) {
	rows := make([][]*plot.Plot, len(f.panels))
	for i, p := range f.panels {
		rows[i] = []*plot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(rows), Cols: 1, PadY: vg.Points(10), PadTop: vg.Points(6), PadBottom: vg.Points(4),
		PadLeft: vg.Points(4), PadRight: vg.Points(14)}
	canvases := plot.Align(rows, tiles, draw.New(c))
	for i := range rows {
		rows[i][0].Draw(canvases[i][0])
	}
}

// headroom raises the top of p's y axis by frac of its range, so that the
// legend above the data covers none of it.
func headroom(p *plot.Plot, frac float64) {
	p.Y.Max += frac * (p.Y.Max - p.Y.Min)
}

// Format is the file format of a path: "png" or "svg", from its extension.
func Format(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png", ".svg":
		return ext[1:], nil
	default:
		return "", fmt.Errorf("%s: a figure is saved as .png or .svg, not %q", path, ext)
	}
}

// Write writes the figure as format ("png" or "svg") to w. SVG names its
// fonts instead of embedding them, so the file stays small and the same
// data gives the same bytes.
func (f *Figure) Write(w io.Writer, format string) error {
	var wt io.WriterTo
	switch format {
	case "png":
		c := vgimg.NewWith(vgimg.UseWH(Width, Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
		f.draw(c)
		wt = vgimg.PngCanvas{Canvas: c}
	case "svg":
		c := vgsvg.New(Width, Height)
		f.draw(c)
		wt = c
	default:
		return fmt.Errorf("figure format %q: want png or svg", format)
	}
	_, err := wt.WriteTo(w)
	return err
}

// Save writes the figure to path atomically, as PNG or SVG by its extension.
func (f *Figure) Save(path string) error {
	format, err := Format(path)
	if err != nil {
		return err
	}
	return runs.WriteFileAtomic(path, func(w io.Writer) error { return f.Write(w, format) })
}

// newPanel is a plot with the figures' shared style: a serif-free title,
// light grid lines under the data.
func newPanel(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font.Size = vg.Points(12)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, l := range []*font.Font{&p.X.Label.TextStyle.Font, &p.Y.Label.TextStyle.Font} {
		l.Size = vg.Points(11)
	}
	p.Legend.Top = true
	p.Legend.TextStyle.Font.Size = vg.Points(9)
	grid := plotter.NewGrid()
	grid.Vertical.Color = color.Gray{Y: 225}
	grid.Horizontal.Color = color.Gray{Y: 225}
	p.Add(grid)
	return p
}

// style gives series i its colour, dash pattern and glyph, so that series
// read apart in grey print too.
func style(i int) (color.Color, []vg.Length, draw.GlyphDrawer) {
	return plotutil.Color(i), plotutil.Dashes(i), plotutil.Shape(i)
}

// Label names a run in legends and on axes: its name, or its id without one.
func Label(m runs.RunMeta) string {
	if m.Name != "" {
		return m.Name
	}
	return m.ID
}

// labels names runs, adding the id where two names are the same.
func labels(rs []*runs.Run) []string {
	count := map[string]int{}
	for _, r := range rs {
		count[Label(r.Meta)]++
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = Label(r.Meta)
		if count[out[i]] > 1 {
			out[i] += " (" + r.Meta.ID + ")"
		}
	}
	return out
}

// finite keeps the finite values of xs.
func finite(xs []float64) plotter.Values {
	var out plotter.Values
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}
