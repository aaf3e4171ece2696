package features

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"itscope/compute"
	"itscope/data"
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

// npyHeader is a version 1.0 header for a float32 (rows, cols) C-order
// array, padded so the data starts at a multiple of 64 bytes.
func npyHeader(rows, cols int) []byte {
	dict := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, strings.Repeat(" ", pad)...)
	return append(h, '\n')
}

// npyStream writes a float32 (rows, cols) .npy file row block by row block:
// the header first, then rows as they come, to a temporary file that Commit
// renames into place once every row has arrived.
type npyStream struct {
	path       string
	f          *os.File
	rows, cols int
	written    int
	buf        []byte
}

func createNpyStream(path string, rows, cols int) (*npyStream, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	s := &npyStream{path: path, f: f, rows: rows, cols: cols}
	if _, err := f.Write(npyHeader(rows, cols)); err != nil {
		s.Abort()
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return s, nil
}

// Write appends whole rows, which must arrive in order.
func (s *npyStream) Write(first int, block []float32) error {
	if first != s.written || len(block)%s.cols != 0 || first+len(block)/s.cols > s.rows {
		return fmt.Errorf("%s: rows out of order: want row %d, found a block of %d floats at row %d (%d columns, %d rows)",
			s.path, s.written, len(block), first, s.cols, s.rows)
	}
	s.buf = s.buf[:0]
	for _, v := range block {
		s.buf = binary.LittleEndian.AppendUint32(s.buf, math.Float32bits(v))
	}
	if _, err := s.f.Write(s.buf); err != nil {
		return fmt.Errorf("%s: %w", s.f.Name(), err)
	}
	s.written += len(block) / s.cols
	return nil
}

// Commit checks that every row was written and renames the file into place.
func (s *npyStream) Commit() error {
	if s.written != s.rows {
		s.Abort()
		return fmt.Errorf("%s: %d of %d rows written", s.path, s.written, s.rows)
	}
	tmp := s.f.Name()
	if err := s.f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, s.path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// Abort removes the temporary file.
func (s *npyStream) Abort() {
	s.f.Close()
	os.Remove(s.f.Name())
}

// Lookup returns the cached features of f over all of ds's images, if any;
// the caller closes the file. A damaged file is removed so that it is
// extracted again.
func (c *FeatureCache) Lookup(ds *data.Dataset, f Features) (*compute.NpyFile, bool) {
	key := f.CacheKey()
	if key == "" || c == nil {
		return nil, false
	}
	path := c.Path(ds.Hash, key)
	m, err := compute.OpenNpy(path)
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
func (c *FeatureCache) Ensure(ctx context.Context, ds *data.Dataset, f Features, progress func(done, total int)) (*compute.NpyFile, error) {
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
	s, err := createNpyStream(path, n, dim)
	if err != nil {
		return nil, err
	}
	images := make([]int, n)
	for i := range images {
		images[i] = i
	}
	err = f.Extract(ctx, ds, images, func(first int, block []float32) error {
		if err := s.Write(first, block); err != nil {
			return err
		}
		if progress != nil {
			progress(s.written, n)
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
	return compute.OpenNpy(path)
}

// CachedFeatures is Ensure on the cache opts.CacheDir (the default folder
// when empty), reporting to opts.Progress.
func CachedFeatures(ctx context.Context, ds *data.Dataset, f Features, opts FeatureOptions) (*compute.NpyFile, error) {
	c, err := OpenFeatureCache(opts.CacheDir)
	if err != nil {
		return nil, err
	}
	return c.Ensure(ctx, ds, f, opts.Progress)
}
