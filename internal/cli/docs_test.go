package cli

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"

	"itscope/compute"
	"itscope/model/readout"
)

// TestDocsMatchCommands fails when docs/cli.md is not what the command table
// and the commands' flags generate: run `go generate ./internal/cli`.
func TestDocsMatchCommands(t *testing.T) {
	var got bytes.Buffer
	if err := WriteDocs(&got); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../docs/cli.md")
	if err != nil {
		t.Fatalf("%v: run `go generate ./internal/cli`", err)
	}
	if got.String() != string(want) {
		g, w := strings.Split(got.String(), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(g), len(w)); i++ {
			var gl, wl string
			if i < len(g) {
				gl = g[i]
			}
			if i < len(w) {
				wl = w[i]
			}
			if gl != wl {
				t.Fatalf("docs/cli.md line %d is %q, the commands say %q: run `go generate ./internal/cli`", i+1, wl, gl)
			}
		}
	}
	for _, c := range commandTable() {
		if !strings.Contains(got.String(), "\n## itscope "+c.name+"\n") {
			t.Errorf("docs/cli.md has no section for %s", c.name)
		}
	}
}

// TestAlphasHelpStatesTheDefaultGrid reads the default grid back from
// `itscope help fit`: it must be the grid ridge CV uses.
func TestAlphasHelpStatesTheDefaultGrid(t *testing.T) {
	var help bytes.Buffer
	runFit([]string{"-h"}, &help, &help)
	_, rest, ok := strings.Cut(help.String(), "tried as given (default ")
	if !ok {
		t.Fatalf("itscope help fit does not state the --alphas default:\n%s", help.String())
	}
	text, rest, _ := strings.Cut(rest, " x ")
	got, err := readout.ParseAlphas(text)
	if err != nil {
		t.Fatalf("--alphas default %q: %v", text, err)
	}
	want := compute.DefaultRelativeAlphas()
	if len(got) != len(want) || len(want) != 25 {
		t.Fatalf("--alphas default %q is %d values, ridge CV uses %d", text, len(got), len(want))
	}
	for i := range want {
		if d := got[i]/want[i] - 1; d > 1e-12 || d < -1e-12 {
			t.Errorf("alpha %d: help gives %g, ridge CV uses %g", i, got[i], want[i])
		}
	}
	if ext := fmt.Sprintf("up to %d times", compute.MaxGridExtensions); !strings.Contains(rest, ext) {
		t.Errorf("the --alphas help does not say the grid extends %s:\n%s", ext, rest)
	}
}
