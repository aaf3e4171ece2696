package figures

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"

	"itscope/data"
	"itscope/model/runs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.svg")

// sweepListing is a sweep of five layers of one network, with runs that do
// not belong to it: another network, another read-out, another PCA,
// another dataset, a failed run, and a rerun of layer features.3.
func sweepListing() []runs.RunMeta {
	meta := func(id, strategy, model string, pca int, hash string, status runs.State, ev float64) runs.RunMeta {
		return runs.RunMeta{ID: id, Name: model + " on " + strategy, Strategy: strategy, Model: model, Status: status,
			Dataset: runs.DatasetRef{Name: "demo", Hash: hash}, Summary: runs.Summary{PCA: pca, EVMean: ev}}
	}
	return []runs.RunMeta{
		meta("r01", "alexnet:features.1", "ridgecv", 100, "h", runs.Done, 0.10),
		meta("r02", "alexnet:features.3", "ridgecv", 100, "h", runs.Done, 0.20),
		meta("r03", "alexnet:features.6", "ridgecv", 100, "h", runs.Done, 0.35),
		meta("r04", "alexnet:features.8", "ridgecv", 100, "h", runs.Done, 0.30),
		meta("r05", "alexnet:features.10", "ridgecv", 100, "h", runs.Done, 0.25),
		meta("r06", "resnet18:layer3", "ridgecv", 100, "h", runs.Done, 0.9),
		meta("r07", "alexnet:features.6", "ridge", 100, "h", runs.Done, 0.9),
		meta("r08", "alexnet:features.6", "ridgecv", 50, "h", runs.Done, 0.9),
		meta("r09", "alexnet:features.6", "ridgecv", 100, "other", runs.Done, 0.9),
		meta("r10", "alexnet:features.12", "ridgecv", 100, "h", runs.Failed, 0.9),
		meta("r11", "alexnet:features.3", "ridgecv", 100, "h", runs.Done, 0.22),
	}
}

// scoredRun has 60 neurons with EVs spread over [-0.1, 0.6] (two constant
// neurons have none), 20 val images of predictions and, when trained, a
// loss curve of 50 steps whose first step spikes.
func scoredRun(id string, trained bool, shift float64) *runs.Run {
	r := &runs.Run{Meta: runs.RunMeta{ID: id, Name: "cnn " + id, Strategy: "cnn:small", Model: "cnn", Status: runs.Done,
		Summary: runs.Summary{EVMean: 0.25 + shift, EVMeanLo: 0.2 + shift, EVMeanHi: 0.3 + shift}}}
	for j := range 60 {
		ev := -0.1 + 0.7*float64(j*37%60)/60 + shift
		if j == 5 || j == 17 {
			ev = math.NaN()
		}
		r.Neurons = append(r.Neurons, runs.NeuronScore{Neuron: j, EV: ev})
	}
	if trained {
		for s := range 50 {
			p := runs.LossPoint{Step: s * 10, Epoch: s / 10, TrainLoss: 1/(1+float64(s)) + shift, ValEV: math.NaN(), ValLoss: math.NaN()}
			if s%10 == 9 {
				p.ValEV = 0.05*float64(s/10) + shift
			}
			r.Loss = append(r.Loss, p)
		}
	}
	return r
}

func decodePNG(t *testing.T, f *Figure) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := f.Write(&buf, "png"); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("the PNG does not decode: %v", err)
	}
	return img
}

