package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"itscope/compute"
	"itscope/compute/nn"
	"itscope/compute/onnx"
	"itscope/data/npy"
	"itscope/model/readout"
	"itscope/model/runs"
)

// run runs the command line in-process and returns the exit status and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Run(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestUsageAndVersion(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		out, err string // substrings of stdout and stderr
	}{
		{[]string{"help"}, 0, "fit ", ""},
		{[]string{"version"}, 0, "itscope ", ""},
		{[]string{"version"}, 0, "int8 kernels: " + onnx.Int8Kernel(), ""},
		{[]string{"version"}, 0, "float kernels: " + nn.FloatKernel(), ""},
		{[]string{"nosuch"}, 2, "", `unknown command "nosuch"`},
		{[]string{"fit", "--nosuchflag"}, 2, "", "flag provided but not defined: -nosuchflag"},
		{[]string{"fit", "--pca", "many"}, 2, "", `invalid value "many" for flag -pca`},
		{[]string{"fit", "--model", "lasso"}, 2, "", `model "lasso"`},
		{[]string{"fit", "--model", "ridge"}, 2, "", "--model ridge needs --alpha"},
		{[]string{"fit", "--alpha", "1", "--alphas", "1,2"}, 2, "", "not both"},
		{[]string{"fit", "--alphas", "1,x"}, 2, "", `"x" is not a positive number`},
		{[]string{"fit", "extra"}, 2, "", `unexpected argument "extra"`},
		{[]string{"tui", "--weights", "r50.onnx"}, 2, "", `want NAME=FILE (for example resnet50=r50.onnx), found "r50.onnx"`},
		{[]string{"tui", "--weights", "resnet50-random=r50.onnx"}, 2, "", `"resnet50-random": want one of mobilenetv2, resnet18, resnet50, vgg19`},
		{[]string{"serve", "--weights", "resnet50=/no/such/r50.onnx"}, 2, "", "/no/such/r50.onnx: want an ONNX file exported from torchvision"},
		{[]string{"export", "--runs", "x"}, 2, "", "-o FILE is required"},
		{[]string{"help", "fit"}, 0, "", "--features"},
	}
	for _, tt := range tests {
		code, out, errOut := run(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.out) || !strings.Contains(errOut, tt.err) {
			t.Errorf("itscope %s: exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
				strings.Join(tt.args, " "), code, out, errOut, tt.code, tt.out, tt.err)
		}
	}
}

// version names the BLAS, OpenBLAS's kernel family (and whether
// OPENBLAS_CORETYPE forced it) and, with a thread server, how soon its idle
// threads sleep (2^6 cycles unless OPENBLAS_THREAD_TIMEOUT is set).
func TestVersionBLAS(t *testing.T) {
	want := "blas: " + compute.UseOpenBLAS()
	if core, forcedBy := compute.BLASCore(); core != "" {
		want += " (" + core + " kernels"
		if forcedBy != "" {
			want += ", forced by OPENBLAS_CORETYPE=" + forcedBy
		}
		want += ")"
	}
	if timeout := compute.BLASIdleTimeout(); timeout >= 0 {
		want += fmt.Sprintf(", idle threads sleep after 2^%d cycles", timeout)
	}
	want += "\n"
	if _, out, _ := run(t, "version"); !strings.Contains(out, want) {
		t.Errorf("itscope version:\n%s\nwant a line %q", out, want)
	}
}

func TestBadDataSpec(t *testing.T) {
	dir := t.TempDir()
	notH5 := filepath.Join(dir, "x.h5")
	os.WriteFile(notH5, []byte("hello"), 0o644)
	for _, args := range [][]string{
		{"data", "--data", filepath.Join(dir, "missing")},
		{"data", "--data", notH5},
		{"data", "--data", "demo:999"},
		{"fit", "--data", notH5, "--runs", dir},
	} {
		code, out, errOut := run(t, args...)
		if code != 1 || out != "" || !strings.HasPrefix(errOut, "itscope "+args[0]+": ") || len(errOut) < 30 {
			t.Errorf("itscope %s: exit %d, stdout %q, stderr %q; want exit 1 and an error", strings.Join(args, " "), code, out, errOut)
		}
	}
}

