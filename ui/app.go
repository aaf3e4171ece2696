package ui

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"
)

// MinWidth and MinHeight are the smallest terminal the explorer draws in.
const (
	MinWidth  = 80
	MinHeight = 24
)

// FPS is the frame rate to run the program at (tea.WithFPS): at bubbletea's
// default of 60 a key waits up to 17 ms for the next frame, at 120 up to 8.
const FPS = 120

// pane is one screen of the explorer. Panes size themselves, draw
// themselves and list their own keys; the app routes keys to the active
// pane's Key and every other message to the Update of all of them.
type pane interface {
	Title() string
	SetSize(width, height int)
	Key(msg tea.KeyMsg) tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	View() string
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
	// Capturing is true while the pane edits text, so that q, tab and digits
	// are typed rather than obeyed.
	Capturing() bool
}

// paneBase is what every pane has: the shared context and its size; and
// what a pane that takes no text and follows no message does.
type paneBase struct {
	ctx  *Context
	w, h int
}

func (p *paneBase) SetSize(w, h int)       { p.w, p.h = w, h }
func (p *paneBase) Capturing() bool        { return false }
func (p *paneBase) Update(tea.Msg) tea.Cmd { return nil }

// Options configure one app instance. Everything it uses comes in here: the
// SSH server makes one per session with the shared backend and the
// session's renderer and size.
type Options struct {
	// Engine runs the jobs and Store holds the runs; both are shared by
	// every session of a server. Store nil means Engine.Store().
	Engine *jobs.Engine
	Store  *runs.Store
	// Renderer draws for this terminal: its colour profile and background
	// pick the styles. Nil means lipgloss's default renderer (stdout).
	Renderer *lipgloss.Renderer
	// Width and Height are the terminal's size until the first resize.
	Width, Height int
	// Open loads a dataset; nil means data.Open.
	Open func(spec string) (*data.Dataset, error)
	// Datasets are listed in the Data pane: demo sessions, files from the
	// command line, recent ones.
	Datasets []string
	// Initial, when set, is opened at start.
	Initial string
	// CacheDir is the feature cache ("" for features.DefaultCacheDir()).
	CacheDir string
	// CacheMax bounds the cache's size in bytes (see
	// features.OpenFeatureCache: 0 for the default, negative for none).
	CacheMax int64
	// ExportDir is where Results writes CSV files; "" is the working folder.
	ExportDir string
	// KeepJobsOnQuit leaves this session's jobs running when it quits (a
	// server whose jobs outlive a session); by default they are cancelled.
	KeepJobsOnQuit bool
	// Weights are torchvision ONNX exports by network name ("resnet50": a
	// file), for the pretrained networks that ship without weights.
	Weights map[string]string
	// User owns the jobs this session starts: on a server the identity of
	// the session's key ("comment SHA256:..."), empty locally.
	User string
	// Admin lets this session cancel anyone's job; others cancel only
	// jobs whose Owner is User.
	Admin bool
	// SubmitSlurm, when set (the local explorer, with sbatch on PATH),
	// lets the Grid pane send its jobs to Slurm instead of this process:
	// it queues them for the Slurm executor and returns a status line.
	SubmitSlurm func(name string, js []jobs.Job) (string, error)
	// ConfigDir holds the user's settings (the Grid's fields); "" is
	// $XDG_CONFIG_HOME/itscope, else ~/.config/itscope.
	ConfigDir string
	// Images is how the Data pane draws stimuli: auto (detected from Env),
	// kitty, iterm, sixel or blocks; "" is auto.
	Images string
	// Env is the session's environment (KEY=VALUE), read to detect the
	// terminal's image protocol; nil is this process's (os.Environ).
	Env []string
}

// App is the explorer's root model.
type App struct {
	ctx    *Context
	panes  []pane
	active int
	help   help.Model
	full   bool // full help shown
	width  int
	height int
	status string
	isErr  bool
	// pending is a question the status line asks; the next key answers it.
	pending *confirmMsg
	opts    Options
	quit    bool
	// confirming is true while the status line asks whether to quit with
	// jobs running.
	confirming bool
	// The picture drawn in the last frame (placePicture): the lines it
	// covered, a counter that changes when they do, and whether one was
	// drawn at all.
	pictureLines string
	pictureGen   int
	pictureShown bool

	unsubMu sync.Mutex
	unsub   func()
}

