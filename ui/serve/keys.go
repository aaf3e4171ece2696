package serve

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// authorizedKeys is an authorized_keys file, re-read whenever its size or
// modification time changes, so a key added or removed takes effect at the
// next login without a restart.
type authorizedKeys struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	keys    [][]byte // wire-format public keys
	names   []string // their comments, the keys' display names
}

func loadAuthorizedKeys(path string) (*authorizedKeys, error) {
	a := &authorizedKeys{path: path, size: -1}
	if err := a.refresh(); err != nil {
		return nil, err
	}
	if len(a.keys) == 0 {
		return nil, fmt.Errorf("authorized keys %s: no public keys in the file", path)
	}
	return a, nil
}

// refresh re-reads the file if it changed. It fails closed: a file that
// became unreadable or unparsable lets nobody in until it is mended.
func (a *authorizedKeys) refresh() error {
	st, err := os.Stat(a.path)
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.keys, a.names, a.modTime, a.size = nil, nil, time.Time{}, -1
		return fmt.Errorf("authorized keys %s: %w", a.path, err)
	}
	if st.ModTime().Equal(a.modTime) && st.Size() == a.size {
		return nil
	}
	a.keys, a.names, a.modTime, a.size = nil, nil, st.ModTime(), st.Size()
	raw, err := os.ReadFile(a.path)
	if err != nil {
		return fmt.Errorf("authorized keys %s: %w", a.path, err)
	}
	keys, names, err := parseAuthorizedKeys(a.path, raw)
	if err != nil {
		return err
	}
	a.keys, a.names = keys, names
	return nil
}

// parseAuthorizedKeys returns the file's keys, wire-format, and their
// comments.
func parseAuthorizedKeys(path string, raw []byte) ([][]byte, []string, error) {
	var keys [][]byte
	var names []string
	for i, line := range bytes.Split(raw, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		key, comment, _, _, err := gossh.ParseAuthorizedKey(line)
		if err != nil {
			return nil, nil, fmt.Errorf("authorized keys %s: line %d: want a public key such as 'ssh-ed25519 AAAA... name': %v", path, i+1, err)
		}
		keys = append(keys, key.Marshal())
		names = append(names, comment)
	}
	return keys, names, nil
}

// allowed reports whether key is listed, re-reading the file first if it
// changed.
func (a *authorizedKeys) allowed(key gossh.PublicKey) bool {
	_ = a.refresh() // on error the list is empty: nobody gets in
	_, ok := a.find(key)
	return ok
}

// name is key's comment in the file ("" when it has none or is not listed).
func (a *authorizedKeys) name(key gossh.PublicKey) string {
	name, _ := a.find(key)
	return name
}

func (a *authorizedKeys) find(key gossh.PublicKey) (string, bool) {
	wire := key.Marshal()
	a.mu.Lock()
	defer a.mu.Unlock()
	for i, k := range a.keys {
		if bytes.Equal(k, wire) {
			return a.names[i], true
		}
	}
	return "", false
}

// hostKeyPEM returns the server's private host key from path, generating an
// ed25519 key there (mode 0600) on first use. An existing key that group or
// others can read is refused, as sshd refuses it.
func hostKeyPEM(path string) ([]byte, error) {
	st, err := os.Stat(path)
	switch {
	case err == nil:
		if st.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("host key %s: mode %04o lets others read the private key; want 0600 (chmod 600 %s)", path, st.Mode().Perm(), path)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("host key %s: %w", path, err)
		}
		if _, err := gossh.ParsePrivateKey(raw); err != nil {
			return nil, fmt.Errorf("host key %s: not an unencrypted OpenSSH private key: %v", path, err)
		}
		return raw, nil
	case !os.IsNotExist(err):
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("host key %s: generating: %w", path, err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "itscope host key")
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	raw := pem.EncodeToMemory(block)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	// Written under a temporary name and renamed, so a crash never leaves a
	// truncated key that the next start would refuse.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hostkey-")
	if err != nil {
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.Write(raw)
		if err == nil {
			err = tmp.Sync()
		}
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), path)
		}
		if err != nil {
			return nil, fmt.Errorf("host key %s: %w", path, err)
		}
	} else {
		tmp.Close()
		return nil, fmt.Errorf("host key %s: %w", path, err)
	}
	return raw, nil
}
