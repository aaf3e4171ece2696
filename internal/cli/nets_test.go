package cli

import (
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	itsruns "itscope/model/runs"
)

func TestLayersCommand(t *testing.T) {
	code, out, errOut := run(t, "layers", "--net", "mobilenetv2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var taps []struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
	}
	if err := json.Unmarshal([]byte(out), &taps); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{"features.0": {32, 112, 112}, "features.3": {24, 56, 56}, "features.14": {160, 7, 7},
		"features.18": {1280, 7, 7}, "avgpool": {1280, 1, 1}, "classifier": {1000}}
	if len(taps) != 21 {
		t.Fatalf("%d taps, want 21: %v", len(taps), taps)
	}
	for _, tap := range taps {
		if w, ok := want[tap.Name]; ok && !slices.Equal(tap.Shape, w) {
			t.Errorf("%s: shape %v, want %v", tap.Name, tap.Shape, w)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"layers", "--net", "resnet50"}, 1, "needs --weights"},
		{[]string{"layers", "--net", "alexnet"}, 1, `unknown network "alexnet"`},
		{[]string{"layers", "--net", "resnet50", "--weights", "nosuch.onnx"}, 1, "nosuch.onnx"},
		{[]string{"layers", "--net", "resnet50-random", "--weights", "x.onnx"}, 1, "need no --weights"},
		{[]string{"layers"}, 1, "no network given"},
		{[]string{"layers", "--net", "vgg19-random", "--dump", "d"}, 2, "--input and --dump go together"},
	} {
		code, _, errOut := run(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.msg)
		}
	}
}

