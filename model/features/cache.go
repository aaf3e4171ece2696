package features

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"itscope/data"
	"itscope/data/npy"
)

// CacheEnv names the environment variable that overrides the feature cache
// folder (the --cache flag overrides both).
const CacheEnv = "ITSCOPE_CACHE"

// DefaultCacheMax is the default bound on the cache's size (--cache-max):
// a sweep of every MobileNetV2 tap over the demo takes 4.7 GB, so a few
// networks and seeds fit.
const DefaultCacheMax = 20 << 30

// staleTemp is how old a temporary file must be before opening the cache
// removes it: a younger one may belong to a writer still running in
// another process.
const staleTemp = time.Hour

// DefaultCacheDir returns $ITSCOPE_CACHE, else $XDG_CACHE_HOME/itscope, else
// ~/.cache/itscope.
func DefaultCacheDir() string {
	if d := os.Getenv(CacheEnv); d != "" {
		return d
	}
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "itscope")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cache", "itscope")
	}
	return filepath.Join(os.TempDir(), "itscope-cache")
}

// FeatureCache is a folder of feature matrices, one float32 .npy file of
// shape (images, dim) per dataset content and feature key, each with a
// sidecar holding the CRC-32C of its rows. Files are written to a temporary
// name and renamed when complete, so a crash or an interrupted extraction
// never leaves a file that a later fit would trust; a file whose rows no
// longer match their checksum is extracted again.
type FeatureCache struct {
	Dir string
	// Max bounds the total size of the cached files in bytes: after each
	// new entry the least recently used unpinned ones are evicted until the
	// cache fits. 0 or less: no bound.
	Max int64
}

// OpenFeatureCache makes dir (DefaultCacheDir when empty) if needed and
// removes temporary files of writers that died more than an hour ago.
// maxBytes is the size bound (see FeatureCache.Max; DefaultCacheMax when
// 0, none when negative).
func OpenFeatureCache(dir string, maxBytes int64) (*FeatureCache, error) {
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	if maxBytes == 0 {
		maxBytes = DefaultCacheMax
	}
	c := &FeatureCache{Dir: dir, Max: maxBytes}
	if err := c.CleanPartial(staleTemp); err != nil {
		return nil, err
	}
	return c, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Path is where the features with key featureKey of the dataset with content
// hash datasetHash live. The readable prefix is for people browsing the
// folder; the hash of both keys decides identity.
func (c *FeatureCache) Path(datasetHash, featureKey string) string {
	sum := sha256.Sum256([]byte(datasetHash + "\x00" + featureKey))
	readable := unsafeFileChars.ReplaceAllString(featureKey, "_")
	if len(readable) > 80 {
		readable = readable[:80]
	}
	return filepath.Join(c.Dir, readable+"-"+hex.EncodeToString(sum[:12])+".npy")
}

// CacheReport receives what the cache does for one caller: extraction
// progress, and a line when an entry is rebuilt or entries are evicted.
// Either may be nil.
type CacheReport struct {
	Progress func(done, total int)
	Log      func(msg string)
}

func (r CacheReport) progress(done, total int) {
	if r.Progress != nil {
		r.Progress(done, total)
	}
}

func (r CacheReport) logf(format string, args ...any) {
	if r.Log != nil {
		r.Log(fmt.Sprintf(format, args...))
	}
}

// CachedFile is a cache entry open for reading. It stays pinned (never
// evicted) until Close.
type CachedFile struct {
	*npy.File
	pin *Pin
}

// Close closes the file and unpins it.
func (f *CachedFile) Close() error {
	err := f.File.Close()
	f.pin.Release()
	return err
}

// Lookup returns the cached features of f over all of ds's images, if any,
// with their checksum verified (one sequential read of the file); the caller
// closes the file. A damaged file is removed so that it is extracted again,
// and rep hears why.
func (c *FeatureCache) Lookup(ds *data.Dataset, f Features, rep CacheReport) (*CachedFile, bool) {
	key := f.CacheKey()
	if key == "" || c == nil {
		return nil, false
	}
	path := c.Path(ds.Hash, key)
	pin, err := c.Pin(path)
	if err != nil {
		rep.logf("feature cache: %v", err)
		return nil, false
	}
	m, err := npy.Open(path)
	if err == nil {
		if m.Rows() != ds.Images.Len() {
			err = fmt.Errorf("%s: %d rows for the dataset's %d images", path, m.Rows(), ds.Images.Len())
		} else {
			err = verifyEntry(m)
		}
		if err != nil {
			m.Close()
		}
	}
	if err != nil {
		pin.Release()
		if !errors.Is(err, os.ErrNotExist) {
			c.remove(path)
			rep.logf("feature cache: %v: extracting it again", err)
		}
		return nil, false
	}
	touchEntry(path)
	return &CachedFile{File: m, pin: pin}, true
}

// Ensure returns the features of f over every image of ds, in image order,
// as a float32 .npy file (rows images, columns features) read from disk in
// blocks; the caller closes it. They come from the cache, or are extracted
// once and streamed to disk: memory holds one batch, never the matrix.
func (c *FeatureCache) Ensure(ctx context.Context, ds *data.Dataset, f Features, rep CacheReport) (*CachedFile, error) {
	if f.CacheKey() == "" {
		return nil, fmt.Errorf("features %s: not cacheable", f.Name())
	}
	if m, ok := c.Lookup(ds, f, rep); ok {
		return m, nil
	}
	dim, err := f.Dim(ds)
	if err != nil {
		return nil, err
	}
	n := ds.Images.Len()
	path := c.Path(ds.Hash, f.CacheKey())
	pin, err := c.Pin(path)
	if err != nil {
		return nil, err
	}
	s, err := createEntry(path, f.CacheKey(), n, dim)
	if err != nil {
		pin.Release()
		return nil, err
	}
	images := make([]int, n)
	for i := range images {
		images[i] = i
	}
	err = f.Extract(ctx, ds, images, func(first int, block []float32) error {
		if err := s.WriteRows(first, block); err != nil {
			return err
		}
		rep.progress(s.RowsWritten(), n)
		return nil
	})
	if err == nil {
		err = s.Commit()
	} else {
		s.Abort()
	}
	var m *npy.File
	if err == nil {
		m, err = npy.Open(path)
	}
	if err != nil {
		pin.Release()
		return nil, err
	}
	c.evict(rep)
	return &CachedFile{File: m, pin: pin}, nil
}

// CachedFeatures is Ensure on the cache opts.CacheDir (the default folder
// when empty) bounded by opts.CacheMax, reporting to opts.Progress and
// opts.Log.
func CachedFeatures(ctx context.Context, ds *data.Dataset, f Features, opts FeatureOptions) (*CachedFile, error) {
	c, err := OpenFeatureCache(opts.CacheDir, opts.CacheMax)
	if err != nil {
		return nil, err
	}
	return c.Ensure(ctx, ds, f, CacheReport{Progress: opts.Progress, Log: opts.Log})
}
