//go:build !cgo

package compute

// UseOpenBLAS cannot switch without cgo: gonum's pure-Go BLAS stays, and
// its name is returned.
func UseOpenBLAS() string { return "gonum (pure Go)" }

// BLASThreads is 0: gonum's own BLAS manages its parallelism.
func BLASThreads() int { return 0 }

// BLASIdleTimeout is -1: gonum's BLAS has no idle threads.
func BLASIdleTimeout() int { return -1 }

// BLASCore is "": gonum's BLAS has one set of Go kernels.
func BLASCore() (name, forcedBy string) { return "", "" }

// SingleThreadBLAS does nothing without OpenBLAS.
func SingleThreadBLAS() (restore func()) { return func() {} }
