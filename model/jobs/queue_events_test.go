package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

type testEvent struct {
	Kind      EventKind `json:"kind"`
	Step      int       `json:"step,omitempty"`
	Epoch     int       `json:"epoch,omitempty"`
	TrainLoss float64   `json:"train_loss,omitempty"`
	Message   string    `json:"message,omitempty"`
}

func appendEvent(t *testing.T, w *EventWriter, ev testEvent) {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Append(ev.Kind, b); err != nil {
		t.Fatal(err)
	}
}

func readEvents(t *testing.T, path string) (eventHeader, []testEvent, int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	hdr, body, err := splitEventHeader(path, data)
	if err != nil {
		t.Fatal(err)
	}
	var evs []testEvent
	for _, l := range completeLines(body) {
		var ev testEvent
		if err := json.Unmarshal(l, &ev); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		evs = append(evs, ev)
	}
	return hdr, evs, len(data)
}

// A long training's events stay within the bounds; every epoch and
// lifecycle event is kept, the newest steps are whole, and the older ones
// are thinned evenly, from the very first step on.
func TestEventLogBoundUnderLongTraining(t *testing.T) {
	path := filepath.Join(t.TempDir(), EventsJSONL)
	w, err := openEventWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	const steps, perEpoch = 100_000, 1000
	appendEvent(t, w, testEvent{Kind: "started", Message: "cnn"})
	for s := 1; s <= steps; s++ {
		appendEvent(t, w, testEvent{Kind: "step", Step: s, Epoch: (s-1)/perEpoch + 1, TrainLoss: 1 / float64(s)})
		if s%perEpoch == 0 {
			appendEvent(t, w, testEvent{Kind: "epoch", Step: s, Epoch: s / perEpoch, TrainLoss: 0.5,
				Message: fmt.Sprintf("epoch %d of %d", s/perEpoch, steps/perEpoch)})
		}
		if s%5000 == 0 {
			appendEvent(t, w, testEvent{Kind: "log", Message: "checkpoint"})
		}
	}
	appendEvent(t, w, testEvent{Kind: "done"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	hdr, evs, size := readEvents(t, path)
	lines := len(evs) + 1
	t.Logf("%d lines, %d bytes, generation %d", lines, size, hdr.Generation)
	if lines > MaxEventLines || size > MaxEventBytes {
		t.Fatalf("%d lines, %d bytes: want at most %d lines and %d bytes", lines, size, MaxEventLines, MaxEventBytes)
	}
	if hdr.Generation < 2 {
		t.Errorf("generation %d: the log was never thinned", hdr.Generation)
	}
	var epochs, logs int
	var stepsKept []int
	for _, ev := range evs {
		switch ev.Kind {
		case "epoch":
			epochs++
			if ev.Epoch != epochs {
				t.Errorf("epoch %d where %d expected", ev.Epoch, epochs)
			}
		case "log":
			logs++
		case "step":
			stepsKept = append(stepsKept, ev.Step)
		}
	}
	if evs[0].Kind != "started" || evs[len(evs)-1].Kind != "done" {
		t.Errorf("first %q, last %q; want started and done", evs[0].Kind, evs[len(evs)-1].Kind)
	}
	if epochs != steps/perEpoch || logs != steps/5000 {
		t.Errorf("%d epochs and %d logs kept, want %d and %d", epochs, logs, steps/perEpoch, steps/5000)
	}
	n := len(stepsKept)
	for i := n - recentKept; i < n; i++ {
		if stepsKept[i] != steps-(n-1-i) {
			t.Fatalf("recent step %d missing: kept[%d] = %d", steps-(n-1-i), i, stepsKept[i])
		}
	}
	if stride := stepsKept[1] - stepsKept[0]; stepsKept[0] != stride || stride&(stride-1) != 0 {
		t.Errorf("first steps kept %d, %d: want a power-of-two grid from the start", stepsKept[0], stepsKept[1])
	}
	// The older steps are a grid over the whole training (the steps since
	// the last rewrite, beyond the recent window, are still whole).
	count := func(lo, hi int) int {
		c := 0
		for _, s := range stepsKept {
			if s > lo && s <= hi {
				c++
			}
		}
		return c
	}
	early, late := count(0, 25_000), count(74_000, 99_000)
	if early < 1000 || early > late {
		t.Errorf("steps kept: %d in the first quarter, %d in the last before the recent window; want over 1000, and no more than later", early, late)
	}
}

func TestEventLogByteBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), EventsJSONL)
	w, err := openEventWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	w.maxBytes = 64 << 10
	long := string(bytes.Repeat([]byte("m"), 1000))
	for i := 0; i < 300; i++ {
		appendEvent(t, w, testEvent{Kind: "log", Message: long})
		appendEvent(t, w, testEvent{Kind: "epoch", Epoch: i + 1})
	}
	w.Close()
	_, evs, size := readEvents(t, path)
	if size > 64<<10 {
		t.Errorf("%d bytes, want at most %d", size, 64<<10)
	}
	epochs := 0
	for _, ev := range evs {
		if ev.Kind == "epoch" {
			epochs++
		}
	}
	if epochs != 300 {
		t.Errorf("%d epochs kept, want all 300 (log lines go first)", epochs)
	}
}

