package nets

import (
	"math"
	"testing"

	"itscope/compute/nn"
)

func TestRandomInitIsTorchvisions(t *testing.T) {
	cfg := ResNetConfig{Layers: [4]int{1, 1, 1, 1}, Width: 16, Classes: 1000}
	a, err := NewResNet("resnet", cfg, 3, "")
	if err != nil {
		t.Fatal(err)
	}
	// A conv's weights are N(0, 2/fan_out) (kaiming_normal_, mode fan_out,
	// relu); folding BatchNorm at its initial state (weight 1, bias 0, running
	// mean 0, variance 1) scales them by 1/sqrt(1+eps). fc's are U(-b, b) with
	// b = 1/sqrt(fan_in), whose standard deviation is b/sqrt(3).
	conv, ok := layerAt(a.Stages(), "layer4.0.conv2")
	if !ok {
		t.Fatal("no layer4.0.conv2")
	}
	std := sampleStd(nn.Float32s(conv.(*nn.Conv2D).Weight.Value))
	if want := math.Sqrt(2.0/(128*9)) / math.Sqrt(1+1e-5); math.Abs(std/want-1) > 0.01 {
		t.Errorf("layer4.0.conv2: weight std %.5f, want %.5f", std, want)
	}
	fc, ok := layerAt(a.Stages(), "fc")
	if !ok {
		t.Fatal("no fc")
	}
	if std, want := sampleStd(nn.Float32s(fc.(*nn.Linear).Weight.Value)), 1/math.Sqrt(3*128); math.Abs(std/want-1) > 0.01 {
		t.Errorf("fc: weight std %.5f, want %.5f", std, want)
	}
	b, _ := NewResNet("resnet", cfg, 3, "")
	c, _ := NewResNet("resnet", cfg, 4, "")
	pa, pb, pc := nn.State(a.Stages()), nn.State(b.Stages()), nn.State(c.Stages())
	same := true
	for i := range pa {
		va, vb, vc := nn.Float32s(pa[i].Value), nn.Float32s(pb[i].Value), nn.Float32s(pc[i].Value)
		for k := range va {
			if va[k] != vb[k] {
				t.Fatalf("seed 3 twice: %s differs at %d", pa[i].Name, k)
			}
			same = same && va[k] == vc[k]
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

// layerAt is the descendant of l at the dotted path, as nn.Walk names it.
func layerAt(l nn.Layer, path string) (found nn.Layer, ok bool) {
	nn.Walk(l, func(name string, d nn.Layer) {
		if name == path && !ok {
			found, ok = d, true
		}
	})
	return found, ok
}
