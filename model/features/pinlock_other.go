//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package features

import (
	"os"
	"time"
)

// abandonedPinAge is how old a pin must be, where file locks are not
// available, before eviction takes its holder for dead.
const abandonedPinAge = 24 * time.Hour

func lockFile(*os.File) error { return nil }

// pinAbandoned reports whether the pin file f is old enough that its
// holder must have died.
func pinAbandoned(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && time.Since(st.ModTime()) > abandonedPinAge
}
