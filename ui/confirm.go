package ui

import (
	tea "github.com/charmbracelet/bubbletea"
)

// confirmMsg asks a yes/no question in the status line before an action
// that cannot be undone or that is large (cancelling a job, starting
// hundreds): y runs yes, any other key drops it.
type confirmMsg struct {
	prompt string
	yes    func() tea.Cmd
}

func confirm(prompt string, yes func() tea.Cmd) tea.Cmd {
	return func() tea.Msg { return confirmMsg{prompt: prompt, yes: yes} }
}

// answer takes the key that answers the pending question.
func (a *App) answer(msg tea.KeyMsg) tea.Cmd {
	q := a.pending
	a.pending = nil
	if msg.String() == "y" || msg.String() == "Y" {
		return q.yes()
	}
	return setStatus("not done: %s", q.prompt)
}
