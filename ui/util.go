package ui

import (
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
)

type lipglossStyle = lipgloss.Style

func keyIs(msg tea.KeyMsg, b key.Binding) bool { return key.Matches(msg, b) }

func ansiWidth(s string) int { return ansi.StringWidth(s) }

// ansiCut returns the cells [from, to) of s, keeping its styles.
func ansiCut(s string, from, to int) string { return ansi.Cut(s, from, to) }
