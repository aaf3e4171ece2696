package readout

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// fitPayload is a fit job's description in the run store's queue: its
// FitSpec as recorded (the dataset by its spec, the features by theirs).
// A spec that cannot be written as JSON gives none: the job then lives only
// in the engine that runs it.
func fitPayload(spec FitSpec) json.RawMessage {
	b, err := json.Marshal(spec)
	if err != nil {
		return nil
	}
	return b
}

// RegisterJobs adds the builders of read-out jobs (fit, and a sweep's
// layer fits) to reg, so that a queued one runs in any process: openData
// opens a dataset spec (a process running many jobs shares what it opens),
// cacheDir and cacheMax are the feature cache and its bound (as FitSpec's).
func RegisterJobs(reg jobs.Registry, openData func(spec string) (*data.Dataset, error), cacheDir string, cacheMax int64) {
	build := func(spec jobs.Spec) (jobs.Job, error) {
		var fs FitSpec
		if err := json.Unmarshal(spec.Payload, &fs); err != nil {
			return jobs.Job{}, fmt.Errorf("payload: want a fit spec: %v", err)
		}
		if err := fs.Check(); err != nil {
			return jobs.Job{}, err
		}
		ds, err := openData(fs.Data)
		if err != nil {
			return jobs.Job{}, err
		}
		fs.Dataset, fs.CacheDir, fs.CacheMax = ds, cacheDir, cacheMax
		return FitJob(fs), nil
	}
	reg[runs.KindFit] = build
	reg[runs.KindSweep] = func(spec jobs.Spec) (jobs.Job, error) {
		var p sweepPayload
		if err := json.Unmarshal(spec.Payload, &p); err != nil {
			return jobs.Job{}, fmt.Errorf("payload: want a sweep layer's fit spec: %v", err)
		}
		if p.Sweep.Net == "" {
			return build(spec) // queued before sweep payloads named their sweep
		}
		net, layer, ok := strings.Cut(p.Features, ":")
		if !ok || net != p.Sweep.Net || !slices.Contains(p.Sweep.Layers, layer) {
			return jobs.Job{}, fmt.Errorf("payload: features %q: want %s:LAYER with LAYER one of the sweep's %v", p.Features, p.Sweep.Net, p.Sweep.Layers)
		}
		ds, err := openData(p.Data)
		if err != nil {
			return jobs.Job{}, err
		}
		p.Dataset, p.CacheDir, p.CacheMax = ds, cacheDir, cacheMax
		sw := &sweep{spec: SweepSpec{Fit: p.FitSpec, Net: p.Sweep.Net, Layers: p.Sweep.Layers, BatchSize: p.Sweep.BatchSize}, layers: p.Sweep.Layers}
		return sw.jobs()[slices.Index(p.Sweep.Layers, layer)], nil
	}
}
