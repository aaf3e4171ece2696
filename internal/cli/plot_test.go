package cli

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"itscope/model/runs"
)

// TestPlot draws each figure kind from the command line into PNG or SVG
// and checks the file: it decodes at the figures' size, and `plot` says
// its full path. Histogram, predicted and compare draw real fits; layers
// and curves draw saved runs of a sweep and of trainings.
func TestPlot(t *testing.T) {
	runsDir := t.TempDir()
	folder := smallFolder(t, 60, 4)
	for _, alpha := range []string{"1", "100"} {
		if code, _, errOut := run(t, "fit", "--data", folder, "--runs", runsDir, "--features", "pixels:8:gray",
			"--model", "ridge", "--alpha", alpha); code != 0 {
			t.Fatalf("fit: %s", errOut)
		}
	}
	store, _ := runs.OpenStore(runsDir)
	fits, err := store.List()
	if err != nil || len(fits) != 2 {
		t.Fatalf("runs %v %v", fits, err)
	}
	var sweep, trained []string
	for i, tap := range []string{"features.1", "features.3", "features.6"} {
		id, err := store.Save(&runs.Run{Meta: runs.RunMeta{Kind: "fit", Model: "ridgecv", Strategy: "alexnet:" + tap,
			Summary: runs.Summary{EVMean: 0.1 * float64(i+1)}}})
		if err != nil {
			t.Fatal(err)
		}
		sweep = append(sweep, id)
	}
	for k := range 2 {
		r := &runs.Run{Meta: runs.RunMeta{Kind: "train", Model: "cnn", Strategy: "cnn:small"}}
		for s := range 20 {
			r.Loss = append(r.Loss, runs.LossPoint{Step: s, TrainLoss: 1 / float64(s+1+k), ValEV: 0.01 * float64(s), ValLoss: 1,
				Elapsed: 0.25 * float64(s+1)})
		}
		id, err := store.Save(r)
		if err != nil {
			t.Fatal(err)
		}
		trained = append(trained, id)
	}
	out := t.TempDir()
	for _, c := range []struct {
		file string
		args []string
	}{
		{"histogram.png", []string{"--figure", "histogram", "--run", fits[0].ID}},
		{"predicted.png", []string{"--figure", "predicted", "--run", fits[0].ID}},
		{"neuron.svg", []string{"--figure", "predicted", "--run", fits[0].ID, "--neuron", "2"}},
		{"compare.png", []string{"--figure", "compare", "--run", fits[0].ID, "--run", filepath.Join(runsDir, fits[1].ID)}},
		{"layers.png", []string{"--figure", "layers", "--run", sweep[1]}},
		{"curves.svg", []string{"--figure", "curves", "--run", trained[0], "--run", trained[1]}},
		{"curves-wall.png", []string{"--figure", "curves", "--x", "wall", "--run", trained[0], "--run", trained[1]}},
		{"curves-epochs.png", []string{"--figure", "curves", "--x", "epochs", "--run", trained[0]}},
	} {
		path := filepath.Join(out, c.file)
		code, stdout, errOut := run(t, append([]string{"plot", "--runs", runsDir, "-o", path}, c.args...)...)
		if code != 0 {
			t.Errorf("plot %v: exit %d: %s", c.args, code, errOut)
			continue
		}
		if stdout != "wrote "+path+"\n" {
			t.Errorf("plot %v says %q, want the full path %s", c.args, stdout, path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(c.file, ".png") {
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil || img.Bounds().Dx() != 1200 || img.Bounds().Dy() != 900 {
				t.Errorf("%s: %v, want a 1200 x 900 PNG", c.file, err)
			}
		} else if !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is no SVG: %.80q", c.file, b)
		}
	}
	curvesSVG, _ := os.ReadFile(filepath.Join(out, "curves.svg"))
	if !bytes.Contains(curvesSVG, []byte(">step<")) {
		t.Error("the curves' x axis is not labelled step")
	}
	neuronSVG, _ := os.ReadFile(filepath.Join(out, "neuron.svg"))
	if !bytes.Contains(neuronSVG, []byte("neuron 2")) {
		t.Error("the one-neuron scatter does not name neuron 2")
	}
}

// TestPlotErrors: bad flags are usage errors naming the flag; figures that
// cannot be drawn fail with the reason.
func TestPlotErrors(t *testing.T) {
	runsDir := t.TempDir()
	store, _ := runs.OpenStore(runsDir)
	id, err := store.Save(&runs.Run{Meta: runs.RunMeta{Kind: "fit", Model: "ridge", Strategy: "pixels:8"}})
	if err != nil {
		t.Fatal(err)
	}
	// A training saved before loss.csv had elapsed_s: no wall time.
	old, err := store.Save(&runs.Run{Meta: runs.RunMeta{Kind: "train", Model: "cnn", Strategy: "cnn:small"},
		Loss: []runs.LossPoint{{Step: 1, TrainLoss: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store.Path(old), runs.LossCSV), []byte("step,epoch,train_loss,val_loss,val_ev\n1,0,1,NaN,NaN\n2,0,0.5,NaN,NaN\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--run", old, "--figure", "curves", "--x", "wall", "-o", "f.png"}, 1, "no elapsed_s column"},
		{[]string{"--run", old, "--figure", "curves", "--x", "hours", "-o", "f.png"}, 2, `--x: unknown x axis "hours"`},
		{[]string{"--figure", "histogram", "-o", "f.png"}, 2, "--run RUN is required"},
		{[]string{"--run", id, "-o", "f.png"}, 2, "--figure is required"},
		{[]string{"--run", id, "--figure", "histogram"}, 2, "-o FILE is required"},
		{[]string{"--run", id, "--figure", "pie", "-o", "f.png"}, 2, `unknown figure "pie"`},
		{[]string{"--run", id, "--figure", "histogram", "-o", "f.jpg"}, 2, `".jpg"`},
		{[]string{"--run", id, "--run", id, "--figure", "histogram", "-o", "f.png"}, 2, "draws one run, found 2"},
		{[]string{"--run", "nosuch", "--figure", "histogram", "-o", "f.png"}, 1, `no run "nosuch"`},
		{[]string{"--run", id, "--figure", "layers", "-o", "f.png"}, 1, "not a network layer"},
		{[]string{"--run", id, "--figure", "predicted", "-o", "f.png"}, 1, "no val predictions"},
		{[]string{"--run", id, "--figure", "curves", "-o", "f.png"}, 1, "loss.csv"},
	} {
		code, _, errOut := run(t, append([]string{"plot", "--runs", runsDir}, c.args...)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("plot %v: exit %d %q, want exit %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}

// TestRunsNote: `runs note` sets a run's note, `runs` shows it with the
// setting that tells two trainings apart, `export` writes both, and an
// empty note removes it.
func TestRunsNote(t *testing.T) {
	runsDir := t.TempDir()
	store, _ := runs.OpenStore(runsDir)
	var ids []string
	for _, lr := range []string{"0.001", "0.0003"} {
		id, err := store.Save(&runs.Run{Meta: runs.RunMeta{Kind: "train", Model: "cnn", Strategy: "layers=3",
			Spec: []byte(`{"cnn":"layers=3","lr":` + lr + `,"wd":0.001,"batch":32,"epochs":10}`)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if code, out, errOut := run(t, "runs", "note", ids[1], "slower but better", "--runs", runsDir); code != 0 || out != "noted run "+ids[1]+"\n" {
		t.Fatalf("runs note: exit %d %q %s", code, out, errOut)
	}
	code, out, errOut := run(t, "runs", "--runs", runsDir)
	if code != 0 {
		t.Fatalf("runs: %s", errOut)
	}
	lines := strings.Split(out, "\n")
	if !strings.Contains(lines[0], "settings") || !strings.Contains(lines[1], "lr=0.001") ||
		!strings.Contains(lines[2], "lr=0.0003") || !strings.Contains(lines[2], "slower but better") {
		t.Errorf("runs table:\n%s", out)
	}
	code, csvOut, _ := run(t, "export", "--runs", runsDir, "-o", "-")
	if code != 0 || !strings.Contains(csvOut, ",0.0003,0.001,32,10,") || !strings.Contains(csvOut, "slower but better") {
		t.Errorf("export:\n%s", csvOut)
	}
	if code, out, _ := run(t, "runs", "note", ids[1], "", "--runs", runsDir); code != 0 || !strings.Contains(out, "removed") {
		t.Errorf("clearing the note: %d %q", code, out)
	}
	if m, _ := store.LoadMeta(ids[1]); m.Note != "" {
		t.Errorf("the note is still %q", m.Note)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"runs", "note", ids[0]}, 2, "found 1 arguments"},
		{[]string{"runs", "note", "nosuch", "x"}, 1, `no run "nosuch"`},
		{[]string{"runs", "other"}, 2, `unexpected argument "other"`},
	} {
		code, _, errOut := run(t, append(c.args, "--runs", runsDir)...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", c.args, code, errOut, c.code, c.want)
		}
	}
}