// Pane indices, in tab order.
const (
	paneData = iota
	paneModel
	paneGrid
	paneJobs
	paneLive
	paneResults
	paneCompare
)

// New makes an app from its options.
func New(opts Options) *App {
	r := opts.Renderer
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	open := opts.Open
	if open == nil {
		open = data.Open
	}
	if opts.Store == nil && opts.Engine != nil {
		opts.Store = opts.Engine.Store()
	}
	ctx := &Context{
		Renderer: r,
		Profile:  r.ColorProfile(),
		Styles:   NewStyles(r),
		Keys:     DefaultKeyMap(),
		Engine:   opts.Engine,
		Store:    opts.Store,
		CacheDir: opts.CacheDir,
		CacheMax: opts.CacheMax,
		Weights:  opts.Weights,
		User:     opts.User,
		Admin:    opts.Admin,
		Open:     open,
		Choice:   ModelChoice{Source: srcPixels, Pixels: 32},
		Jobs:     map[jobs.JobID]jobs.JobStatus{},
		Taps:     map[string][]nets.Tap{},

		SubmitSlurm: opts.SubmitSlurm,
	}
	a := &App{ctx: ctx, opts: opts, width: opts.Width, height: opts.Height}
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	ctx.Images = imageMode(opts.Images, env)
	if err := CheckImageMode(opts.Images); err != nil {
		ctx.Images = imageMode(imagesAuto, env)
		a.status, a.isErr = err.Error(), true
	}
	a.panes = []pane{
		newDataPane(ctx, opts.Datasets),
		newModelPane(ctx),
		newGridPane(ctx, gridSettingsPath(opts.ConfigDir, opts.User)),
		newJobsPane(ctx),
		newLivePane(ctx),
		newResultsPane(ctx, opts.ExportDir),
		newComparePane(ctx, opts.ExportDir),
	}
	a.help = help.New()
	a.help.Styles.ShortKey = ctx.Styles.HelpKey
	a.help.Styles.ShortDesc = ctx.Styles.HelpDesc
	a.help.Styles.ShortSeparator = ctx.Styles.HelpSep
	a.help.Styles.FullKey = ctx.Styles.HelpKey
	a.help.Styles.FullDesc = ctx.Styles.HelpDesc
	a.help.Styles.FullSeparator = ctx.Styles.HelpSep
	a.help.Styles.Ellipsis = ctx.Styles.HelpSep
	a.resize()
	return a
}

// Messages between the app and its panes.
type (
	gotoPaneMsg int
	statusMsg   struct {
		text  string
		isErr bool
	}
	tickMsg time.Time
)

func setStatus(format string, args ...any) tea.Cmd {
	text := data.Printable(fmt.Sprintf(format, args...))
	return func() tea.Msg { return statusMsg{text: text} }
}

// setError shows err in the status line; errors quote file names, typed
// specs and file contents, so their control characters are escaped.
func setError(err error) tea.Cmd {
	return func() tea.Msg { return statusMsg{text: data.Printable(err.Error()), isErr: true} }
}

func gotoPane(i int) tea.Cmd { return func() tea.Msg { return gotoPaneMsg(i) } }

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// Init subscribes to the engine, loads the run list and opens the initial
// dataset.
func (a *App) Init() tea.Cmd {
	var cmds []tea.Cmd
	if eng := a.ctx.Engine; eng != nil {
		ch, cancel := eng.Subscribe()
		a.unsubMu.Lock()
		a.unsub = cancel
		a.unsubMu.Unlock()
		// The snapshot shows jobs that were running before this session
		// opened (another SSH session's).
		cmds = append(cmds, waitEvent(eng, ch), snapshot(eng))
	}
	if a.ctx.Store != nil {
		cmds = append(cmds, loadRuns(a.ctx.Store))
	}
	if a.opts.Initial != "" {
		cmds = append(cmds, openDataset(a.ctx, a.opts.Initial))
	}
	cmds = append(cmds, tick())
	return tea.Batch(cmds...)
}

