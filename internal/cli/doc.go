// Package cli is itscope's command line: the command table (cli.go), the
// flags every command shares, one output layer (output.go: tables, numbers,
// JSON, progress lines, Ctrl-C) and one file per area (core.go, nets.go,
// train.go, tui.go, serve.go). Run is all package main calls.
//
// `itscope help COMMAND` is the reference for a command's flags;
// docs/cli.md is generated from the same table (go generate in this
// package, checked by TestDocsMatchCommands).
package cli
