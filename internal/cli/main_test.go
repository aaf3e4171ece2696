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
		os.Exit(Run(strings.Split(args, "\n"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
