package readout

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGridExpandTrain(t *testing.T) {
	g := GridSpec{CNN: "size=64,bn=off", LR: []float64{1e-3, 1e-4}, Layers: []int{2, 3},
		Channels: []string{"8-16", "8-16-32", "4-8"}, Seeds: []uint64{0, 1}, Epochs: []int{3}, Patience: 2}
	points, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// layers 2 pairs with 8-16 and 4-8, layers 3 with 8-16-32: 3 archs x 2 lr x 2 seeds.
	if len(points) != 12 {
		t.Fatalf("%d points, want 12", len(points))
	}
	first, last := points[0], points[len(points)-1]
	if first.Label != "layers=2 channels=8-16 lr=0.001 wd=0.001 batch=32 epochs=3 seed=0" {
		t.Errorf("first label %q", first.Label)
	}
	if got := first.Train.CNN.String(); got != "layers=2,channels=8-16,kernel=3,stride=1,pool=2,bn=off,dropout=0,size=64,readout=flatten" {
		t.Errorf("first spec %s", got)
	}
	if last.Train.CNN.Layers != 3 || last.Train.LR != 1e-4 || last.Train.Seed != 1 || last.Train.Patience != 2 || last.Train.Epochs != 3 {
		t.Errorf("last point %+v", *last.Train)
	}
	for _, p := range points {
		if err := p.Train.Validate(); err != nil || p.Train.CNN.BN[0] {
			t.Errorf("%s: %v, bn %v", p.Label, err, p.Train.CNN.BN)
		}
	}
}

func TestGridExpandFit(t *testing.T) {
	g := GridSpec{Kind: "fit", Features: []string{"pixels:16", "pixels:32"}, PCA: []int{0, 50},
		Model: []string{"ridge", "ridgecv"}, Alphas: []float64{1, 10}}
	points, err := g.Expand()
	if err != nil {
		t.Fatal(err)
	}
	// Per features and pca: 2 ridge points (one per alpha) and 1 ridgecv.
	if len(points) != 2*2*3 {
		t.Fatalf("%d points, want 12", len(points))
	}
	if p := points[1].Fit; p.Model != "ridge" || p.Alpha != 10 || p.Features != "pixels:16" || p.PCA != 0 {
		t.Errorf("point 1: %+v", *p)
	}
	if p := points[2].Fit; p.Model != "ridgecv" || len(p.Alphas) != 2 {
		t.Errorf("point 2: %+v", *p)
	}
}

func TestGridErrors(t *testing.T) {
	for _, tc := range []struct {
		json, want string
	}{
		{`{"lr": [0]}`, `key "lr": want positive rates`},
		{`{"batch": [0]}`, `key "batch": want sizes from 1 to 4096, found 0`},
		{`{"batch": [5000]}`, `key "batch": want sizes from 1 to 4096, found 5000`},
		{`{"kind": "fit", "features": ["pixels:8"], "alphas": [` + strings.TrimSuffix(strings.Repeat("1,", 1001), ",") + `]}`, `key "alphas": 1001 values: want at most 1000`},
		{`{"layers": [3], "channels": ["8-16"]}`, `no channels entry has as many values as a layers entry`},
		{`{"cnn": "size=99"}`, `key "cnn"`},
		{`{"kind": "fit"}`, `key "features"`},
		{`{"kind": "fit", "features": ["pixels"], "model": ["ridge"]}`, `model ridge needs at least one alpha`},
		{`{"kind": "fit", "features": ["pixels"], "lr": [1]}`, `belong to a grid of kind "train"`},
		{`{"pca": [10]}`, `belong to a grid of kind "fit"`},
		{`{"kind": "sweep"}`, `want train or fit`},
		{`{"learning_rate": [1]}`, `unknown field "learning_rate"`},
		{`{"lr": [1e-3`, `unexpected EOF`},
	} {
		path := filepath.Join(t.TempDir(), "grid.json")
		os.WriteFile(path, []byte(tc.json), 0o644)
		_, err := ReadGridSpec(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %v, want the file and %q", tc.json, err, tc.want)
		}
	}
}
