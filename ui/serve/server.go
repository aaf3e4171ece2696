package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	bm "github.com/charmbracelet/wish/bubbletea"
	"github.com/muesli/termenv"
	gossh "golang.org/x/crypto/ssh"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/ui"
)

// Config is what `itscope serve` takes from its flags.
type Config struct {
	Listen string // host:port
	// AuthorizedKeys is the authorized_keys file of the users let in.
	AuthorizedKeys string
	// AllowAnyKey lets any public key in, on a loopback address only: for
	// trying the server on one's own machine.
	AllowAnyKey bool
	HostKey     string // private host key, generated there on first start
	DataRoot    string // remote users open datasets only under it
	// Data, when set, is the dataset every session opens at start: the
	// demo or a name under DataRoot.
	Data string
	// AdminKeys is an authorized_keys file of the keys that may cancel
	// anyone's job; everyone else cancels only their own.
	AdminKeys string
	// MaxJobMemory refuses a job whose memory estimate is larger (bytes);
	// 0 is a quarter of the machine's memory.
	MaxJobMemory int64
	// MaxJobsPerUser bounds the jobs one key has queued and running; 0 is
	// DefaultMaxJobsPerUser.
	MaxJobsPerUser int
	MaxSessions    int // sessions at once; more are told so and closed
	IdleTimeout    time.Duration
	// Datasets are offered in every session's Data pane.
	Datasets []string
	// ExportDir is where sessions write the CSV files and figures they
	// export, each session into its key's own folder (exportFolder).
	ExportDir string
	// FilesRoot, when set, is the folder scp fetches files from, read-only:
	// the run store, which holds ExportDir.
	FilesRoot string
	// Weights are the operator's ONNX exports by network name (ui.Options).
	Weights map[string]string
	// CacheDir and CacheMax are the feature cache every session shares
	// (ui.Options).
	CacheDir string
	CacheMax int64
	Log      *log.Logger // nil: discard
}

// Server is the SSH explorer: one TUI per session over a shared engine.
type Server struct {
	cfg    Config
	engine *jobs.Engine
	keys   *authorizedKeys // nil with AllowAnyKey
	admins *authorizedKeys // nil without AdminKeys
	ssh    *ssh.Server
	log    *log.Logger
	root   *os.Root // the data root, nil without one
	open   func(string) (*data.Dataset, error)
	// hostKey is the SHA256 fingerprint of the host key, which clients
	// check on first connection.
	hostKey string

	mu       sync.Mutex
	sessions map[*tea.Program]struct{}
	// listeners are those given to Serve, closed by Shutdown.
	listeners []net.Listener
	count     int
	closing   bool
	handlers  sync.WaitGroup // sessions inside limitSessions

	unsubscribe func()
}

// DefaultMaxJobsPerUser is how many jobs one key may have queued and
// running at once, unless Config says otherwise.
const DefaultMaxJobsPerUser = 32

