package features

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// CacheEntry is one file of the cache, as `itscope cache` lists it.
type CacheEntry struct {
	Name     string    `json:"name"`
	Key      string    `json:"key,omitempty"` // the feature key, from the sidecar
	Rows     int       `json:"rows"`
	Cols     int       `json:"cols"`
	Bytes    int64     `json:"bytes"` // the file and its sidecar
	LastUsed time.Time `json:"last_used"`
	Pinned   bool      `json:"pinned"` // a queued or running job will read it
}

// Entries lists the cache's entries, least recently used first.
func (c *FeatureCache) Entries() ([]CacheEntry, error) {
	ents, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	pinned, err := c.pinned()
	if err != nil {
		return nil, err
	}
	var out []CacheEntry
	for _, e := range ents {
		name := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".npy") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		ent := CacheEntry{Name: name, Bytes: info.Size(), LastUsed: info.ModTime(), Pinned: pinned[name]}
		path := filepath.Join(c.Dir, name)
		if st, err := os.Stat(path + sumSuffix); err == nil {
			ent.Bytes += st.Size()
			ent.LastUsed = st.ModTime()
			if s, err := readEntrySum(path); err == nil {
				ent.Key, ent.Rows, ent.Cols = s.Key, s.Rows, s.Cols
			}
		}
		out = append(out, ent)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LastUsed.Before(out[j].LastUsed) })
	return out, nil
}

// PruneOptions choose what Prune removes; pinned entries always stay.
type PruneOptions struct {
	// MaxBytes: remove the least recently used entries until the rest take
	// at most this many bytes (negative: no bound; 0 empties the cache).
	MaxBytes int64
	// OlderThan: remove entries last used longer ago than this (0: none
	// for their age).
	OlderThan time.Duration
}

// Prune removes entries as opts says and returns them.
func (c *FeatureCache) Prune(opts PruneOptions) ([]CacheEntry, error) {
	ents, err := c.Entries()
	if err != nil {
		return nil, err
	}
	var total int64
	for _, e := range ents {
		total += e.Bytes
	}
	var removed []CacheEntry
	for _, e := range ents { // least recently used first
		tooOld := opts.OlderThan > 0 && time.Since(e.LastUsed) > opts.OlderThan
		tooBig := opts.MaxBytes >= 0 && total > opts.MaxBytes
		if e.Pinned || !(tooOld || tooBig) {
			continue
		}
		if err := c.remove(filepath.Join(c.Dir, e.Name)); err != nil {
			return removed, err
		}
		total -= e.Bytes
		removed = append(removed, e)
	}
	return removed, nil
}

// evict keeps the cache under c.Max after a new entry, telling rep what
// it removed.
func (c *FeatureCache) evict(rep CacheReport) {
	if c.Max <= 0 {
		return
	}
	removed, err := c.Prune(PruneOptions{MaxBytes: c.Max})
	if err != nil {
		rep.logf("feature cache: eviction: %v", err)
	}
	if len(removed) > 0 {
		var bytes int64
		for _, e := range removed {
			bytes += e.Bytes
		}
		rep.logf("feature cache: evicted %d least recently used entries (%s) to stay under %s",
			len(removed), FormatBytes(bytes), FormatBytes(c.Max))
	}
}

// remove deletes an entry and its sidecar.
func (c *FeatureCache) remove(path string) error {
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("feature cache: %w", err)
	}
	os.Remove(path + sumSuffix)
	return nil
}

// CleanPartial removes what writers that died more than olderThan ago left
// behind: temporary files of entries, sidecars and pins, and sidecars whose
// entry never arrived. Younger ones may belong to a writer still running in
// another process.
func (c *FeatureCache) CleanPartial(olderThan time.Duration) error {
	for _, dir := range []string{c.Dir, filepath.Join(c.Dir, pinDir)} {
		ents, err := os.ReadDir(dir)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("feature cache: %w", err)
		}
		for _, e := range ents {
			name := e.Name()
			orphan := strings.HasSuffix(name, ".npy"+sumSuffix) && !exists(filepath.Join(dir, strings.TrimSuffix(name, sumSuffix)))
			temp := strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
			if !e.Type().IsRegular() || !(orphan || temp) {
				continue
			}
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > olderThan {
				os.Remove(filepath.Join(dir, name))
			}
		}
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// FormatBytes writes a size for people: 512 B, 3.4 MB, 20.0 GB (powers of
// 1024, as --cache-max reads them).
func FormatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTP"[exp])
}

// ParseBytes reads a size such as 20GB, 500M, 1.5G or 1048576 (powers of
// 1024; a bare number is bytes).
func ParseBytes(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	mult := int64(1)
	if n := len(t); n > 0 {
		if i := strings.IndexByte("KMGTP", t[n-1]); i >= 0 {
			mult = int64(1) << (10 * (i + 1))
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v >= 0 && v*float64(mult) <= 1<<62) {
		return 0, fmt.Errorf("size %q: want a number of bytes with an optional unit (500MB, 20GB)", s)
	}
	return int64(v * float64(mult)), nil
}
