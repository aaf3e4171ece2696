package main

import (
	"os"

	"itscope/compute"
	"itscope/internal/cli"
)

func main() {
	// The BLAS is chosen here, once, rather than as a side effect of an import.
	compute.UseOpenBLAS()
	compute.BoundHeap()
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