// TestPNG draws every figure kind as PNG and checks the decoded image: its
// size, that it has ink (and is mostly white paper), and that each series'
// colour is on it.
func TestPNG(t *testing.T) {
	a, b := scoredRun("a", true, 0), scoredRun("b", true, 0.1)
	pred, actual := make([]float64, 20), make([]float64, 20)
	for i := range pred {
		actual[i] = float64(i) / 10
		pred[i] = 0.8*actual[i] + 0.1*math.Sin(float64(i))
	}
	sweep := sweepListing()
	sweepRun := &runs.Run{Meta: sweep[2]}
	for _, c := range []struct {
		kind    Kind
		in      Input
		colours []color.Color // series colours that must appear
	}{
		{Layers, Input{Runs: []*runs.Run{sweepRun}, Listing: sweep}, []color.Color{plotutil.Color(0)}},
		{Histogram, Input{Runs: []*runs.Run{a}}, []color.Color{color.RGBA{R: 120, G: 160, B: 210, A: 255}, color.RGBA{R: 200, G: 30, B: 30, A: 255}}},
		{Predicted, Input{Runs: []*runs.Run{a}, Pred: pred, Actual: actual, Neuron: -1}, []color.Color{plotutil.Color(0)}},
		{Curves, Input{Runs: []*runs.Run{a, b}}, []color.Color{plotutil.Color(0), plotutil.Color(1)}},
		{Compare, Input{Runs: []*runs.Run{a, b}}, []color.Color{color.RGBA{R: 120, G: 160, B: 210, A: 255}}},
	} {
		t.Run(string(c.kind), func(t *testing.T) {
			f, err := New(c.kind, c.in)
			if err != nil {
				t.Fatal(err)
			}
			img := decodePNG(t, f)
			if got, want := img.Bounds().Size(), image.Pt(int(float64(Width/vg.Inch)*DPI), int(float64(Height/vg.Inch)*DPI)); got != want {
				t.Errorf("size %v, want %v", got, want)
			}
			distinct := map[color.RGBA]int{}
			ink := 0
			bounds := img.Bounds()
			for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
				for x := bounds.Min.X; x < bounds.Max.X; x++ {
					px := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
					distinct[px]++
					if px != (color.RGBA{R: 255, G: 255, B: 255, A: 255}) {
						ink++
					}
				}
			}
			share := float64(ink) / float64(bounds.Dx()*bounds.Dy())
			if share < 0.01 || share > 0.7 {
				t.Errorf("%.1f%% of the pixels are not white: want a drawn figure on white paper", 100*share)
			}
			if len(distinct) < 20 {
				t.Errorf("%d distinct colours: want axes, text and data", len(distinct))
			}
			for _, want := range c.colours {
				w := color.RGBAModel.Convert(want).(color.RGBA)
				if distinct[w] < 20 {
					t.Errorf("colour %v is on %d pixels: want its series drawn", w, distinct[w])
				}
			}
		})
	}
}

