package serve

import (
	"os"
	"testing"

	"github.com/charmbracelet/ssh"
	gossh "golang.org/x/crypto/ssh"
)

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
