//go:build tools

package tools

import (
	_ "codeberg.org/sbinet/npyio"
	_ "github.com/charmbracelet/bubbles/list"
	_ "github.com/charmbracelet/bubbletea"
	_ "github.com/charmbracelet/lipgloss"
	_ "github.com/charmbracelet/wish"
	_ "github.com/charmbracelet/x/exp/teatest"
	_ "github.com/guptarohit/asciigraph"
	_ "go4.org/unsafe/assume-no-moving-gc"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/netlib/blas/netlib"
	_ "google.golang.org/protobuf/proto"
	_ "gorgonia.org/tensor"
)
