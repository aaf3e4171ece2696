package jobs

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// SlurmTaskID returns the Slurm id (%A_%a) of the array task this process
// runs as, from the environment Slurm gives a task; ok is false outside
// Slurm. `itscope job run` claims its job under this id, so the same task
// requeued by Slurm may take its job back, and the job's state names it.
func SlurmTaskID() (id string, ok bool) {
	a, t := os.Getenv("SLURM_ARRAY_JOB_ID"), os.Getenv("SLURM_ARRAY_TASK_ID")
	if a == "" || t == "" {
		return "", false
	}
	return a + "_" + t, true
}

// StopReason is the cause of a context that StopOnTerm cancelled: why
// the process was asked to stop. It wraps context.Canceled, so a job that
// returns on it is recorded cancelled, saving what a cancel saves.
type StopReason struct{ Reason string }

func (r *StopReason) Error() string { return r.Reason }
func (r *StopReason) Unwrap() error { return context.Canceled }

// Reasons StopOnTerm gives.
const (
	ReasonTimeLimit    = "time limit: Slurm's TERM came before the job's end"
	ReasonSlurmCancel  = "cancelled in Slurm (scancel)"
	ReasonSlurmPreempt = "preempted by Slurm"
	ReasonTerm         = "stopped by SIGTERM"
)

// termBeforeLimit is how close to its end time a running Slurm job must be
// for a TERM to be the executor's --signal=B:TERM@60: Slurm may send it up
// to 60 s early, and the check itself takes a moment.
const termBeforeLimit = 150 * time.Second

// StopOnTerm returns a context that is cancelled when the process gets
// SIGTERM or SIGINT, with a StopReason as its cause (context.Cause): in a
// Slurm task the job asks Slurm whether the TERM is its time-limit
// warning, a cancel or a preemption. stop releases the signals.
func StopOnTerm(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			reason := ReasonTerm
			if sig == syscall.SIGINT {
				reason = "interrupted"
			} else if job := os.Getenv("SLURM_JOB_ID"); job != "" {
				reason = slurmTermReason(job, time.Now())
			}
			cancel(&StopReason{Reason: reason})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
	}
}

// slurmTermReason asks Slurm what job's state is as its TERM arrives:
// still running and near its end time is the time-limit warning; being
// cancelled or preempted says so.
func slurmTermReason(job string, now time.Time) string {
	out, err := runSlurm("scontrol", "show", "job", "-o", job)
	if err != nil {
		return ReasonTerm + " (" + err.Error() + ")"
	}
	f := map[string]string{}
	for _, m := range scontrolField.FindAllStringSubmatch(strings.SplitN(string(out), "\n", 2)[0], -1) {
		if _, seen := f[m[1]]; !seen {
			f[m[1]] = m[2]
		}
	}
	switch f["JobState"] {
	case "CANCELLED", "COMPLETING":
		return ReasonSlurmCancel
	case "PREEMPTED":
		return ReasonSlurmPreempt
	case "RUNNING":
		end, err := time.ParseInLocation("2006-01-02T15:04:05", f["EndTime"], time.Local)
		if err == nil && end.Sub(now) <= termBeforeLimit {
			return ReasonTimeLimit
		}
	}
	return fmt.Sprintf("%s (Slurm: JobState=%s EndTime=%s)", ReasonTerm, f["JobState"], f["EndTime"])
}
