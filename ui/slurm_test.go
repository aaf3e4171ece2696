package ui

import (
	"strings"
	"testing"

	"itscope/model/jobs"
)

// With a Slurm executor at hand (the local explorer, sbatch on PATH), the
// Grid pane offers it: c switches, and s sends the grid's jobs to it
// instead of this process's engine.
func TestGridSendsJobsToSlurm(t *testing.T) {
	var sent []jobs.Job
	var sentAs string
	submit := func(name string, js []jobs.Job) (string, error) {
		sentAs, sent = name, js
		return "sent 2 job(s) to Slurm (arrays 7)", nil
	}
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH, User: "ada", SubmitSlurm: submit})
	a.ctx.Choice = ModelChoice{Source: srcCNN}
	g := a.panes[paneGrid].(*gridPane)
	for _, f := range g.fields() {
		if f.key == "lr" {
			f.value = "0.001, 0.01"
		}
	}
	a.ctx.Dataset = syntheticDataset(20, 8, 2)
	drive(a, gotoPaneMsg(paneGrid))
	if f := a.frame(); !strings.Contains(f, "local: this process (c: Slurm)") || !strings.Contains(f, "c local/slurm") {
		t.Fatalf("the Grid pane does not offer Slurm:\n%s", f)
	}
	drive(a, keyMsg("c"))
	if f := a.frame(); !strings.Contains(f, "slurm: job arrays") {
		t.Fatalf("c did not switch to Slurm:\n%s", f)
	}
	drive(a, keyMsg("s"))
	if sentAs != "grid" || len(sent) != 2 || sent[0].Owner != "ada" || sent[0].Payload == nil {
		t.Fatalf("sent %q %d jobs (%+v), want the grid's 2 with their owner and payload", sentAs, len(sent), sent)
	}
	if len(a.ctx.Started) != 0 {
		t.Errorf("the explorer's engine started %d jobs too", len(a.ctx.Started))
	}
	if f := a.frame(); !strings.Contains(f, "sent 2 job(s) to Slurm (arrays 7)") {
		t.Errorf("no status line:\n%s", f)
	}
	// Without a Slurm executor the pane is as before.
	b := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	b.ctx.Dataset = a.ctx.Dataset
	drive(b, gotoPaneMsg(paneGrid))
	if f := b.frame(); strings.Contains(f, "executor") || strings.Contains(f, "local/slurm") {
		t.Errorf("the Grid pane offers an executor without Slurm:\n%s", f)
	}
}
