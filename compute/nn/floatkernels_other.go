//go:build !amd64 || purego

package nn

// supportedFloatKernels lists the paths this build runs, fastest first.
var supportedFloatKernels = []*floatKernels{goFloatKernels}
