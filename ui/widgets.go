package ui

import (
	"strings"
	"unicode/utf8"

	tea "github.com/charmbracelet/bubbletea"
)

// lineInput is a one-line text editor. The bubbles textinput blinks its
// cursor on a timer, which would make every golden frame differ; this one
// draws a steady cursor.
type lineInput struct {
	prompt string
	value  string
	active bool
}

// update applies a key; done is true on enter, cancelled on esc.
func (in *lineInput) update(msg tea.KeyMsg) (done, cancelled bool) {
	switch msg.Type {
	case tea.KeyEnter:
		in.active = false
		return true, false
	case tea.KeyEsc:
		in.active = false
		return false, true
	case tea.KeyBackspace:
		if in.value != "" {
			_, n := utf8.DecodeLastRuneInString(in.value)
			in.value = in.value[:len(in.value)-n]
		}
	case tea.KeyCtrlU:
		in.value = ""
	case tea.KeySpace:
		in.value += " "
	case tea.KeyRunes:
		in.value += string(msg.Runes)
	}
	return false, false
}

func (in *lineInput) view(st Styles) string {
	if !in.active {
		return in.prompt + in.value
	}
	if st.Plain {
		return in.prompt + in.value + "_"
	}
	return in.prompt + in.value + st.Selected.Render(" ")
}

// cursor is a selection in a list of n items with a scrolled window.
type cursor struct {
	pos, top int
}

func (c *cursor) move(delta, n int) {
	c.pos = max(0, min(n-1, c.pos+delta))
}

// window returns the first and end index of the rows that fit in height,
// keeping the selection visible.
func (c *cursor) window(n, height int) (first, end int) {
	if height <= 0 {
		return 0, 0
	}
	if c.pos < c.top {
		c.top = c.pos
	}
	if c.pos >= c.top+height {
		c.top = c.pos - height + 1
	}
	c.top = max(0, min(c.top, max(0, n-height)))
	return c.top, min(n, c.top+height)
}

// navigate applies the common list keys; it reports whether the key was one.
func navigate(k KeyMap, msg tea.KeyMsg, c *cursor, n, page int) bool {
	switch {
	case keyIs(msg, k.Up):
		c.move(-1, n)
	case keyIs(msg, k.Down):
		c.move(1, n)
	case keyIs(msg, k.PageUp):
		c.move(-max(1, page), n)
	case keyIs(msg, k.PageDown):
		c.move(max(1, page), n)
	case keyIs(msg, k.Top):
		c.pos = 0
	case keyIs(msg, k.Bottom):
		c.pos = max(0, n-1)
	default:
		return false
	}
	return true
}

// box draws a titled box of exactly width x height cells: rounded, or
// double with a ▶ before its title when it has the focus.
func box(st Styles, title, body string, width, height int, focused bool) string {
	s := st.Box
	if focused {
		s = st.BoxFocused
		if title != "" {
			title = "▶ " + title
		}
	}
	inner := fitBlock(body, max(0, width-2), max(0, height-2))
	out := s.Width(max(0, width-2)).Height(max(0, height-2)).Render(inner)
	if title == "" {
		return out
	}
	// Put the title into the top border.
	lines := strings.SplitN(out, "\n", 2)
	t := " " + st.Heading.Render(title) + " "
	top := lines[0]
	lines[0] = spliceTitle(top, t, width)
	return strings.Join(lines, "\n")
}

// spliceTitle writes title over the top border after its corner.
func spliceTitle(border, title string, width int) string {
	tw := ansiWidth(title)
	if tw+3 > width {
		return border
	}
	left := ansiCut(border, 0, 2)
	right := ansiCut(border, 2+tw, width)
	return left + title + right
}

// withNextStep puts a one-line hint for the next step on the last of height
// lines, under body (cut to fit above it).
func withNextStep(st Styles, body, hint string, height int) string {
	if height < 2 || hint == "" {
		return body
	}
	lines := strings.Split(strings.TrimRight(body, "\n"), "\n")
	if len(lines) > height-1 {
		lines = lines[:height-1]
	}
	for len(lines) < height-1 {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n") + "\n" + st.Heading.Render("next → "+hint)
}

// selectLine highlights the selected row. Without colour (NO_COLOR) styles
// draw nothing, so the row gets a ">" in its first cell instead.
func selectLine(st Styles, line string, width int) string {
	if st.Plain {
		r := []rune(line)
		if len(r) > 0 && (r[0] == ' ' || r[0] == '●') {
			r[0] = '>'
		} else {
			r = append([]rune{'>'}, r...)
		}
		return string(r)
	}
	return st.Selected.Render(fitLine(line, width))
}
