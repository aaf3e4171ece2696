package figures

import (
	"fmt"
	"math"
	"strings"

	"itscope/model/runs"
)

// XAxis is what the x axis of training curves counts.
type XAxis int

// The x axes of training curves.
const (
	XSteps    XAxis = iota // optimiser steps
	XEpochs                // epochs: each epoch's last point
	XWallTime              // seconds since the training started (loss.csv's elapsed_s)
	numXAxes
)

var xAxisNames = [numXAxes]string{"steps", "epochs", "wall"}

func (x XAxis) String() string { return xAxisNames[x] }

// Next is the x axis after x, as a key steps through them.
func (x XAxis) Next() XAxis { return (x + 1) % numXAxes }

// Label is the axis' caption.
func (x XAxis) Label() string {
	return [numXAxes]string{"step", "epoch", "wall time (s)"}[x]
}

// ParseXAxis returns the x axis called name: steps, epochs or wall.
func ParseXAxis(name string) (XAxis, error) {
	for x, n := range xAxisNames {
		if n == name {
			return XAxis(x), nil
		}
	}
	return XSteps, fmt.Errorf("unknown x axis %q: want one of %s", name, strings.Join(xAxisNames[:], ", "))
}

// HasWallTime reports whether loss records when each point was reached:
// a loss.csv written before its elapsed_s column existed does not.
func HasWallTime(loss []runs.LossPoint) bool {
	if len(loss) == 0 {
		return false
	}
	for _, q := range loss {
		if math.IsNaN(q.Elapsed) {
			return false
		}
	}
	return loss[len(loss)-1].Elapsed > 0
}

// Curve is one quantity of a run's loss.csv against x: its finite values,
// at every point or, against epochs, at each epoch's last. Against wall
// time a run without it (HasWallTime) has no points.
func Curve(loss []runs.LossPoint, value func(runs.LossPoint) float64, x XAxis) (xs, ys []float64) {
	if x == XWallTime && !HasWallTime(loss) {
		return nil, nil
	}
	for i, q := range loss {
		y := value(q)
		if math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		var at float64
		switch x {
		case XSteps:
			at = float64(q.Step)
		case XEpochs:
			if i+1 < len(loss) && loss[i+1].Epoch == q.Epoch {
				continue
			}
			at = float64(q.Epoch)
		case XWallTime:
			at = q.Elapsed
		}
		xs, ys = append(xs, at), append(ys, y)
	}
	return xs, ys
}
