// Command itscope predicts how neurons in the primate visual cortex fire in
// response to images, and lets a person explore those models in a terminal.
// The command line lives in internal/cli.
package main

import (
	"os"

	"itscope/compute"
	"itscope/internal/cli"
)

func main() {
	// The BLAS is chosen here, once, rather than as a side effect of an import.
	compute.UseOpenBLAS()
	os.Exit(cli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
