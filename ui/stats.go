package ui

import (
	"math"

	"itscope/data"
)

// The few statistics drawn on screen. The fitted scores all come from model;
// these only summarise raw data for display.

func nanMean(xs []float64) float64 {
	s, n := 0.0, 0
	for _, x := range xs {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}

func minMax(xs []float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		if !math.IsNaN(x) {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}

func meanSD(xs []float64) (mean, sd float64) {
	mean = nanMean(xs)
	s, n := 0.0, 0
	for _, x := range xs {
		if !math.IsNaN(x) {
			s += (x - mean) * (x - mean)
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	return mean, math.Sqrt(s / float64(n))
}

func pearson(x, y []float64) float64 {
	var sx, sy, sxx, syy, sxy, n float64
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			continue
		}
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
		n++
	}
	if n < 2 {
		return math.NaN()
	}
	cov := sxy - sx*sy/n
	vx := sxx - sx*sx/n
	vy := syy - sy*sy/n
	if vx <= 0 || vy <= 0 {
		return math.NaN()
	}
	return cov / math.Sqrt(vx*vy)
}

// splitHalfReliability is each neuron's split-half reliability over the
// images with responses: the correlation across images of the mean of the
// even trials with the mean of the odd trials, stepped up to the full trial
// count with Spearman-Brown (2r / (1 + r)). Missing trials (NaN) are skipped.
func splitHalfReliability(ds *data.Dataset, rows []bool) []float64 {
	out := make([]float64, ds.NumNeurons)
	t := ds.NumTrials
	for j := range ds.NumNeurons {
		var a, b []float64
		for i, ok := range rows {
			if !ok {
				continue
			}
			trials := ds.Repeats[(i*ds.NumNeurons+j)*t : (i*ds.NumNeurons+j+1)*t]
			var se, so float64
			var ne, no int
			for k, v := range trials {
				if math.IsNaN(float64(v)) {
					continue
				}
				if k%2 == 0 {
					se += float64(v)
					ne++
				} else {
					so += float64(v)
					no++
				}
			}
			if ne == 0 || no == 0 {
				continue
			}
			a = append(a, se/float64(ne))
			b = append(b, so/float64(no))
		}
		r := pearson(a, b)
		out[j] = 2 * r / (1 + r)
	}
	return out
}
