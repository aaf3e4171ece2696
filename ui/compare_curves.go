package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"github.com/guptarohit/asciigraph"

	"itscope/model/figures"
	"itscope/model/runs"
)

// Compare's curves: the marked runs' training loss and val EV overlaid,
// each run with its own colour and its own glyph, so they read apart
// without colour too.

// smoothings are the EMA weights `a` steps through, TensorBoard's slider.
var smoothings = []float64{0, 0.6, 0.9, 0.99}

// curveGlyphs draw run i's line; the first is asciigraph's box drawing.
var curveGlyphs = []string{"", "•", "+", "x", "o", "*"}

var curveColors = []asciigraph.AnsiColor{asciigraph.DodgerBlue, asciigraph.Orange, asciigraph.Green, asciigraph.Red,
	asciigraph.Violet, asciigraph.Gold}

// curveOptions are the view's settings: smoothing, log y, the x axis.
type curveOptions struct {
	smooth int // index in smoothings
	logY   bool
	x      figures.XAxis
}

func (o curveOptions) String() string {
	x := o.x.String()
	if o.x == figures.XWallTime {
		x = "wall time, s"
	}
	y := "linear"
	if o.logY {
		y = "log10"
	}
	return fmt.Sprintf("smoothing %.2f (a) · y %s (y) · x %s (x)", smoothings[o.smooth], y, x)
}

// curvePoints are a run's (x, y) for one quantity of its loss.csv against
// the chosen x (figures.Curve), y transformed for a log axis (non-positive
// values dropped) and smoothed.
func curvePoints(loss []runs.LossPoint, value func(runs.LossPoint) float64, o curveOptions) (xs, ys []float64) {
	cx, cy := figures.Curve(loss, value, o.x)
	for i, y := range cy {
		if o.logY {
			if y <= 0 {
				continue
			}
			y = math.Log10(y)
		}
		xs, ys = append(xs, cx[i]), append(ys, y)
	}
	a := smoothings[o.smooth]
	for i := 1; i < len(ys); i++ {
		ys[i] = a*ys[i-1] + (1-a)*ys[i]
	}
	return xs, ys
}

// onGrid resamples points onto n columns over [lo, hi]: each column holds
// the last point at or before it, NaN before the first and after the last.
func onGrid(xs, ys []float64, lo, hi float64, n int) []float64 {
	out := make([]float64, n)
	k := -1
	for c := range out {
		x := lo + (hi-lo)*float64(c)/float64(max(1, n-1))
		for k+1 < len(xs) && xs[k+1] <= x {
			k++
		}
		if k < 0 || x > xs[len(xs)-1]+(hi-lo)/float64(max(1, n-1)) {
			out[c] = math.NaN()
			continue
		}
		out[c] = ys[k]
	}
	return out
}

// overlay draws one quantity of every run on shared axes, its y range
// settled (figures.SettledRange) so the first steps do not set it.
func overlay(st Styles, rs []*runs.Run, value func(runs.LossPoint) float64, o curveOptions, w, h int) (string, int) {
	type curve struct{ xs, ys []float64 }
	var curves []curve
	lo, hi := math.Inf(1), math.Inf(-1)
	var all [][]float64
	drawn := 0
	for _, r := range rs {
		xs, ys := curvePoints(r.Loss, value, o)
		curves = append(curves, curve{xs, ys})
		if len(xs) > 0 {
			lo, hi = math.Min(lo, xs[0]), math.Max(hi, xs[len(xs)-1])
			all = append(all, ys)
			drawn++
		}
	}
	if drawn == 0 {
		return st.Dim.Render("(no points)"), 0
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	cols := max(10, w-10)
	var series [][]float64
	var chars []asciigraph.CharSet
	var colors []asciigraph.AnsiColor
	ylo, yhi, ok := figures.SettledRange(all)
	for i, c := range curves {
		g := onGrid(c.xs, c.ys, lo, hi, cols)
		if ok {
			for k, v := range g {
				if !math.IsNaN(v) {
					g[k] = math.Max(ylo, math.Min(yhi, v))
				}
			}
		}
		series = append(series, g)
		if glyph := curveGlyphs[i%len(curveGlyphs)]; glyph == "" {
			chars = append(chars, asciigraph.DefaultCharSet)
		} else {
			chars = append(chars, asciigraph.CreateCharSet(glyph))
		}
		colors = append(colors, curveColors[i%len(curveColors)])
	}
	opts := []asciigraph.Option{asciigraph.Height(h), asciigraph.Width(cols), asciigraph.Precision(3),
		asciigraph.SeriesChars(chars...), asciigraph.XAxisRange(lo, hi), asciigraph.XAxisTickCount(5),
		asciigraph.XAxisValueFormatter(func(x float64) string { return fmt.Sprintf("%.0f", x) })}
	if !st.Plain {
		opts = append(opts, asciigraph.SeriesColors(colors...))
	}
	out := asciigraph.PlotMany(series, opts...)
	if st.Plain {
		out = ansi.Strip(out)
	}
	return out, drawn
}

// curvesView overlays the training loss and val EV of the side-by-side
// runs and of the marked training jobs as they are now.
func (p *comparePane) curvesView() string {
	st := p.ctx.Styles
	o := p.curveOpts
	shown := p.curveRuns()
	var legend []string
	var metas []runs.RunMeta
	for _, r := range shown {
		metas = append(metas, r.Meta)
	}
	apart := runs.DistinctHparams(metas) // what tells the runs apart
	for i, r := range shown {
		glyph := curveGlyphs[i%len(curveGlyphs)]
		if glyph == "" {
			glyph = "─"
		}
		mark := strings.Repeat(glyph, 3)
		// What the run is now comes before its label, which may be cut.
		var now string
		switch _, live := liveJob(r.Meta.ID); {
		case live:
			now = fmt.Sprintf("(live: %d points)", len(r.Loss))
		case len(r.Loss) == 0:
			now = "(no loss.csv)"
		case o.x == figures.XWallTime && !figures.HasWallTime(r.Loss):
			now = "(no wall time: its loss.csv predates elapsed_s)"
		}
		name := strings.Join(strings.Fields(runs.HparamText(r.Meta, apart)+" "+now+"  "+runLabel(r.Meta)), " ")
		legend = append(legend, mark+" "+fitLine(name, p.w-8))
	}
	chartH := max(2, (p.h-2-len(legend)-6)/2-2)
	unit := "loss"
	if o.logY {
		unit = "log10 loss"
	}
	lossChart, n := overlay(st, shown, func(q runs.LossPoint) float64 { return q.TrainLoss }, o, p.w-4, chartH)
	evOpts := o
	evOpts.logY = false // EV may be negative
	evChart, _ := overlay(st, shown, func(q runs.LossPoint) float64 { return q.ValEV }, evOpts, p.w-4, chartH)
	body := st.Dim.Render(fitLine(o.String()+" · c histograms", p.w-4)) + "\n" + strings.Join(legend, "\n") + "\n" +
		st.Label.Render(fmt.Sprintf("training %s of %d runs (y from the 2-98%% range after the first 5%%)", unit, n)) + "\n" + lossChart + "\n" +
		st.Label.Render("val EV") + "\n" + evChart
	return box(st, fmt.Sprintf("Compare — curves of %d runs", len(shown)), body, p.w, p.h, true)
}