// New checks cfg and makes a server over engine, whose store holds the runs
// every session sees, and sets the engine's limits (Config.MaxJobMemory,
// MaxJobsPerUser). It refuses to run without authorized keys unless
// AllowAnyKey is set on a loopback address.
func New(cfg Config, engine *jobs.Engine) (*Server, error) {
	if cfg.Listen == "" {
		cfg.Listen = "127.0.0.1:2222"
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = 16
	}
	if cfg.MaxJobsPerUser <= 0 {
		cfg.MaxJobsPerUser = DefaultMaxJobsPerUser
	}
	if cfg.MaxJobMemory <= 0 {
		cfg.MaxJobMemory = jobs.MachineMemory() / 4
	}
	if cfg.Log == nil {
		cfg.Log = log.New(io.Discard, "", 0)
	}
	s := &Server{cfg: cfg, engine: engine, log: cfg.Log, sessions: map[*tea.Program]struct{}{}}
	switch {
	case cfg.AllowAnyKey && cfg.AuthorizedKeys != "":
		return nil, errors.New("serve: give --authorized-keys or --allow-any-key, not both")
	case cfg.AllowAnyKey:
		if !isLoopback(cfg.Listen) {
			return nil, fmt.Errorf("serve: --allow-any-key is allowed on a loopback address only, not %s", cfg.Listen)
		}
		s.log.Printf("WARNING: --allow-any-key: any SSH key is let in on %s", cfg.Listen)
	case cfg.AuthorizedKeys == "":
		return nil, errors.New("serve: --authorized-keys FILE is required (public-key authentication only)")
	default:
		keys, err := loadAuthorizedKeys(cfg.AuthorizedKeys)
		if err != nil {
			return nil, fmt.Errorf("serve: %w", err)
		}
		s.keys = keys
	}
	if cfg.AdminKeys != "" {
		admins, err := loadAuthorizedKeys(cfg.AdminKeys)
		if err != nil {
			return nil, fmt.Errorf("serve: --admin-keys: %w", err)
		}
		s.admins = admins
	}
	if cfg.HostKey == "" {
		return nil, errors.New("serve: a host key path is required")
	}
	pem, err := hostKeyPEM(cfg.HostKey)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	signer, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		return nil, fmt.Errorf("serve: host key %s: %w", cfg.HostKey, err)
	}
	s.hostKey = gossh.FingerprintSHA256(signer.PublicKey())
	rootPath := ""
	if cfg.DataRoot != "" {
		if rootPath, err = filepath.Abs(cfg.DataRoot); err != nil {
			return nil, fmt.Errorf("serve: data root %s: %w", cfg.DataRoot, err)
		}
		// Opened once: every dataset file is then opened through it.
		if s.root, err = os.OpenRoot(rootPath); err != nil {
			return nil, fmt.Errorf("serve: data root %s: %w", cfg.DataRoot, err)
		}
	}
	s.open = confinedOpener(s.root, rootPath)
	if cfg.Data != "" {
		// Refused at start rather than in every session.
		if _, err := s.open(cfg.Data); err != nil {
			s.closeRoot()
			return nil, fmt.Errorf("serve: --data: %w", err)
		}
	}
	engine.SetLimits(jobs.Limits{JobMemory: cfg.MaxJobMemory, JobsPerOwner: cfg.MaxJobsPerUser})

	// Run last to first: log, then limit, then serve scp (which needs no
	// PTY), then insist on a PTY, then the TUI.
	middleware := []wish.Middleware{
		bm.MiddlewareWithProgramHandler(s.program, termenv.Ascii), // never force colours
		requirePTY,
	}
	if cfg.FilesRoot != "" {
		files, err := filesMiddleware(cfg.FilesRoot)
		if err != nil {
			return nil, err
		}
		middleware = append(middleware, files)
	}
	middleware = append(middleware, s.limitSessions, s.logSession)
	opts := []ssh.Option{
		wish.WithAddress(cfg.Listen),
		wish.WithHostKeyPEM(pem),
		wish.WithPublicKeyAuth(s.allowKey),
		wish.WithMiddleware(middleware...),
	}
	if cfg.IdleTimeout > 0 {
		opts = append(opts, wish.WithIdleTimeout(cfg.IdleTimeout))
	}
	srv, err := wish.NewServer(opts...)
	if err != nil {
		s.closeRoot()
		return nil, fmt.Errorf("serve: %w", err)
	}
	// Only the public-key handler is set, so the server offers neither
	// passwords nor keyboard-interactive; say so explicitly all the same.
	srv.PasswordHandler = nil
	srv.KeyboardInteractiveHandler = nil
	s.ssh = srv
	s.logJobs()
	return s, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Server) allowKey(ctx ssh.Context, key ssh.PublicKey) bool {
	if s.keys == nil {
		return true
	}
	ok := s.keys.allowed(key)
	if !ok {
		s.log.Printf("refused key %s for user %q from %s", gossh.FingerprintSHA256(key), data.Printable(ctx.User()), ctx.RemoteAddr())
	}
	return ok
}

