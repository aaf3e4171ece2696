package cli

// output.go is the one place the command line shapes what it prints: tables
// (newTable), numbers (num), JSON (writeJSON), progress lines
// (progressPrinter) and Ctrl-C (interruptible, interrupts).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"syscall"
	"text/tabwriter"
	"time"

	"itscope/model/jobs"
	"itscope/model/runs"
	"itscope/model/train"
)

// interruptible returns a context cancelled by SIGINT or SIGTERM, so that a
// long command stops cleanly (and saves what it must) on Ctrl-C.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// interrupts delivers Ctrl-C to a command that cancels engine jobs itself
// (the best epoch so far of each is saved); stop ends the delivery.
func interrupts() (ch <-chan os.Signal, stop func()) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt)
	return c, func() { signal.Stop(c) }
}

// newTable is the command line's one table layout: columns two spaces
// apart. With alignRight every cell, the last included, ends in a tab and is
// right-aligned (tables of numbers).
func newTable(w io.Writer, alignRight bool) *tabwriter.Writer {
	var flags uint
	if alignRight {
		flags = tabwriter.AlignRight
	}
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', flags)
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printJSON writes v as the --json output of command name and returns the
// exit status: 0, or 1 when writing fails.
func printJSON(stdout, stderr io.Writer, name string, v any) int {
	if err := writeJSON(stdout, v); err != nil {
		return fail(stderr, name, err)
	}
	return 0
}

// orEmpty is s, or an empty slice when s is nil, so that JSON prints [] and
// not null.
func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// summaryWithID is the --json object of a run: the summary keys plus run_id
// (empty when not saved) and status.
func summaryWithID(m runs.RunMeta) map[string]any {
	b, _ := json.Marshal(m.Summary)
	var out map[string]any
	json.Unmarshal(b, &out)
	out["run_id"] = m.ID
	out["status"] = m.Status
	return out
}

// printComparison prints runs as the comparison table: model, strategy, EV,
// r, MSE, ceiling-corrected EV and alpha. withID adds the run id and status
// before, and after, the settings that tell the runs apart (lr, seed, ...)
// and the run's note.
func printComparison(w io.Writer, metas []runs.RunMeta, withID bool) {
	tw := newTable(w, true)
	if withID {
		fmt.Fprint(tw, "run\tstatus\t")
	}
	fmt.Fprint(tw, "model\tstrategy\tEV\tr\tMSE\tEV/ceiling\talpha\t")
	var distinct []string
	if withID {
		for _, name := range runs.DistinctHparams(metas) {
			if name != "readout" && name != "features" && name != "cnn" && name != "alpha" {
				distinct = append(distinct, name) // already columns
			}
		}
		fmt.Fprint(tw, "settings\tnote\t")
	}
	fmt.Fprintln(tw)
	for _, m := range metas {
		s := m.Summary
		if withID {
			fmt.Fprintf(tw, "%s\t%s\t", m.ID, m.Status)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t", m.Model, m.Strategy, num(s.EVMean, 4), num(s.RMean, 4),
			num(s.MSEMean, 4), num(s.CeilingEVMean, 4), num(s.Alpha, 3))
		if withID {
			fmt.Fprintf(tw, "%s\t%s\t", runs.HparamText(m, distinct), m.Note)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	printConstantNotes(w, metas, withID)
}

// printConstantNotes says, under a table of runs, which runs' means leave
// out neurons with constant val responses; withID names each run.
func printConstantNotes(w io.Writer, metas []runs.RunMeta, withID bool) {
	for _, m := range metas {
		note := m.Summary.ConstantNote()
		switch {
		case note == "":
		case withID:
			fmt.Fprintf(w, "%s: %s\n", m.ID, note)
		default:
			fmt.Fprintln(w, note)
		}
	}
}

// num formats a metric to 4 decimals (digits 4) or 3 significant digits
// (digits 3), "-" when unknown.
func num(x float64, digits int) string {
	if math.IsNaN(x) {
		return "-"
	}
	if digits == 3 {
		return fmt.Sprintf("%.3g", x)
	}
	return fmt.Sprintf("%.4f", x)
}

// progressPrinter shows a job's progress on one rewritten stderr line; it is
// silent with --json.
type progressPrinter struct {
	w       io.Writer
	quiet   bool
	start   time.Time
	last    time.Time
	printed bool
}

func newProgressPrinter(w io.Writer, quiet bool) *progressPrinter {
	return &progressPrinter{w: w, quiet: quiet, start: time.Now()}
}

func (p *progressPrinter) emit(ev jobs.Event) {
	if p.quiet {
		return
	}
	switch ev.Kind {
	case jobs.EventProgress:
		now := time.Now()
		if now.Sub(p.last) < 200*time.Millisecond && ev.Done != ev.Total {
			return
		}
		p.last = now
		elapsed := now.Sub(p.start)
		line := fmt.Sprintf("\r%s %d/%d", ev.Message, ev.Done, ev.Total)
		if ev.Done > 0 && ev.Total > 0 {
			rate := float64(ev.Done) / elapsed.Seconds()
			eta := time.Duration(float64(ev.Total-ev.Done) / rate * float64(time.Second))
			line += fmt.Sprintf(" %.1f/s ETA %s", rate, eta.Round(time.Second))
		}
		fmt.Fprint(p.w, line+"   ")
		p.printed = true
	case jobs.EventLog:
		p.finish()
		fmt.Fprintln(p.w, ev.Message)
	case jobs.EventEpoch:
		p.finish()
		fmt.Fprintf(p.w, "epoch %d: train loss %.4g, val loss %.4g, val EV %.4f, val r %.4f\n",
			ev.Epoch, ev.TrainLoss, ev.ValLoss, ev.ValEV, ev.ValR)
	}
}

// finish ends a progress line.
func (p *progressPrinter) finish() {
	if p.printed {
		fmt.Fprintln(p.w)
		p.printed = false
	}
}

// epochLine renders an epoch event for the terminal.
func epochLine(ev jobs.Event) string {
	s := fmt.Sprintf("epoch %3d  step %5d  train loss %.4f  val loss %.4f  val EV %.4f  val r %.4f  %s",
		ev.Epoch, ev.Step, ev.TrainLoss, ev.ValLoss, ev.ValEV, ev.ValR, ev.Elapsed.Round(1e8))
	if ev.ETA > 0 {
		s += fmt.Sprintf("  ETA %s", ev.ETA.Round(1e9))
	}
	return s
}

// trainOutcome reads the outcome a training run recorded in its spec.
func trainOutcome(m runs.RunMeta) (train.TrainOutcome, bool) {
	var v struct {
		Outcome *train.TrainOutcome `json:"outcome"`
	}
	if json.Unmarshal(m.Spec, &v) != nil || v.Outcome == nil {
		return train.TrainOutcome{}, false
	}
	return *v.Outcome, true
}

// printRunJSON prints the run's summary keys, run_id and status (as `itscope
// fit --json`) and, for trainings, how they stopped.
func printRunJSON(w io.Writer, m runs.RunMeta) error {
	obj := summaryWithID(m)
	if o, ok := trainOutcome(m); ok {
		obj["stopped"], obj["best_epoch"], obj["epochs_run"], obj["steps"] = o.Stopped, o.BestEpoch, o.Epochs, o.Steps
	}
	return writeJSON(w, obj)
}

// printRunTable prints one row per run.
func printRunTable(w io.Writer, metas []runs.RunMeta) {
	tw := newTable(w, false)
	fmt.Fprintln(tw, "model\tstrategy\talpha\tstatus\tEV mean\tEV median\tr mean\tr median\tMSE\tstopped\trun")
	for _, m := range metas {
		s := m.Summary
		stopped, alpha := "", "-"
		if o, ok := trainOutcome(m); ok {
			stopped = fmt.Sprintf("%s, best epoch %d/%d", o.Stopped, o.BestEpoch, o.Epochs)
		} else if !math.IsNaN(s.Alpha) && m.Model != "linear" {
			alpha = fmt.Sprintf("%g", s.Alpha)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Model, m.Strategy, alpha, m.Status,
			num(s.EVMean, 4), num(s.EVMedian, 4), num(s.RMean, 4), num(s.RMedian, 4), num(s.MSEMean, 4), stopped, m.ID)
	}
	tw.Flush()
	printConstantNotes(w, metas, len(metas) > 1)
}