// Update routes messages: keys to the active pane unless they are global,
// everything else to every pane. Leaving the Data pane while it showed a
// picture in an image protocol clears the screen: the renderer rewrites only
// lines that changed, and a line equal in both panes would keep its part of
// the picture.
func (a *App) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := a.update(msg)
	if a.pictureShown && a.active != paneData {
		a.pictureShown = false
		return m, tea.Batch(cmd, tea.ClearScreen)
	}
	return m, cmd
}

func (a *App) update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		a.width, a.height = msg.Width, msg.Height
		a.resize()
		return a, nil
	case tea.KeyMsg:
		return a, a.handleKey(msg)
	case tea.MouseMsg:
		// Clicks and the wheel go to what the last frame drew under them;
		// not while a field takes text or quitting waits for an answer.
		if a.confirming || a.panes[a.active].Capturing() {
			return a, nil
		}
		return a, a.ctx.zones.handle(msg)
	case gotoPaneMsg:
		a.active = int(msg)
		return a, nil
	case statusMsg:
		a.status, a.isErr = msg.text, msg.isErr
		return a, nil
	case confirmMsg:
		a.pending = &msg
		a.status, a.isErr = msg.prompt+" (y/n)", false
		return a, nil
	case snapshotMsg:
		for _, st := range msg {
			a.ctx.setJob(st)
		}
	case runsMsg:
		if msg.err != nil {
			return a, setError(msg.err)
		}
		a.ctx.Runs = msg.runs
	case jobMsg:
		for _, st := range msg.statuses {
			a.ctx.setJob(st)
		}
		cmds = append(cmds, waitEvent(a.ctx.Engine, msg.ch))
		if msg.has(jobs.EventKind.Terminal) && a.ctx.Store != nil {
			cmds = append(cmds, loadRuns(a.ctx.Store))
		}
	case tickMsg:
		if a.quit {
			return a, nil
		}
		cmds = append(cmds, tick())
	}
	for _, p := range a.panes {
		cmds = append(cmds, p.Update(msg))
	}
	return a, tea.Batch(cmds...)
}

// handleKey splits a burst before anything matches keys. Runes that reach
// bubbletea in one read (fast typing, a held key, SSH) arrive as one KeyRunes
// message; a binding such as "j" matches only a single rune, so the burst
// "jjj" would be dropped. Each rune is handled as its own key here, the one
// place keys enter, until a pane starts capturing text (a burst "e12" in Grid
// opens the field and types "12"): what follows is typed as it came. A
// paste is text and never keys.
func (a *App) handleKey(msg tea.KeyMsg) tea.Cmd {
	if msg.Type != tea.KeyRunes || len(msg.Runes) < 2 || msg.Paste {
		return a.handleOneKey(msg)
	}
	var cmds []tea.Cmd
	for i, r := range msg.Runes {
		if a.quit {
			break
		}
		one := msg
		if a.panes[a.active].Capturing() {
			one.Runes = msg.Runes[i:]
			cmds = append(cmds, a.handleOneKey(one))
			break
		}
		one.Runes = []rune{r}
		cmds = append(cmds, a.handleOneKey(one))
	}
	return tea.Batch(cmds...)
}

func (a *App) handleOneKey(msg tea.KeyMsg) tea.Cmd {
	k := a.ctx.Keys
	p := a.panes[a.active]
	if a.confirming {
		return a.answerQuit(msg)
	}
	if a.pending != nil {
		return a.answer(msg)
	}
	if msg.String() == "ctrl+c" {
		return a.Quit()
	}
	if !p.Capturing() && key.Matches(msg, k.Quit) {
		return a.askQuit()
	}
	if p.Capturing() {
		return p.Key(msg)
	}
	switch {
	case key.Matches(msg, k.Help):
		a.full = !a.full
		a.resize()
		return nil
	case key.Matches(msg, k.NextPane):
		a.active = (a.active + 1) % len(a.panes)
		return nil
	case key.Matches(msg, k.PrevPane):
		a.active = (a.active + len(a.panes) - 1) % len(a.panes)
		return nil
	case key.Matches(msg, k.Pane):
		n, _ := strconv.Atoi(msg.String())
		a.active = n - 1
		return nil
	case a.full && key.Matches(msg, k.Back):
		a.full = false
		a.resize()
		return nil
	}
	return p.Key(msg)
}

