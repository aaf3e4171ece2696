package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"itscope/model/runs"
)

// Bounds of one job's events.jsonl.
const (
	MaxEventLines = 10_000
	MaxEventBytes = 4 << 20
	// maxEventLine bounds one event's line, so one event cannot eat the log.
	maxEventLine = 64 << 10
	// recentKept is how many of the newest events of a thinned kind are
	// always kept whole: the live loss curve's window.
	recentKept = MaxStepPoints
	// eventFlushEvery is the longest a step or progress event waits in the
	// writer's buffer; other events are written at once.
	eventFlushEvery = time.Second
)

// eventHeader is the first line of events.jsonl. Generation changes each
// time the writer rewrites the file to thin it, which tells a reader that
// its offset is void.
type eventHeader struct {
	Format     int `json:"itscope_events"`
	Generation int `json:"generation"`
}

// Event classes in the order thinning drops them: step losses first, then
// progress reports, then log lines; everything else (lifecycle events,
// epochs) is kept.
const (
	classStep = iota
	classProgress
	classLog
	classKept
)

func eventClass(kind EventKind) int {
	switch kind {
	case EventStep:
		return classStep
	case EventProgress:
		return classProgress
	case EventLog:
		return classLog
	}
	return classKept
}

// EventWriter appends a job's events to its events.jsonl, the one writer of
// that file. It keeps the file within MaxEventLines and MaxEventBytes: when
// an append crosses either, it rewrites the file (atomically, under a new
// generation) to three quarters of both, thinning the older step events
// first (see thinEvents), then progress events, then log lines; epoch and
// lifecycle events are kept. A rewrite reads and writes at most the bound
// and frees a quarter of it, so its cost per event stays small. It is safe
// for concurrent use.
type EventWriter struct {
	mu                 sync.Mutex
	path               string
	f                  *os.File
	buf                []byte
	lastFlush          time.Time
	lines, size        int // in the file and buf, header included
	generation         int
	maxLines, maxBytes int
	err                error // sticky: the first write error
}

// openEventWriter opens path for appending, creating it (with its header)
// if needed. An existing log, from an earlier attempt at the job, is
// continued; a torn last line left by a crash is dropped.
func openEventWriter(path string) (*EventWriter, error) {
	w := &EventWriter{path: path, maxLines: MaxEventLines, maxBytes: MaxEventBytes, lastFlush: time.Now()}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := w.rewrite(nil); err != nil {
			return nil, err
		}
		return w, nil
	case err != nil:
		return nil, err
	}
	hdr, body, err := splitEventHeader(path, data)
	if err != nil {
		return nil, err
	}
	w.generation = hdr.Generation
	if len(body) > 0 && body[len(body)-1] != '\n' {
		if err := w.rewrite(completeLines(body)); err != nil {
			return nil, err
		}
		return w, nil
	}
	w.lines, w.size = 1+bytes.Count(body, []byte{'\n'}), len(data)
	if w.f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0); err != nil {
		return nil, err
	}
	return w, nil
}

// splitEventHeader parses the header line of an events.jsonl held in data
// and returns it and the lines after it.
func splitEventHeader(path string, data []byte) (eventHeader, []byte, error) {
	var h eventHeader
	line, body, ok := bytes.Cut(data, []byte{'\n'})
	if !ok {
		return h, nil, fmt.Errorf("%s: no header line (want {\"itscope_events\":1,...}, found %d bytes without a newline)", path, len(data))
	}
	if err := json.Unmarshal(line, &h); err != nil || h.Format != 1 {
		return h, nil, fmt.Errorf("%s: header line %.80q: want {\"itscope_events\":1,\"generation\":N}", path, line)
	}
	return h, body, nil
}

// completeLines splits body into its newline-terminated lines; a last line
// with no newline (being written, or torn) is left out.
func completeLines(body []byte) [][]byte {
	var out [][]byte
	for len(body) > 0 {
		line, rest, ok := bytes.Cut(body, []byte{'\n'})
		if !ok {
			break
		}
		if len(line) > 0 {
			out = append(out, line)
		}
		body = rest
	}
	return out
}

