package serve

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// testServer is a real server on a loopback port with its own store, host
// key and authorized_keys, and the client key that is let in.
type testServer struct {
	srv     *Server
	addr    string
	engine  *jobs.Engine
	client  gossh.Signer
	keyFile string
	logBuf  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Reset empties the buffer, so that what it holds next is what came after.
func (s *syncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}

// heldListener is a listener whose Accept, once the listener is closed,
// waits for hold before it returns: the ssh server still counts it as
// its own while Shutdown runs, as when Serve has not yet seen the close.
type heldListener struct {
	net.Listener
	accepting chan struct{}
	once      sync.Once
	hold      chan struct{}
}

func (l *heldListener) Accept() (net.Conn, error) {
	l.once.Do(func() { close(l.accepting) })
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.hold
	}
	return c, err
}

// TestShutdownWhileServeHoldsItsListener: Shutdown closes the listeners
// itself, then the ssh server closes those it still counts as its own, a
// second close; a signal that lands before Serve has returned from Accept
// must still stop the server cleanly (it made `serve` exit 1 under load).
func TestShutdownWhileServeHoldsItsListener(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(Config{Listen: "127.0.0.1:0", AllowAnyKey: true, HostKey: filepath.Join(dir, "host")}, jobs.NewEngine(nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := &heldListener{Listener: ln, accepting: make(chan struct{}), hold: make(chan struct{})}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(held) }()
	<-held.accepting
	err = srv.Shutdown(context.Background())
	close(held.hold)
	if err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}

func newSigner(t testing.TB) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startServer(t testing.TB, tweak func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	client := newSigner(t)
	keyFile := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keyFile, gossh.MarshalAuthorizedKey(client.PublicKey()), 0o600); err != nil {
		t.Fatal(err)
	}
	store, err := runs.OpenStore(filepath.Join(dir, "runs"))
	if err != nil {
		t.Fatal(err)
	}
	engine := jobs.NewEngine(store, 2)
	logBuf := &syncBuffer{}
	cfg := Config{
		Listen:         "127.0.0.1:0",
		AuthorizedKeys: keyFile,
		HostKey:        filepath.Join(dir, "host_ed25519"),
		DataRoot:       filepath.Join(dir, "data"),
		MaxSessions:    4,
		Log:            log.New(logBuf, "", 0),
	}
	if err := os.Mkdir(cfg.DataRoot, 0o755); err != nil {
		t.Fatal(err)
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg, engine)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() {
		// Long enough for a cancelled training to save its run.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &testServer{srv: srv, addr: ln.Addr().String(), engine: engine, client: client, keyFile: keyFile, logBuf: logBuf}
}

func dial(addr string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return dialAs(addr, "tester", auth...)
}

// dialAs logs in with the user name a client chooses (ssh -l user).
func dialAs(addr, user string, auth ...gossh.AuthMethod) (*gossh.Client, error) {
	return gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: gossh.InsecureIgnoreHostKey(),
		Timeout:         5 * time.Second,
	})
}

// terminal is an SSH session with a PTY whose output is collected.
type terminal struct {
	sess  *gossh.Session
	in    io.WriteCloser
	out   *syncBuffer
	done  chan struct{}
	close func()
}

func openTerminal(t testing.TB, addr string, signer gossh.Signer, w, h int) *terminal {
	t.Helper()
	return openTerminalAs(t, addr, "tester", signer, w, h)
}

