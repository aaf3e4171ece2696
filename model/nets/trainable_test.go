package nets

import (
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"itscope/compute/nn"
	"itscope/compute/onnx/onnxpb"
	"itscope/data"
)

// TestDequantizedMobileNetV2MatchesInt8 feeds each float trainable stage
// features.k of the co-trained MobileNetV2 (TrainableStages from
// features.1) the int8 network's own
// features.k-1 output on two photos, and compares with the int8 network's
// features.k.
//
// The tolerance follows from the quantization. Both paths start from the
// same real input and hold the same weights and biases (the float ones are
// the dequantized int8 ones), so the int8 path differs only by rounding each
// conv's output to its grid: at most half its scale s. That error goes
// through the next conv as through any linear map, growing by the sum of
// |w| over the weights an output reads; ReLU6 does not grow it. So, channel
// by channel, e_out[o] = sum_i |W[o,i]| e_in[i] + s_out/2 from e_in = 0,
// plus half the scale of the QLinearAdd of a residual block, plus 1e-5 of the
// stage's largest output for float32 arithmetic in both paths.
func TestDequantizedMobileNetV2MatchesInt8(t *testing.T) {
	if raceEnabled {
		t.Skip("the float MobileNetV2 is too slow under -race")
	}
	int8Net, err := OpenNetwork("mobilenetv2", NetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	trunk, frozen, note, err := TrainableStages(int8Net, "features.1")
	if err != nil {
		t.Fatal(err)
	}
	if frozen != "features.0" || !strings.Contains(note, "dequantized") {
		t.Fatalf("frozen tap %q, note %q", frozen, note)
	}
	convScales, addScales := int8OutputScales(t)
	var x []float32
	for _, f := range []string{"../../testdata/nets/coral/grace_hopper.bmp", "../../testdata/data/coral/cat.bmp"} {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		img, err := data.DecodeImage(raw)
		if err != nil {
			t.Fatal(err)
		}
		x = append(x, data.ClassifyPreprocess(img)...)
	}
	var names []string
	for k := range 19 {
		names = append(names, fmt.Sprintf("features.%d", k))
	}
	ref, err := int8Net.Forward(x, 2, names)
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string][]int{}
	for _, tap := range int8Net.Taps() {
		shapes[tap.Name] = append([]int{2}, tap.Shape...)
	}
	conv, add := 1, 0 // features.0's conv is before the first stage compared
	worst := 0.0
	for k := 1; k < 19; k++ {
		name := names[k]
		stage, ok := layerAt(trunk, name)
		if !ok {
			t.Fatalf("no stage %s", name)
		}
		in, err := nn.FromSlice(append([]float32(nil), ref[names[k-1]]...), shapes[names[k-1]]...)
		if err != nil {
			t.Fatal(err)
		}
		y, err := stage.Forward(in, false)
		if err != nil {
			t.Fatal(err)
		}
		var bound []float64
		nn.Walk(stage, func(_ string, l nn.Layer) {
			if c, ok := l.(*nn.Conv2D); ok {
				bound = propagate(c, bound, convScales[conv])
				conv++
			}
		})
		if _, residual := stage.(*nn.Residual); residual {
			for o := range bound {
				bound[o] += addScales[add] / 2
			}
			add++
		}
		got, want := nn.Float32s(y), ref[name]
		var scale float64
		for _, v := range want {
			scale = max(scale, math.Abs(float64(v)))
		}
		hw := len(want) / (2 * len(bound))
		ratio := 0.0
		for i := range want {
			o := i / hw % len(bound)
			d := math.Abs(float64(got[i]) - float64(want[i]))
			tol := bound[o] + 1e-5*scale
			ratio = max(ratio, d/tol)
			if d > tol {
				t.Fatalf("%s: value %d (channel %d): float %g, int8 %g: difference %.3g over the bound %.3g", name, i, o, got[i], want[i], d, tol)
			}
		}
		worst = max(worst, ratio)
		t.Logf("%s: largest difference %.2f of the bound", name, ratio)
	}
	if conv != len(convScales) || add != len(addScales) {
		t.Errorf("compared %d convs and %d adds, the int8 graph has %d and %d", conv, add, len(convScales), len(addScales))
	}
	t.Logf("largest difference over the stages: %.2f of the bound", worst)
}

// propagate is the error bound after conv c whose output grid has scale s,
// from the bound on its input channels (nil for an exact input).
func propagate(c *nn.Conv2D, in []float64, s float64) []float64 {
	spec := c.Spec
	w := nn.Float32s(c.Weight.Value)
	per := len(w) / spec.OutC
	kk := spec.Kernel[0] * spec.Kernel[1]
	inPerGroup, outPerGroup := spec.InC/spec.Groups, spec.OutC/spec.Groups
	out := make([]float64, spec.OutC)
	for o := range out {
		out[o] = s / 2
		if in == nil {
			continue
		}
		first := o / outPerGroup * inPerGroup
		for i, v := range w[o*per : (o+1)*per] {
			out[o] += math.Abs(float64(v)) * in[first+i/kk]
		}
	}
	return out
}

// int8OutputScales reads the embedded graph's output scales of its
// QLinearConv and QLinearAdd nodes, in graph order, up to the classifier
// (its QLinearMatMul and the QLinearAdd of its bias).
func int8OutputScales(t *testing.T) (convs, adds []float64) {
	t.Helper()
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(mobileNetV2Int8, &m); err != nil {
		t.Fatal(err)
	}
	inits := map[string]*onnxpb.TensorProto{}
	for _, i := range m.GetGraph().GetInitializer() {
		inits[i.GetName()] = i
	}
	scale := func(name string) float64 {
		s, err := floatTensor(inits, name)
		if err != nil || len(s) != 1 {
			t.Fatalf("scale %q: %v, %d values", name, err, len(s))
		}
		return float64(s[0])
	}
	for _, n := range m.GetGraph().GetNode() {
		switch n.GetOpType() {
		case "QLinearMatMul":
			return convs, adds
		case "QLinearConv":
			convs = append(convs, scale(n.GetInput()[6]))
		case "QLinearAdd":
			adds = append(adds, scale(n.GetInput()[6]))
		}
	}
	t.Fatal("the int8 graph has no QLinearMatMul classifier")
	return nil, nil
}
