package figures

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"itscope/data"
	"itscope/model/runs"
)

// SweepLayers are the runs Figure 1a draws for run m: the finished runs
// of listing on the layers of m's network with m's read-out, PCA and
// dataset, the newest run of each layer, in listing order (a store lists
// oldest first, so a sweep's layers go shallow to deep). ok is false when m
// is not on a network layer.
func SweepLayers(listing []runs.RunMeta, m runs.RunMeta) (net string, layers []string, metas []runs.RunMeta, ok bool) {
	net, _, ok = strings.Cut(m.Strategy, ":")
	if !ok || strings.HasPrefix(m.Strategy, "pixels") {
		return "", nil, nil, false
	}
	seen := map[string]int{}
	for _, r := range listing {
		n, tap, ok := strings.Cut(r.Strategy, ":")
		if !ok || n != net || r.Status != runs.Done || r.Model != m.Model ||
			r.Summary.PCA != m.Summary.PCA || r.Dataset.Hash != m.Dataset.Hash {
			continue
		}
		if i, ok := seen[tap]; ok {
			metas[i] = r
			continue
		}
		seen[tap] = len(layers)
		layers = append(layers, tap)
		metas = append(metas, r)
	}
	return net, layers, metas, true
}

// ValPairs is Figure 1c's data: for each validation image, the run's
// prediction and the actual response of neuron (0-based), or their means
// over neurons when neuron < 0.
func ValPairs(ds *data.Dataset, run *runs.Run, neuron int) (pred, actual []float64, err error) {
	val, ok := ds.SplitByName(data.Val)
	if !ok || len(val.Indices) != run.PredRows || ds.NumNeurons != run.PredCols {
		return nil, nil, fmt.Errorf("predictions are %d x %d but %s's val split is %d images x %d neurons",
			run.PredRows, run.PredCols, data.Printable(ds.Name), len(val.Indices), ds.NumNeurons)
	}
	if neuron >= run.PredCols {
		return nil, nil, fmt.Errorf("neuron %d: run %s predicts neurons 0 to %d", neuron, run.Meta.ID, run.PredCols-1)
	}
	for r, img := range val.Indices {
		row := ds.ResponseRow(img)
		if neuron >= 0 {
			pred = append(pred, float64(run.Predictions[r*run.PredCols+neuron]))
			actual = append(actual, float64(row[neuron]))
			continue
		}
		var sp, sa float64
		for j, a := range row {
			sp += float64(run.Predictions[r*run.PredCols+j])
			sa += float64(a)
		}
		pred = append(pred, sp/float64(run.PredCols))
		actual = append(actual, sa/float64(run.PredCols))
	}
	return pred, actual, nil
}

