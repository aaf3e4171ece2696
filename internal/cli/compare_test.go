package cli

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"itscope/model/runs"
)

// TestCompare compares two read-outs of the same folder dataset: the paired
// difference is B's mean minus A's, inside its interval, with the share of
// resamples B wins; runs on different datasets are refused.
func TestCompare(t *testing.T) {
	runsDir := t.TempDir()
	folder := smallFolder(t, 60, 4)
	for _, args := range [][]string{
		{"--features", "pixels:8:gray", "--model", "ridge", "--alpha", "100"},
		{"--features", "pixels:8:gray", "--pca", "10", "--model", "ridgecv", "--folds", "3"},
	} {
		if code, _, errOut := run(t, append([]string{"fit", "--data", folder, "--runs", runsDir}, args...)...); code != 0 {
			t.Fatalf("fit %v: %s", args, errOut)
		}
	}
	store, _ := runs.OpenStore(runsDir)
	metas, err := store.List()
	if err != nil || len(metas) != 2 {
		t.Fatalf("runs %v %v", metas, err)
	}
	a, b := metas[0], metas[1]
	code, out, errOut := run(t, "compare", a.ID, b.ID, "--runs", runsDir, "--json")
	if code != 0 {
		t.Fatalf("compare: exit %d: %s", code, errOut)
	}
	var got struct {
		A, B     string
		NImages  int `json:"n_images"`
		EV, R    map[string]float64
		EVMeanJS map[string]float64 `json:"ev_mean"`
		RMeanJS  map[string]float64 `json:"r_mean"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.A != a.ID || got.B != b.ID || got.NImages != a.Summary.NVal {
		t.Errorf("compare names %s vs %s over %d images; want %s vs %s over %d", got.A, got.B, got.NImages, a.ID, b.ID, a.Summary.NVal)
	}
	for _, c := range []struct {
		name string
		d    map[string]float64
		a, b float64
	}{{"ev_mean", got.EVMeanJS, a.Summary.EVMean, b.Summary.EVMean}, {"r_mean", got.RMeanJS, a.Summary.RMean, b.Summary.RMean}} {
		d := c.d
		if math.Abs(d["difference"]-(c.b-c.a)) > 1e-5 || d["a"] != c.a || d["b"] != c.b {
			t.Errorf("%s: difference %v, a %v, b %v; the runs' means %v and %v", c.name, d["difference"], d["a"], d["b"], c.a, c.b)
		}
		if !(d["lo"] <= d["difference"] && d["difference"] <= d["hi"]) || d["b_better"] < 0 || d["b_better"] > 1 || d["resamples"] != 1000 {
			t.Errorf("%s: %v", c.name, d)
		}
	}
	code, out, _ = run(t, "compare", a.ID, b.ID, "--runs", runsDir)
	if code != 0 || !strings.Contains(out, "B - A") || !strings.Contains(out, "paired bootstrap over the 6 val images") {
		t.Errorf("compare table:\n%s", out)
	}

	other := smallFolder(t, 40, 4)
	if code, _, errOut := run(t, "fit", "--data", other, "--features", "pixels:8:gray", "--model", "ridge", "--alpha", "1", "--runs", runsDir); code != 0 {
		t.Fatal(errOut)
	}
	metas, _ = store.List()
	code, _, errOut = run(t, "compare", a.ID, metas[2].ID, "--runs", runsDir)
	if code != 1 || !strings.Contains(errOut, "compare needs two runs on the same dataset and split") || !strings.Contains(errOut, metas[2].ID) {
		t.Errorf("compare across datasets: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "compare", a.ID); code != 2 || !strings.Contains(errOut, "want two runs") {
		t.Errorf("compare with one run: exit %d, %q", code, errOut)
	}
}

// TestScoreCommand scores pixels with Brain-Score's protocol on the NX-414
// fixture and lists the saved run of kind score with the others.
func TestScoreCommand(t *testing.T) {
	runsDir := t.TempDir()
	code, out, errOut := run(t, "score", "--data", nx414Fixture, "--features", "pixels:8", "--components", "5", "--json", "--runs", runsDir)
	if code != 0 {
		t.Fatalf("score: exit %d: %s", code, errOut)
	}
	var sum map[string]any
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	score, ok := sum["brain_score"].(float64)
	if !ok || score < -1 || score > 1 || sum["model"] != "pls" || sum["n_train"] != 28.0 || sum["n_val"] != 4.0 {
		t.Errorf("score summary %v", sum)
	}
	if _, ok := sum["brain_score_ceiling"]; ok {
		t.Errorf("a ceiling without repeats: %v", sum)
	}
	code, out, _ = run(t, "runs", "--runs", runsDir, "--json")
	var metas []runs.RunMeta
	if err := json.Unmarshal([]byte(out), &metas); code != 0 || err != nil || len(metas) != 1 || metas[0].Kind != runs.KindScore ||
		metas[0].Summary.BrainScore != score {
		t.Errorf("runs --json: %v %v %s", code, err, out)
	}
	if code, _, errOut := run(t, "score", "--data", nx414Fixture, "--no-save"); code != 2 || !strings.Contains(errOut, "no features given") {
		t.Errorf("score without features: exit %d, %q", code, errOut)
	}
}
