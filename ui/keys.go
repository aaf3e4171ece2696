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
	// Results and Compare panes.
	View, Sort, Reverse, Export, Figure, Note, Filter, Mark, Refresh key.Binding
	// Compare's curves.
	Curves, Smooth, LogY, XAxis key.Binding
}

// DefaultKeyMap is the explorer's key map: arrows and vim keys, number keys
// between panes, `?` for help.
func DefaultKeyMap() KeyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return KeyMap{
		Help:     b([]string{"?"}, "?", "help"),
		Quit:     b([]string{"q", "ctrl+c"}, "q", "quit"),
		NextPane: b([]string{"tab"}, "tab", "next pane"),
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
		Enter:    b([]string{"enter"}, "enter", "open"),
		Back:     b([]string{"esc"}, "esc", "back"),

		OpenPath:   b([]string{"o"}, "o", "open path"),
		PrevNeuron: b([]string{"["}, "[", "prev neuron"),
		NextNeuron: b([]string{"]"}, "]", "next neuron"),

		Sweep: b([]string{"w"}, "w", "sweep all layers"),

		Edit:     b([]string{"enter", "e"}, "enter", "edit"),
		Start:    b([]string{"s"}, "s", "start jobs"),
		Strategy: b([]string{"m"}, "m", "read-out"),
		Executor: b([]string{"c"}, "c", "local/slurm"),

		Cancel: b([]string{"x"}, "x", "cancel job"),
		Pin:    b([]string{"p"}, "p", "pin job"),

		View:    b([]string{"v"}, "v", "next view"),
		Sort:    b([]string{"s"}, "s", "sort column"),
		Reverse: b([]string{"r"}, "r", "reverse"),
		Export:  b([]string{"e"}, "e", "export CSV"),
		Figure:  b([]string{"f"}, "f", "save figure"),
		Note:    b([]string{"n"}, "n", "note"),
		Curves:  b([]string{"c"}, "c", "curves/histograms"),
		Smooth:  b([]string{"a"}, "a", "smoothing"),
		LogY:    b([]string{"y"}, "y", "log y"),
		XAxis:   b([]string{"x"}, "x", "x: steps/epochs"),
		Filter:  b([]string{"/"}, "/", "filter"),
		Mark:    b([]string{" ", "space"}, "space", "mark"),
		Refresh: b([]string{"R"}, "R", "reload runs"),
	}
}
