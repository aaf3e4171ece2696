package ui

import (
	"fmt"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data"
	"itscope/model/jobs"
)

// cancelJob cancels job after asking, if this session may: its own jobs
// (the same key as the session's User; on one's own machine both are
// empty), or any job for an admin. The engine records who cancelled it.
func (c *Context) cancelJob(job jobs.JobStatus) tea.Cmd {
	if job.State.Finished() {
		return setStatus("job %d has already %s", job.ID, job.State)
	}
	if ownerKey(job.Owner) != ownerKey(c.User) && !c.Admin {
		return setError(fmt.Errorf("job %d belongs to %s: only its owner or an admin may cancel it", job.ID, ownerName(job.Owner)))
	}
	prompt := fmt.Sprintf("cancel job %d, %s", job.ID, job.Name)
	if job.Owner != "" {
		prompt += " of " + ownerName(job.Owner)
	}
	return confirm(data.Printable(prompt+"?"), func() tea.Cmd {
		c.Engine.CancelBy(job.ID, c.User)
		return setStatus("cancelling job %d…", job.ID)
	})
}

// ownerKey is the key fingerprint an owner identity ends with: what
// decides, whatever the key's comment says.
func ownerKey(owner string) string {
	if i := strings.LastIndexByte(owner, ' '); i >= 0 {
		return owner[i+1:]
	}
	return owner
}

// ownerName is how an owner is shown: the key's comment, else the start of
// its fingerprint, "—" for a local job.
func ownerName(owner string) string {
	if owner == "" {
		return "—"
	}
	if i := strings.LastIndexByte(owner, ' '); i > 0 {
		return data.Printable(owner[:i])
	}
	fp := strings.TrimPrefix(owner, "SHA256:")
	return "key " + data.Printable(fp[:min(8, len(fp))])
}