func TestClassifyJSON(t *testing.T) {
	img := "../../testdata/data/coral/cat.bmp"
	code, out, errOut := run(t, "classify", img, "--net", "mobilenetv2", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var res []struct {
		Image string `json:"image"`
		Top5  []struct {
			Index int     `json:"index"`
			Label string  `json:"label"`
			Prob  float64 `json:"prob"`
		} `json:"top5"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// ONNX Runtime: Egyptian cat (285) with softmax 0.646854 (references.json).
	if len(res) != 1 || res[0].Image != img || len(res[0].Top5) != 5 {
		t.Fatalf("got %+v", res)
	}
	top := res[0].Top5[0]
	if top.Index != 285 || top.Label != "Egyptian cat" || math.Abs(top.Prob-0.6468540) > 1e-5 {
		t.Errorf("top-1 %+v, want 285 Egyptian cat 0.6469", top)
	}
	for i := 1; i < 5; i++ {
		if res[0].Top5[i].Prob > res[0].Top5[i-1].Prob {
			t.Errorf("top-5 not in descending order: %+v", res[0].Top5)
		}
	}
	if code, _, errOut := run(t, "classify", "--net", "mobilenetv2", "nosuch.jpg"); code != 1 || !strings.Contains(errOut, "nosuch.jpg") {
		t.Errorf("missing image: exit %d, %q", code, errOut)
	}
	if code, _, _ := run(t, "classify", "--net", "mobilenetv2"); code != 2 {
		t.Errorf("no image: exit %d, want 2", code)
	}
}

// tinyFolder writes a folder dataset of 40 random 32x32 PNGs and 3 neurons
// whose responses depend on the images' colours.
func tinyFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "images"), 0o755)
	rng := rand.New(rand.NewPCG(5, 5))
	var csv strings.Builder
	for i := range 40 {
		img := image.NewRGBA(image.Rect(0, 0, 32, 32))
		var sum [3]float64
		for p := range 32 * 32 {
			for c := range 3 {
				v := uint8(rng.IntN(256))
				img.Pix[4*p+c] = v
				sum[c] += float64(v)
			}
			img.Pix[4*p+3] = 255
		}
		f, err := os.Create(filepath.Join(dir, "images", fmt.Sprintf("%02d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
		fmt.Fprintf(&csv, "%g,%g,%g\n", sum[0]/1e4+rng.NormFloat64(), sum[1]/1e4, sum[2]/1e4-sum[0]/1e4)
	}
	os.WriteFile(filepath.Join(dir, "responses.csv"), []byte(csv.String()), 0o644)
	return dir
}

// TestSweepCommand sweeps two taps of a small ONNX network: one run saved
// per layer, each the same as `fit` on that layer.
func TestSweepCommand(t *testing.T) {
	dir := t.TempDir()
	runs, cache := filepath.Join(dir, "runs"), filepath.Join(dir, "cache")
	net := "onnx:../../testdata/nets/allops.onnx"
	common := []string{"--data", tinyFolder(t), "--model", "ridge", "--alpha", "10", "--runs", runs, "--cache", cache}
	code, out, errOut := run(t, append([]string{"sweep", "--net", net, "--layers", "gap,gemm", "--pca", "0", "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("--json: stderr not quiet: %q", errOut)
	}
	var sweep struct {
		Layers []map[string]any
		Best   []map[string]any `json:"best_layer_per_neuron"`
	}
	if err := json.Unmarshal([]byte(out), &sweep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	layers := sweep.Layers
	if sweep.Best != nil {
		t.Errorf("a ridge sweep has no CV scores to choose layers by, yet gives %v", sweep.Best)
	}
	if len(layers) != 2 || layers[0]["layer"] != "gap" || layers[1]["layer"] != "gemm" {
		t.Fatalf("got %v", layers)
	}
	for _, key := range []string{"ev_mean", "r_mean", "features", "model", "n_train"} {
		if _, ok := layers[0][key]; !ok {
			t.Errorf("sweep --json lacks %q: %v", key, layers[0])
		}
	}
	sweepStore, _ := openRunStore(runs)
	saved, _ := sweepStore.List()
	if len(saved) != 2 {
		t.Errorf("%d runs saved, want 2", len(saved))
	}
	// The sweep pinned its layers while it ran and unpinned them at the end.
	if pins, _ := filepath.Glob(filepath.Join(cache, ".pins", "*")); len(pins) != 0 {
		t.Errorf("pins left after the sweep: %v", pins)
	}
	if sums, _ := filepath.Glob(filepath.Join(cache, "*.npy.crc32c")); len(sums) != 2 {
		t.Errorf("%d checksummed cache entries, want 2 (one per layer)", len(sums))
	}
	code, out, errOut = run(t, append([]string{"fit", "--features", net + ":gap", "--json"}, common...)...)
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errOut)
	}
	var fit map[string]any
	if err := json.Unmarshal([]byte(out), &fit); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if fit["ev_mean"] != layers[0]["ev_mean"] {
		t.Errorf("fit on gap: EV %v, sweep %v", fit["ev_mean"], layers[0]["ev_mean"])
	}

	// With ridge CV each neuron's layer is the one with the best training CV
	// score, and its val EV is that layer's.
	cvRuns := filepath.Join(dir, "cvruns")
	code, out, errOut = run(t, "sweep", "--net", net, "--layers", "gap,gemm", "--pca", "0", "--json", "--data", tinyFolder(t),
		"--folds", "3", "--runs", cvRuns, "--cache", cache)
	if code != 0 {
		t.Fatalf("ridgecv sweep: exit %d: %s", code, errOut)
	}
	if err := json.Unmarshal([]byte(out), &sweep); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	store, _ := openRunStore(cvRuns)
	byLayer := map[string]*itsruns.Run{}
	for _, l := range sweep.Layers {
		r, err := store.Load(l["run_id"].(string))
		if err != nil {
			t.Fatal(err)
		}
		byLayer[l["layer"].(string)] = r
	}
	if len(sweep.Best) != 3 {
		t.Fatalf("best layer for %d neurons, want 3: %s", len(sweep.Best), out)
	}
	for j, b := range sweep.Best {
		gap, gemm := byLayer["gap"].Meta.NeuronCVScore[j], byLayer["gemm"].Meta.NeuronCVScore[j]
		want := "gap"
		if gemm > gap {
			want = "gemm"
		}
		if b["layer"] != want || b["val_ev"] != byLayer[want].Neurons[j].EV || b["cv_score"] != byLayer[want].Meta.NeuronCVScore[j] {
			t.Errorf("neuron %d: %v; CV scores gap %v gemm %v, want %s and its val EV %v", j, b, gap, gemm, want, byLayer[want].Neurons[j].EV)
		}
	}
	code, out, _ = run(t, "sweep", "--net", net, "--layers", "gap,gemm", "--pca", "0", "--data", tinyFolder(t), "--folds", "3",
		"--runs", cvRuns, "--cache", cache)
	if code != 0 || !strings.Contains(out, "best layer per neuron, chosen by training CV") {
		t.Errorf("sweep table lacks the best layer per neuron:\n%s", out)
	}

	code, _, errOut = run(t, "sweep", "--net", net, "--layers", "nosuch", "--runs", runs)
	if code != 2 || !strings.Contains(errOut, `no tap "nosuch"`) {
		t.Errorf("unknown layer: exit %d, %q", code, errOut)
	}
}
