package ui

import (
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Styles are built from one session's renderer, so that two SSH sessions with
// different terminals (dark and light, true colour and NO_COLOR) each get
// their own colours from the same process.
type Styles struct {
	Title       lipgloss.Style
	TabActive   lipgloss.Style
	TabInactive lipgloss.Style
	Box         lipgloss.Style
	BoxFocused  lipgloss.Style
	Heading     lipgloss.Style
	Selected    lipgloss.Style
	Marked      lipgloss.Style
	Dim         lipgloss.Style
	Label       lipgloss.Style
	Value       lipgloss.Style
	Good        lipgloss.Style
	Bad         lipgloss.Style
	Warn        lipgloss.Style
	Status      lipgloss.Style
	HelpKey     lipgloss.Style
	HelpDesc    lipgloss.Style
	HelpSep     lipgloss.Style
	BarFull     lipgloss.Style
	BarEmpty    lipgloss.Style
	Series      [2]lipgloss.Style

	// Plain is true when the profile has no colour (NO_COLOR, a dumb
	// terminal, golden tests): charts then tell series apart by glyph.
	Plain bool
}

// NewStyles derives the palette from the renderer's colour profile and
// background. Adaptive colours let lipgloss pick the dark or light variant.
func NewStyles(r *lipgloss.Renderer) Styles {
	accent := lipgloss.AdaptiveColor{Light: "#5A3FC0", Dark: "#B79CFF"}
	muted := lipgloss.AdaptiveColor{Light: "#6B6B6B", Dark: "#8A8A8A"}
	text := lipgloss.AdaptiveColor{Light: "#1A1A1A", Dark: "#E8E8E8"}
	good := lipgloss.AdaptiveColor{Light: "#1B7F3B", Dark: "#5FD38D"}
	bad := lipgloss.AdaptiveColor{Light: "#B3261E", Dark: "#FF7A6E"}
	warn := lipgloss.AdaptiveColor{Light: "#8A5A00", Dark: "#FFC857"}
	selBg := lipgloss.AdaptiveColor{Light: "#E4DCFF", Dark: "#3B2F66"}
	train := lipgloss.AdaptiveColor{Light: "#1F5FBF", Dark: "#6CB6FF"}
	val := lipgloss.AdaptiveColor{Light: "#B3541E", Dark: "#FFA657"}

	s := Styles{Plain: r.ColorProfile() == termenv.Ascii}
	n := r.NewStyle
	s.Title = n().Bold(true).Foreground(accent)
	s.TabActive = n().Bold(true).Foreground(accent).Underline(true)
	s.TabInactive = n().Foreground(muted)
	s.Box = n().Border(lipgloss.RoundedBorder()).BorderForeground(muted)
	// Focus shows without colour too: a double border and a marked title
	// (box), so NO_COLOR and colour-blind users see which box takes keys.
	s.BoxFocused = n().Border(lipgloss.DoubleBorder()).BorderForeground(accent)
	s.Heading = n().Bold(true).Foreground(text)
	s.Selected = n().Bold(true).Foreground(accent).Background(selBg)
	s.Marked = n().Foreground(warn)
	s.Dim = n().Foreground(muted)
	s.Label = n().Foreground(muted)
	s.Value = n().Foreground(text)
	s.Good = n().Foreground(good)
	s.Bad = n().Foreground(bad)
	s.Warn = n().Foreground(warn)
	s.Status = n().Foreground(muted).Italic(true)
	s.HelpKey = n().Foreground(accent)
	s.HelpDesc = n().Foreground(muted)
	s.HelpSep = n().Foreground(muted)
	s.BarFull = n().Foreground(accent)
	s.BarEmpty = n().Foreground(muted)
	s.Series = [2]lipgloss.Style{n().Foreground(train), n().Foreground(val)}
	return s
}
