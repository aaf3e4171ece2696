package ui

import (
	"fmt"
	"strings"

	"itscope/model/features"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/readout"
	"itscope/model/train"
)

// buildJobs turns the grid's plan into engine jobs on the session's dataset.
// A sweep becomes one read-out job per tap of its network, so that each
// layer is a run of its own and Results can draw EV across layers; the
// network runs once for all of them (readout.SweepJobs).
func buildJobs(ctx *Context, pl plan) ([]jobs.Job, error) {
	ds, spec := ctx.Dataset, ctx.DatasetSpec
	var out []jobs.Job
	for _, pt := range pl.points {
		switch pt.Kind {
		case "fit":
			f := *pt.Fit
			fs := readout.FitSpec{Data: spec, Dataset: ds, Open: ctx.Open, Features: f.Features, PCA: f.PCA, Model: f.Model,
				Alpha: f.Alpha, Alphas: f.Alphas, Folds: f.Folds, Seed: f.Seed, CacheDir: ctx.CacheDir, CacheMax: ctx.CacheMax}
			if pl.sweep == "" {
				net, _, _ := strings.Cut(f.Features, ":")
				fs.Weights = ctx.Weights[net]
				if err := fs.Check(); err != nil {
					return nil, err
				}
				job := readout.FitJob(fs)
				job.Name = fitJobName(fs)
				job.Memory = fitMemory(ctx, fs)
				out = append(out, job)
				continue
			}
			taps := ctx.Taps[pl.sweep]
			if len(taps) == 0 {
				return nil, fmt.Errorf("the taps of %s are not listed yet: open it in the Model pane", pl.sweep)
			}
			sw := readout.SweepSpec{Fit: fs, Net: pl.sweep}
			sw.Fit.Weights = ctx.Weights[pl.sweep]
			for _, t := range taps {
				sw.Layers = append(sw.Layers, t.Name)
			}
			layerJobs, err := readout.SweepJobs(sw)
			if err != nil {
				return nil, err
			}
			for i, job := range layerJobs {
				layer := sw.Fit
				layer.Features = pl.sweep + ":" + sw.Layers[i]
				job.Name = fitJobName(layer)
				job.Memory = fitMemory(ctx, layer)
				out = append(out, job)
			}
		case "train":
			cfg := *pt.Train
			if ctx.Choice.Source != srcCotrain {
				out = append(out, train.TrainJob(ds, cfg, "cnn "+pt.Label))
				continue
			}
			for _, l := range pl.lambdas {
				cc := train.CotrainConfig{Train: cfg, Net: ctx.Choice.Network, Weights: ctx.Weights[ctx.Choice.Network],
					Trainable: ctx.Choice.Tap, Lambda: l, CacheDir: ctx.CacheDir, CacheMax: ctx.CacheMax}
				if err := cc.Validate(); err != nil {
					return nil, err
				}
				job := train.CotrainJob(ds, cc, pt.Label+" λ="+fmtNum(l))
				// The Model pane opened the network with these options: the
				// estimate reuses it (the architecture does not depend on
				// the seed).
				if net, err := features.OpenNetworkShared(cc.Net, nets.NetOptions{Weights: cc.Weights}); err == nil {
					job.Memory, _ = train.CotrainMemory(cc, ds, net)
				}
				out = append(out, job)
			}
		}
	}
	return out, nil
}

// fitMemory is the memory estimate of a fit on the session's dataset, its
// features' size taken from the spec (pixels) or from the taps the Model
// pane listed (no network is opened here); 0 when neither knows it.
func fitMemory(ctx *Context, fs readout.FitSpec) int64 {
	net, tap, _ := strings.Cut(fs.Features, ":")
	dim := 0
	if net == "pixels" {
		if f, err := features.ParseFeatures(fs.Features, features.FeatureOptions{}); err == nil {
			dim, _ = f.Dim(ctx.Dataset)
		}
	}
	for _, t := range ctx.Taps[net] {
		if t.Name == tap {
			dim = t.Size()
		}
	}
	if dim == 0 {
		return 0
	}
	return readout.FitMemory(fs, ctx.Dataset, dim)
}

// fitJobName says what varies in a grid: the read-out, its penalty, the
// features and PCA.
func fitJobName(fs readout.FitSpec) string {
	name := fs.Model
	if fs.Model == readout.ModelRidge {
		name += " α=" + fmtNum(fs.Alpha)
	}
	name += " on " + fs.Features
	if fs.PCA > 0 {
		name += fmt.Sprintf(" + PCA %d", fs.PCA)
	}
	return name
}
