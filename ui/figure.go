package ui

import (
	"fmt"
	"os"
	"path/filepath"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/data"
	"itscope/model/figures"
)

// exportPath is the full path of file name in the export folder dir ("" is
// the working folder), which it makes if missing: a server session's
// folder does not exist before its first export.
func exportPath(dir, name string) (string, error) {
	path, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		return "", err
	}
	return path, os.MkdirAll(filepath.Dir(path), 0o755)
}

// saveFigure draws figure kind as PNG into dir (made if missing) under
// name, and reports the file's full path in the status line. input runs
// off the UI goroutine: it may load runs from the store.
func saveFigure(dir, name string, kind figures.Kind, input func() (figures.Input, error)) tea.Cmd {
	return func() tea.Msg {
		path, err := exportPath(dir, name+"-"+string(kind)+".png")
		var in figures.Input
		if err == nil {
			in, err = input()
		}
		var fig *figures.Figure
		if err == nil {
			fig, err = figures.New(kind, in)
		}
		if err == nil {
			err = fig.Save(path)
		}
		if err != nil {
			return statusMsg{text: data.Printable(fmt.Sprintf("figure %s: %v", kind, err)), isErr: true}
		}
		return statusMsg{text: "wrote " + path}
	}
}
