package readout

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

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
// it finishes so that it can be saved and printed. It runs the jobs
// SweepJobs makes, one after the other.
func Sweep(ctx context.Context, spec SweepSpec, emit func(jobs.Event), done func(layer string, run *runs.Run) error) error {
	if emit == nil {
		emit = func(jobs.Event) {}
	}
	sw := &sweep{spec: spec}
	if err := sw.open(); err != nil {
		return err
	}
	defer sw.pin.Release()
	if spec.ExtractOnly {
		return sw.extract(ctx, emit)
	}
	for i, job := range sw.jobs() {
		if err := ctx.Err(); err != nil {
			return err
		}
		run, err := job.Run(ctx, emit)
		if err != nil {
			return err
		}
		if err := done(sw.layers[i], run); err != nil {
			return err
		}
	}
	return nil
}

// SweepJobs makes one fit job per layer of spec (in the order of its
// layers). Whichever starts first fills the feature cache with every layer
// in one pass of the network; the others wait for it and fit from the cache.
// With spec.Layers given, the dataset and network open when the first job
// starts, not here.
func SweepJobs(spec SweepSpec) ([]jobs.Job, error) {
	sw := &sweep{spec: spec, layers: spec.Layers}
	if len(spec.Layers) == 0 {
		if err := sw.open(); err != nil {
			return nil, err
		}
	}
	return sw.jobs(), nil
}

// sweep is a SweepSpec whose dataset, network, layers and cache open once,
// for all its jobs.
type sweep struct {
	spec   SweepSpec
	layers []string

	mu     sync.Mutex
	opened bool
	fit    FitSpec // spec.Fit with its dataset open
	net    nets.Network
	cache  *features.FeatureCache
	filled bool // the cache holds every layer

	pending int           // jobs made and not yet ended
	pin     *features.Pin // the layers' cache entries, while jobs will read them
}

// jobEnded unpins the layers once every job of the sweep has ended.
func (sw *sweep) jobEnded() {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.pending--; sw.pending == 0 {
		sw.pin.Release()
	}
}

// open opens the sweep's dataset, network and cache and resolves its layers,
// the first time it is called.
func (sw *sweep) open() error {
	sw.mu.Lock()
	defer sw.mu.Unlock()
	if sw.opened {
		return nil
	}
	spec := sw.spec
	fit := spec.Fit
	fit.Features = spec.Net // each layer's spec is made by jobs
	if err := fit.Check(); err != nil && !spec.ExtractOnly {
		return err
	}
	ds, err := fit.dataset()
	if err != nil {
		return err
	}
	fit.Dataset = ds
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
	cache, err := features.OpenFeatureCache(fit.CacheDir, fit.CacheMax)
	if err != nil {
		return err
	}
	// The layers stay pinned until the last of the sweep's jobs has ended,
	// so that filling the cache (this sweep's or another's) never evicts a
	// layer a queued job of this sweep will fit.
	if sw.pin, err = cache.PinTaps(fit.Dataset, net, layers); err != nil {
		return err
	}
	sw.fit, sw.net, sw.layers, sw.cache, sw.opened = fit, net, layers, cache, true
	return nil
}

// extract fills the cache with every layer of the sweep in one pass; when
// another job of the sweep is filling it, it waits for that one and finds
// the layers cached.
func (sw *sweep) extract(ctx context.Context, emit func(jobs.Event)) error {
	if err := sw.open(); err != nil {
		return err
	}
	sw.mu.Lock()
	filled := sw.filled
	sw.mu.Unlock()
	if filled {
		return nil
	}
	ds := sw.fit.Dataset
	emit(jobs.Event{Kind: jobs.EventLog, Message: fmt.Sprintf("extracting %d layers of %s over %d images", len(sw.layers), sw.net.Name(), ds.Images.Len())})
	_, err := features.FillTapCache(ctx, sw.cache, ds, sw.net, sw.layers, sw.spec.BatchSize, features.CacheReport{
		Progress: func(d, t int) { emit(jobs.Event{Kind: jobs.EventProgress, Done: d, Total: t, Message: "features"}) },
		Log:      logTo(emit),
	})
	if err != nil {
		return err
	}
	sw.mu.Lock()
	sw.filled = true
	sw.mu.Unlock()
	return nil
}

// sweepPayload is a sweep layer job's payload: its fit, and the sweep it
// is part of, so that whichever of the sweep's jobs runs first, in any
// process (a cluster node), fills the cache with every layer in one pass
// and the others find their layer cached.
type sweepPayload struct {
	FitSpec
	Sweep sweepOf `json:"sweep"`
}

type sweepOf struct {
	Net       string   `json:"net"`
	Layers    []string `json:"layers"`
	BatchSize int      `json:"batch,omitempty"`
}

// jobs makes the sweep's fit jobs, one per layer.
func (sw *sweep) jobs() []jobs.Job {
	out := make([]jobs.Job, len(sw.layers))
	sw.mu.Lock()
	sw.pending = len(sw.layers)
	sw.mu.Unlock()
	for i, l := range sw.layers {
		fs := sw.spec.Fit
		fs.Features = sw.spec.Net + ":" + l
		job := FitJob(fs)
		job.Kind = runs.KindSweep
		if job.Payload != nil {
			job.Payload, _ = json.Marshal(sweepPayload{FitSpec: fs, Sweep: sweepOf{Net: sw.spec.Net, Layers: sw.layers, BatchSize: sw.spec.BatchSize}})
		}
		job.Run = func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			if err := sw.extract(ctx, emit); err != nil {
				return nil, err
			}
			fs.Dataset = sw.fit.Dataset
			run, err := Fit(ctx, fs, emit)
			if err != nil {
				return nil, fmt.Errorf("layer %s: %w", l, err)
			}
			return run, nil
		}
		job.Release = sw.jobEnded
		out[i] = job
	}
	return out
}
