package ui

import "github.com/charmbracelet/bubbles/key"

// KeyMap holds every binding of the explorer in one place; panes pick the ones
// they honour and list them in their help.
type KeyMap struct {
	Help, Quit, NextPane, PrevPane, Pane key.Binding
	// Yes answers the question before quitting with jobs running.
	Yes key.Binding

	Up, Down, Left, Right, PageUp, PageDown, Top, Bottom, Enter, Back key.Binding

	// Data pane.
	OpenPath, PrevNeuron, NextNeuron key.Binding
	// Model pane.
	Sweep key.Binding
	// Grid pane.
	Edit, Start, Strategy, Executor key.Binding
	// Jobs and Live panes.
	Cancel, Pin key.Binding
	// Results and Compare panes; Columns chooses Compare's hyperparameter
	// columns.
	View, Sort, Reverse, Export, Figure, Note, Filter, Mark, Refresh, Columns key.Binding
	// Compare's curves.
	Curves, Smooth, LogY, XAxis key.Binding
}

// DefaultKeyMap is the explorer's key map: arrows and vim keys, number keys
// between panes, `?` for help.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	// one is a binding of one key, shown as itself.
	one := func(k, desc string) key.Binding { return b([]string{k}, k, desc) }
	m := KeyMap{
		Help:     one("?", "help"),
		Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
		NextPane: one("tab", "next pane"),
		PrevPane: b([]string{"shift+tab"}, "S-tab", "prev pane"),
		Pane:     b([]string{"1", "2", "3", "4", "5", "6", "7"}, "1-7", "go to pane"),
		Yes:      b([]string{"y", "Y", "q", "ctrl+c"}, "y", "yes, quit"),

		Up:       b([]string{"up", "k"}, "↑/k", "up"),
		Down:     b([]string{"down", "j"}, "↓/j", "down"),
		Left:     b([]string{"left", "h"}, "←/h", "left"),
		Right:    b([]string{"right", "l"}, "→/l", "right"),
		PageUp:   b([]string{"pgup", "ctrl+u"}, "pgup", "page up"),
		PageDown: b([]string{"pgdown", "ctrl+d"}, "pgdn", "page down"),
		Top:      b([]string{"home", "g"}, "g", "top"),
		Bottom:   b([]string{"end", "G"}, "G", "bottom"),
		Enter:    one("enter", "open"),
		Back:     one("esc", "back"),
	}
	// Each pane's keys, grouped as KeyMap declares them.
	m.OpenPath, m.PrevNeuron, m.NextNeuron = one("o", "open path"), one("[", "prev neuron"), one("]", "next neuron")
	m.Sweep = one("w", "sweep all layers")
	m.Edit = b([]string{"enter", "e"}, "enter", "edit")
	m.Start, m.Strategy, m.Executor = one("s", "start jobs"), one("m", "read-out"), one("c", "local/slurm")
	m.Cancel, m.Pin = one("x", "cancel job"), one("p", "pin job")
	m.View, m.Sort, m.Reverse = one("v", "next view"), one("s", "sort column"), one("r", "reverse")
	m.Export, m.Figure, m.Note = one("e", "export CSV"), one("f", "save figure"), one("n", "note")
	m.Filter, m.Mark, m.Refresh, m.Columns = one("/", "filter"), b([]string{" ", "space"}, "space", "mark"), one("R", "reload runs"), one("C", "columns")
	m.Curves, m.Smooth, m.LogY, m.XAxis = one("c", "curves/histograms"), one("a", "smoothing"), one("y", "log y"), one("x", "steps/epochs/wall time")
	return m
}
