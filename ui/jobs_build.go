package ui

import (
	"context"
	"fmt"
	"strings"

	"itscope/data"
	"itscope/model"
)

// buildJobs turns the grid's plan into engine jobs on the session's dataset.
// A sweep becomes one read-out job per tap of its network, so that each
// layer is a run of its own and Results can draw EV across layers.
func buildJobs(ctx *Context, pl plan) ([]model.Job, error) {
	ds, spec := ctx.Dataset, ctx.DatasetSpec
	var jobs []model.Job
	for _, pt := range pl.points {
		switch pt.Kind {
		case "fit":
			f := *pt.Fit
			features := []string{f.Features}
			if pl.sweep != "" {
				taps := ctx.Taps[pl.sweep]
				if len(taps) == 0 {
					return nil, fmt.Errorf("the taps of %s are not listed yet: open it in the Model pane", pl.sweep)
				}
				features = features[:0]
				for _, t := range taps {
					features = append(features, pl.sweep+":"+t.Name)
				}
			}
			for _, feat := range features {
				net, _, _ := strings.Cut(feat, ":")
				fs := model.FitSpec{Data: spec, Dataset: ds, Features: feat, PCA: f.PCA, Model: f.Model,
					Alpha: f.Alpha, Alphas: f.Alphas, Folds: f.Folds, Seed: f.Seed, CacheDir: ctx.CacheDir,
					Weights: ctx.Weights[net]}
				if err := fs.Check(); err != nil {
					return nil, err
				}
				job := model.FitJob(fs)
				job.Name = fitJobName(fs)
				if pl.sweep != "" {
					job.Kind = "sweep"
				}
				jobs = append(jobs, job)
			}
		case "train":
			cfg := *pt.Train
			if ctx.Choice.Source != srcCotrain {
				jobs = append(jobs, trainJob(ds, cfg, pt.Label))
				continue
			}
			for _, l := range pl.lambdas {
				cc := model.CotrainConfig{Train: cfg, Net: ctx.Choice.Network, Weights: ctx.Weights[ctx.Choice.Network],
					Trainable: ctx.Choice.Tap, Lambda: l, CacheDir: ctx.CacheDir}
				if err := cc.Validate(); err != nil {
					return nil, err
				}
				jobs = append(jobs, cotrainJob(ds, cc, pt.Label+" λ="+fmtNum(l)))
			}
		}
	}
	return jobs, nil
}

func trainJob(ds *data.Dataset, cfg model.TrainConfig, label string) model.Job {
	return model.Job{
		Name: "cnn " + label,
		Kind: "train",
		Run: func(ctx context.Context, emit func(model.Event)) (*model.Run, error) {
			return model.TrainCNN(ctx, ds, cfg, emit)
		},
	}
}

// fitJobName says what varies in a grid: the read-out, its penalty, the
// features and PCA.
func fitJobName(fs model.FitSpec) string {
	name := fs.Model
	if fs.Model == model.ModelRidge {
		name += " α=" + fmtNum(fs.Alpha)
	}
	name += " on " + fs.Features
	if fs.PCA > 0 {
		name += fmt.Sprintf(" + PCA %d", fs.PCA)
	}
	return name
}

func cotrainJob(ds *data.Dataset, cfg model.CotrainConfig, label string) model.Job {
	return model.Job{
		Name: fmt.Sprintf("cotrain %s from %s %s", cfg.Net, cfg.Trainable, label),
		Kind: "cotrain",
		Run: func(ctx context.Context, emit func(model.Event)) (*model.Run, error) {
			return model.Cotrain(ctx, ds, cfg, emit)
		},
	}
}
