// Package parallel splits loops over the cores: For runs fn(i) for every
// index on a warm crew of helper goroutines, each worker starting on its
// own share of the indices, and Blocks hands out contiguous ranges for
// elementwise loops and kernels. The crew is kept between regions because a
// forward or training pass runs hundreds of short regions back to back; see
// For. It imports nothing from itscope, so every numeric package may use it.
package parallel
