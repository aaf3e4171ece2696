package features

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// pinDir is the cache's folder of pins, one file per holder.
const pinDir = ".pins"

// Pin keeps cache entries from eviction while a job will read them. It is
// a file in the cache's .pins folder listing the entries, held locked by
// the process that made it for as long as the pin lasts: the job queue may
// span processes, and the kernel drops the lock when its holder dies, so
// another process's eviction tells a live pin from one left by a killed
// process (which it removes). Release is safe on a nil Pin and more than
// once.
type Pin struct {
	f    *os.File
	path string
	once sync.Once
}

// Pin pins the entries at paths (files of this cache, as Path gives).
func (c *FeatureCache) Pin(paths ...string) (*Pin, error) {
	dir := filepath.Join(c.Dir, pinDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	// The file is locked under a name eviction ignores and only then
	// renamed to *.pin, so that no evictor finds it unlocked and takes it
	// for a dead process's pin.
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	var b [8]byte
	rand.Read(b[:])
	name := filepath.Join(dir, hex.EncodeToString(b[:])+".pin")
	err = lockFile(f)
	if err == nil {
		_, err = f.WriteString(strings.Join(names, "\n") + "\n")
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("feature cache: pinning %d entries: %w", len(paths), err)
	}
	return &Pin{f: f, path: name}, nil
}

// Release unpins the entries.
func (p *Pin) Release() {
	if p == nil {
		return
	}
	p.once.Do(func() {
		// Removed before closing (which drops the lock), so no evictor sees
		// this pin unlocked while it still lists the entries.
		os.Remove(p.path)
		p.f.Close()
	})
}

// pinned returns the names of every entry pinned by a live holder, in any
// process, and removes the pins of holders that died.
func (c *FeatureCache) pinned() (map[string]bool, error) {
	dir := filepath.Join(c.Dir, pinDir)
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	names := map[string]bool{}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pin") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		f, err := os.Open(path)
		if err != nil {
			continue // released meanwhile
		}
		if pinAbandoned(f) {
			os.Remove(path)
			f.Close()
			continue
		}
		b, err := os.ReadFile(path)
		f.Close()
		if err != nil {
			continue
		}
		for _, n := range strings.Fields(string(b)) {
			names[n] = true
		}
	}
	return names, nil
}
