package train

import (
	"context"
	"encoding/json"
	"fmt"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// jobPayload is a training job's description in the run store's queue: the
// dataset by its spec and the training's config.
type jobPayload struct {
	Data    string         `json:"data"`
	Train   *TrainConfig   `json:"train,omitempty"`
	Cotrain *CotrainConfig `json:"cotrain,omitempty"`
}

// payload writes p; a config that cannot be written as JSON gives none, and
// the job then lives only in the engine that runs it.
func (p jobPayload) json() json.RawMessage {
	b, err := json.Marshal(p)
	if err != nil {
		return nil
	}
	return b
}

// TrainJob is the engine job training the CNN of cfg on ds, stating the
// memory it needs (TrainMemory). name labels it in job lists; "" names it
// after the CNN spec.
func TrainJob(ds *data.Dataset, cfg TrainConfig, name string) jobs.Job {
	if name == "" {
		name = "cnn " + cfg.CNN.String()
	}
	return jobs.Job{Name: name, Kind: runs.KindTrain, Memory: TrainMemory(cfg, ds), Payload: jobPayload{Data: ds.Name, Train: &cfg}.json(),
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			return TrainCNN(ctx, ds, cfg, emit)
		}}
}

// CotrainJob is the engine job co-training cfg on ds. label, when given,
// follows the network and stage in the job's name.
func CotrainJob(ds *data.Dataset, cfg CotrainConfig, label string) jobs.Job {
	name := fmt.Sprintf("cotrain %s from %s", cfg.Net, cfg.Trainable)
	if label != "" {
		name += " " + label
	}
	return jobs.Job{Name: name, Kind: runs.KindCotrain, Payload: jobPayload{Data: ds.Name, Cotrain: &cfg}.json(),
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			return Cotrain(ctx, ds, cfg, emit)
		}}
}

// RegisterJobs adds the builders of training jobs (train, cotrain) to reg,
// so that a queued one runs in any process: openData opens a dataset spec
// (a process running many jobs shares what it opens), cacheDir and cacheMax
// are the feature cache of co-training's frozen part and its bound (as
// CotrainConfig's).
func RegisterJobs(reg jobs.Registry, openData func(spec string) (*data.Dataset, error), cacheDir string, cacheMax int64) {
	reg[runs.KindTrain] = func(spec jobs.Spec) (jobs.Job, error) {
		cfg, ds, err := readPayload(spec, openData, func(p *jobPayload) *TrainConfig { return p.Train })
		if err != nil {
			return jobs.Job{}, err
		}
		return TrainJob(ds, *cfg, spec.Name), nil
	}
	reg[runs.KindCotrain] = func(spec jobs.Spec) (jobs.Job, error) {
		cfg, ds, err := readPayload(spec, openData, func(p *jobPayload) *CotrainConfig { return p.Cotrain })
		if err != nil {
			return jobs.Job{}, err
		}
		cfg.CacheDir, cfg.CacheMax = cacheDir, cacheMax
		return CotrainJob(ds, *cfg, ""), nil
	}
}

// readPayload decodes a queued job's payload, checks that it holds a valid
// config of the job's kind (config picks it out) and opens its dataset.
func readPayload[C any, PC interface {
	*C
	Validate() error
}](spec jobs.Spec, openData func(spec string) (*data.Dataset, error), config func(*jobPayload) PC) (PC, *data.Dataset, error) {
	var p jobPayload
	if err := json.Unmarshal(spec.Payload, &p); err != nil {
		return nil, nil, fmt.Errorf("payload: want {\"data\":..., \"%s\":{...}}: %v", spec.Kind, err)
	}
	cfg := config(&p)
	if cfg == nil {
		return nil, nil, fmt.Errorf("payload: no %q config", spec.Kind)
	}
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	ds, err := openData(p.Data)
	return cfg, ds, err
}
