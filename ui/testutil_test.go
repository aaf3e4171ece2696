package ui

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/muesli/termenv"
)

const testW, testH = 100, 30

// TestMain points the config dir at a temporary folder, so that no test
// reads or writes the grid settings of the user running the tests.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "itscope-ui-config-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_CONFIG_HOME", dir)
	// Nor does the terminal running the tests pick the image protocol.
	for _, k := range []string{"TMUX", "KITTY_WINDOW_ID", "TERM_PROGRAM", "LC_TERMINAL"} {
		os.Unsetenv(k)
	}
	os.Setenv("TERM", "xterm-256color")
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// plainRenderer draws without colour on a dark background, so that golden
// frames do not depend on the terminal running the tests.
func plainRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// probe wraps the app to let a test wait until the program has handled a
// message (a dataset loaded, an image decoded) without reading the app's
// state from another goroutine.
type probe struct {
	*App
	mu   sync.Mutex
	seen []tea.Msg
}

func (p *probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := p.App.Update(msg)
	p.mu.Lock()
	p.seen = append(p.seen, msg)
	p.mu.Unlock()
	return p, cmd
}

// waitMsg waits until the program has handled a message that ok accepts.
func (p *probe) waitMsg(t *testing.T, timeout time.Duration, what string, ok func(tea.Msg) bool) tea.Msg {
	t.Helper()
	deadline := time.Now().Add(timeout)
	next := 0
	for time.Now().Before(deadline) {
		p.mu.Lock()
		msgs := p.seen[next:]
		next = len(p.seen)
		p.mu.Unlock()
		for _, m := range msgs {
			if ok(m) {
				return m
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no %s within %s", what, timeout)
	return nil
}

func startApp(t *testing.T, opts Options) (*teatest.TestModel, *probe) {
	t.Helper()
	if opts.Renderer == nil {
		opts.Renderer = plainRenderer()
	}
	if opts.ConfigDir == "" {
		opts.ConfigDir = t.TempDir() // each test starts from the default grid
	}
	if opts.Width == 0 {
		opts.Width, opts.Height = testW, testH
	}
	pr := &probe{App: New(opts)}
	tm := teatest.NewTestModel(t, pr, teatest.WithInitialTermSize(opts.Width, opts.Height))
	t.Cleanup(func() { tm.Quit() })
	return tm, pr
}

// waitFor waits until every want has appeared in the output since the call.
func waitFor(t *testing.T, tm *teatest.TestModel, timeout time.Duration, want ...string) {
	t.Helper()
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool {
		for _, w := range want {
			if !bytes.Contains(b, []byte(w)) {
				return false
			}
		}
		return true
	}, teatest.WithDuration(timeout), teatest.WithCheckInterval(20*time.Millisecond))
}

// finalFrame quits the program and returns the last screen it drew.
func finalFrame(t *testing.T, tm *teatest.TestModel) string {
	t.Helper()
	tm.Quit()
	m := tm.FinalModel(t, teatest.WithFinalTimeout(10*time.Second))
	return m.(*probe).frame()
}

func keys(tm *teatest.TestModel, ks ...string) {
	for _, k := range ks {
		tm.Send(keyMsg(k))
	}
}

// namedKeys are the key names tests use for keys that are not runes.
var namedKeys = map[string]tea.KeyType{
	"enter": tea.KeyEnter, "esc": tea.KeyEsc, "tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab,
	"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
	"backspace": tea.KeyBackspace, "ctrl+u": tea.KeyCtrlU, "ctrl+c": tea.KeyCtrlC,
}

// keyMsg turns a key name into the message bubbletea would send.
func keyMsg(k string) tea.KeyMsg {
	if k == "space" {
		return tea.KeyMsg{Type: tea.KeySpace, Runes: []rune{' '}}
	}
	if t, ok := namedKeys[k]; ok {
		return tea.KeyMsg{Type: t}
	}
	return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
}

// typeText types s into the focused input.
func typeText(tm *teatest.TestModel, s string) {
	for _, r := range s {
		if r == ' ' {
			tm.Send(keyMsg("space"))
			continue
		}
		tm.Send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

func windowSize(w, h int) tea.WindowSizeMsg { return tea.WindowSizeMsg{Width: w, Height: h} }
