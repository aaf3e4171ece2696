package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"itscope/model/runs"
)

// testClock is an injectable clock that tests move by hand.
type testClock struct{ ns atomic.Int64 }

func newTestClock(t time.Time) *testClock {
	c := &testClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func openTestQueue(t *testing.T) *Queue {
	t.Helper()
	q, err := OpenQueue(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func submit(t *testing.T, q *Queue, kind runs.Kind, name string) string {
	t.Helper()
	id, err := q.Submit(Spec{Kind: kind, Name: name, Owner: "ada", Payload: json.RawMessage(`{"alpha":1}`)}, "")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSubmitWritesSpecAndQueuedState(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 12, 4, 22, 30, 0, 123e6, time.UTC))
	q.Now = clock.Now
	before := time.Now().UTC().Truncate(time.Millisecond)
	id := submit(t, q, "Fit", "ridge on pixels")
	at, err := time.Parse("20060102-150405.000", id[:min(len(id), 19)])
	if err != nil || at.Before(before) || at.After(time.Now()) || !strings.HasPrefix(id[19:], "-fit-") || len(id) != 19+5+6 {
		t.Errorf("id %q: want the submission time, -fit- and 6 hex digits", id)
	}
	spec, err := q.Spec(id)
	if err != nil {
		t.Fatal(err)
	}
	var payload bytes.Buffer
	json.Compact(&payload, spec.Payload)
	if spec.Kind != "Fit" || spec.Name != "ridge on pixels" || spec.Owner != "ada" || payload.String() != `{"alpha":1}` {
		t.Errorf("spec = %+v", spec)
	}
	e, err := q.Get(id)
	rec := e.Record
	if err != nil {
		t.Fatal(err)
	}
	if rec.State != "queued" || rec.Owner != "ada" || !rec.Submitted.Equal(clock.Now()) || !rec.Started.IsZero() {
		t.Errorf("record = %+v", rec)
	}
	ents, _ := os.ReadDir(q.Dir)
	if len(ents) != 1 || ents[0].Name() != id {
		t.Errorf("queue folder holds %v, want only %s", ents, id)
	}
}

func TestSubmitRejectsBadSpecs(t *testing.T) {
	q := openTestQueue(t)
	for _, tc := range []struct {
		spec Spec
		want string
	}{
		{Spec{Name: "x"}, "no kind"},
		{Spec{Kind: "fit", Name: "x", Payload: json.RawMessage(`{"a":`)}, "not valid JSON"},
	} {
		if _, err := q.Submit(tc.spec, ""); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Submit(%+v) = %v, want an error saying %q", tc.spec, err, tc.want)
		}
	}
}

func TestJobIDsSortBySubmissionAndAreUnique(t *testing.T) {
	q := openTestQueue(t)
	clock := newTestClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	q.Now = clock.Now
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, submit(t, q, "train", "t"))
		clock.Advance(time.Millisecond)
	}
	// Many submitters in the same millisecond: the random part and the
	// rename's refusal to replace a folder keep them apart.
	var mu sync.Mutex
	var wg sync.WaitGroup
	same := map[string]bool{}
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				id, err := q.Submit(Spec{Kind: "fit"}, "")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				same[id] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(same) != 200 {
		t.Errorf("200 submissions gave %d distinct ids", len(same))
	}
	list, err := q.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 205 {
		t.Fatalf("List has %d jobs, want 205", len(list))
	}
	for i, id := range ids {
		if list[i].ID != id {
			t.Errorf("List[%d] = %s, want %s (submission order)", i, list[i].ID, id)
		}
	}
}

func TestUnknownJobIsNamed(t *testing.T) {
	q := openTestQueue(t)
	for _, id := range []string{"nope", "../x", ".submit-1", ""} {
		if _, err := q.Get(id); !errors.Is(err, ErrNoJob) || !strings.Contains(err.Error(), q.Dir) {
			t.Errorf("Get(%q) = %v, want ErrNoJob naming %s", id, err, q.Dir)
		}
	}
}

// A reader never sees a torn state.json while its writer rewrites it.
func TestStateNeverTorn(t *testing.T) {
	q := openTestQueue(t)
	id := submit(t, q, "fit", "f")
	path := filepath.Join(q.Path(id), StateJSON)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			rec := Record{State: "running", Reason: strings.Repeat("x", 1000+i%5000)}
			if err := writeJSONAtomic(path, rec); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	reads := 0
	for deadline := time.Now().Add(300 * time.Millisecond); time.Now().Before(deadline); reads++ {
		e, err := q.Get(id)
		rec := e.Record
		if err != nil {
			t.Fatalf("read %d: %v", reads, err)
		}
		if rec.State != "queued" && (rec.State != "running" || len(rec.Reason) < 1000) {
			t.Fatalf("read %d: torn record %+v", reads, rec.State)
		}
	}
	close(stop)
	wg.Wait()
	if reads < 10 {
		t.Errorf("only %d reads", reads)
	}
}
