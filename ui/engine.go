package ui

import (
	tea "github.com/charmbracelet/bubbletea"

	"itscope/model"
)

// jobMsg carries one engine event and the job's status right after it. The
// status is read in the command's goroutine, so Update never waits on the
// engine's lock.
type jobMsg struct {
	ev     model.Event
	status model.JobStatus
	ch     <-chan model.Event
}

// jobsClosedMsg says the subscription ended.
type jobsClosedMsg struct{}

// waitEvent blocks in a command goroutine, never in Update, until the engine
// sends the next event.
func waitEvent(eng *model.Engine, ch <-chan model.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return jobsClosedMsg{}
		}
		st, _ := eng.Status(ev.Job)
		return jobMsg{ev: ev, status: st, ch: ch}
	}
}

// snapshotMsg is every job the engine knows, for a session that opens while
// others' jobs run.
type snapshotMsg []model.JobStatus

func snapshot(eng *model.Engine) tea.Cmd {
	return func() tea.Msg { return snapshotMsg(eng.Snapshot()) }
}

// runsMsg is the run store's listing.
type runsMsg struct {
	runs []model.RunMeta
	err  error
}

func loadRuns(st *model.Store) tea.Cmd {
	return func() tea.Msg {
		runs, err := st.List()
		return runsMsg{runs: runs, err: err}
	}
}
