package ui

import (
	"fmt"
	"math"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// livePane draws a training job's loss curves as they grow, and its
// validation EV per epoch. It follows the newest training job: ←/→ look at
// another one until a newer job starts, p pins the one shown so that it
// stays.
type livePane struct {
	paneBase
	job    jobs.JobID // the job looked at; 0 follows the newest
	pinned bool
	newest jobs.JobID // the newest training job seen, to notice a new one
}

func newLivePane(ctx *Context) *livePane { return &livePane{paneBase: paneBase{ctx: ctx}} }

func (p *livePane) Title() string { return "Live" }
func (p *livePane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	pin := withHelp(k.Pin, "p", "pin")
	if p.pinned {
		pin = withHelp(k.Pin, "p", "unpin")
	}
	return []key.Binding{withHelp(k.Left, "←/→", "other job"), pin, withHelp(k.Back, "esc", "follow newest"), k.Cancel}
}
func (p *livePane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{{withHelp(k.Left, "←/h", "previous job"), withHelp(k.Right, "→/l", "next job")},
		{withHelp(k.Pin, "p", "pin / unpin the job shown"), withHelp(k.Back, "esc", "follow newest"), k.Cancel}}
}

// trainingJobs are the jobs that have loss curves.
func (p *livePane) trainingJobs() []jobs.JobID {
	var out []jobs.JobID
	for _, id := range p.ctx.JobOrder {
		if trains(p.ctx.Jobs[id]) {
			out = append(out, id)
		}
	}
	return out
}

func (p *livePane) current() (jobs.JobStatus, bool) {
	if p.job != 0 {
		j, ok := p.ctx.Jobs[p.job]
		return j, ok
	}
	ids := p.trainingJobs()
	// Follow the newest running training job, else the newest one.
	for i := len(ids) - 1; i >= 0; i-- {
		if j := p.ctx.Jobs[ids[i]]; j.State == runs.Running {
			return j, true
		}
	}
	if len(ids) == 0 {
		return jobs.JobStatus{}, false
	}
	return p.ctx.Jobs[ids[len(ids)-1]], true
}

// noticeNewJobs goes back to following when a newer training job appears,
// unless the job shown is pinned.
func (p *livePane) noticeNewJobs() {
	ids := p.trainingJobs()
	if len(ids) == 0 || ids[len(ids)-1] <= p.newest {
		return
	}
	p.newest = ids[len(ids)-1]
	if !p.pinned {
		p.job = 0
	}
}

func (p *livePane) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case jobMsg, snapshotMsg:
		p.noticeNewJobs()
	case watchJobMsg:
		p.noticeNewJobs()
		p.job = jobs.JobID(msg)
	}
	return nil
}

func (p *livePane) Key(msg tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	ids := p.trainingJobs()
	cur, ok := p.current()
	switch {
	case keyIs(msg, k.Back):
		p.job, p.pinned = 0, false
		return setStatus("following the newest training job")
	case keyIs(msg, k.Pin):
		if !ok {
			return setStatus("no training job to pin")
		}
		p.pinned = !p.pinned
		if p.pinned {
			p.job = cur.ID
			return setStatus("job %d pinned: Live stays on it when new jobs start", cur.ID)
		}
		return setStatus("job %d unpinned: Live moves to the next new job", cur.ID)
	case keyIs(msg, k.Left), keyIs(msg, k.Right), keyIs(msg, k.Up), keyIs(msg, k.Down):
		return p.step(ids, cur, ok, keyIs(msg, k.Left) || keyIs(msg, k.Up))
	case keyIs(msg, k.Cancel):
		switch {
		case !ok:
			return setStatus("nothing to cancel: no training job")
		case cur.State.Finished():
			return setStatus("nothing to cancel: job %d has already %s", cur.ID, cur.State)
		}
		return p.ctx.cancelJob(cur)
	}
	return nil
}

// step shows the training job before or after the current one.
func (p *livePane) step(ids []jobs.JobID, cur jobs.JobStatus, ok, back bool) tea.Cmd {
	if len(ids) == 0 {
		return nil
	}
	i := 0
	for n, id := range ids {
		if ok && id == cur.ID {
			i = n
		}
	}
	if back {
		i = (i + len(ids) - 1) % len(ids)
	} else {
		i = (i + 1) % len(ids)
	}
	p.job = ids[i]
	return nil
}

