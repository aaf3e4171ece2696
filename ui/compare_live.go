package ui

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// Compare lists the training jobs that have not finished beside the saved
// runs, so that they can be marked too: their curves in the overlay come
// from the job's events and grow as they stream in. A job's row is a
// RunMeta made from its status (liveMeta), its id "job:N".

const liveIDPrefix = "job:"

func liveID(id jobs.JobID) string { return liveIDPrefix + strconv.FormatInt(int64(id), 10) }

// liveJob is the job behind a live row's id, if id is one.
func liveJob(id string) (jobs.JobID, bool) {
	n, ok := strings.CutPrefix(id, liveIDPrefix)
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseInt(n, 10, 64)
	return jobs.JobID(v), err == nil
}

// trains is true for the jobs that have training curves.
func trains(j jobs.JobStatus) bool {
	return j.Kind == runs.KindTrain || j.Kind == runs.KindCotrain || len(j.StepLoss) > 0 || len(j.Epochs) > 0
}

// liveMeta is a training job as a row of Compare: its settings from the
// job's payload, its EV the best val EV of its epochs so far.
func liveMeta(j jobs.JobStatus) runs.RunMeta {
	m := runs.RunMeta{ID: liveID(j.ID), Kind: j.Kind, Status: j.State, Model: "cnn", Strategy: j.Name, Summary: runs.NaNSummary()}
	if j.Kind == runs.KindCotrain {
		m.Model = string(runs.KindCotrain)
	}
	var payload struct {
		Train json.RawMessage `json:"train"`
	}
	if json.Unmarshal(j.Payload, &payload) == nil && payload.Train != nil {
		m.Spec = payload.Train
		if cnn := m.Hparams()["cnn"]; cnn != "" {
			m.Strategy = cnn
		}
	}
	for _, e := range j.Epochs {
		if !math.IsNaN(e.ValEV) && (math.IsNaN(m.Summary.EVMean) || e.ValEV > m.Summary.EVMean) {
			m.Summary.EVMean = e.ValEV
		}
	}
	return m
}

// liveRows are the training jobs still queued or running.
func (p *comparePane) liveRows() []runs.RunMeta {
	var out []runs.RunMeta
	for _, id := range p.ctx.JobOrder {
		if j := p.ctx.Jobs[id]; trains(j) && !j.State.Finished() {
			out = append(out, liveMeta(j))
		}
	}
	return out
}

// liveLoss is a job's curve as a loss.csv would hold it: its steps, each
// epoch's row after the epoch's last step.
func liveLoss(j jobs.JobStatus) []runs.LossPoint {
	out := make([]runs.LossPoint, 0, len(j.StepLoss)+len(j.Epochs))
	e := 0
	for _, q := range j.StepLoss {
		for e < len(j.Epochs) && j.Epochs[e].Step < q.Step {
			out = append(out, j.Epochs[e])
			e++
		}
		out = append(out, q)
	}
	return append(out, j.Epochs[e:]...)
}

// followFinished moves the marks of jobs that have finished to the runs
// they saved.
func (p *comparePane) followFinished() {
	for id := range p.marked {
		jid, ok := liveJob(id)
		if !ok {
			continue
		}
		if j, ok := p.ctx.Jobs[jid]; ok && j.State.Finished() {
			delete(p.marked, id)
			if j.RunID != "" {
				p.marked[j.RunID] = true
			}
		}
	}
}

// curveRuns are what the curves overlay draws: the loaded runs, then the
// marked jobs as they are now.
func (p *comparePane) curveRuns() []*runs.Run {
	out := append([]*runs.Run(nil), p.side...)
	for _, id := range p.sideLive {
		if j, ok := p.ctx.Jobs[id]; ok {
			out = append(out, &runs.Run{Meta: liveMeta(j), Loss: liveLoss(j)})
		}
	}
	return out
}
