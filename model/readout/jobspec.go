package readout

import (
	"encoding/json"
	"fmt"

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
// cacheDir is the feature cache ("" for the default).
func RegisterJobs(reg jobs.Registry, openData func(spec string) (*data.Dataset, error), cacheDir string) {
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
		fs.Dataset, fs.CacheDir = ds, cacheDir
		return FitJob(fs), nil
	}
	reg[runs.KindFit] = build
	reg[runs.KindSweep] = build
}
