// Command itscope predicts how neurons in the primate visual cortex fire in
// response to images, and lets a person explore those models in a terminal.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "itscope: the command line is being built")
	os.Exit(2)
}