func openTerminalAs(t testing.TB, addr, user string, signer gossh.Signer, w, h int) *terminal {
	t.Helper()
	client, err := dialAs(addr, user, gossh.PublicKeys(signer))
	if err != nil {
		t.Fatalf("dial with an authorized key: %v", err)
	}
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := sess.RequestPty("xterm-256color", h, w, gossh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	in, err := sess.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	sess.Stdout = out
	sess.Stderr = out
	if err := sess.Shell(); err != nil {
		t.Fatal(err)
	}
	term := &terminal{sess: sess, in: in, out: out, done: make(chan struct{})}
	go func() { sess.Wait(); close(term.done) }()
	term.close = func() { sess.Close(); client.Close() }
	t.Cleanup(term.close)
	return term
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-B]|\x1b[=>]`)

// screen is everything the terminal printed, without escape sequences.
func (term *terminal) screen() string { return ansi.ReplaceAllString(term.out.String(), "") }

func (term *terminal) waitFor(t testing.TB, what string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if strings.Contains(term.screen(), what) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := term.screen()
	if len(s) > 3000 {
		s = s[len(s)-3000:]
	}
	t.Fatalf("screen never showed %q within %s; it shows:\n%s", what, timeout, s)
}

func (term *terminal) send(t testing.TB, keys string) {
	t.Helper()
	if _, err := term.in.Write([]byte(keys)); err != nil {
		t.Fatalf("sending %q: %v", keys, err)
	}
}

func TestAuthorizedKeyGetsTheExplorer(t *testing.T) {
	ts := startServer(t, nil)
	term := openTerminal(t, ts.addr, ts.client, 100, 30)
	term.waitFor(t, "Data", 10*time.Second)
	term.send(t, "4") // the Jobs pane
	term.waitFor(t, "No jobs yet.", 5*time.Second)
	term.send(t, "q")
	select {
	case <-term.done:
	case <-time.After(5 * time.Second):
		t.Fatal("q did not end the session")
	}
	if log := ts.logBuf.String(); !strings.Contains(log, "session start user=\"tester\" key=SHA256:") || !strings.Contains(log, "session end") {
		t.Errorf("log lacks the session's start and end lines:\n%s", log)
	}
}

func TestUnknownKeyIsRefused(t *testing.T) {
	ts := startServer(t, nil)
	_, err := dial(ts.addr, gossh.PublicKeys(newSigner(t)))
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("dial with an unknown key: err = %v, want an authentication failure", err)
	}
	if !strings.Contains(ts.logBuf.String(), "refused key SHA256:") {
		t.Errorf("the refusal is not logged:\n%s", ts.logBuf.String())
	}
}

func TestPasswordsAndKeyboardInteractiveAreRefused(t *testing.T) {
	ts := startServer(t, nil)
	asked := false
	_, err := dial(ts.addr,
		gossh.Password("hunter2"),
		gossh.KeyboardInteractive(func(string, string, []string, []bool) ([]string, error) {
			asked = true
			return nil, nil
		}))
	if err == nil {
		t.Fatal("a password login got in")
	}
	if asked {
		t.Error("the server offered keyboard-interactive authentication")
	}
}

func TestSessionWithoutPTYIsTurnedAway(t *testing.T) {
	ts := startServer(t, nil)
	client, err := dial(ts.addr, gossh.PublicKeys(ts.client))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	sess, err := client.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sess.CombinedOutput("ls")
	if err == nil {
		t.Error("a session without a PTY exited 0")
	}
	if got := strings.TrimSpace(string(out)); got != "itscope: the explorer needs a terminal; connect with `ssh -t` and no command" {
		t.Errorf("no-PTY session got %q", got)
	}
}

func TestSessionLimit(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.MaxSessions = 1 })
	first := openTerminal(t, ts.addr, ts.client, 100, 30)
	first.waitFor(t, "Data", 10*time.Second)
	second := openTerminal(t, ts.addr, ts.client, 100, 30)
	select {
	case <-second.done:
	case <-time.After(5 * time.Second):
		t.Fatal("a session over the limit was not closed")
	}
	if !strings.Contains(second.screen(), "already has 1 sessions, its limit") {
		t.Errorf("the extra session was told %q", second.screen())
	}
}

// TestTwoClientsSeeTheSameJob starts a job on the shared engine and checks
// that both sessions show it running, then finished.
func TestTwoClientsSeeTheSameJob(t *testing.T) {
	ts := startServer(t, nil)
	a := openTerminal(t, ts.addr, ts.client, 100, 30)
	b := openTerminal(t, ts.addr, ts.client, 100, 30)
	a.waitFor(t, "Data", 10*time.Second)
	b.waitFor(t, "Data", 10*time.Second)
	a.send(t, "4")
	b.send(t, "4")
	release := make(chan struct{})
	_, err := ts.engine.Submit(jobs.Job{
		Name:  "shared-probe",
		Kind:  "fit",
		Owner: "tester SHA256:tester",
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			emit(jobs.Event{Kind: jobs.EventProgress, Done: 3, Total: 7, Message: "halfway-mark"})
			select {
			case <-release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			return &runs.Run{Meta: runs.RunMeta{Kind: "fit", Name: "shared-probe"}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, term := range []*terminal{a, b} {
		term.waitFor(t, "shared-probe", 5*time.Second)
		term.waitFor(t, "3/7", 5*time.Second)
	}
	close(release)
	for _, term := range []*terminal{a, b} {
		term.waitFor(t, "Jobs — 0 running, 0 queued, 1 done", 5*time.Second)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(ts.logBuf.String(), `job 1 done name="shared-probe" owner="tester SHA256:tester"`) {
		if time.Now().After(deadline) {
			t.Fatalf("the job's owner is not logged:\n%s", ts.logBuf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestHostKeyIsMadeOnceWithMode0600(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "host")
	first, err := hostKeyPEM(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("host key mode %04o, want 0600", st.Mode().Perm())
	}
	again, err := hostKeyPEM(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, again) {
		t.Error("the host key changed between starts")
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := hostKeyPEM(path); err == nil || !strings.Contains(err.Error(), "want 0600") {
		t.Errorf("a world-readable host key: err = %v, want a refusal naming 0600", err)
	}
}

func TestAuthorizedKeysAreReloaded(t *testing.T) {
	ts := startServer(t, nil)
	newcomer := newSigner(t)
	if _, err := dial(ts.addr, gossh.PublicKeys(newcomer)); err == nil {
		t.Fatal("a key not yet listed got in")
	}
	// A different size is enough for the reload, whatever the clock's
	// resolution.
	content := append(gossh.MarshalAuthorizedKey(ts.client.PublicKey()), gossh.MarshalAuthorizedKey(newcomer.PublicKey())...)
	if err := os.WriteFile(ts.keyFile, content, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := dial(ts.addr, gossh.PublicKeys(newcomer))
	if err != nil {
		t.Fatalf("a key added to authorized_keys is still refused: %v", err)
	}
	c.Close()
	if err := os.WriteFile(ts.keyFile, []byte("# everybody out\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(ts.addr, gossh.PublicKeys(ts.client)); err == nil {
		t.Error("a key removed from authorized_keys still gets in")
	}
}

func TestConfigIsChecked(t *testing.T) {
	dir := t.TempDir()
	engine := jobs.NewEngine(nil, 1)
	host := filepath.Join(dir, "host")
	bad := filepath.Join(dir, "bad_keys")
	os.WriteFile(bad, []byte("ssh-ed25519 not-base64!!\n"), 0o600)
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no keys", Config{Listen: "127.0.0.1:0", HostKey: host}, "--authorized-keys FILE is required"},
		{"any key on a public address", Config{Listen: "0.0.0.0:2222", AllowAnyKey: true, HostKey: host}, "loopback address only"},
		{"missing keys file", Config{Listen: "127.0.0.1:0", AuthorizedKeys: filepath.Join(dir, "none"), HostKey: host}, "no such file"},
		{"bad keys file", Config{Listen: "127.0.0.1:0", AuthorizedKeys: bad, HostKey: host}, "line 1: want a public key"},
	}
	for _, tt := range tests {
		_, err := New(tt.cfg, engine)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want it to say %q", tt.name, err, tt.want)
		}
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", AllowAnyKey: true, HostKey: host}, engine); err != nil {
		t.Errorf("--allow-any-key on loopback: %v", err)
	}
}

func TestPathsAreConfinedToTheDataRoot(t *testing.T) {
	rootDir := t.TempDir()
	outside := t.TempDir()
	os.Mkdir(filepath.Join(rootDir, "mine"), 0o755)
	os.Mkdir(filepath.Join(outside, "theirs"), 0o755)
	if err := os.Symlink(filepath.Join(outside, "theirs"), filepath.Join(rootDir, "escape")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(rootDir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	const refused = "not found or outside the data root"
	tests := []struct {
		spec, name, want string // want "" means allowed, as name
	}{
		{"demo", "demo", ""},
		{"demo:210325", "demo:210325", ""},
		{"mine", "mine", ""},
		{filepath.Join(rootDir, "mine"), "mine", ""},
		{rootDir, ".", ""},
		{filepath.Join(outside, "theirs"), "", refused},
		{"/etc", "", refused},
		{rootDir + "-other/x", "", refused},
	}
	for _, tt := range tests {
		name, err := confine(root, rootDir, tt.spec)
		switch {
		case tt.want == "" && (err != nil || name != tt.name):
			t.Errorf("confine(%q) = %q, %v, want %q", tt.spec, name, err, tt.name)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("confine(%q) = %v, want an error saying %q", tt.spec, err, tt.want)
		}
	}
	// What confine lets through, the root still confines: "..", a link
	// out, a missing name and a name outside all get the one message.
	open := confinedOpener(root, rootDir)
	for _, spec := range []string{"../" + filepath.Base(outside), "mine/../../x", "escape", "nope", filepath.Join(outside, "theirs")} {
		_, err := open(spec)
		if err == nil || !strings.Contains(err.Error(), refused) {
			t.Errorf("open(%q) = %v, want %q", spec, err, refused)
		}
	}
	if _, err := confinedOpener(nil, "")("/tmp"); err == nil || !strings.Contains(err.Error(), "only the embedded demo") {
		t.Errorf("without a data root: err = %v", err)
	}
}

func TestMain(m *testing.M) {
	// The explorer reads NO_COLOR and the background; keep the screen plain.
	os.Setenv("NO_COLOR", "1")
	code := m.Run()
	if code != 0 {
		fmt.Fprintln(os.Stderr, "serve tests failed")
	}
	os.Exit(code)
}

// TestShutdownTellsSessionsAndCancelsJobs is what SIGINT or SIGTERM does to
// `itscope serve`: sessions are told, the running job is cancelled and its
// run recorded as cancelled, and the store keeps it.
func TestShutdownTellsSessionsAndCancelsJobs(t *testing.T) {
	ts := startServer(t, nil)
	term := openTerminal(t, ts.addr, ts.client, 100, 30)
	term.waitFor(t, "▶ Datasets", 10*time.Second)
	started := make(chan struct{})
	id, err := ts.engine.Submit(jobs.Job{
		Name: "long-fit", Kind: "fit",
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			close(started)
			<-ctx.Done()
			return &runs.Run{Meta: runs.RunMeta{Kind: "fit", Name: "long-fit"}}, ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	select {
	case <-term.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the session stayed open after shutdown")
	}
	// The client's terminal is left as it was found: out of the alternate
	// screen, cursor shown, and then the reason.
	raw := term.out.String()
	if i, j := strings.LastIndex(raw, "\x1b[?1049l"), strings.LastIndex(raw, "\x1b[?1049h"); i < 0 || i < j {
		t.Errorf("the channel does not end outside the alternate screen (last enter at %d, last exit at %d)", j, i)
	}
	if i, j := strings.LastIndex(raw, "\x1b[?25h"), strings.LastIndex(raw, "\x1b[?25l"); i < 0 || i < j {
		t.Errorf("the channel does not end with the cursor shown (last hide at %d, last show at %d)", j, i)
	}
	reason := strings.LastIndex(raw, "itscope: the server is shutting down (stopped by its operator); running jobs were cancelled")
	if reason < 0 || reason < strings.LastIndex(raw, "\x1b[?1049l") {
		t.Errorf("the session was not told why it closed after its terminal was restored; it got %q", raw[max(0, len(raw)-300):])
	}
	st, _ := ts.engine.Status(id)
	if st.State != runs.Cancelled || st.RunID == "" {
		t.Fatalf("job after shutdown: state %s run %q, want cancelled with its run saved", st.State, st.RunID)
	}
	run, err := ts.engine.Store().Load(st.RunID)
	if err != nil {
		t.Fatalf("the cancelled job's run is not readable: %v", err)
	}
	if run.Meta.Status != runs.Cancelled {
		t.Errorf("saved run status %q, want %q", run.Meta.Status, runs.Cancelled)
	}
	if _, err := dial(ts.addr, gossh.PublicKeys(ts.client)); err == nil {
		t.Error("the server still accepts connections after shutdown")
	}
}

// TestTypedPathOutsideDataRootIsRefused opens a path from the Data pane over
// SSH, as a remote user would type it, and checks the server refuses it.
func TestTypedPathOutsideDataRootIsRefused(t *testing.T) {
	ts := startServer(t, nil)
	term := openTerminal(t, ts.addr, ts.client, 100, 30)
	term.waitFor(t, "▶ Datasets", 10*time.Second)
	term.send(t, "o")
	time.Sleep(200 * time.Millisecond)
	term.send(t, "/etc\r")
	term.waitFor(t, "outside the data root", 10*time.Second)
	term.out.Reset()
	term.send(t, "o")
	time.Sleep(200 * time.Millisecond)
	term.send(t, "../secrets\r")
	term.waitFor(t, "not found or outside the data root", 10*time.Second)
}

// TestHostKeyFingerprintIsPrinted: the fingerprint the server reports (and
// `itscope serve` prints at start) is the one a client sees.
func TestHostKeyFingerprintIsPrinted(t *testing.T) {
	ts := startServer(t, nil)
	var seen string
	client, err := gossh.Dial("tcp", ts.addr, &gossh.ClientConfig{
		User: "tester", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.client)}, Timeout: 5 * time.Second,
		HostKeyCallback: func(_ string, _ net.Addr, key gossh.PublicKey) error {
			seen = gossh.FingerprintSHA256(key)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	if got := ts.srv.HostKeyFingerprint(); got != seen || !strings.HasPrefix(got, "SHA256:") {
		t.Errorf("server reports host key %q, the client saw %q", got, seen)
	}
	if !strings.Contains(ts.logBuf.String(), "host key "+seen) {
		t.Errorf("the start line lacks the fingerprint %s:\n%s", seen, ts.logBuf.String())
	}
}

// TestDataOpensEverySession: serve --data opens every session on the
// dataset; one outside the data root is refused at start.
func TestDataOpensEverySession(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Data = "demo:210325" })
	for range 2 {
		term := openTerminal(t, ts.addr, ts.client, 100, 30)
		term.waitFor(t, "opened demo:210325: 640 images, 50 neurons", 20*time.Second)
		term.close()
	}
	dir := t.TempDir()
	_, err := New(Config{Listen: "127.0.0.1:0", AllowAnyKey: true, HostKey: filepath.Join(dir, "host"), DataRoot: dir, Data: "/etc"},
		jobs.NewEngine(nil, 1))
	if err == nil || !strings.Contains(err.Error(), "--data: dataset /etc: not found or outside the data root") {
		t.Errorf("--data /etc: err = %v", err)
	}
}

// TestShutdownBeforeServe is a signal at start: Serve, called after
// Shutdown, returns at once instead of serving for ever.
func TestShutdownBeforeServe(t *testing.T) {
	dir := t.TempDir()
	srv, err := New(Config{Listen: "127.0.0.1:0", AllowAnyKey: true, HostKey: filepath.Join(dir, "host")}, jobs.NewEngine(nil, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve after Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve after Shutdown kept serving")
	}
}
