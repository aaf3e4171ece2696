package ui

import (
	"fmt"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data"
	"itscope/model/jobs"
)

// cancelJob cancels job after asking, if this session may: its own jobs
// (Owner is the session's User; on one's own machine both are empty), or
// any job for an admin. The engine records who cancelled it.
func (c *Context) cancelJob(job jobs.JobStatus) tea.Cmd {
	if job.State.Finished() {
		return setStatus("job %d has already %s", job.ID, job.State)
	}
	if job.Owner != c.User && !c.Admin {
		return setError(fmt.Errorf("job %d belongs to %s: only its owner or an admin may cancel it", job.ID, ownerName(job)))
	}
	prompt := fmt.Sprintf("cancel job %d, %s", job.ID, job.Name)
	if job.Owner != "" {
		prompt += " of " + ownerName(job)
	}
	return confirm(data.Printable(prompt+"?"), func() tea.Cmd {
		by := c.UserName
		if c.User != "" {
			by += " (" + c.User + ")"
		}
		c.Engine.CancelBy(job.ID, by)
		return setStatus("cancelling job %d…", job.ID)
	})
}

// ownerName is how a job's owner is shown: the key's name, else its
// fingerprint, "—" for a local job.
func ownerName(job jobs.JobStatus) string {
	switch {
	case job.OwnerName != "":
		return data.Printable(job.OwnerName)
	case job.Owner != "":
		return data.Printable(job.Owner)
	}
	return "—"
}
