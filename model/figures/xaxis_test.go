package figures

import (
	"math"
	"slices"
	"strings"
	"testing"

	"itscope/model/runs"
)

// lossOf is a training of two epochs of two steps, an epoch row after each,
// the wall time 1.5 s a step, or NaN throughout (a loss.csv from before
// elapsed_s).
func lossOf(timed bool) []runs.LossPoint {
	nan := math.NaN()
	at := func(s float64) float64 {
		if timed {
			return s
		}
		return nan
	}
	return []runs.LossPoint{
		{Step: 1, Epoch: 1, TrainLoss: 4, ValLoss: nan, ValEV: nan, Elapsed: at(1.5)},
		{Step: 2, Epoch: 1, TrainLoss: 3, ValLoss: nan, ValEV: nan, Elapsed: at(3)},
		{Step: 2, Epoch: 1, TrainLoss: 3.5, ValLoss: 3.25, ValEV: 0.1, Elapsed: at(3.5)},
		{Step: 3, Epoch: 2, TrainLoss: 2, ValLoss: nan, ValEV: nan, Elapsed: at(5)},
		{Step: 4, Epoch: 2, TrainLoss: 1, ValLoss: nan, ValEV: nan, Elapsed: at(6.5)},
		{Step: 4, Epoch: 2, TrainLoss: 1.5, ValLoss: 1.25, ValEV: 0.3, Elapsed: at(7)},
	}
}

func TestCurveAgainstEachXAxis(t *testing.T) {
	train := func(q runs.LossPoint) float64 { return q.TrainLoss }
	val := func(q runs.LossPoint) float64 { return q.ValEV }
	for _, c := range []struct {
		name   string
		timed  bool
		value  func(runs.LossPoint) float64
		x      XAxis
		xs, ys []float64
	}{
		{"train/steps", true, train, XSteps, []float64{1, 2, 2, 3, 4, 4}, []float64{4, 3, 3.5, 2, 1, 1.5}},
		{"train/epochs", true, train, XEpochs, []float64{1, 2}, []float64{3.5, 1.5}},
		{"train/wall", true, train, XWallTime, []float64{1.5, 3, 3.5, 5, 6.5, 7}, []float64{4, 3, 3.5, 2, 1, 1.5}},
		{"val/wall", true, val, XWallTime, []float64{3.5, 7}, []float64{0.1, 0.3}},
		{"val/epochs untimed", false, val, XEpochs, []float64{1, 2}, []float64{0.1, 0.3}},
		{"train/wall untimed", false, train, XWallTime, nil, nil},
	} {
		xs, ys := Curve(lossOf(c.timed), c.value, c.x)
		if !slices.Equal(xs, c.xs) || !slices.Equal(ys, c.ys) {
			t.Errorf("%s: x %v y %v, want x %v y %v", c.name, xs, ys, c.xs, c.ys)
		}
	}
	if HasWallTime(lossOf(false)) || !HasWallTime(lossOf(true)) || HasWallTime(nil) {
		t.Errorf("HasWallTime: untimed %v, timed %v, empty %v", HasWallTime(lossOf(false)), HasWallTime(lossOf(true)), HasWallTime(nil))
	}
}

func TestParseXAxis(t *testing.T) {
	for _, x := range []XAxis{XSteps, XEpochs, XWallTime} {
		if got, err := ParseXAxis(x.String()); err != nil || got != x {
			t.Errorf("ParseXAxis(%q) = %v, %v", x.String(), got, err)
		}
	}
	if _, err := ParseXAxis("hours"); err == nil || !strings.Contains(err.Error(), "steps, epochs, wall") {
		t.Errorf("ParseXAxis(hours): %v", err)
	}
	if XWallTime.Next() != XSteps || XSteps.Next() != XEpochs {
		t.Errorf("Next: %v after wall, %v after steps", XWallTime.Next(), XSteps.Next())
	}
}

// TestCurvesAgainstWallTime draws a timed run against wall time, and
// refuses one whose loss.csv has no elapsed_s, naming it.
func TestCurvesAgainstWallTime(t *testing.T) {
	timed := &runs.Run{Meta: runs.RunMeta{ID: "timed"}, Loss: lossOf(true)}
	old := &runs.Run{Meta: runs.RunMeta{ID: "old"}, Loss: lossOf(false)}
	f, err := New(Curves, Input{Runs: []*runs.Run{timed}, X: XWallTime})
	if err != nil {
		t.Fatal(err)
	}
	if img := decodePNG(t, f); img.Bounds().Dx() == 0 {
		t.Errorf("empty image")
	}
	if _, err := New(Curves, Input{Runs: []*runs.Run{timed, old}, X: XWallTime}); err == nil || !strings.Contains(err.Error(), "run old") ||
		!strings.Contains(err.Error(), "elapsed_s") {
		t.Errorf("wall time of an old loss.csv: %v", err)
	}
	if _, err := New(Curves, Input{Runs: []*runs.Run{old}, X: XEpochs}); err != nil {
		t.Errorf("epochs of an old loss.csv: %v", err)
	}
}
