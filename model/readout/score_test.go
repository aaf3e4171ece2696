package readout

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"itscope/compute"
	"itscope/data"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// TestScoreIsBrainScoresProtocol runs Score on the NX-414 fixture (with
// repeats added, for the ceiling) and checks it against compute.BrainScore
// and BrainScoreCeiling called directly on the same features, labels-
// stratified splits and repetition halves: Score must only wire them up.
func TestScoreIsBrainScoresProtocol(t *testing.T) {
	nx, err := data.Open(filepath.Join("..", "..", "testdata", "data", "nx414_fixed.h5"))
	if err != nil {
		t.Fatal(err)
	}
	ds := *nx
	ds.Hash += "-with-repeats"
	const trials = 4
	rng := rand.New(rand.NewPCG(9, 9))
	ds.NumTrials, ds.Repeats = trials, make([]float32, ds.Images.Len()*ds.NumNeurons*trials)
	for i := range ds.Images.Len() {
		for j := range ds.NumNeurons {
			for k := range trials {
				ds.Repeats[(i*ds.NumNeurons+j)*trials+k] = ds.Responses[i*ds.NumNeurons+j] + float32(rng.NormFloat64())
			}
		}
	}
	var images []int
	for _, s := range ds.Splits {
		if s.HasResponses {
			images = append(images, s.Indices...)
		}
	}
	slices.Sort(images)
	labels := make([]string, len(images))
	for i, img := range images {
		labels[i] = ds.Objects[img]
	}
	pix, err := features.ParseFeatures("pixels:8", features.FeatureOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := featureRows(context.Background(), &ds, pix, "", 0, func(jobs.Event) {}, images)
	if err != nil {
		t.Fatal(err)
	}
	splits, err := compute.StratifiedShuffleSplits(labels, 10, 0.1, 7)
	if err != nil {
		t.Fatal(err)
	}
	want, err := compute.BrainScore(x[0], responses(&ds, images), splits, compute.BrainScoreOptions{Components: 5})
	if err != nil {
		t.Fatal(err)
	}
	halves, _ := compute.RepetitionHalves(trials, 10, 7)
	ceil, err := compute.BrainScoreCeiling(ds.Repeats, ds.Images.Len(), ds.NumNeurons, trials, images, halves)
	if err != nil {
		t.Fatal(err)
	}
	want.WithCeiling(ceil.Ceiling)

	run, err := Score(context.Background(), ScoreSpec{Data: "nx414", Dataset: &ds, Features: "pixels:8", Components: 5, Seed: 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := run.Meta.Summary
	if run.Meta.Kind != runs.KindScore || s.Model != "pls" || s.NTrain != len(splits[0].Train) || s.NVal != len(splits[0].Test) {
		t.Errorf("run kind %s, summary %+v", run.Meta.Kind, s)
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"score", s.BrainScore, want.Score}, {"stderr", s.BrainScoreStdErr, want.StdErr}, {"ceiling", s.BrainScoreCeiling, want.Ceiling},
		{"ceiled", s.BrainScoreCeiled, want.Ceiled}, {"ceiled squared", s.BrainScoreCeiledSquared, want.CeiledSquared}} {
		if c.got != c.want || math.IsNaN(c.got) {
			t.Errorf("%s %v, compute gives %v", c.name, c.got, c.want)
		}
	}
	for j, n := range run.Neurons {
		col := make([]float64, len(want.NeuronR))
		for s := range col {
			col[s] = want.NeuronR[s][j]
		}
		if m, _, _ := compute.MeanMedian(col); n.R != m && !(math.IsNaN(m) && math.IsNaN(n.R)) {
			t.Fatalf("neuron %d: r %v, mean over splits %v", j, n.R, m)
		}
	}
}
