// Package serve runs the itscope explorer over SSH: every session gets its
// own TUI, and all sessions share one job engine and one run store, so a job
// started in one session shows its progress in every other.
//
// Only public keys listed in an authorized_keys file get in (no passwords, no
// keyboard-interactive); the file is re-read when it changes. Datasets are
// opened only under a data root. Sessions, running jobs and idle time are
// limited, and each session and job is logged.
package serve