func (p *livePane) View() string {
	st := p.ctx.Styles
	j, ok := p.current()
	if !ok {
		return box(st, "Live", st.Dim.Render("No training job yet. Choose \"CNN from scratch\" in Model, then start a grid."), p.w, p.h, true)
	}
	follow := st.Dim.Render("  (following the newest; p pins)")
	switch {
	case p.pinned:
		follow = st.Warn.Render("  (pinned; p unpins)")
	case p.job != 0:
		follow = st.Dim.Render("  (until a new job starts; p pins, esc follows)")
	}
	head := st.Heading.Render(fmt.Sprintf("job %d  %s", j.ID, j.Name)) + follow + "\n" +
		kv(st, "state", string(j.State)) + "   " + kv(st, "epoch", fmt.Sprint(j.Epoch)) + "   " +
		kv(st, "step", fmt.Sprint(j.Step)) + "   " + kv(st, "elapsed", fmtDuration(j.Elapsed))
	if j.ETA > 0 {
		head += "   " + kv(st, "eta", fmtDuration(j.ETA))
	}

	tableW := 34
	chartW := p.w - 2 - tableW - 2
	chartH := max(3, (p.h-2-2-6)/2)

	steps := make([]float64, 0, len(j.StepLoss))
	for _, pt := range j.StepLoss {
		steps = append(steps, pt.TrainLoss)
	}
	steps = downsample(steps, chartW-10)
	var train, val []float64
	for _, e := range j.Epochs {
		train = append(train, e.TrainLoss)
		val = append(val, e.ValLoss)
	}
	legend := st.Series[0].Render("── train") + "  " + st.Series[1].Render("── val")
	if st.Plain {
		legend = "── train   ··· val"
	}
	charts := st.Label.Render(fmt.Sprintf("training loss per step (%d steps)", len(j.StepLoss))) + "\n" +
		lineChart(st, [][]float64{steps}, chartW, chartH, "") + "\n\n" +
		st.Label.Render("loss per epoch  ") + legend + "\n" +
		lineChart(st, [][]float64{stretch(train, chartW-10), stretch(val, chartW-10)}, chartW, chartH, "")

	var t strings.Builder
	t.WriteString(st.Heading.Render(fmt.Sprintf("%5s %10s %8s %6s", "epoch", "train loss", "val loss", "val EV")) + "\n")
	best := -1
	for i, e := range j.Epochs {
		if best < 0 || e.ValEV > j.Epochs[best].ValEV {
			best = i
		}
	}
	first := max(0, len(j.Epochs)-(p.h-6))
	for i := first; i < len(j.Epochs); i++ {
		e := j.Epochs[i]
		line := fmt.Sprintf("%5d %10s %8s %6s", e.Epoch, fmtNum(e.TrainLoss), fmtNum(e.ValLoss), fmtNum(e.ValEV))
		if i == best {
			line = st.Good.Render(line + " ★")
		}
		t.WriteString(line + "\n")
	}
	if len(j.Epochs) == 0 {
		t.WriteString(st.Dim.Render("no epoch finished yet"))
	}
	// The wheel over the charts turns to the previous or next training job.
	p.ctx.zones.add(0, 0, p.w, p.h, nil, func(d int) tea.Cmd {
		cur, ok := p.current()
		return p.step(p.trainingJobs(), cur, ok, d < 0)
	})
	body := head + "\n\n" + lipgloss.JoinHorizontal(lipgloss.Top, fitBlock(charts, chartW, p.h-5), "  ", t.String())
	return box(st, "Live", body, p.w, p.h, true)
}

// downsample keeps at most n points, each the mean of its stretch, so a long
// run still fits the chart's width.
func downsample(xs []float64, n int) []float64 {
	if n <= 0 || len(xs) <= n {
		return xs
	}
	out := make([]float64, n)
	for i := range out {
		a, b := i*len(xs)/n, (i+1)*len(xs)/n
		s := 0.0
		for _, x := range xs[a:b] {
			s += x
		}
		out[i] = s / float64(b-a)
	}
	return out
}

// stretch repeats the points of a short series so that the epoch curves
// spread over the chart instead of bunching at its left edge.
func stretch(xs []float64, n int) []float64 {
	if len(xs) == 0 || len(xs) >= n {
		return downsample(xs, n)
	}
	if len(xs) == 1 {
		return []float64{xs[0], xs[0]}
	}
	out := make([]float64, n)
	for i := range out {
		t := float64(i) * float64(len(xs)-1) / float64(n-1)
		a := int(math.Floor(t))
		b := min(a+1, len(xs)-1)
		f := t - float64(a)
		out[i] = xs[a]*(1-f) + xs[b]*f
	}
	return out
}
