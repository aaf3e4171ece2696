//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package features

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, held until f is closed or its
// process dies.
func lockFile(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// pinAbandoned reports whether no process holds the pin file f locked: its
// holder died without releasing it. f is another open file description, so
// the lock conflicts even with a holder in this process.
func pinAbandoned(f *os.File) bool {
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return true
}
