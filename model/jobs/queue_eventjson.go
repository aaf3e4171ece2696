package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"
)

// maxEventMessage bounds an event's message in the log; a longer one (a
// huge error text) is cut.
const maxEventMessage = 4 << 10

// eventJSON is an Event as one line of events.jsonl. The job is the file's;
// durations are seconds; a NaN or infinite loss is null.
type eventJSON struct {
	Kind      EventKind `json:"kind"`
	Time      time.Time `json:"time"`
	Step      int       `json:"step,omitzero"`
	Epoch     int       `json:"epoch,omitzero"`
	TrainLoss jsonFloat `json:"train_loss,omitzero"`
	ValLoss   jsonFloat `json:"val_loss,omitzero"`
	ValEV     jsonFloat `json:"val_ev,omitzero"`
	ValR      jsonFloat `json:"val_r,omitzero"`
	Done      int       `json:"done,omitzero"`
	Total     int       `json:"total,omitzero"`
	Elapsed   float64   `json:"elapsed,omitzero"`
	ETA       float64   `json:"eta,omitzero"`
	Message   string    `json:"message,omitzero"`
	RunID     string    `json:"run_id,omitzero"`
}

// jsonFloat is a float64 that JSON holds as null when it is not finite.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(f))
}

func marshalEvent(ev Event) ([]byte, error) {
	msg := ev.Message
	if len(msg) > maxEventMessage {
		msg = msg[:maxEventMessage] + "..."
	}
	return json.Marshal(eventJSON{Kind: ev.Kind, Time: ev.Time.UTC(), Step: ev.Step, Epoch: ev.Epoch,
		TrainLoss: jsonFloat(ev.TrainLoss), ValLoss: jsonFloat(ev.ValLoss), ValEV: jsonFloat(ev.ValEV),
		ValR: jsonFloat(ev.ValR), Done: ev.Done, Total: ev.Total, Elapsed: ev.Elapsed.Seconds(),
		ETA: ev.ETA.Seconds(), Message: msg, RunID: ev.RunID})
}

func unmarshalEvent(line []byte) (Event, error) {
	var j eventJSON
	if err := json.Unmarshal(line, &j); err != nil {
		return Event{}, err
	}
	if j.Kind == "" {
		return Event{}, fmt.Errorf("no kind")
	}
	return Event{Kind: j.Kind, Time: j.Time, Step: j.Step, Epoch: j.Epoch, TrainLoss: float64(j.TrainLoss),
		ValLoss: float64(j.ValLoss), ValEV: float64(j.ValEV), ValR: float64(j.ValR), Done: j.Done, Total: j.Total,
		Elapsed: time.Duration(j.Elapsed * float64(time.Second)), ETA: time.Duration(j.ETA * float64(time.Second)),
		Message: j.Message, RunID: j.RunID}, nil
}

// AppendEvent adds ev to the log (its Job is the log's, not written).
func (w *EventWriter) AppendEvent(ev Event) error {
	b, err := marshalEvent(ev)
	if err != nil {
		return fmt.Errorf("%s: %s event: %w", w.path, ev.Kind, err)
	}
	return w.Append(ev.Kind, b)
}

// Events is TailEvents decoded. A line that is not an event is an error
// naming the file; the returned cursor is past it, so the next call goes on.
func (q *Queue) Events(id string, cur Cursor) (evs []Event, next Cursor, reset bool, err error) {
	lines, next, reset, err := q.TailEvents(id, cur)
	if err != nil {
		return nil, cur, false, err
	}
	evs = make([]Event, 0, len(lines))
	for _, l := range lines {
		ev, derr := unmarshalEvent(l)
		if derr != nil {
			err = fmt.Errorf("%s: line %.60q: want an event {\"kind\":...}: %v", filepath.Join(q.Path(id), EventsJSONL), l, derr)
			continue
		}
		evs = append(evs, ev)
	}
	return evs, next, reset, err
}

// progressWindow is how much of the end of a job's log Progress reads.
const progressWindow = 64 << 10

// Progress folds the last events of job id's log into a status: its
// progress (Done, Total, ETA), step, epoch and last message, for listings
// that do not follow the job (itscope jobs). It reads at most the last
// 64 KB of the log.
func (q *Queue) Progress(id string) (JobStatus, error) {
	var st JobStatus
	if id == "" || id[0] == '.' || filepath.Base(id) != id {
		return st, fmt.Errorf("job queue %s: job %q: %w", q.Dir, id, ErrNoJob)
	}
	path := filepath.Join(q.Path(id), EventsJSONL)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return st, err
	}
	off := max(0, fi.Size()-progressWindow)
	buf := make([]byte, fi.Size()-off)
	n, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return st, err
	}
	buf = buf[:n]
	// The window starts mid-line (or at the header): skip to a line start.
	_, buf, _ = bytes.Cut(buf, []byte{'\n'})
	for _, line := range completeLines(buf) {
		ev, err := unmarshalEvent(line)
		if err != nil {
			continue
		}
		switch ev.Kind {
		case EventStarted:
			st.Started = ev.Time
		case EventProgress, EventStep, EventEpoch, EventLog:
			applyEvent(&st, &ev)
		}
	}
	return st, nil
}
