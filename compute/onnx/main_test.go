package onnx

import (
	"os"
	"testing"

	"itscope/compute"
)

// TestMain runs the tests on OpenBLAS, as main runs the program.
func TestMain(m *testing.M) {
	// A forged-file child process loads one file and exits (forged_test.go).
	if name := os.Getenv(forgedChildEnv); name != "" {
		os.Exit(loadForgedChild(name))
	}
	compute.UseOpenBLAS()
	os.Exit(m.Run())
}
