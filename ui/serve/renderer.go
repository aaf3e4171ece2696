package serve

import (
	"strconv"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/ssh"
	"github.com/muesli/termenv"
)

// sessionRenderer styles for the client's terminal from what the session
// tells: TERM and COLORTERM for the colour profile, NO_COLOR, and COLORFGBG
// for a light background. wish's own renderer asks the terminal for its
// background and, over an emulated PTY, waits for ever on a client that never
// answers; nothing here waits.
func sessionRenderer(sess ssh.Session) *lipgloss.Renderer {
	pty, _, _ := sess.Pty()
	env := append(sess.Environ(), "TERM="+pty.Term)
	r := lipgloss.NewRenderer(sess,
		termenv.WithEnvironment(sessionEnv(env)),
		termenv.WithUnsafe(), // an SSH channel is no TTY, yet a terminal is behind it
		termenv.WithColorCache(true))
	if pty.Term == "" || pty.Term == "dumb" {
		r.SetColorProfile(termenv.Ascii)
	}
	r.SetHasDarkBackground(!lightBackground(sessionEnv(env).Getenv("COLORFGBG")))
	return r
}

// lightBackground reads COLORFGBG ("fg;bg", as rxvt and Konsole set it):
// background colours 7 and 9-15 are light.
func lightBackground(colorfgbg string) bool {
	parts := strings.Split(colorfgbg, ";")
	bg, err := strconv.Atoi(parts[len(parts)-1])
	return err == nil && (bg == 7 || bg >= 9 && bg <= 15)
}

type sessionEnv []string

func (e sessionEnv) Environ() []string { return e }

func (e sessionEnv) Getenv(k string) string {
	v := ""
	for _, kv := range e {
		if strings.HasPrefix(kv, k+"=") {
			v = kv[len(k)+1:] // the last one wins, as in a shell
		}
	}
	return v
}
