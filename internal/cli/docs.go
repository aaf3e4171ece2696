package cli

import (
	"bytes"
	"fmt"
	"io"
)

//go:generate go run ./gendoc -o ../../docs/cli.md

// WriteDocs writes the command-line reference (docs/cli.md) from the command
// table: the command list, then each command's `itscope help COMMAND`.
func WriteDocs(w io.Writer) error {
	var b bytes.Buffer
	fmt.Fprint(&b, "<!-- Generated from the command table by `go generate ./internal/cli`; do not edit. -->\n\n")
	fmt.Fprint(&b, "# The itscope command line\n\n")
	fmt.Fprint(&b, "`itscope help COMMAND` prints the same text for one command.\n\n```\n")
	usage(&b)
	fmt.Fprint(&b, "```\n")
	for _, c := range commandTable() {
		var help bytes.Buffer
		if status := c.run([]string{"-h"}, io.Discard, &help); status != 0 {
			return fmt.Errorf("itscope help %s: exit status %d: %s", c.name, status, help.String())
		}
		fmt.Fprintf(&b, "\n## itscope %s\n\n%s.\n\n```\n%s```\n", c.name, c.summary, help.String())
	}
	_, err := w.Write(b.Bytes())
	return err
}
