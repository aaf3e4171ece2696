package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"itscope/internal/cli"
)

func main() {
	out := flag.String("o", "docs/cli.md", "output `FILE`")
	flag.Parse()
	var b bytes.Buffer
	if err := cli.WriteDocs(&b); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}
