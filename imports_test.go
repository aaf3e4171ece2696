package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportRules checks the direct imports of every package against the
// layout's rules (docs/DESIGN.md): the explorer never computes, the run
// store and the job engine stand alone, and the numerics and datasets know
// nothing of models or the explorer.
func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	under := func(path, pkg string) bool { return path == pkg || strings.HasPrefix(path, pkg+"/") }
	rules := []struct {
		name    string
		applies func(pkg string) bool
		allows  func(imp string) bool
	}{
		{"the explorer imports no compute package",
			func(p string) bool { return under(p, "itscope/ui") },
			func(i string) bool { return !under(i, "itscope/compute") }},
		{"model/runs imports no itscope package",
			func(p string) bool { return p == "itscope/model/runs" },
			func(i string) bool { return !under(i, "itscope") }},
		{"data/npy imports no itscope package",
			func(p string) bool { return p == "itscope/data/npy" },
			func(i string) bool { return !under(i, "itscope") }},
		{"model/jobs imports only model/runs among itscope packages",
			func(p string) bool { return p == "itscope/model/jobs" },
			func(i string) bool { return !under(i, "itscope") || i == "itscope/model/runs" }},
		{"model/figures imports only model/runs and data among itscope packages",
			func(p string) bool { return p == "itscope/model/figures" },
			func(i string) bool {
				return !under(i, "itscope") || i == "itscope/model/runs" || under(i, "itscope/data")
			}},
		{"compute and data import no model or ui package",
			func(p string) bool { return under(p, "itscope/compute") || under(p, "itscope/data") },
			func(i string) bool { return !under(i, "itscope/model") && !under(i, "itscope/ui") }},
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg := fields[0]
		seen[pkg] = true
		for _, r := range rules {
			if !r.applies(pkg) {
				continue
			}
			for _, imp := range fields[1:] {
				if !r.allows(imp) {
					t.Errorf("%s imports %s: %s", pkg, imp, r.name)
				}
			}
		}
		for _, imp := range fields[1:] {
			if under(imp, "itscope") && layer(imp) < layer(pkg) {
				t.Errorf("%s imports %s: imports point one way, main -> internal/cli and bench -> ui -> model -> compute and data", pkg, imp)
			}
		}
	}
	for _, pkg := range []string{"itscope/model/runs", "itscope/model/jobs", "itscope/model/nets", "itscope/model/features",
		"itscope/model/readout", "itscope/model/train", "itscope/internal/cli", "itscope/ui", "itscope/compute", "itscope/data"} {
		if !seen[pkg] {
			t.Errorf("go list ./... does not list %s", pkg)
		}
	}
	if seen["itscope/model"] {
		t.Error("package itscope/model still holds code: it is split into model/runs, jobs, nets, features, readout and train")
	}
}

// layer is a package's place in the one-way flow of imports: a package may
// import its own layer and the layers below (higher numbers), never above.
func layer(pkg string) int {
	for _, l := range []struct {
		prefix string
		rank   int
	}{{"itscope/internal", 1}, {"itscope/bench", 1}, {"itscope/ui", 2}, {"itscope/model", 3}, {"itscope/compute", 4}, {"itscope/data", 4}} {
		if pkg == l.prefix || strings.HasPrefix(pkg, l.prefix+"/") {
			return l.rank
		}
	}
	return 0 // main
}
