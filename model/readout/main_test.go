package readout

import (
	"os"
	"testing"

	"itscope/compute"
)

// TestMain runs the tests on OpenBLAS, as main runs the program.
func TestMain(m *testing.M) {
	compute.UseOpenBLAS()
	if arg := os.Getenv(memoryChildEnv); arg != "" {
		fitMemoryChild(arg)
	}
	os.Exit(m.Run())
}
