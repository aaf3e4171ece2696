package ui

import (
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// jobMsg carries the engine events that arrived together and each of
// their jobs' status right after them. The statuses are read in the
// command's goroutine, so Update never waits on the engine's lock.
type jobMsg struct {
	events   []jobs.Event
	statuses []jobs.JobStatus
	ch       <-chan jobs.Event
}

// has reports whether any of the events is of kind k (or, for "terminal",
// ends a job).
func (m jobMsg) has(match func(jobs.EventKind) bool) bool {
	for _, ev := range m.events {
		if match(ev.Kind) {
			return true
		}
	}
	return false
}

// jobsClosedMsg says the subscription ended.
type jobsClosedMsg struct{}

// batchWindow is how long events are gathered into one update. Training
// steps arrive by the hundred per second; redrawing for each would take the
// time that keys need, so the screen follows jobs at about 30 frames a
// second instead.
const batchWindow = 30 * time.Millisecond

// waitEvent blocks in a command goroutine, never in Update, until the engine
// sends events, and gathers those that follow within batchWindow.
func waitEvent(eng *jobs.Engine, ch <-chan jobs.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return jobsClosedMsg{}
		}
		events := []jobs.Event{ev}
		timer := time.NewTimer(batchWindow)
		defer timer.Stop()
	gather:
		for len(events) < 1024 {
			select {
			case ev, ok := <-ch:
				if !ok {
					break gather
				}
				events = append(events, ev)
			case <-timer.C:
				break gather
			}
		}
		var statuses []jobs.JobStatus
		seen := map[jobs.JobID]bool{}
		for _, ev := range events {
			if !seen[ev.Job] {
				seen[ev.Job] = true
				if st, ok := eng.Status(ev.Job); ok {
					statuses = append(statuses, st)
				}
			}
		}
		return jobMsg{events: events, statuses: statuses, ch: ch}
	}
}

// snapshotMsg is every job the engine knows, for a session that opens while
// others' jobs run.
type snapshotMsg []jobs.JobStatus

func snapshot(eng *jobs.Engine) tea.Cmd {
	return func() tea.Msg { return snapshotMsg(eng.Snapshot()) }
}

// runsMsg is the run store's listing.
type runsMsg struct {
	runs []runs.RunMeta
	err  error
}

func loadRuns(st *runs.Store) tea.Cmd {
	return func() tea.Msg {
		runs, err := st.List()
		return runsMsg{runs: runs, err: err}
	}
}