func TestEventLogRejectsBadLines(t *testing.T) {
	w, err := openEventWriter(filepath.Join(t.TempDir(), EventsJSONL))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{"{\"kind\":\n\"log\"}", `{"kind":`, "{\"m\":\"" + string(bytes.Repeat([]byte("x"), maxEventLine)) + "\"}"} {
		if err := w.Append(EventLog, []byte(line)); err == nil {
			t.Errorf("Append(%.30q) accepted", line)
		}
	}
}

// A reader polling TailEvents gets every line once, in order, and starts
// over (reset) when the writer thins the log.
func TestTailEventsIncremental(t *testing.T) {
	q := openTestQueue(t)
	id := submit(t, q, "train", "cnn")
	l, err := q.Claim(id, "local", "h:1")
	if err != nil {
		t.Fatal(err)
	}
	if lines, cur, reset, err := q.TailEvents(id, Cursor{}); err != nil || len(lines) != 0 || cur != (Cursor{}) || reset {
		t.Fatalf("before start: %d lines, %+v, %v, %v", len(lines), cur, reset, err)
	}
	if err := l.Start(); err != nil {
		t.Fatal(err)
	}
	w := l.Events()
	w.maxLines = 400
	var cur Cursor
	var seen []testEvent
	resets := 0
	poll := func() {
		lines, next, reset, err := q.TailEvents(id, cur)
		if err != nil {
			t.Fatal(err)
		}
		if reset {
			resets++
			seen = seen[:0]
		}
		for _, line := range lines {
			var ev testEvent
			if err := json.Unmarshal(line, &ev); err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			seen = append(seen, ev)
		}
		cur = next
	}
	for s := 1; s <= 1000; s++ {
		appendEvent(t, w, testEvent{Kind: "epoch", Step: s}) // written at once
		if s%7 == 0 {
			poll()
		}
	}
	poll()
	if resets < 2 {
		t.Errorf("%d resets, want the first poll and at least one thinning", resets)
	}
	_, onDisk, _ := readEvents(t, filepath.Join(q.Path(id), EventsJSONL))
	if len(seen) != len(onDisk) {
		t.Fatalf("reader holds %d events, the file %d", len(seen), len(onDisk))
	}
	for i := range seen {
		if seen[i] != onDisk[i] {
			t.Fatalf("event %d: reader %+v, file %+v", i, seen[i], onDisk[i])
		}
	}
	if lines, next, reset, _ := q.TailEvents(id, cur); len(lines) != 0 || next != cur || reset {
		t.Errorf("poll with nothing new: %d lines, reset %v", len(lines), reset)
	}
	l.Finish("done", "", "")
}

// A half-written last line is not returned until its newline arrives; a
// writer reopening the log after a crash drops it.
func TestTornLastEventLine(t *testing.T) {
	q := openTestQueue(t)
	id := submit(t, q, "train", "cnn")
	path := filepath.Join(q.Path(id), EventsJSONL)
	os.WriteFile(path, []byte("{\"itscope_events\":1,\"generation\":4}\n{\"kind\":\"epoch\",\"epoch\":1}\n{\"kind\":\"ep"), 0o644)
	lines, cur, reset, err := q.TailEvents(id, Cursor{})
	if err != nil || len(lines) != 1 || !reset || cur.Generation != 4 {
		t.Fatalf("TailEvents = %q, %+v, %v, %v", lines, cur, reset, err)
	}
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("och\",\"epoch\":2}\n")
	f.Close()
	lines, _, reset, _ = q.TailEvents(id, cur)
	if len(lines) != 1 || string(lines[0]) != `{"kind":"epoch","epoch":2}` || reset {
		t.Errorf("after the newline: %q (reset %v)", lines, reset)
	}
	os.WriteFile(path, []byte("{\"itscope_events\":1,\"generation\":4}\n{\"kind\":\"epoch\",\"epoch\":1}\n{\"kind\":\"ep"), 0o644)
	w, err := openEventWriter(path)
	if err != nil {
		t.Fatal(err)
	}
	appendEvent(t, w, testEvent{Kind: "epoch", Epoch: 2})
	w.Close()
	hdr, evs, _ := readEvents(t, path)
	if hdr.Generation != 5 || len(evs) != 2 || evs[1].Epoch != 2 {
		t.Errorf("reopened log: generation %d, events %+v", hdr.Generation, evs)
	}
}

func TestEventLogBadHeaderIsNamed(t *testing.T) {
	q := openTestQueue(t)
	id := submit(t, q, "train", "cnn")
	path := filepath.Join(q.Path(id), EventsJSONL)
	os.WriteFile(path, []byte("{\"kind\":\"epoch\"}\n"), 0o644)
	if _, _, _, err := q.TailEvents(id, Cursor{}); err == nil || !bytes.Contains([]byte(err.Error()), []byte(path)) {
		t.Errorf("TailEvents on a log without header: %v, want an error naming %s", err, path)
	}
	if _, err := openEventWriter(path); err == nil {
		t.Error("openEventWriter accepted a log without header")
	}
}
