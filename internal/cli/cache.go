package cli

import (
	"flag"
	"fmt"
	"io"

	"itscope/model/features"
)

// cacheFlags are --cache and --cache-max, on every command that reads or
// fills the feature cache.
type cacheFlags struct {
	dir string
	max byteSize
}

// addCache registers --cache and --cache-max on fs; what says what the
// cache holds for this command.
func addCache(fs *flag.FlagSet, c *cacheFlags, what string) {
	c.max = features.DefaultCacheMax
	fs.StringVar(&c.dir, "cache", "", "feature cache `DIR`"+what+" (default $ITSCOPE_CACHE, else $XDG_CACHE_HOME/itscope)")
	fs.Var(&c.max, "cache-max", "bound on the feature cache's size (`SIZE`: 500MB, 20GB; 0 for none): past it the least recently used files no job will read are evicted")
}

// maxBytes is --cache-max as features.OpenFeatureCache takes it.
func (c *cacheFlags) maxBytes() int64 {
	if c.max == 0 {
		return -1 // no bound
	}
	return int64(c.max)
}

// byteSize is a flag holding a size such as 20GB.
type byteSize int64

func (b *byteSize) String() string {
	if b == nil || *b <= 0 {
		return "0"
	}
	return features.FormatBytes(int64(*b))
}

func (b *byteSize) Set(s string) error {
	n, err := features.ParseBytes(s)
	*b = byteSize(n)
	return err
}

// openCache opens the feature cache named by the flags.
func (c *cacheFlags) open() (*features.FeatureCache, error) {
	return features.OpenFeatureCache(c.dir, c.maxBytes())
}

func runCache(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "prune" {
		return runCachePrune(args[1:], stdout, stderr)
	}
	fs := newFlags("cache", "[--cache DIR] [--json]   |   itscope cache prune [--max SIZE] [--older-than D]", stderr)
	var cf cacheFlags
	addCache(fs, &cf, "")
	asJSON := fs.Bool("json", false, "print the entries as JSON")
	if status, ok := parseFlagsOnly(fs, args, "cache", stderr); !ok {
		return status
	}
	c, err := cf.open()
	if err != nil {
		return fail(stderr, "cache", err)
	}
	ents, err := c.Entries()
	if err != nil {
		return fail(stderr, "cache", err)
	}
	total := entryBytes(ents)
	if *asJSON {
		return printJSON(stdout, stderr, "cache", map[string]any{"dir": c.Dir, "bytes": total, "max_bytes": max(c.Max, 0), "entries": orEmpty(ents)})
	}
	bound := "no bound"
	if c.Max > 0 {
		bound = "bound " + features.FormatBytes(c.Max)
	}
	fmt.Fprintf(stdout, "%s: %d files, %s (%s)\n", c.Dir, len(ents), features.FormatBytes(total), bound)
	if len(ents) == 0 {
		return 0
	}
	tw := newTable(stdout, false)
	fmt.Fprintln(tw, "LAST USED\tSIZE\tSHAPE\tPINNED\tFEATURES")
	for i := len(ents) - 1; i >= 0; i-- { // most recently used first
		e := ents[i]
		pinned, key := "", e.Key
		if e.Pinned {
			pinned = "yes"
		}
		if key == "" {
			key = e.Name + " (no checksum: rebuilt when next used)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%dx%d\t%s\t%s\n", e.LastUsed.Local().Format("2006-01-02 15:04"), features.FormatBytes(e.Bytes),
			e.Rows, e.Cols, pinned, key)
	}
	tw.Flush()
	return 0
}

func runCachePrune(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("cache prune", "[--cache DIR] [--max SIZE] [--older-than D] [--json]", stderr)
	dir := fs.String("cache", "", "feature cache `DIR` (default $ITSCOPE_CACHE, else $XDG_CACHE_HOME/itscope)")
	var maxSize byteSize
	fs.Var(&maxSize, "max", "remove the least recently used files until the cache takes at most `SIZE` (500MB, 20GB)")
	olderThan := fs.Duration("older-than", 0, "remove files last used longer ago than `D` (72h, say)")
	asJSON := fs.Bool("json", false, "print what was removed as JSON")
	if status, ok := parseFlagsOnly(fs, args, "cache prune", stderr); !ok {
		return status
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case !set["max"] && !set["older-than"]:
		return usageError(stderr, "cache prune", "say what to remove: --max SIZE, --older-than D or both")
	case *olderThan < 0:
		return usageError(stderr, "cache prune", "--older-than: want a positive duration, found %s", *olderThan)
	}
	c, err := features.OpenFeatureCache(*dir, -1)
	if err != nil {
		return fail(stderr, "cache prune", err)
	}
	opts := features.PruneOptions{MaxBytes: -1, OlderThan: *olderThan}
	if set["max"] {
		opts.MaxBytes = int64(maxSize)
	}
	removed, err := c.Prune(opts)
	if err != nil {
		return fail(stderr, "cache prune", err)
	}
	freed := entryBytes(removed)
	if *asJSON {
		return printJSON(stdout, stderr, "cache prune", map[string]any{"removed": orEmpty(removed), "bytes": freed})
	}
	fmt.Fprintf(stdout, "removed %d files (%s) from %s\n", len(removed), features.FormatBytes(freed), c.Dir)
	return 0
}

// entryBytes is the size of the cache entries on disk.
func entryBytes(ents []features.CacheEntry) (total int64) {
	for _, e := range ents {
		total += e.Bytes
	}
	return total
}
