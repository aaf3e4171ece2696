package ui

import (
	"context"
	"image"
	"sync/atomic"
	"testing"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/readout"
	"itscope/model/runs"
)

// countingImages is the first n images of a dataset, counting how often an
// image is read: once per image per pass of the network over the data.
type countingImages struct {
	data.Images
	n     int
	reads atomic.Int64
}

func (c *countingImages) Len() int { return c.n }

func (c *countingImages) RGB(i int) (image.Image, error) {
	c.reads.Add(1)
	return c.Images.RGB(i)
}

func (c *countingImages) Normalized(i int) ([]float32, int, int, int, bool) {
	x, ch, h, w, ok := c.Images.Normalized(i)
	if ok {
		c.reads.Add(1)
	}
	return x, ch, h, w, ok
}

// TestSweepRunsTheNetworkOnce sweeps three layers of a network from the
// explorer, two jobs at a time: every layer becomes a run of its own, yet
// each image goes through the network once, not once per layer.
func TestSweepRunsTheNetworkOnce(t *testing.T) {
	full, err := data.Open("demo")
	if err != nil {
		t.Fatal(err)
	}
	const n, train = 12, 8
	imgs := &countingImages{Images: full.Images, n: n}
	ds := &data.Dataset{Name: "demo-12", Hash: "sweep-test-" + full.Hash, Images: imgs, NumNeurons: full.NumNeurons,
		Responses: full.Responses[:n*full.NumNeurons],
		Splits: []data.Split{{Name: data.Train, Indices: []int{0, 1, 2, 3, 4, 5, 6, 7}, HasResponses: true},
			{Name: data.Val, Indices: []int{8, 9, 10, 11}, HasResponses: true}}}
	const net = "mobilenetv2-random"
	layers := []string{"features.2", "features.4", "features.7"}
	ctx := &Context{Dataset: ds, DatasetSpec: "demo", CacheDir: t.TempDir(), Taps: map[string][]nets.Tap{}}
	for _, l := range layers {
		ctx.Taps[net] = append(ctx.Taps[net], nets.Tap{Name: l})
	}
	pl := plan{sweep: net, points: []readout.GridPoint{{Kind: "fit",
		Fit: &readout.FitPoint{Features: "mobilenetv2:*", Model: readout.ModelRidge, Alpha: 10}}}}
	built, err := buildJobs(ctx, pl)
	if err != nil {
		t.Fatal(err)
	}
	if len(built) != len(layers) {
		t.Fatalf("%d jobs for %d layers", len(built), len(layers))
	}
	engine := jobs.NewEngine(nil, 2)
	defer engine.Shutdown(context.Background())
	var ids []jobs.JobID
	for _, j := range built {
		id, err := engine.Submit(j)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	for i, id := range ids {
		st, err := engine.Wait(context.Background(), id)
		if err != nil || st.State != runs.Done {
			t.Fatalf("job %d (%s): %s %v %s", i, built[i].Name, st.State, err, st.Err)
		}
		if st.Summary == nil || st.Summary.Features != net+":"+layers[i] || st.Summary.NVal != n-train {
			t.Errorf("job %d: summary %+v, want layer %s scored on %d images", i, st.Summary, layers[i], n-train)
		}
	}
	if got := imgs.reads.Load(); got != n {
		t.Errorf("the sweep read the images %d times for %d images: want one pass of the network for all %d layers", got, n, len(layers))
	}
}
