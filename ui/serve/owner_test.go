package serve

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"

	"itscope/model/jobs"
	"itscope/model/runs"
)

// keyLine is an authorized_keys line for signer with a comment.
func keyLine(signer gossh.Signer, comment string) string {
	return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signer.PublicKey()))) + " " + comment + "\n"
}

// team is a server whose authorized_keys lets alice, bob and carol in;
// carol's key is also an admin key.
type team struct {
	*testServer
	alice, bob, carol gossh.Signer
}

func startTeam(t *testing.T, tweak func(*Config)) *team {
	t.Helper()
	tm := &team{alice: newSigner(t), bob: newSigner(t), carol: newSigner(t)}
	dir := t.TempDir()
	keys := filepath.Join(dir, "authorized_keys")
	admins := filepath.Join(dir, "admin_keys")
	if err := os.WriteFile(keys, []byte(keyLine(tm.alice, "alice@lab")+keyLine(tm.bob, "bob@lab")+keyLine(tm.carol, "carol@lab")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(admins, []byte(keyLine(tm.carol, "carol-admin")), 0o600); err != nil {
		t.Fatal(err)
	}
	tm.testServer = startServer(t, func(c *Config) {
		c.AuthorizedKeys, c.AdminKeys = keys, admins
		if tweak != nil {
			tweak(c)
		}
	})
	return tm
}

func fingerprint(s gossh.Signer) string { return gossh.FingerprintSHA256(s.PublicKey()) }

// identity is how the server names the owner of a key: its comment in
// authorized_keys, then its fingerprint.
func identity(name string, s gossh.Signer) string { return name + " " + fingerprint(s) }

// submitBlocking submits a job owned by owner's key that runs until
// cancelled, as owner's session would.
func submitBlocking(t *testing.T, e *jobs.Engine, name string, owner gossh.Signer, ownerName string) jobs.JobID {
	t.Helper()
	id, err := e.Submit(jobs.Job{Name: name, Kind: "fit", Owner: identity(ownerName, owner),
		Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func waitState(t *testing.T, e *jobs.Engine, id jobs.JobID, want runs.State) jobs.JobStatus {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, _ := e.Status(id)
		if st.State == want {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d: state %s, want %s", id, st.State, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOnlyTheOwnerOrAnAdminCancels: `ssh -l alice` with bob's key is bob,
// and cannot cancel alice's job; alice can, after confirming; so can an
// admin key; each cancel is recorded and logged with who did it.
func TestOnlyTheOwnerOrAnAdminCancels(t *testing.T) {
	tm := startTeam(t, nil)
	first := submitBlocking(t, tm.engine, "alice-first", tm.alice, "alice@lab")
	second := submitBlocking(t, tm.engine, "alice-second", tm.alice, "alice@lab")

	mallory := openTerminalAs(t, tm.addr, "alice", tm.bob, 110, 30)
	mallory.waitFor(t, "Data", 10*time.Second)
	mallory.send(t, "4")
	mallory.waitFor(t, "alice@lab", 5*time.Second) // the owner column
	mallory.send(t, "x")
	mallory.waitFor(t, "job 1 belongs to alice@lab: only its owner or an admin may cancel it", 5*time.Second)
	mallory.send(t, "y") // no question was asked: y does nothing
	time.Sleep(300 * time.Millisecond)
	if st, _ := tm.engine.Status(first); st.State != runs.Running {
		t.Fatalf("bob logged in as alice changed alice's job: %s", st.State)
	}

	// Alice, whatever user name her client sends, is her key.
	alice := openTerminalAs(t, tm.addr, "bob", tm.alice, 110, 30)
	alice.waitFor(t, "Data", 10*time.Second)
	alice.send(t, "4")
	alice.waitFor(t, "alice-first", 5*time.Second)
	alice.send(t, "x")
	alice.waitFor(t, "cancel job 1, alice-first of alice@lab? (y/n)", 5*time.Second)
	alice.send(t, "n")
	alice.waitFor(t, "not done: cancel job 1", 5*time.Second)
	if st, _ := tm.engine.Status(first); st.State != runs.Running {
		t.Fatalf("declining cancelled the job: %s", st.State)
	}
	alice.out.Reset()
	alice.send(t, "x")
	alice.waitFor(t, "cancel job 1, alice-first of alice@lab? (y/n)", 5*time.Second)
	alice.send(t, "y")
	st := waitState(t, tm.engine, first, runs.Cancelled)
	if want := identity("alice@lab", tm.alice); st.CancelledBy != want {
		t.Errorf("cancelled by %q, want %q", st.CancelledBy, want)
	}

	carol := openTerminal(t, tm.addr, tm.carol, 110, 30)
	carol.waitFor(t, "Data", 10*time.Second)
	carol.send(t, "4")
	carol.waitFor(t, "alice-second", 5*time.Second)
	carol.send(t, "j")
	time.Sleep(200 * time.Millisecond)
	carol.send(t, "x")
	carol.waitFor(t, "cancel job 2, alice-second of alice@lab? (y/n)", 5*time.Second)
	carol.send(t, "y")
	st = waitState(t, tm.engine, second, runs.Cancelled)
	if st.CancelledBy != identity("carol@lab", tm.carol) {
		t.Errorf("cancelled by %q, want carol's key", st.CancelledBy)
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, want := range []string{
		`job 1 cancelled name="alice-first" owner="` + identity("alice@lab", tm.alice) + `" cancelled_by="` + identity("alice@lab", tm.alice) + `"`,
		`job 2 cancelled name="alice-second" owner="` + identity("alice@lab", tm.alice) + `" cancelled_by="` + identity("carol@lab", tm.carol) + `"`,
		`session start user="alice" key=` + fingerprint(tm.bob) + ` owner="` + identity("bob@lab", tm.bob) + `"`,
	} {
		for !strings.Contains(tm.logBuf.String(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("the log lacks %q:\n%s", want, tm.logBuf.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestGridJobsBelongToTheKey starts a grid from a session whose client
// calls itself "bob" with alice's key: the jobs are alice's. A grid of
// 2,000 seeds x 5 alphas asks first, then is refused whole by the per-user
// limit (the one keypress that queued 10,000 jobs).
func TestGridJobsBelongToTheKey(t *testing.T) {
	tm := startTeam(t, func(c *Config) { c.Data = "demo:210325" })
	alice := openTerminalAs(t, tm.addr, "bob", tm.alice, 110, 30)
	alice.waitFor(t, "opened demo:210325", 20*time.Second)
	alice.send(t, "3")
	time.Sleep(200 * time.Millisecond)
	alice.send(t, "j\r\x15") // ridge alphas: edit, clear
	time.Sleep(200 * time.Millisecond)
	alice.send(t, "0.1,1,10,100,1000\r")
	alice.waitFor(t, "5 job(s)", 5*time.Second)
	seeds := make([]string, 2000)
	for i := range seeds {
		seeds[i] = strconv.Itoa(i)
	}
	alice.send(t, "jj\r\x15") // seeds: edit, clear
	time.Sleep(200 * time.Millisecond)
	alice.send(t, strings.Join(seeds, ",")+"\r")
	alice.waitFor(t, "10000 job(s)", 10*time.Second)
	alice.send(t, "s")
	alice.waitFor(t, "start 10000 jobs? (y/n)", 5*time.Second)
	alice.send(t, "n")
	alice.waitFor(t, "not done: start 10000 jobs?", 5*time.Second)
	alice.out.Reset()
	alice.send(t, "s")
	alice.waitFor(t, "start 10000 jobs? (y/n)", 5*time.Second)
	alice.send(t, "y")
	alice.waitFor(t, "10000 job(s) refused: you have 0 queued or running and the limit is 32 per user", 60*time.Second)
	if n := len(tm.engine.Snapshot()); n != 0 {
		t.Fatalf("%d jobs queued by a refused grid", n)
	}
	alice.send(t, "\r\x150\r") // seeds: 0
	alice.waitFor(t, "5 job(s)", 5*time.Second)
	alice.send(t, "s")
	alice.waitFor(t, "started 5 job(s)", 10*time.Second)
	for _, st := range tm.engine.Snapshot() {
		if st.Owner != identity("alice@lab", tm.alice) {
			t.Errorf("job %d: owner %q, want alice's key %s", st.ID, st.Owner, identity("alice@lab", tm.alice))
		}
		if st.Memory <= 0 {
			t.Errorf("job %d states no memory estimate", st.ID)
		}
	}
}

// keySession is a session that only knows its key: all owner asks.
type keySession struct {
	ssh.Session
	key ssh.PublicKey
}

func (s keySession) PublicKey() ssh.PublicKey { return s.key }
func (s keySession) User() string             { return "root" } // chosen by the client: never the owner

// A session's jobs are owned by its key: the authorized_keys comment and
// the key's fingerprint, not the user name the client sent.
func TestOwnerIsTheKey(t *testing.T) {
	ts := startServer(t, nil)
	named, bare := newSigner(t), newSigner(t)
	line := gossh.MarshalAuthorizedKey(named.PublicKey())
	keys := append(append(line[:len(line)-1:len(line)-1], " ada@lab\n"...), gossh.MarshalAuthorizedKey(bare.PublicKey())...)
	keys = append(keys, gossh.MarshalAuthorizedKey(ts.client.PublicKey())...)
	if err := os.WriteFile(ts.keyFile, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	if !ts.srv.keys.allowed(named.PublicKey()) { // the file grew: it is re-read
		t.Fatal("the new key is not let in")
	}
	for _, tc := range []struct {
		key  gossh.PublicKey
		want string
	}{
		{named.PublicKey(), "ada@lab " + gossh.FingerprintSHA256(named.PublicKey())},
		{bare.PublicKey(), gossh.FingerprintSHA256(bare.PublicKey())},
	} {
		if got := ts.srv.owner(keySession{key: tc.key}); got != tc.want {
			t.Errorf("owner = %q, want %q", got, tc.want)
		}
	}
	if got := ts.srv.owner(keySession{}); got != "" {
		t.Errorf("owner of a session without a key = %q, want none", got)
	}
}
