package compute

import (
	"os"
	"testing"
)

// TestMain runs the tests on OpenBLAS, as main runs the program.
func TestMain(m *testing.M) {
	UseOpenBLAS()
	os.Exit(m.Run())
}