// runningJobs counts this session's jobs that have not finished; a job
// submitted but not yet reported by the engine counts as running.
func (a *App) runningJobs() int {
	n := 0
	for _, id := range a.ctx.Started {
		if st, ok := a.ctx.Jobs[id]; !ok || !st.State.Finished() {
			n++
		}
	}
	return n
}

// askQuit quits at once when no job of this session runs; otherwise the
// status line asks first, saying what quitting does to the jobs.
func (a *App) askQuit() tea.Cmd {
	n := a.runningJobs()
	if n == 0 {
		return a.Quit()
	}
	a.confirming = true
	jobs := fmt.Sprintf("%d job(s) of yours are running", n)
	if a.opts.KeepJobsOnQuit {
		a.status = jobs + "; they keep running on the server after you leave. Quit? y/n"
	} else {
		a.status = jobs + "; quitting cancels them. Quit? y/n"
	}
	a.isErr = false
	return nil
}

// answerQuit takes the answer to askQuit: y (or q again) quits, anything
// else stays.
func (a *App) answerQuit(msg tea.KeyMsg) tea.Cmd {
	a.confirming = false
	if key.Matches(msg, a.ctx.Keys.Yes) {
		return a.Quit()
	}
	a.status = "not quitting"
	return nil
}

// Quit cancels the jobs this session started (unless told to keep them) and
// ends the program; finished runs are already saved by the engine.
func (a *App) Quit() tea.Cmd {
	a.quit = true
	if a.ctx.Engine != nil && !a.opts.KeepJobsOnQuit {
		for _, id := range a.ctx.Started {
			a.ctx.Engine.Cancel(id)
		}
	}
	a.Close()
	return tea.Quit
}

// Close ends the app's subscription to the engine. Quitting does it; a
// server whose session ends without quitting (a dropped connection) calls
// it so that no goroutine keeps waiting for events. It is safe to call from
// any goroutine, more than once.
func (a *App) Close() {
	a.unsubMu.Lock()
	defer a.unsubMu.Unlock()
	if a.unsub != nil {
		a.unsub()
		a.unsub = nil
	}
}

// helpHeight is the rows the help takes at the bottom.
func (a *App) helpHeight() int {
	if !a.full {
		return 1
	}
	return lipgloss.Height(a.help.FullHelpView(a.fullHelp()))
}

func (a *App) fullHelp() [][]key.Binding {
	k := a.ctx.Keys
	groups := [][]key.Binding{{k.NextPane, k.PrevPane, k.Pane, k.Help, k.Quit}}
	return append(groups, a.panes[a.active].FullHelp()...)
}

func (a *App) resize() {
	a.ctx.Width = a.width
	a.ctx.Height = max(0, a.height-2-a.helpHeight()) // tabs, status, help
	a.help.Width = a.width
	for _, p := range a.panes {
		p.SetSize(a.ctx.Width, a.ctx.Height)
	}
}

// View draws the tab bar, the active pane, a status line and the help;
// after quitting it draws nothing, so the terminal is left clean.
func (a *App) View() string {
	if a.quit {
		return ""
	}
	return a.frame()
}