// TestSVGGolden checks the histogram's SVG against testdata/histogram.svg:
// fonts are named, not embedded, so the same data gives the same bytes.
func TestSVGGolden(t *testing.T) {
	f, err := New(Histogram, Input{Runs: []*runs.Run{scoredRun("a", false, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf, "svg"); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "histogram.svg")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./model/figures -update to write it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("the histogram's SVG differs from %s (go test ./model/figures -update rewrites it)", golden)
	}
	for _, text := range []string{"EV over 58 neurons: cnn a", "explained variance", "neurons", "mean 0.250"} {
		if !bytes.Contains(want, []byte(text)) {
			t.Errorf("the SVG has no text %q", text)
		}
	}
}

// TestSave writes PNG and SVG by extension and refuses other extensions.
func TestSave(t *testing.T) {
	f, err := New(Compare, Input{Runs: []*runs.Run{scoredRun("a", false, 0)}})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"fig.png", "fig.SVG"} {
		path := filepath.Join(dir, name)
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(path)
		if png := bytes.HasPrefix(b, []byte("\x89PNG")); png != strings.HasSuffix(name, ".png") {
			t.Errorf("%s starts %q", name, b[:min(8, len(b))])
		}
		if svg := bytes.Contains(b[:min(200, len(b))], []byte("<svg")); svg != strings.HasSuffix(name, ".SVG") {
			t.Errorf("%s starts %q", name, b[:min(200, len(b))])
		}
	}
	if err := f.Save(filepath.Join(dir, "fig.pdf")); err == nil || !strings.Contains(err.Error(), `".pdf"`) {
		t.Errorf("saving as .pdf: %v, want an error naming the extension", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the folder holds %d files, want the 2 figures and no temporary file", len(entries))
	}
}

// TestSweepLayers picks the sweep's layers in order, the newest run of a
// layer winning, and leaves out other networks, read-outs, PCAs, datasets
// and failed runs.
func TestSweepLayers(t *testing.T) {
	listing := sweepListing()
	net, layers, metas, ok := SweepLayers(listing, listing[0])
	var evs []float64
	for _, m := range metas {
		evs = append(evs, m.Summary.EVMean)
	}
	want := []string{"features.1", "features.3", "features.6", "features.8", "features.10"}
	wantEV := []float64{0.10, 0.22, 0.35, 0.30, 0.25}
	if !ok || net != "alexnet" || fmt.Sprint(layers) != fmt.Sprint(want) || fmt.Sprint(evs) != fmt.Sprint(wantEV) || metas[1].ID != "r11" {
		t.Errorf("net %s layers %v EVs %v ok %v; want alexnet %v %v, layer 2 from r11", net, layers, evs, ok, want, wantEV)
	}
	if _, _, _, ok := SweepLayers(listing, runs.RunMeta{Strategy: "pixels:32"}); ok {
		t.Error("a pixels run has layers")
	}
	_, err := New(Layers, Input{Runs: []*runs.Run{{Meta: runs.RunMeta{ID: "p", Strategy: "pixels:32"}}}, Listing: listing})
	if err == nil || !strings.Contains(err.Error(), "not a network layer") {
		t.Errorf("layers of a pixels run: %v", err)
	}
}

// TestValPairs checks one neuron's and the mean's pairs by hand on a
// dataset of 4 images x 2 neurons whose val split is images 1 and 3.
func TestValPairs(t *testing.T) {
	ds := &data.Dataset{Name: "tiny", NumNeurons: 2, Responses: []float32{0, 0, 1, 3, 0, 0, 5, 7},
		Splits: []data.Split{{Name: data.Val, Indices: []int{1, 3}, HasResponses: true}}}
	run := &runs.Run{Meta: runs.RunMeta{ID: "x"}, Predictions: []float32{2, 2, 4, 8}, PredRows: 2, PredCols: 2}
	for _, c := range []struct {
		neuron       int
		pred, actual []float64
	}{
		{-1, []float64{2, 6}, []float64{2, 6}},
		{0, []float64{2, 4}, []float64{1, 5}},
		{1, []float64{2, 8}, []float64{3, 7}},
	} {
		pred, actual, err := ValPairs(ds, run, c.neuron)
		if err != nil || fmt.Sprint(pred) != fmt.Sprint(c.pred) || fmt.Sprint(actual) != fmt.Sprint(c.actual) {
			t.Errorf("neuron %d: pred %v actual %v (%v); want %v %v", c.neuron, pred, actual, err, c.pred, c.actual)
		}
	}
	if _, _, err := ValPairs(ds, run, 2); err == nil || !strings.Contains(err.Error(), "neurons 0 to 1") {
		t.Errorf("neuron 2 of 2: %v", err)
	}
	run.PredRows, run.Predictions = 1, run.Predictions[:2]
	if _, _, err := ValPairs(ds, run, -1); err == nil || !strings.Contains(err.Error(), "1 x 2") {
		t.Errorf("predictions of 1 image for a val split of 2: %v", err)
	}
}

// TestNewErrors: a figure that has nothing to draw says what is missing.
func TestNewErrors(t *testing.T) {
	plain := &runs.Run{Meta: runs.RunMeta{ID: "p", Summary: runs.Summary{EVMean: math.NaN()}}}
	for _, c := range []struct {
		kind Kind
		in   Input
		want string
	}{
		{Histogram, Input{Runs: []*runs.Run{plain}}, "no per-neuron EV"},
		{Curves, Input{Runs: []*runs.Run{plain}}, "loss.csv"},
		{Compare, Input{Runs: []*runs.Run{plain}}, "has a mean EV"},
		{Predicted, Input{Runs: []*runs.Run{plain}}, "val predictions"},
		{Histogram, Input{}, "no run"},
		{"pie", Input{Runs: []*runs.Run{plain}}, `unknown figure "pie"`},
	} {
		if _, err := New(c.kind, c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error containing %q", c.kind, err, c.want)
		}
	}
}

// TestSettledRange: a first-step spike sets no scale; the range spans the
// settled values of every curve, 5% wider each way.
func TestSettledRange(t *testing.T) {
	// Five spikes (the first 5% of 100 steps), then 3 steps at 1, a ramp
	// and 3 steps at 2: the 2nd and 98th percentiles of the settled 95
	// values are 1 and 2 whichever way they interpolate.
	spiky := []float64{1000, 900, 800, 700, 600, 1, 1, 1}
	for i := range 89 {
		spiky = append(spiky, 1+float64(i+1)/90)
	}
	spiky = append(spiky, 2, 2, 2)
	flat := make([]float64, 40)
	for i := range flat {
		flat[i] = 0.5
	}
	lo, hi, ok := SettledRange([][]float64{spiky})
	if !ok || math.Abs(lo-0.95) > 1e-12 || math.Abs(hi-2.05) > 1e-12 {
		t.Errorf("range [%v, %v] ok %v; want [0.95, 2.05]", lo, hi, ok)
	}
	lo, hi, ok = SettledRange([][]float64{spiky, flat})
	if !ok || math.Abs(lo-0.425) > 1e-12 || math.Abs(hi-2.075) > 1e-12 {
		t.Errorf("range of both [%v, %v] ok %v; want [0.425, 2.075]", lo, hi, ok)
	}
	if _, _, ok := SettledRange([][]float64{nil}); ok {
		t.Error("no values give a range")
	}
}
