package readout

import (
	"context"
	"fmt"
	"strings"

	"itscope/data"
	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"
)

// SweepSpec fits the same read-out on several taps of one network, as the
// study's Figure 1a: Fit has the read-out settings (its Features field is
// set per layer), Net the network, Layers the taps (empty for every tap).
type SweepSpec struct {
	Fit       FitSpec
	Net       string
	Layers    []string
	BatchSize int
	// ExtractOnly fills the feature cache and fits nothing.
	ExtractOnly bool
}

// Sweep fills the cache for every layer in one pass, then fits each layer
// (from the cache, no further forward pass), calling done with each run as
// it finishes so that it can be saved and printed.
func Sweep(ctx context.Context, spec SweepSpec, emit func(jobs.Event), done func(layer string, run *runs.Run) error) error {
	if emit == nil {
		emit = func(jobs.Event) {}
	}
	fit := spec.Fit
	fit.Features = spec.Net // each layer's spec is made below
	if err := fit.Check(); err != nil && !spec.ExtractOnly {
		return err
	}
	ds := fit.Dataset
	if ds == nil {
		var err error
		if ds, err = data.Open(fit.Data); err != nil {
			return err
		}
		fit.Dataset = ds
	}
	if strings.HasPrefix(spec.Net, "onnx:") && !strings.HasSuffix(spec.Net, ".onnx") {
		return fmt.Errorf("sweep: network %q: an onnx: path must end in .onnx so that NET:LAYER can name its layers", spec.Net)
	}
	net, err := features.OpenNetworkShared(spec.Net, nets.NetOptions{Weights: fit.Weights, Seed: fit.Seed})
	if err != nil {
		return err
	}
	layers := spec.Layers
	if len(layers) == 0 {
		if layers, err = features.SweepLayers(net, "all"); err != nil {
			return err
		}
	}
	cache, err := features.OpenFeatureCache(fit.CacheDir)
	if err != nil {
		return err
	}
	emit(jobs.Event{Kind: jobs.EventLog, Message: fmt.Sprintf("extracting %d layers of %s over %d images", len(layers), net.Name(), ds.Images.Len())})
	_, err = features.FillTapCache(ctx, cache, ds, net, layers, spec.BatchSize, func(d, t int) {
		emit(jobs.Event{Kind: jobs.EventProgress, Done: d, Total: t, Message: "features"})
	})
	if err != nil || spec.ExtractOnly {
		return err
	}
	for _, l := range layers {
		if err := ctx.Err(); err != nil {
			return err
		}
		fs := fit
		fs.Features = spec.Net + ":" + l
		run, err := Fit(ctx, fs, emit)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l, err)
		}
		if err := done(l, run); err != nil {
			return err
		}
	}
	return nil
}
