package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"itscope/data/npy"
	"itscope/model/train"
)

const nx414Fixture = "../../testdata/data/nx414_fixed.h5"

func TestTrainCommandJSONAndPredict(t *testing.T) {
	runsDir := t.TempDir()
	var out, errb bytes.Buffer
	code := Run([]string{"train", "--data", nx414Fixture, "--cnn", "layers=1,channels=4,pool=4", "--epochs", "2",
		"--batch", "8", "--seed", "3", "--json", "--runs", runsDir}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var sum map[string]any
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, k := range []string{"ev_mean", "ev_median", "r_mean", "r_median", "mse_mean", "n_train", "n_val", "n_neurons", "alpha", "run_id", "status", "stopped", "best_epoch"} {
		if _, ok := sum[k]; !ok {
			t.Errorf("--json lacks key %q: %s", k, out.String())
		}
	}
	if sum["n_neurons"] != 168.0 || sum["alpha"] != 0.0 || sum["status"] != "done" || sum["seed"] != 3.0 || sum["stopped"] != "epochs" {
		t.Errorf("summary %v", sum)
	}
	id := sum["run_id"].(string)
	for _, f := range []string{"run.json", "loss.csv", "neurons.csv", "predictions.npy", train.WeightsFile} {
		if _, err := os.Stat(filepath.Join(runsDir, id, f)); err != nil {
			t.Errorf("run lacks %s: %v", f, err)
		}
	}

	predFile := filepath.Join(t.TempDir(), "test.npy")
	out.Reset()
	if code := Run([]string{"predict", "--run", id, "--runs", runsDir, "--data", nx414Fixture, "--split", "test", "-o", predFile}, &out, &errb); code != 0 {
		t.Fatalf("predict exit %d: %s", code, errb.String())
	}
	pred, err := npy.ReadFile[float32](predFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(pred.Shape) != 2 || pred.Shape[1] != 168 || pred.Shape[0] == 0 || !strings.Contains(out.String(), "split test") {
		t.Errorf("predictions of shape %v; output %q", pred.Shape, out.String())
	}
}

func TestTrainCommandErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"train", "--cnn", "layers=9"}, 2, `key "layers": want an integer from 1 to 5, found "9"`},
		{[]string{"train", "--lr", "-1"}, 2, "learning rate: want a positive number"},
		{[]string{"train", "--optimizer", "rmsprop"}, 2, `optimizer: want adam, adamw or sgd, found "rmsprop"`},
		{[]string{"train", "--epochs", "x"}, 2, `invalid value "x" for flag -epochs`},
		{[]string{"train", "--data", "no-such.h5", "--runs", t.TempDir()}, 1, "no-such.h5"},
		{[]string{"cotrain", "--net", "mobilenetv2"}, 2, "--trainable is required"},
		{[]string{"cotrain", "--trainable", "layer4"}, 2, "--net is required"},
		{[]string{"grid"}, 2, "--grid FILE.json is required"},
		{[]string{"grid", "--grid", "no-such.json"}, 1, "no-such.json"},
		{[]string{"predict"}, 2, "--run is required"},
		{[]string{"predict", "--run", "nope", "--runs", t.TempDir()}, 1, "neither a folder nor a run"},
	} {
		var out, errb bytes.Buffer
		code := Run(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errb.String(), tc.code, tc.want)
		}
	}
}

func TestGridCommand(t *testing.T) {
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.json")
	os.WriteFile(grid, []byte(`{"cnn": "layers=1,channels=4,pool=4", "lr": [1e-3, 1e-2], "epochs": [1], "batch": [8]}`), 0o644)
	var out, errb bytes.Buffer
	code := Run([]string{"grid", "--data", nx414Fixture, "--grid", grid, "--jobs", "2", "--runs", filepath.Join(dir, "runs"), "--json"}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if len(rows) != 2 {
		t.Fatalf("%d runs, want 2", len(rows))
	}
	ev0, _ := rows[0]["ev_mean"].(float64)
	ev1, _ := rows[1]["ev_mean"].(float64)
	if ev0 < ev1 {
		t.Errorf("runs not sorted by val EV: %v then %v", ev0, ev1)
	}
}

func TestGridCommandFits(t *testing.T) {
	dir := t.TempDir()
	grid := filepath.Join(dir, "grid.json")
	os.WriteFile(grid, []byte(`{"kind": "fit", "features": ["pixels:8"], "model": ["ridge"], "alphas": [1, 1000000]}`), 0o644)
	var out, errb bytes.Buffer
	code := Run([]string{"grid", "--data", nx414Fixture, "--grid", grid, "--runs", filepath.Join(dir, "runs")}, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	table := out.String()[strings.Index(out.String(), "\nmodel "):]
	lines := strings.Split(strings.TrimSpace(table), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "ridge  pixels:8  1e+06") || !strings.HasPrefix(lines[2], "ridge  pixels:8  1  ") {
		t.Errorf("want a table of the 2 ridge runs on pixels:8, best val EV (alpha 1e6 on this noise) first, got:\n%s", out.String())
	}
}
