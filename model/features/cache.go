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

	"itscope/data"
	"itscope/data/npy"
)

// CacheEnv names the environment variable that overrides the feature cache
// folder (the --cache flag overrides both).
const CacheEnv = "ITSCOPE_CACHE"

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
// shape (images, dim) per dataset content and feature key. Files are written
// to a temporary name and renamed when complete, so a crash or an interrupted
// extraction never leaves a file that a later fit would trust.
type FeatureCache struct {
	Dir string
}

// OpenFeatureCache makes dir (DefaultCacheDir when empty) if needed.
func OpenFeatureCache(dir string) (*FeatureCache, error) {
	if dir == "" {
		dir = DefaultCacheDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	return &FeatureCache{Dir: dir}, nil
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

// Lookup returns the cached features of f over all of ds's images, if any;
// the caller closes the file. A damaged file is removed so that it is
// extracted again.
func (c *FeatureCache) Lookup(ds *data.Dataset, f Features) (*npy.File, bool) {
	key := f.CacheKey()
	if key == "" || c == nil {
		return nil, false
	}
	path := c.Path(ds.Hash, key)
	m, err := npy.Open(path)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			os.Remove(path)
		}
		return nil, false
	}
	if m.Rows() != ds.Images.Len() {
		m.Close()
		os.Remove(path)
		return nil, false
	}
	return m, true
}

// Ensure returns the features of f over every image of ds, in image order,
// as a float32 .npy file (rows images, columns features) read from disk in
// blocks; the caller closes it. They come from the cache, or are extracted
// once and streamed to disk: memory holds one batch, never the matrix.
func (c *FeatureCache) Ensure(ctx context.Context, ds *data.Dataset, f Features, progress func(done, total int)) (*npy.File, error) {
	if f.CacheKey() == "" {
		return nil, fmt.Errorf("features %s: not cacheable", f.Name())
	}
	if m, ok := c.Lookup(ds, f); ok {
		return m, nil
	}
	dim, err := f.Dim(ds)
	if err != nil {
		return nil, err
	}
	n := ds.Images.Len()
	path := c.Path(ds.Hash, f.CacheKey())
	s, err := npy.Create(path, n, dim)
	if err != nil {
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
		if progress != nil {
			progress(s.RowsWritten(), n)
		}
		return nil
	})
	if err != nil {
		s.Abort()
		return nil, err
	}
	if err := s.Commit(); err != nil {
		return nil, err
	}
	return npy.Open(path)
}

// CachedFeatures is Ensure on the cache opts.CacheDir (the default folder
// when empty), reporting to opts.Progress.
func CachedFeatures(ctx context.Context, ds *data.Dataset, f Features, opts FeatureOptions) (*npy.File, error) {
	c, err := OpenFeatureCache(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	return c.Ensure(ctx, ds, f, opts.Progress)
}