// HostKeyFingerprint is the SHA256 fingerprint of the server's host key, for
// users to check on their first connection.
func (s *Server) HostKeyFingerprint() string { return s.hostKey }

func (s *Server) closeRoot() {
	if s.root != nil {
		s.root.Close()
	}
}

// requirePTY turns away sessions without a terminal (ssh host some-command,
// ssh -T) with one line saying why.
func requirePTY(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		if _, _, ok := sess.Pty(); !ok {
			fmt.Fprint(sess.Stderr(), "itscope: the explorer needs a terminal; connect with `ssh -t` and no command\r\n")
			_ = sess.Exit(1)
			return
		}
		next(sess)
	}
}

func (s *Server) limitSessions(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.mu.Lock()
		full := s.count >= s.cfg.MaxSessions
		closing := s.closing
		if !full && !closing {
			s.count++
			s.handlers.Add(1)
		}
		s.mu.Unlock()
		switch {
		case closing:
			fmt.Fprint(sess.Stderr(), "itscope: the server is shutting down\r\n")
			_ = sess.Exit(1)
			return
		case full:
			fmt.Fprintf(sess.Stderr(), "itscope: the server already has %d sessions, its limit; try again later\r\n", s.cfg.MaxSessions)
			s.log.Printf("session refused: limit of %d reached (%s)", s.cfg.MaxSessions, sess.RemoteAddr())
			_ = sess.Exit(1)
			return
		}
		next(sess)
		s.mu.Lock()
		s.count--
		closing = s.closing
		s.mu.Unlock()
		if closing {
			// Whatever state the explorer left the terminal in, leave the
			// alternate screen and show the cursor, then say why.
			fmt.Fprint(sess, restoreTerminal+"\r\n"+shutdownReason+"\r\n")
			_ = sess.Exit(0)
		}
		s.handlers.Done()
	}
}

// restoreTerminal leaves the alternate screen and shows the cursor.
const restoreTerminal = "\x1b[?1049l\x1b[?25h"

// shutdownReason is what every session is told when the server stops.
const shutdownReason = "itscope: the server is shutting down (stopped by its operator); running jobs were cancelled, finished runs are kept"

func (s *Server) logSession(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		fp := "-"
		if k := sess.PublicKey(); k != nil {
			fp = gossh.FingerprintSHA256(k)
		}
		owner := data.Printable(s.owner(sess))
		start := time.Now()
		s.log.Printf("session start user=%q key=%s owner=%q remote=%s", data.Printable(sess.User()), fp, owner, sess.RemoteAddr())
		next(sess)
		s.log.Printf("session end user=%q key=%s owner=%q remote=%s duration=%s", data.Printable(sess.User()), fp, owner, sess.RemoteAddr(), time.Since(start).Round(time.Millisecond))
	}
}

// owner is who owns the jobs a session submits: the identity of its
// authenticated key, its SHA256 fingerprint after the key's authorized_keys
// comment when it has one. Never the user name the client sent, which
// anyone may choose.
func (s *Server) owner(sess ssh.Session) string {
	k := sess.PublicKey()
	if k == nil {
		return ""
	}
	fp := gossh.FingerprintSHA256(k)
	if s.keys != nil {
		if name := s.keys.name(k); name != "" {
			return name + " " + fp
		}
	}
	return fp
}

// program makes the session's own TUI over the shared engine. Its jobs
// outlive the session: a lab starts a grid and closes the laptop.
func (s *Server) program(sess ssh.Session) *tea.Program {
	pty, _, _ := sess.Pty()
	app := ui.New(ui.Options{
		Engine:         s.engine,
		Renderer:       sessionRenderer(sess),
		Width:          pty.Window.Width,
		Height:         pty.Window.Height,
		Open:           s.open,
		Datasets:       s.cfg.Datasets,
		Initial:        s.cfg.Data,
		ExportDir:      exportFolder(s.cfg.ExportDir, sess.PublicKey()),
		Weights:        s.cfg.Weights,
		CacheDir:       s.cfg.CacheDir,
		CacheMax:       s.cfg.CacheMax,
		User:           s.owner(sess),
		Admin:          s.isAdmin(sess),
		KeepJobsOnQuit: true,
		// The client's terminal, not the server's, picks the image protocol.
		Env: append(sess.Environ(), "TERM="+pty.Term),
	})
	p := tea.NewProgram(app, append(bm.MakeOptions(sess), tea.WithAltScreen(), tea.WithFPS(ui.FPS))...)
	s.mu.Lock()
	s.sessions[p] = struct{}{}
	s.mu.Unlock()
	go func() {
		<-sess.Context().Done()
		app.Close() // a dropped connection must not leave its event subscription behind
		s.mu.Lock()
		delete(s.sessions, p)
		s.mu.Unlock()
	}()
	return p
}

