package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/runs"
)

// jobsPane is the queue: every job with its progress, rate and ETA.
type jobsPane struct {
	paneBase
	row cursor
}

func newJobsPane(ctx *Context) *jobsPane { return &jobsPane{paneBase: paneBase{ctx: ctx}} }

func (p *jobsPane) Title() string { return "Jobs" }
func (p *jobsPane) ShortHelp() []key.Binding {
	k := p.ctx.Keys
	return []key.Binding{k.Up, k.Down, withHelp(k.Enter, "enter", "live / results"), k.Cancel}
}
func (p *jobsPane) FullHelp() [][]key.Binding {
	k := p.ctx.Keys
	return [][]key.Binding{{k.Up, k.Down, k.Top, k.Bottom}, {withHelp(k.Enter, "enter", "live / results"), k.Cancel}}
}

func (p *jobsPane) selected() (jobs.JobStatus, bool) {
	if len(p.ctx.JobOrder) == 0 {
		return jobs.JobStatus{}, false
	}
	id := p.ctx.JobOrder[min(p.row.pos, len(p.ctx.JobOrder)-1)]
	return p.ctx.Jobs[id], true
}

func (p *jobsPane) Key(km tea.KeyMsg) tea.Cmd {
	k := p.ctx.Keys
	if navigate(k, km, &p.row, len(p.ctx.JobOrder), max(1, p.h-4)) {
		return nil
	}
	job, ok := p.selected()
	if !ok {
		return nil
	}
	switch {
	case keyIs(km, k.Cancel):
		return p.ctx.cancelJob(job)
	case keyIs(km, k.Enter):
		if job.State == runs.Done && job.RunID != "" && job.Kind != "train" && job.Kind != "cotrain" {
			return tea.Batch(openRun(job.RunID), gotoPane(paneResults))
		}
		return tea.Batch(func() tea.Msg { return watchJobMsg(job.ID) }, gotoPane(paneLive))
	}
	return nil
}

// watchJobMsg asks the Live pane to show a job.
type watchJobMsg jobs.JobID

func (p *jobsPane) View() string {
	st := p.ctx.Styles
	if len(p.ctx.JobOrder) == 0 {
		return box(st, "Jobs", st.Dim.Render("No jobs yet. Pick a model, set a grid, press s in Grid."), p.w, p.h, true)
	}
	// A server's jobs have owners: their column takes room from the bar.
	barW, ownerW := 20, 0
	for _, j := range p.ctx.Jobs {
		if j.Owner != "" {
			barW, ownerW = 12, 10
			break
		}
	}
	nameW := max(10, p.w-2-4-2-1-9-1-barW-11-9-11-1-ownerW)
	// The time column is what is left of a running job and what a
	// finished one took, and says which.
	head := fmt.Sprintf("%4s  %-*s %-9s %-*s %10s %8s %10s", "id", nameW, "job", "state", barW, "progress", "done/total", "rate", "time")
	if ownerW > 0 {
		head = fmt.Sprintf("%4s  %-*s %-*s%-9s %-*s %10s %8s %10s", "id", nameW, "job", ownerW, "owner", "state", barW, "progress", "done/total", "rate", "time")
	}
	lines := []string{st.Heading.Render(head)}
	first, end := p.row.window(len(p.ctx.JobOrder), p.h-3)
	z := &p.ctx.zones
	z.add(0, 0, p.w, p.h, nil, scroll(&p.row, func() int { return len(p.ctx.JobOrder) }))
	running, queued, done := 0, 0, 0
	for _, id := range p.ctx.JobOrder {
		switch p.ctx.Jobs[id].State {
		case runs.Running:
			running++
		case runs.Queued:
			queued++
		case runs.Done:
			done++
		}
	}
	for i := first; i < end; i++ {
		j := p.ctx.Jobs[p.ctx.JobOrder[i]]
		frac := 0.0
		if j.Total > 0 {
			frac = float64(j.Done) / float64(j.Total)
		}
		if j.State == runs.Done {
			frac = 1
		}
		doneStr := "—"
		if j.Total > 0 {
			doneStr = fmt.Sprintf("%d/%d", j.Done, j.Total)
		}
		rate := "—"
		switch {
		case j.Rate > 0:
			rate = fmtRate(j.Rate)
		case j.Done > 0 && j.Elapsed > 0:
			// Training reports steps, not progress events: derive the rate.
			rate = fmtRate(float64(j.Done) / j.Elapsed.Seconds())
		}
		eta := "—"
		switch {
		case j.State == runs.Running && j.ETA > 0:
			eta = "eta " + fmtDuration(j.ETA)
		case j.State.Finished():
			eta = "took " + fmtDuration(j.Elapsed)
		}
		state := p.stateStyle(j.State).Render(fmt.Sprintf("%-9s", j.State))
		name := fmt.Sprintf("%-*.*s", nameW, nameW, data.Printable(j.Name))
		if ownerW > 0 {
			name += fmt.Sprintf(" %-*.*s", ownerW-1, ownerW-1, ownerName(j.Owner))
		}
		prefix := fmt.Sprintf("%4d  %s", j.ID, name)
		if i == p.row.pos {
			prefix = selectLine(st, prefix, ansiWidth(prefix))
		}
		z.rows(1, len(lines)+1, p.w-2, i, 1, func(i int) tea.Cmd {
			p.row.pos = i
			return nil
		}, nil)
		lines = append(lines, fmt.Sprintf("%s %s %s %10s %8s %10s", prefix, state, progressBar(st, frac, barW), doneStr, rate, eta))
		if j.Err != "" && i == p.row.pos {
			lines = append(lines, st.Bad.Render("      "+data.Printable(j.Err)))
		}
		if j.CancelledBy != "" && i == p.row.pos {
			lines = append(lines, st.Dim.Render("      cancelled by "+data.Printable(j.CancelledBy)))
		}
	}
	title := fmt.Sprintf("Jobs — %d running, %d queued, %d done", running, queued, done)
	return box(st, title, strings.Join(lines, "\n"), p.w, p.h, true)
}

func (p *jobsPane) stateStyle(s runs.State) lipglossStyle {
	st := p.ctx.Styles
	switch s {
	case runs.Done:
		return st.Good
	case runs.Failed:
		return st.Bad
	case runs.Cancelled, runs.Queued:
		return st.Warn
	}
	return st.Value
}
