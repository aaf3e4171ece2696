// Package ui is the bubbletea terminal explorer: one component per pane, the
// keymap in one place, and a shared context for sizes and theme. It reaches
// numerics only through model.
package ui