// logJobs writes a line for each job's start and end.
func (s *Server) logJobs() {
	ch, cancel := s.engine.Subscribe()
	s.unsubscribe = cancel
	go func() {
		for ev := range ch {
			switch ev.Kind {
			case jobs.EventStarted, jobs.EventDone, jobs.EventFailed, jobs.EventCancelled:
				line := fmt.Sprintf("job %d %s", ev.Job, ev.Kind)
				if st, ok := s.engine.Status(ev.Job); ok {
					line += fmt.Sprintf(" name=%q", data.Printable(st.Name))
					if st.Owner != "" {
						line += fmt.Sprintf(" owner=%q", data.Printable(st.Owner))
					}
					if st.CancelledBy != "" {
						line += fmt.Sprintf(" cancelled_by=%q", data.Printable(st.CancelledBy))
					}
				}
				if ev.RunID != "" {
					line += " run=" + ev.RunID
				}
				if ev.Message != "" && ev.Kind != jobs.EventStarted {
					line += " msg=" + data.Printable(strings.ReplaceAll(ev.Message, "\n", " "))
				}
				if ev.Kind.Terminal() {
					line += " elapsed=" + ev.Elapsed.Round(time.Millisecond).String()
				}
				s.log.Print(line)
			}
		}
	}()
}

// Serve accepts sessions on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	// A Shutdown that came first (a signal at start) closes ln here, or
	// closes it when it comes, so that Serve never outlives it.
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.listeners = append(s.listeners, ln)
	}
	s.mu.Unlock()
	if closing {
		ln.Close()
		return nil
	}
	s.log.Printf("serving on %s, host key %s", ln.Addr(), s.hostKey)
	err := s.ssh.Serve(ln)
	s.mu.Lock()
	closing = s.closing
	s.mu.Unlock()
	if errors.Is(err, ssh.ErrServerClosed) || closing && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// ListenAndServe listens on the configured address and serves.
func (s *Server) ListenAndServe() error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return s.Serve(ln)
}

// Shutdown tells every session the server is stopping and closes it,
// cancels running jobs (the engine records them as cancelled) and waits,
// until ctx ends, for all of it.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for _, ln := range s.listeners {
		ln.Close() // no new sessions while the others are told
	}
	progs := make([]*tea.Program, 0, len(s.sessions))
	for p := range s.sessions {
		progs = append(progs, p)
	}
	s.mu.Unlock()
	s.log.Printf("shutting down: %d sessions, cancelling running jobs", len(progs))
	jobsErr := s.engine.Shutdown(ctx)
	for _, p := range progs {
		p.Quit() // limitSessions then tells the session why
	}
	ended := make(chan struct{})
	go func() { s.handlers.Wait(); close(ended) }()
	var waitErr error
	select {
	case <-ended:
	case <-ctx.Done():
		waitErr = fmt.Errorf("sessions still open: %w", ctx.Err())
	}
	// Clients may keep their connections open after their session ends;
	// Close drops them, where Shutdown would wait for them. It also closes
	// the listeners Serve has not yet let go of, which were closed above.
	err := s.ssh.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	if s.unsubscribe != nil {
		s.unsubscribe()
	}
	s.closeRoot()
	return errors.Join(jobsErr, waitErr, err)
}
