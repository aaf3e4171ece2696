package main

import (
	"fmt"
	"os"
	"time"

	"itscope/data"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: loadh5 SPEC")
		os.Exit(2)
	}
	t := time.Now()
	d, err := data.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("itscope data.Open: %.2fs, %d images x %d neurons\n", time.Since(t).Seconds(), d.Images.Len(), d.NumNeurons)
}