func TestDataCommand(t *testing.T) {
	code, out, errOut := run(t, "data", "--data", "demo:210325", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var info readout.DataInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if info.Images != 640 || info.Neurons != 50 || info.ImageSize != "112x112 RGB" || info.Trials < 2 ||
		info.CeilingMean == nil || !(*info.CeilingMean > 0 && *info.CeilingMean < 1) || len(info.Splits) < 2 ||
		!(info.ResponseMax > info.ResponseMin) {
		t.Errorf("info = %+v", info)
	}
	code, out, _ = run(t, "data") // the default demo, as a table
	if code != 0 || !regexp.MustCompile(`neurons +89\n`).MatchString(out) || !strings.Contains(out, "split val") {
		t.Errorf("exit %d, table:\n%s", code, out)
	}
}

// TestFitRunsExport is the headless workflow end to end: fit twice (table and
// JSON), list the runs, export the comparison table.
func TestFitRunsExport(t *testing.T) {
	runsDir := t.TempDir()
	code, out, errOut := run(t, "fit", "--data", smallFolder(t, 40, 5), "--features", "pixels:8", "--model", "ridge", "--alpha", "100",
		"--runs", runsDir, "--seed", "1")
	if code != 0 {
		t.Fatalf("fit: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"model", "strategy", "EV/ceiling", "ridge", "pixels:8", "saved run"} {
		if !strings.Contains(out, want) {
			t.Errorf("fit table lacks %q:\n%s", want, out)
		}
	}
	folder := smallFolder(t, 60, 4)
	code, out, errOut = run(t, "fit", "--data", folder, "--features", "pixels:8:gray", "--pca", "20", "--model", "ridgecv",
		"--alphas", "1e-1:1e5:7", "--folds", "3", "--json", "--runs", runsDir)
	if code != 0 {
		t.Fatalf("fit --json: exit %d: %s", code, errOut)
	}
	if errOut != "" {
		t.Errorf("fit --json wrote to stderr: %q", errOut)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, k := range []string{"ev_mean", "ev_median", "r_mean", "r_median", "mse_mean", "n_train", "n_val", "n_neurons", "alpha",
		"features", "model", "pca", "dataset", "seed", "run_id"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("--json lacks %q: %s", k, out)
		}
	}
	if sum["n_neurons"] != 4.0 || sum["pca"] != 20.0 || sum["features"] != "pixels:8:gray" || sum["n_train"] != 54.0 || sum["n_val"] != 6.0 {
		t.Errorf("summary = %v", sum)
	}
	if _, ok := sum["ceiling_ev_mean"]; ok {
		t.Errorf("ceiling_ev_mean given for data without repeats: %s", out)
	}
	// Brightness drives the responses of this data: the read-out finds it.
	if sum["r_mean"].(float64) < 0.8 || sum["ev_mean"].(float64) < 0.5 {
		t.Errorf("r_mean %v, ev_mean %v: want a clear fit", sum["r_mean"], sum["ev_mean"])
	}
	if a := sum["alpha"].(float64); math.Abs(math.Log10(a)-math.Round(math.Log10(a))) > 1e-9 {
		t.Errorf("alpha %v is not on the grid 1e-1:1e5:7", a)
	}

	code, out, _ = run(t, "runs", "--runs", runsDir, "--json")
	var metas []runs.RunMeta
	if err := json.Unmarshal([]byte(out), &metas); code != 0 || err != nil || len(metas) != 2 {
		t.Fatalf("runs --json: exit %d, %v, %s", code, err, out)
	}
	if metas[1].ID != sum["run_id"] || metas[0].Seed != 1 || metas[0].Dataset.Hash == "" || metas[0].Version == "" ||
		metas[0].Summary.NNeurons != 5 || metas[0].Summary.NVal != 4 {
		t.Errorf("runs = %+v", metas)
	}
	for _, f := range []string{runs.RunJSON, runs.NeuronsCSV, runs.PredictionsNPY} {
		if _, err := os.Stat(filepath.Join(runsDir, metas[0].ID, f)); err != nil {
			t.Errorf("run lacks %s: %v", f, err)
		}
	}
	preds, err := npy.ReadFile[float32](filepath.Join(runsDir, metas[0].ID, runs.PredictionsNPY))
	if err != nil || !slices.Equal(preds.Shape, []int{4, 5}) {
		t.Errorf("predictions.npy: %v", err)
	}
	code, out, _ = run(t, "runs", "--runs", runsDir)
	if code != 0 || strings.Count(out, "\n") != 3 || !strings.Contains(out, metas[0].ID) {
		t.Errorf("runs table:\n%s", out)
	}

	table := filepath.Join(t.TempDir(), "table.csv")
	if code, _, errOut := run(t, "export", "--runs", runsDir, "-o", table); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	f, _ := os.Open(table)
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) != 3 || recs[0][0] != "id" || recs[2][0] != metas[1].ID {
		t.Errorf("table.csv = %v, %v", recs, err)
	}
}

// smallFolder writes a user-data folder of n random 16x16 PNG images and
// their responses (a noisy function of mean brightness) for neurons neurons.
func smallFolder(t *testing.T, n, neurons int) string {
	t.Helper()
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "images"), 0o755)
	rng := rand.New(rand.NewPCG(1, 2))
	var csvRows strings.Builder
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 16, 16))
		var sum float64
		for k := range img.Pix {
			v := uint8(rng.IntN(256))
			if k%4 == 3 {
				v = 255
			} else {
				sum += float64(v)
			}
			img.Pix[k] = v
		}
		f, err := os.Create(filepath.Join(dir, "images", fmt.Sprintf("img%03d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, img)
		f.Close()
		for j := range neurons {
			if j > 0 {
				csvRows.WriteByte(',')
			}
			fmt.Fprintf(&csvRows, "%.4f", sum/(16*16*3*255)*float64(j+1)+rng.NormFloat64()*0.005)
		}
		csvRows.WriteByte('\n')
	}
	os.WriteFile(filepath.Join(dir, "responses.csv"), []byte(csvRows.String()), 0o644)
	return dir
}
