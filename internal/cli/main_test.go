package cli

import (
	"os"
	"strings"
	"testing"

	"itscope/compute"
)

// TestMain runs the tests on OpenBLAS, as main runs the program.
func TestMain(m *testing.M) {
	compute.UseOpenBLAS()
	if args := os.Getenv(cliChildEnv); args != "" {
		code := Run(strings.Split(args, "\n"), os.Stdout, os.Stderr)
		recordPeak(os.Getenv(cliPeakEnv))
		os.Exit(code)
	}
	os.Exit(m.Run())
}
