package nets

import (
	"math"
	"testing"
)

func TestRandomInitIsTorchvisions(t *testing.T) {
	cfg := resNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 16, Classes: 1000}
	a, _ := newResNet("resnet", cfg)
	if err := a.setWeights(3, ""); err != nil {
		t.Fatal(err)
	}
	// A conv's weights are N(0, 2/fan_out) (kaiming_normal_, mode fan_out,
	// relu); folding BatchNorm at its initial state (weight 1, bias 0, running
	// mean 0, variance 1) scales them by 1/sqrt(1+eps). fc's are U(-b, b) with
	// b = 1/sqrt(fan_in), whose standard deviation is b/sqrt(3).
	for _, u := range a.units {
		if u.name != "layer4.0.conv2" {
			continue
		}
		std := sampleStd(u.conv.Weight.Value.Data().([]float32))
		want := math.Sqrt(2.0/(128*9)) / math.Sqrt(1+1e-5)
		if d := std/want - 1; math.Abs(d) > 0.01 {
			t.Errorf("%s: weight std %.5f, want %.5f", u.name, std, want)
		}
	}
	fc := a.linears[0].l
	if std, want := sampleStd(fc.Weight.Value.Data().([]float32)), 1/math.Sqrt(3*128); math.Abs(std/want-1) > 0.01 {
		t.Errorf("fc: weight std %.5f, want %.5f", std, want)
	}
	b, _ := newResNet("resnet", cfg)
	b.setWeights(3, "")
	c, _ := newResNet("resnet", cfg)
	c.setWeights(4, "")
	pa, pb, pc := a.params(), b.params(), c.params()
	same := true
	for i := range pa {
		for k := range pa[i].Data {
			if pa[i].Data[k] != pb[i].Data[k] {
				t.Fatalf("seed 3 twice: %s differs at %d", pa[i].Name, k)
			}
			same = same && pa[i].Data[k] == pc[i].Data[k]
		}
	}
	if same {
		t.Error("seeds 3 and 4 give the same weights")
	}
}

func sampleStd(w []float32) float64 {
	var ss float64
	for _, v := range w {
		ss += float64(v) * float64(v)
	}
	return math.Sqrt(ss / float64(len(w)))
}