// Append adds one event, given as its kind and its JSON line. Step and
// progress events are buffered for up to a second; others are written at
// once.
func (w *EventWriter) Append(kind EventKind, line []byte) error {
	if len(line) > maxEventLine || bytes.IndexByte(line, '\n') >= 0 || !json.Valid(line) {
		return fmt.Errorf("%s: %s event of %d bytes: want one JSON line of at most %d bytes", w.path, kind, len(line), maxEventLine)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	w.buf = append(append(w.buf, line...), '\n')
	w.lines++
	w.size += len(line) + 1
	if c := eventClass(kind); c == classStep || c == classProgress {
		if time.Since(w.lastFlush) < eventFlushEvery {
			return w.boundLocked()
		}
	}
	if err := w.flushLocked(); err != nil {
		return err
	}
	return w.boundLocked()
}

// boundLocked thins the file when it has outgrown its bounds.
func (w *EventWriter) boundLocked() error {
	if w.lines <= w.maxLines && w.size <= w.maxBytes {
		return nil
	}
	if err := w.flushLocked(); err != nil {
		return err
	}
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.err = err
		return err
	}
	_, body, err := splitEventHeader(w.path, data)
	if err != nil {
		w.err = err
		return err
	}
	lines := completeLines(body)
	return w.rewrite(thinEvents(lines, w.maxLines*3/4, w.maxBytes*3/4))
}

// rewrite replaces the file by a new generation holding lines, atomically,
// and reopens it for appending.
func (w *EventWriter) rewrite(lines [][]byte) error {
	w.generation++
	hdr, _ := json.Marshal(eventHeader{Format: 1, Generation: w.generation})
	size := len(hdr) + 1
	for _, l := range lines {
		size += len(l) + 1
	}
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	err := runs.WriteFileAtomic(w.path, func(out io.Writer) error {
		for _, l := range append([][]byte{hdr}, lines...) {
			if _, err := out.Write(l); err != nil {
				return err
			}
			if _, err := out.Write([]byte{'\n'}); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		w.f, err = os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND, 0)
	}
	if err != nil {
		w.err = err
		return err
	}
	w.lines, w.size = 1+len(lines), size
	return nil
}

// thinEvents returns the lines to keep so that there are at most maxLines
// and maxBytes of them (header included). Of each thinned class in turn
// (steps, progress, logs) the newest recentKept are kept whole and the older
// ones are kept on a grid of stride k, the smallest power of two that fits:
// steps by their step number, so later rewrites keep a subset of the same
// points and a loss curve keeps its whole shape. Only if that is not enough
// do the oldest lines of those classes go, and last the oldest of any.
func thinEvents(lines [][]byte, maxLines, maxBytes int) [][]byte {
	class := make([]int, len(lines))
	key := make([]int, len(lines))
	keep := make([]bool, len(lines))
	n, size := 1, 0
	var ordinal [classKept]int
	for i, l := range lines {
		var ev struct {
			Kind EventKind
			Step int
		}
		if json.Unmarshal(l, &ev) != nil {
			continue // not an event: dropped
		}
		c := eventClass(ev.Kind)
		class[i], keep[i] = c, true
		if c < classKept {
			key[i] = ordinal[c]
			ordinal[c]++
			if c == classStep && ev.Step > 0 {
				key[i] = ev.Step
			}
		}
		n++
		size += len(l) + 1
	}
	over := func() bool { return n > maxLines || size > maxBytes }
	drop := func(i int) {
		if keep[i] {
			keep[i] = false
			n--
			size -= len(lines[i]) + 1
		}
	}
	window := min(recentKept, maxLines/4)
	for c := classStep; c < classKept && over(); c++ {
		var old []int
		for i := range lines {
			if keep[i] && class[i] == c {
				old = append(old, i)
			}
		}
		old = old[:max(0, len(old)-window)]
		for k := 2; over() && len(old) > 0; k *= 2 {
			kept := old[:0]
			for _, i := range old {
				if key[i]%k == 0 {
					kept = append(kept, i)
				} else {
					drop(i)
				}
			}
			old = kept
		}
	}
	for c := classStep; c <= classKept; c++ {
		for i := 0; i < len(lines) && over(); i++ {
			if c == classKept || class[i] == c {
				drop(i)
			}
		}
	}
	out := make([][]byte, 0, n)
	for i, l := range lines {
		if keep[i] {
			out = append(out, l)
		}
	}
	return out
}

func (w *EventWriter) flushLocked() error {
	w.lastFlush = time.Now()
	if len(w.buf) == 0 || w.err != nil {
		return w.err
	}
	// One write of whole lines: a reader sees complete lines, or a last
	// one still without its newline, which it leaves for later.
	if _, err := w.f.Write(w.buf); err != nil {
		w.err = fmt.Errorf("%s: %w", w.path, err)
		return w.err
	}
	w.buf = w.buf[:0]
	return nil
}

// flushIfDue writes buffered events; the lease's watcher calls it every
// second.
func (w *EventWriter) flushIfDue() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flushLocked()
}