// frame is the whole screen.
func (a *App) frame() string {
	if a.width < MinWidth || a.height < MinHeight {
		msg := fmt.Sprintf("itscope needs a terminal of at least %dx%d;\nthis one is %dx%d.\n\nEnlarge the window, or press q to quit.",
			MinWidth, MinHeight, a.width, a.height)
		return lipgloss.Place(max(a.width, 1), max(a.height, 1), lipgloss.Center, lipgloss.Center, msg)
	}
	st := a.ctx.Styles
	z := &a.ctx.zones
	z.reset()
	a.ctx.picture = picture{}
	title := st.Title.Render("itscope") + "  "
	x := ansiWidth(title)
	var tabs []string
	for i, p := range a.panes {
		label := fmt.Sprintf("%d %s", i+1, p.Title())
		if i == a.active {
			if st.Plain {
				label = "[" + label + "]"
			}
			label = st.TabActive.Render(label)
		} else {
			label = st.TabInactive.Render(label)
		}
		tabs = append(tabs, label)
		z.add(x, 0, ansiWidth(label), 1, func(int, int) tea.Cmd { return gotoPane(i) }, nil)
		x += ansiWidth(label) + 2
	}
	bar := fitLine(title+strings.Join(tabs, "  "), a.width)

	z.dx, z.dy = 0, bodyTop
	body := fitBlock(a.panes[a.active].View(), a.ctx.Width, a.ctx.Height)

	status := a.status
	if a.isErr {
		status = st.Bad.Render(status)
	} else {
		status = st.Status.Render(status)
	}

	var helpView string
	if a.full {
		helpView = a.help.FullHelpView(a.fullHelp())
	} else {
		k := a.ctx.Keys
		helpView = a.help.ShortHelpView(append(a.panes[a.active].ShortHelp(), k.Help, k.Quit))
	}
	lines := strings.Split(strings.Join([]string{bar, body, fitLine(status, a.width), fitBlock(helpView, a.width, a.helpHeight())}, "\n"), "\n")
	a.placePicture(lines)
	return strings.Join(lines, "\n")
}

// placePicture writes the Data pane's image escape into the frame's lines.
//
// Why this way: bubbletea v1.3.10 has no raw-output message (tea.Printf
// prints above the program, and not at all in the alt screen), and its
// renderer repaints only the lines that changed since the last frame, top
// to bottom. Sixel and iTerm2 pictures live in the cells they cover, so a
// repainted line erases its part of them. The pane therefore leaves the
// picture's cells blank and the escape goes at the end of the picture's
// LAST line, wrapped in save cursor, absolute move, restore cursor: it is
// written after the blank cells under it, and the cursor ends where the
// renderer left it. Whenever any line under the picture changes, a counter
// inside the wrapper (a cursor move undone by the restore) changes too, so
// the last line, and the picture with it, is written again. Kitty pictures
// float above the text and stay until deleted, so the escape deletes the
// previous one first, and a frame without a picture carries the delete on
// its first line. Inside tmux the mode is half blocks (imageMode), which
// are plain cells and need none of this.
func (a *App) placePicture(lines []string) {
	pic := a.ctx.picture
	pic.y += bodyTop
	if pic.seq == "" || pic.y+pic.rows > len(lines) {
		if a.ctx.Images == imagesKitty && len(lines) > 0 {
			if a.pictureLines != "" {
				a.pictureLines = ""
				a.pictureGen++
			}
			lines[0] += "\x1b7" + kittyDeleteAll + fmt.Sprintf("\x1b[%dC", a.pictureGen) + "\x1b8"
		}
		return
	}
	covered := strings.Join(lines[pic.y:pic.y+pic.rows], "\n") + pic.seq
	if covered != a.pictureLines {
		a.pictureLines = covered
		a.pictureGen++
	}
	a.pictureShown = true
	last := pic.y + pic.rows - 1
	lines[last] += fmt.Sprintf("\x1b7\x1b[%d;%dH%s\x1b[%dC\x1b8", pic.y+1, pic.x+1, pic.seq, a.pictureGen)
}

// bodyTop is the frame line where the active pane starts, below the tab bar;
// the pane's mouse zones and picture are placed relative to it.
const bodyTop = 1

// fitLine cuts or pads s to exactly width cells.
func fitLine(s string, width int) string {
	s = ansi.Truncate(s, width, "…")
	if w := ansi.StringWidth(s); w < width {
		s += strings.Repeat(" ", width-w)
	}
	return s
}

// fitBlock cuts or pads s to exactly width x height cells, so that a pane
// can never push the help off the screen.
func fitBlock(s string, width, height int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > height {
		lines = lines[:height]
	}
	for len(lines) < height {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = fitLine(l, width)
	}
	return strings.Join(lines, "\n")
}

func itoa(n int) string { return strconv.Itoa(n) }