func layersPanel(in Input) ([]*plot.Plot, error) {
	m := in.Runs[0].Meta
	net, layers, metas, ok := SweepLayers(in.Listing, m)
	if !ok {
		return nil, fmt.Errorf("run %s is on %q, not a network layer: EV across layers needs a sweep's runs", m.ID, m.Strategy)
	}
	evs := make([]float64, len(metas))
	for i, r := range metas {
		evs[i] = r.Summary.EVMean
	}
	p := newPanel(fmt.Sprintf("Mean EV per layer of %s (%s, PCA %d)", net, m.Model, m.Summary.PCA), "layer", "mean explained variance")
	pts := make(plotter.XYs, 0, len(evs))
	best := -1
	for i, v := range evs {
		if math.IsNaN(v) {
			continue
		}
		pts = append(pts, plotter.XY{X: float64(i), Y: v})
		if best < 0 || v > evs[best] {
			best = i
		}
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("run %s: no finished run of %s's layers has a mean EV", m.ID, net)
	}
	line, points, err := plotter.NewLinePoints(pts)
	if err != nil {
		return nil, err
	}
	c, _, glyph := style(0)
	line.Color, points.Color, points.Shape = c, c, glyph
	points.Radius = vg.Points(3)
	p.Add(line, points)
	top, err := plotter.NewScatter(plotter.XYs{{X: float64(best), Y: evs[best]}})
	if err != nil {
		return nil, err
	}
	top.Shape, top.Radius, top.Color = draw.RingGlyph{}, vg.Points(6), color.Black
	p.Add(top)
	p.Legend.Add("mean EV", line, points)
	p.Legend.Add(fmt.Sprintf("best: %s (%.3f)", layers[best], evs[best]), top)
	p.NominalX(layers...)
	p.X.Min, p.X.Max = -0.5, float64(len(layers))-0.5
	headroom(p, 0.15)
	if len(layers) > 6 {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	return []*plot.Plot{p}, nil
}

// evs are a run's per-neuron EVs that are defined (constant neurons have
// none).
func evs(run *runs.Run) plotter.Values {
	all := make([]float64, len(run.Neurons))
	for i, n := range run.Neurons {
		all[i] = n.EV
	}
	return finite(all)
}

func histogramPanel(run *runs.Run) ([]*plot.Plot, error) {
	vs := evs(run)
	if len(vs) == 0 {
		return nil, fmt.Errorf("run %s has no per-neuron EV (neurons.csv) to draw", run.Meta.ID)
	}
	p := newPanel(fmt.Sprintf("EV over %d neurons: %s", len(vs), Label(run.Meta)), "explained variance", "neurons")
	h, err := plotter.NewHist(vs, 20)
	if err != nil {
		return nil, err
	}
	h.FillColor = color.RGBA{R: 120, G: 160, B: 210, A: 255}
	h.LineStyle.Color = color.RGBA{R: 40, G: 70, B: 120, A: 255}
	p.Add(h)
	mean := run.Meta.Summary.EVMean
	if !math.IsNaN(mean) {
		ml := verticalLine(p, h, mean)
		p.Add(ml)
		p.Legend.Add(fmt.Sprintf("mean %.3f", mean), ml)
	}
	headroom(p, 0.12)
	return []*plot.Plot{p}, nil
}

// verticalLine is a dashed line at x from 0 to the tallest bin of h.
func verticalLine(p *plot.Plot, h *plotter.Histogram, x float64) *plotter.Line {
	top := 0.0
	for _, b := range h.Bins {
		top = math.Max(top, b.Weight)
	}
	l, _ := plotter.NewLine(plotter.XYs{{X: x, Y: 0}, {X: x, Y: top}})
	l.Color = color.RGBA{R: 200, G: 30, B: 30, A: 255}
	l.Dashes = []vg.Length{vg.Points(4), vg.Points(2)}
	l.Width = vg.Points(1.5)
	return l
}

func predictedPanel(in Input) ([]*plot.Plot, error) {
	run := in.Runs[0]
	if len(in.Pred) == 0 || len(in.Pred) != len(in.Actual) {
		return nil, fmt.Errorf("run %s: predicted needs the val predictions and responses (%d and %d values)",
			run.Meta.ID, len(in.Pred), len(in.Actual))
	}
	what, ylabel := "mean over neurons", "mean predicted response"
	xlabel := "mean actual response"
	if in.Neuron >= 0 {
		what, ylabel, xlabel = fmt.Sprintf("neuron %d", in.Neuron), "predicted response", "actual response"
	}
	p := newPanel(fmt.Sprintf("Predicted against actual on val, %s: %s", what, Label(run.Meta)), xlabel, ylabel)
	pts := make(plotter.XYs, 0, len(in.Pred))
	lo, hi := math.Inf(1), math.Inf(-1)
	for i := range in.Pred {
		x, y := in.Actual[i], in.Pred[i]
		if math.IsNaN(x) || math.IsNaN(y) {
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
		lo, hi = math.Min(lo, math.Min(x, y)), math.Max(hi, math.Max(x, y))
	}
	if len(pts) == 0 {
		return nil, fmt.Errorf("run %s: every predicted or actual value is NaN", run.Meta.ID)
	}
	s, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	c, _, _ := style(0)
	s.Color, s.Shape, s.Radius = c, draw.CircleGlyph{}, vg.Points(2)
	id, _ := plotter.NewLine(plotter.XYs{{X: lo, Y: lo}, {X: hi, Y: hi}})
	id.Color, id.Dashes = color.Gray{Y: 90}, []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(id, s)
	p.Legend.Add(fmt.Sprintf("%d val images, r = %.3f", len(pts), pearson(pts)), s)
	p.Legend.Add("identity", id)
	p.Legend.Left = true
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = lo, hi, lo, hi
	return []*plot.Plot{p}, nil
}

// pearson is the correlation of the points' x and y.
func pearson(pts plotter.XYs) float64 {
	n := float64(len(pts))
	var mx, my float64
	for _, q := range pts {
		mx += q.X / n
		my += q.Y / n
	}
	var sxy, sxx, syy float64
	for _, q := range pts {
		sxy += (q.X - mx) * (q.Y - my)
		sxx += (q.X - mx) * (q.X - mx)
		syy += (q.Y - my) * (q.Y - my)
	}
	return sxy / math.Sqrt(sxx*syy)
}

// curvesPanels are the training loss (top) and val EV (bottom) against x
// of every run that logged a loss.csv.
func curvesPanels(rs []*runs.Run, x XAxis) ([]*plot.Plot, error) {
	loss := newPanel("Training curves", "", "training loss")
	ev := newPanel("", x.Label(), "val explained variance")
	names := labels(rs)
	drawn := 0
	var losses [][]float64
	for i, r := range rs {
		if len(r.Loss) == 0 {
			continue
		}
		if x == XWallTime && !HasWallTime(r.Loss) {
			return nil, fmt.Errorf("run %s: its loss.csv has no elapsed_s column (written before it existed), so no wall time: draw it against steps or epochs", r.Meta.ID)
		}
		points := func(value func(runs.LossPoint) float64) plotter.XYs {
			xs, ys := Curve(r.Loss, value, x)
			pts := make(plotter.XYs, len(xs))
			for k := range xs {
				pts[k] = plotter.XY{X: xs[k], Y: ys[k]}
			}
			return pts
		}
		lp := points(func(q runs.LossPoint) float64 { return q.TrainLoss })
		ep := points(func(q runs.LossPoint) float64 { return q.ValEV })
		ys := make([]float64, len(lp))
		for k, q := range lp {
			ys[k] = q.Y
		}
		losses = append(losses, ys)
		c, dashes, glyph := style(i)
		for _, panel := range []struct {
			p   *plot.Plot
			pts plotter.XYs
		}{{loss, lp}, {ev, ep}} {
			if len(panel.pts) == 0 {
				continue
			}
			line, err := plotter.NewLine(panel.pts)
			if err != nil {
				return nil, err
			}
			line.Color, line.Dashes, line.Width = c, dashes, vg.Points(1.2)
			marks, err := plotter.NewScatter(thin(panel.pts, 12))
			if err != nil {
				return nil, err
			}
			marks.Color, marks.Shape, marks.Radius = c, glyph, vg.Points(2.5)
			panel.p.Add(line, marks)
			if panel.p == loss {
				panel.p.Legend.Add(names[i], line, marks)
			}
		}
		drawn++
	}
	if drawn == 0 {
		return nil, fmt.Errorf("none of the %d runs logged training curves (loss.csv): only trained networks do", len(rs))
	}
	if lo, hi, ok := SettledRange(losses); ok {
		loss.Y.Min, loss.Y.Max = lo, hi
	}
	headroom(loss, 0.2)
	headroom(ev, 0.2)
	ev.X.Min, ev.X.Max = math.Min(loss.X.Min, ev.X.Min), math.Max(loss.X.Max, ev.X.Max)
	loss.X.Min, loss.X.Max = ev.X.Min, ev.X.Max
	return []*plot.Plot{loss, ev}, nil
}

// thin keeps at most n evenly spaced points of pts (and the last), for
// markers that stay apart on a dense curve.
func thin(pts plotter.XYs, n int) plotter.XYs {
	if len(pts) <= n {
		return pts
	}
	out := make(plotter.XYs, 0, n+1)
	for k := range n {
		out = append(out, pts[k*(len(pts)-1)/n])
	}
	return append(out, pts[len(pts)-1])
}

// comparePanel is every run's mean EV as a bar with its 95% bootstrap
// interval where the run has one.
func comparePanel(rs []*runs.Run) ([]*plot.Plot, error) {
	p := newPanel(fmt.Sprintf("Mean EV of %d runs (95%% bootstrap intervals)", len(rs)), "", "mean explained variance")
	names := labels(rs)
	var means plotter.Values
	var errs plotter.YErrors
	var at plotter.XYs
	var shown []string
	for i, r := range rs {
		s := r.Meta.Summary
		if math.IsNaN(s.EVMean) {
			continue
		}
		means = append(means, s.EVMean)
		shown = append(shown, names[i])
		if !math.IsNaN(s.EVMeanLo) && !math.IsNaN(s.EVMeanHi) {
			at = append(at, plotter.XY{X: float64(len(means) - 1), Y: s.EVMean})
			errs = append(errs, struct{ Low, High float64 }{s.EVMean - s.EVMeanLo, s.EVMeanHi - s.EVMean})
		}
	}
	if len(means) == 0 {
		return nil, fmt.Errorf("none of the %d runs has a mean EV", len(rs))
	}
	bars, err := plotter.NewBarChart(means, vg.Points(36))
	if err != nil {
		return nil, err
	}
	bars.Color = color.RGBA{R: 120, G: 160, B: 210, A: 255}
	bars.LineStyle.Color = color.RGBA{R: 40, G: 70, B: 120, A: 255}
	p.Add(bars)
	if len(at) > 0 {
		eb, err := plotter.NewYErrorBars(errorPoints{at, errs})
		if err != nil {
			return nil, err
		}
		eb.LineStyle.Width = vg.Points(1.2)
		p.Add(eb)
	}
	p.NominalX(shown...)
	p.X.Min, p.X.Max = -0.6, float64(len(shown))-0.4
	if len(shown) > 3 {
		p.X.Tick.Label.Rotation = math.Pi / 6
		p.X.Tick.Label.XAlign = draw.XRight
	}
	return []*plot.Plot{p}, nil
}

// errorPoints are bar tops with their interval, for plotter.NewYErrorBars.
type errorPoints struct {
	plotter.XYs
	plotter.YErrors
}

// SettledRange is a y range for curves that the first steps do not set:
// from the 2nd to the 98th percentile of each curve's values after its first
// 5%, widened by 5% each way, over all curves. ok is false when no curve has
// values to go by.
func SettledRange(curves [][]float64) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, ys := range curves {
		settled := slices.Clone(ys[len(ys)/20:])
		if len(settled) == 0 {
			continue
		}
		slices.Sort(settled)
		lo = math.Min(lo, stat.Quantile(0.02, stat.LinInterp, settled, nil))
		hi = math.Max(hi, stat.Quantile(0.98, stat.LinInterp, settled, nil))
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return 0, 0, false
	}
	pad := 0.05 * (hi - lo)
	if pad == 0 {
		pad = 0.05 * math.Max(math.Abs(hi), 1e-9)
	}
	return lo - pad, hi + pad, true
}
