package compute

import (
	"math"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestScoreNeedsThreeImages: a val or test split of one or two images is
// an error (issue 15: one val image reported ev_mean 1).
func TestScoreNeedsThreeImages(t *testing.T) {
	for _, c := range []struct {
		images int
		want   string // "" for no error
	}{
		{1, "compute: 1 images to score, want at least 3"},
		{2, "compute: 2 images to score, want at least 3"},
		{3, ""},
	} {
		y := mat.NewDense(c.images, 2, nil)
		p := mat.NewDense(c.images, 2, nil)
		for i := range c.images {
			y.Set(i, 0, float64(i))
			y.Set(i, 1, float64(i*i))
			p.Set(i, 0, float64(i)+0.5)
			p.Set(i, 1, float64(i))
		}
		s, err := Score(y, p)
		switch {
		case c.want == "" && (err != nil || math.IsNaN(s.EVMean)):
			t.Errorf("%d images: %v, ev_mean %v", c.images, err, s)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%d images: error %v, want one saying %q", c.images, err, c.want)
		}
	}
}

// TestConstantResponsesLeftOut: a neuron constant over the scored images
// gets NaN for EV, r and R2 even when its mean is not exactly its value
// (0.1 summed three times is not 0.3), whatever the prediction, and every
// summary leaves it out, saying so in Constant.
func TestConstantResponsesLeftOut(t *testing.T) {
	y := mat.NewDense(3, 3, []float64{
		1, 0.1, 5,
		2, 0.1, 5,
		4, 0.1, 5,
	})
	p := mat.NewDense(3, 3, []float64{
		1.5, 0.1, 4,
		2, 0.1, 5,
		3.5, 0.1, 6,
	})
	s, err := Score(y, p)
	if err != nil {
		t.Fatal(err)
	}
	// Neuron 0 by hand: residuals (-0.5, 0, 0.5), responses mean 7/3.
	varY := (16.0/9 + 1.0/9 + 25.0/9) / 3
	wantEV := 1 - (0.5/3)/varY
	wantR2 := 1 - (0.5/3)/varY // residuals have mean 0, so R2 equals EV here
	if math.Abs(s.EV[0]-wantEV) > 1e-12 || math.Abs(s.R2[0]-wantR2) > 1e-12 {
		t.Errorf("neuron 0: EV %v R2 %v, want %v %v", s.EV[0], s.R2[0], wantEV, wantR2)
	}
	for j := 1; j < 3; j++ {
		if !math.IsNaN(s.EV[j]) || !math.IsNaN(s.R[j]) || !math.IsNaN(s.R2[j]) {
			t.Errorf("constant neuron %d: EV %v r %v R2 %v, want NaN", j, s.EV[j], s.R[j], s.R2[j])
		}
	}
	if s.Constant != 2 || s.RCount != 1 {
		t.Errorf("Constant %d RCount %d, want 2 and 1", s.Constant, s.RCount)
	}
	wantMSE := 0.5 / 3
	for _, c := range []struct {
		name       string
		got, wantv float64
	}{
		{"ev_mean", s.EVMean, wantEV}, {"ev_median", s.EVMedian, wantEV},
		{"r2_mean", s.R2Mean, wantR2}, {"mse_mean", s.MSEMean, wantMSE}, {"mse_median", s.MSEMedian, wantMSE},
	} {
		if math.Abs(c.got-c.wantv) > 1e-12 {
			t.Errorf("%s %v, want %v (neuron 0 alone)", c.name, c.got, c.wantv)
		}
	}
}
