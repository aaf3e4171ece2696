package model

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"

	"itscope/data"
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

// maxSweepBatchFloats bounds one batch's outputs over all taps being cached
// at once (256 MB), so that filling every tap stays within memory.
const maxSweepBatchFloats = 64 << 20

// SweepLayers resolves "all" or "L1,L2" against a network's taps.
func SweepLayers(net Network, list string) ([]string, error) {
	var layers []string
	if list == "" || list == "all" {
		for _, t := range net.Taps() {
			layers = append(layers, t.Name)
		}
		return layers, nil
	}
	for _, l := range strings.Split(list, ",") {
		if l = strings.TrimSpace(l); l != "" {
			layers = append(layers, l)
		}
	}
	return layers, findTaps(net.Name(), net.Taps(), layers)
}

// FillTapCache makes sure the feature cache holds each of layers of net over
// every image of ds, computing all missing ones in a single pass: each batch
// goes through the network once and its outputs at every tap stream to their
// own .npy files. It returns the number of forward passes run.
func FillTapCache(ctx context.Context, cache *FeatureCache, ds *data.Dataset, net Network, layers []string,
	batch int, progress func(done, total int)) (int64, error) {
	if err := findTaps(net.Name(), net.Taps(), layers); err != nil {
		return 0, err
	}
	sizes := map[string]int{}
	for _, t := range net.Taps() {
		sizes[t.Name] = t.Size()
	}
	n := ds.Images.Len()
	streams := map[string]*npyStream{}
	var missing []string
	perImage := 0
	defer func() {
		for _, s := range streams {
			s.Abort()
		}
	}()
	for _, l := range layers {
		f, err := NewNetFeatures(net, l, batch)
		if err != nil {
			return 0, err
		}
		if m, ok := cache.Lookup(ds, f); ok {
			m.Close()
			continue
		}
		s, err := createNpyStream(cache.Path(ds.Hash, netCacheKey(net, l)), n, sizes[l])
		if err != nil {
			return 0, err
		}
		streams[l] = s
		missing = append(missing, l)
		perImage += sizes[l]
	}
	if len(missing) == 0 {
		return 0, nil
	}
	if batch <= 0 {
		batch = DefaultNetBatch
	}
	batch = max(1, min(batch, maxSweepBatchFloats/max(1, perImage)))
	images := make([]int, n)
	for i := range images {
		images[i] = i
	}
	var forwards atomic.Int64
	done := 0
	err := extractTaps(ctx, net, ds, images, missing, batch, &forwards, func(first int, blocks map[string][]float32) error {
		rows := 0
		for _, l := range missing {
			if err := streams[l].Write(first, blocks[l]); err != nil {
				return err
			}
			rows = len(blocks[l]) / sizes[l]
		}
		done += rows
		if progress != nil {
			progress(done, n)
		}
		return nil
	})
	if err != nil {
		return forwards.Load(), err
	}
	for _, l := range missing {
		if err := streams[l].Commit(); err != nil {
			return forwards.Load(), err
		}
		delete(streams, l)
	}
	return forwards.Load(), nil
}

// Sweep fills the cache for every layer in one pass, then fits each layer
// (from the cache, no further forward pass), calling done with each run as
// it finishes so that it can be saved and printed.
func Sweep(ctx context.Context, spec SweepSpec, emit func(Event), done func(layer string, run *Run) error) error {
	if emit == nil {
		emit = func(Event) {}
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
	net, err := OpenNetworkShared(spec.Net, NetOptions{Weights: fit.Weights, Seed: fit.Seed})
	if err != nil {
		return err
	}
	layers := spec.Layers
	if len(layers) == 0 {
		if layers, err = SweepLayers(net, "all"); err != nil {
			return err
		}
	}
	cache, err := OpenFeatureCache(fit.CacheDir)
	if err != nil {
		return err
	}
	emit(Event{Kind: EventLog, Message: fmt.Sprintf("extracting %d layers of %s over %d images", len(layers), net.Name(), ds.Images.Len())})
	_, err = FillTapCache(ctx, cache, ds, net, layers, spec.BatchSize, func(d, t int) {
		emit(Event{Kind: EventProgress, Done: d, Total: t, Message: "features"})
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
