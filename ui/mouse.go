package ui

import tea "github.com/charmbracelet/bubbletea"

// zone is a rectangle of the screen that answers the mouse: click gets the
// cell clicked relative to the zone's corner, wheel gets -1 (up) or +1
// (down). Either may be nil.
type zone struct {
	x, y, w, h int
	click      func(col, row int) tea.Cmd
	wheel      func(delta int) tea.Cmd
}

// zones are recorded while a frame is drawn, from the same numbers that
// place what is drawn, so a click lands on what the user sees: the app adds
// the tabs, then sets the origin to the pane body and the pane adds its
// rows in its own coordinates. Nothing else computes where things are.
type zones struct {
	dx, dy int
	list   []zone
}

func (z *zones) reset() {
	z.list = z.list[:0]
	z.dx, z.dy = 0, 0
}

// add records a zone at (x, y) of the pane being drawn.
func (z *zones) add(x, y, w, h int, click func(col, row int) tea.Cmd, wheel func(delta int) tea.Cmd) {
	if w <= 0 || h <= 0 {
		return
	}
	z.list = append(z.list, zone{x: x + z.dx, y: y + z.dy, w: w, h: h, click: click, wheel: wheel})
}

// rows records a list drawn one item a line: n lines from (x, y), the
// first showing item first. A click picks the item under it; the wheel
// calls wheel.
func (z *zones) rows(x, y, w, first, n int, pick func(item int) tea.Cmd, wheel func(delta int) tea.Cmd) {
	z.add(x, y, w, n, func(_, row int) tea.Cmd { return pick(first + row) }, wheel)
}

// handle sends a left click or a wheel turn to the innermost zone under it
// (the last added: panes add boxes before their rows).
func (z *zones) handle(msg tea.MouseMsg) tea.Cmd {
	if msg.Action != tea.MouseActionPress {
		return nil
	}
	delta := 0
	switch msg.Button {
	case tea.MouseButtonLeft:
	case tea.MouseButtonWheelUp:
		delta = -1
	case tea.MouseButtonWheelDown:
		delta = 1
	default:
		return nil
	}
	for i := len(z.list) - 1; i >= 0; i-- {
		zn := z.list[i]
		if msg.X < zn.x || msg.X >= zn.x+zn.w || msg.Y < zn.y || msg.Y >= zn.y+zn.h {
			continue
		}
		switch {
		case delta == 0 && zn.click != nil:
			return zn.click(msg.X-zn.x, msg.Y-zn.y)
		case delta != 0 && zn.wheel != nil:
			return zn.wheel(delta)
		}
	}
	return nil
}

// scroll is a wheel handler that moves a list's cursor.
func scroll(c *cursor, n func() int) func(int) tea.Cmd {
	return func(d int) tea.Cmd {
		c.move(d, n())
		return nil
	}
}
