package jobs

import (
	"fmt"
	"time"

	"itscope/model/runs"
)

// EventKind says what an Event reports.
type EventKind string

// Event kinds. A job emits progress, step, epoch and log events while it
// runs; the engine emits queued, started and exactly one of done, failed or
// cancelled.
const (
	EventQueued   EventKind = "queued"
	EventStarted  EventKind = "started"
	EventProgress EventKind = "progress" // Done of Total units (images, layers, folds)
	EventStep     EventKind = "step"     // one optimiser step: Step, Epoch, TrainLoss
	EventEpoch    EventKind = "epoch"    // end of an epoch: Epoch, TrainLoss, ValLoss, ValEV, ValR
	EventLog      EventKind = "log"      // a line of text in Message
	// The last event of a job is its final state: RunID names the saved
	// run; Message holds the error of a failed job.
	EventDone      = EventKind(runs.Done)
	EventFailed    = EventKind(runs.Failed)
	EventCancelled = EventKind(runs.Cancelled)
)

// Terminal reports whether k ends a job.
func (k EventKind) Terminal() bool {
	return k == EventDone || k == EventFailed || k == EventCancelled
}

// Event is one report from a running job. Jobs fill the fields their kind
// uses and leave the rest zero; the engine stamps Job, Time, Elapsed and,
// when the job gives Done and Total but no ETA, ETA.
type Event struct {
	Job  JobID
	Kind EventKind
	Time time.Time

	Step      int
	Epoch     int
	TrainLoss float64
	ValLoss   float64
	ValEV     float64
	ValR      float64

	Done, Total int // units of work, for progress bars; Total 0 if unknown

	Elapsed time.Duration // since the job started
	ETA     time.Duration // estimated time left, 0 if unknown

	Message string
	RunID   string // on done (and on cancelled/failed when a partial run was saved)
}

// String renders the event as one line, as the CLI prints it.
func (e Event) String() string {
	switch e.Kind {
	case EventProgress:
		s := fmt.Sprintf("job %d: %d", e.Job, e.Done)
		if e.Total > 0 {
			s += fmt.Sprintf("/%d", e.Total)
		}
		if e.ETA > 0 {
			s += fmt.Sprintf(" ETA %s", e.ETA.Round(time.Second))
		}
		if e.Message != "" {
			s += " " + e.Message
		}
		return s
	case EventStep:
		return fmt.Sprintf("job %d: epoch %d step %d loss %.4g", e.Job, e.Epoch, e.Step, e.TrainLoss)
	case EventEpoch:
		return fmt.Sprintf("job %d: epoch %d train loss %.4g val loss %.4g val EV %.4f val r %.4f (%s)",
			e.Job, e.Epoch, e.TrainLoss, e.ValLoss, e.ValEV, e.ValR, e.Elapsed.Round(time.Second))
	case EventDone:
		return fmt.Sprintf("job %d: done in %s, run %s", e.Job, e.Elapsed.Round(time.Millisecond), e.RunID)
	}
	if e.Message != "" {
		return fmt.Sprintf("job %d: %s: %s", e.Job, e.Kind, e.Message)
	}
	return fmt.Sprintf("job %d: %s", e.Job, e.Kind)
}
