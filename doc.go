// Command itscope predicts how neurons in the primate visual cortex fire in
// response to images, and lets a person explore those models in a terminal.
// The command line lives in internal/cli.
package main
