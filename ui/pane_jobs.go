package ui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// jobsPane is the queue: every job with its progress, rate and ETA.
type jobsPane struct {
	ctx  *Context
	w, h int
	row  cursor
}

func newJobsPane(ctx *Context) *jobsPane { return &jobsPane{ctx: ctx} }

func (p *jobsPane) Title() string    { return "Jobs" }
func (p *jobsPane) SetSize(w, h int) { p.w, p.h = w, h }
func (p *jobsPane) Capturing() bool  { return false }
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

func (p *jobsPane) Update(msg tea.Msg) tea.Cmd {
	km, ok := msg.(tea.KeyMsg)
	if !ok {
		return nil
	}
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
		if job.State.Finished() {
			return setStatus("job %d has already %s", job.ID, job.State)
		}
		p.ctx.Engine.Cancel(job.ID)
		return setStatus("cancelling job %d…", job.ID)
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
	barW := 20
	nameW := max(10, p.w-2-4-2-1-9-1-barW-10-9-9-1)
	head := fmt.Sprintf("%4s  %-*s %-9s %-*s %9s %8s %8s", "id", nameW, "job", "state", barW, "progress", "done", "rate", "eta")
	lines := []string{st.Heading.Render(head)}
	first, end := p.row.window(len(p.ctx.JobOrder), p.h-3)
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
			eta = fmtDuration(j.ETA)
		case j.State.Finished():
			eta = fmtDuration(j.Elapsed)
		}
		state := p.stateStyle(j.State).Render(fmt.Sprintf("%-9s", j.State))
		name := fmt.Sprintf("%-*.*s", nameW, nameW, j.Name)
		prefix := fmt.Sprintf("%4d  %s", j.ID, name)
		if i == p.row.pos {
			prefix = selectLine(st, prefix, ansiWidth(prefix))
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %9s %8s %8s", prefix, state, progressBar(st, frac, barW), doneStr, rate, eta))
		if j.Err != "" && i == p.row.pos {
			lines = append(lines, st.Bad.Render("      "+j.Err))
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

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

func fmtRate(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f/s", r)
	case r >= 1:
		return fmt.Sprintf("%.1f/s", r)
	}
	return fmt.Sprintf("%.2f/s", r)
}
