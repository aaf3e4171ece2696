package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"itscope/compute"
)

// TestMain runs the tests on OpenBLAS, as main runs the program. With
// ITSCOPE_CLI_ARGS set (a JSON list) the test binary is `itscope ARGS...`,
// for tests that need the command line in other processes (jobs_test.go).
func TestMain(m *testing.M) {
	compute.UseOpenBLAS()
	if args := os.Getenv(cliChildEnv); args != "" {
		code := Run(strings.Split(args, "\n"), os.Stdout, os.Stderr)
		recordPeak(os.Getenv(cliPeakEnv))
		os.Exit(code)
	}
	if a := os.Getenv("ITSCOPE_CLI_ARGS"); a != "" {
		var args []string
		if err := json.Unmarshal([]byte(a), &args); err != nil {
			panic(err)
		}
		os.Exit(Run(args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
