package ui

import (
	"fmt"
	"math"
	"testing"
	"time"

	"itscope/model/figures"
	"itscope/model/runs"
)

// TestCurvePoints checks the EMA, the log axis and the epoch axis by hand.
func TestCurvePoints(t *testing.T) {
	loss := []runs.LossPoint{
		{Step: 1, Epoch: 1, TrainLoss: 100}, {Step: 2, Epoch: 1, TrainLoss: 10},
		{Step: 3, Epoch: 2, TrainLoss: math.NaN()}, {Step: 4, Epoch: 2, TrainLoss: 1}, {Step: 5, Epoch: 3, TrainLoss: -1},
	}
	value := func(q runs.LossPoint) float64 { return q.TrainLoss }
	for _, c := range []struct {
		o      curveOptions
		xs, ys string
	}{
		{curveOptions{}, "[1 2 4 5]", "[100 10 1 -1]"},
		// EMA 0.6: 100, 0.6*100+0.4*10 = 64, 0.6*64+0.4*1 = 38.8, 0.6*38.8-0.4 = 22.88.
		{curveOptions{smooth: 1}, "[1 2 4 5]", "[100 64 38.8 22.88]"},
		{curveOptions{logY: true}, "[1 2 4]", "[2 1 0]"},
		{curveOptions{x: figures.XEpochs}, "[1 2 3]", "[10 1 -1]"},
	} {
		xs, ys := curvePoints(loss, value, c.o)
		for i := range ys {
			ys[i] = math.Round(ys[i]*1e9) / 1e9
		}
		if fmt.Sprint(xs) != c.xs || fmt.Sprint(ys) != c.ys {
			t.Errorf("%+v: xs %v ys %v, want %s %s", c.o, xs, ys, c.xs, c.ys)
		}
	}
}

// TestOnGrid: a run shorter than the axis has no points past its end, and
// none before its start.
func TestOnGrid(t *testing.T) {
	got := onGrid([]float64{2, 4}, []float64{1, 2}, 0, 8, 5) // columns at 0 2 4 6 8
	want := "[NaN 1 2 2 NaN]"
	if fmt.Sprint(got) != want {
		t.Errorf("grid %v, want %s", got, want)
	}
}

// curveRuns are two trainings with loss curves of different lengths, the
// first 2 s a step, the second from a loss.csv without wall time.
func curveRuns() []*runs.Run {
	rs := trainedRuns()[:2]
	for k, r := range rs {
		for s := 1; s <= 60+30*k; s++ {
			q := runs.LossPoint{Step: s, Epoch: (s-1)/30 + 1, TrainLoss: 0.4 + float64(k)*0.1 + math.Exp(-float64(s)/15),
				ValLoss: math.NaN(), ValEV: math.NaN(), Elapsed: math.NaN()}
			if k == 0 {
				q.Elapsed = 2 * float64(s)
			}
			if s == 1 {
				q.TrainLoss = 30
			}
			if s%30 == 0 {
				q.ValEV = 0.05*float64(s/30) + 0.02*float64(k)
			}
			r.Loss = append(r.Loss, q)
		}
	}
	return rs
}

// TestGoldenCompareCurves: c in the side view overlays the marked runs'
// curves, each with its own glyph; a, y and x change smoothing, the y scale
// and the x axis (steps, epochs, wall time), and say so; a run without wall
// time says why it is not drawn against it.
func TestGoldenCompareCurves(t *testing.T) {
	tm, _ := startApp(t, Options{})
	rs := curveRuns()
	tm.Send(runsMessage(rs))
	keys(tm, "7")
	tm.Send(compareLoadedMsg{runs: rs})
	waitFor(t, tm, 5*time.Second, "on the same EV axis")
	keys(tm, "c")
	waitFor(t, tm, 5*time.Second, "smoothing 0.00 (a) · y linear (y) · x steps (x)")
	keys(tm, "a", "a", "y")
	waitFor(t, tm, 5*time.Second, "smoothing 0.90 (a) · y log10 (y) · x steps (x)", "training log10 loss of 2 runs")
	keys(tm, "y", "x")
	waitFor(t, tm, 5*time.Second, "smoothing 0.90 (a) · y linear (y) · x epochs (x)")
	keys(tm, "x")
	waitFor(t, tm, 5*time.Second, "x wall time, s (x)", "lr=0.0003 (no wall time: its loss.csv predates elapsed_s)",
		"training loss of 1 runs", "120") // the last tick: 60 steps of 2 s
	keys(tm, "x", "a", "a")
	waitFor(t, tm, 5*time.Second, "smoothing 0.00 (a) · y linear (y) · x steps (x)")
	requireGolden(t, finalFrame(t, tm))
}
