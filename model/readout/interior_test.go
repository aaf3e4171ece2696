package readout

import (
	"context"
	"fmt"
	"testing"

	"itscope/data"
	"itscope/model/runs"
)

// firstImages is the first n images of a dataset's Images (RGB, Name and
// Normalized are the embedded ones').
type firstImages struct {
	data.Images
	n int
}

func (f firstImages) Len() int { return f.n }

// demoSubset is the demo's first train and val images (every 10th image is a
// val one, so both splits are represented), as a dataset of its own.
func demoSubset(t *testing.T, n int) *data.Dataset {
	t.Helper()
	ds := openDemo(t)
	sub := &data.Dataset{Name: fmt.Sprintf("demo-first-%d", n), Hash: fmt.Sprintf("%s-first-%d", ds.Hash, n),
		Images: firstImages{ds.Images, n}, NumNeurons: ds.NumNeurons, Responses: ds.Responses[:n*ds.NumNeurons]}
	for _, s := range ds.Splits {
		var idx []int
		for _, i := range s.Indices {
			if i < n {
				idx = append(idx, i)
			}
		}
		sub.Splits = append(sub.Splits, data.Split{Name: s.Name, Indices: idx, HasResponses: s.HasResponses})
	}
	return sub
}

// TestDefaultGridInteriorOnEveryLayer sweeps every layer of mobilenetv2 and
// mobilenetv2-random with default read-out flags (PCA, ridge CV on the
// scale-free default grid) over a reduced demo: ridge CV's alpha must be
// interior to the grid it ends with on every layer, and the random
// network's features, orders of magnitude smaller than the pretrained
// one's, must not score zero for it. (The full demo with PCA 1000 is
// checked by hand with `itscope sweep`; figures in docs/models.md.)
func TestDefaultGridInteriorOnEveryLayer(t *testing.T) {
	if testing.Short() || raceEnabled {
		// Under the race detector the two forward passes alone take minutes
		// (5 min at 60 images); the test runs whole without it.
		t.Skip("runs two networks over 160 images: not under -short or -race")
	}
	ds := demoSubset(t, 160)
	cache := t.TempDir()
	for _, net := range []string{"mobilenetv2", "mobilenetv2-random"} {
		t.Run(net, func(t *testing.T) {
			spec := SweepSpec{Fit: FitSpec{Data: ds.Name, Dataset: ds, PCA: 100, Model: ModelRidgeCV, CacheDir: cache}, Net: net}
			layers := 0
			err := Sweep(context.Background(), spec, nil, func(layer string, run *runs.Run) error {
				layers++
				g := run.Meta.AlphaGrid
				if g == nil || !g.Default {
					t.Fatalf("%s: alpha grid %+v, want the default", layer, g)
				}
				s := run.Meta.Summary
				if g.AtEnd || s.Alpha == g.Alphas[0] || s.Alpha == g.Alphas[len(g.Alphas)-1] {
					t.Errorf("%s: alpha %g is an end of the grid [%g, %g] (%d extensions)", layer, s.Alpha, g.Alphas[0], g.Alphas[len(g.Alphas)-1], g.Extensions)
				}
				if !(s.EVMean > 0) {
					t.Errorf("%s: EV mean %v, want above 0", layer, s.EVMean)
				}
				t.Logf("%-12s alpha %-10.3g (%.3g x scale, %d extensions)  EV %.4f", layer, s.Alpha, s.Alpha/g.Scale, g.Extensions, s.EVMean)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if layers != 21 {
				t.Errorf("%d layers swept, want mobilenetv2's 21 taps", layers)
			}
		})
	}
}
