package train

import (
	"context"
	"fmt"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// TrainJob is the engine job training the CNN of cfg on ds, stating the
// memory it needs (TrainMemory). name labels it in job lists; "" names it
// after the CNN spec.
func TrainJob(ds *data.Dataset, cfg TrainConfig, name string) jobs.Job {
	if name == "" {
		name = "cnn " + cfg.CNN.String()
	}
	return jobs.Job{Name: name, Kind: runs.KindTrain, Memory: TrainMemory(cfg, ds),
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
	return jobs.Job{Name: name, Kind: runs.KindCotrain,
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			return Cotrain(ctx, ds, cfg, emit)
		}}
}