// abandon stops writing the log without flushing what is buffered: the
// job passed to another process, which writes it now.
func (w *EventWriter) abandon(why error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f != nil {
		w.f.Close()
		w.f = nil
	}
	w.buf = w.buf[:0]
	if w.err == nil {
		w.err = why
	}
}

// Close flushes and closes the log.
func (w *EventWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.flushLocked()
	if w.f != nil {
		if cerr := w.f.Close(); err == nil {
			err = cerr
		}
		w.f = nil
	}
	if err == nil {
		w.err = fmt.Errorf("%s: closed", w.path)
	}
	return err
}

// Cursor is where a reader of a job's events stands.
type Cursor struct {
	Generation int
	Offset     int64
}

// tailChunk bounds what one TailEvents call reads.
const tailChunk = 1 << 20

// TailEvents returns the complete event lines of job id written after cur,
// and the cursor for the next call; its cost is that of the new lines, so
// a display may poll it often. When reset is true the log was rewritten
// since cur (or cur is the zero Cursor): lines then start from the log's
// beginning and replace what the caller had. A job with no log yet has no
// lines. At most about a megabyte is read per call; more follows next call.
func (q *Queue) TailEvents(id string, cur Cursor) (lines [][]byte, next Cursor, reset bool, err error) {
	if id == "" || id[0] == '.' || filepath.Base(id) != id {
		return nil, cur, false, fmt.Errorf("job queue %s: job %q: %w", q.Dir, id, ErrNoJob)
	}
	path := filepath.Join(q.Path(id), EventsJSONL)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, cur, false, nil
	}
	if err != nil {
		return nil, cur, false, err
	}
	defer f.Close()
	head := make([]byte, 256)
	nh, err := f.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, cur, false, err
	}
	hdr, _, err := splitEventHeader(path, head[:nh])
	if err != nil {
		return nil, cur, false, err
	}
	off := cur.Offset
	if hdr.Generation != cur.Generation || off < int64(bytes.IndexByte(head, '\n')+1) {
		reset = true
		off = int64(bytes.IndexByte(head, '\n') + 1)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, cur, false, err
	}
	n := min(fi.Size()-off, tailChunk)
	if n <= 0 {
		return nil, Cursor{hdr.Generation, off}, reset, nil
	}
	buf := make([]byte, n)
	m, err := f.ReadAt(buf, off)
	if err != nil && err != io.EOF {
		return nil, cur, false, err
	}
	buf = buf[:m]
	end := bytes.LastIndexByte(buf, '\n') + 1
	return completeLines(buf[:end]), Cursor{hdr.Generation, off + int64(end)}, reset, nil
}

func jsonLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
