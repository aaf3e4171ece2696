package serve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"itscope/model/runs"
)

// TestExportThenScp: in a server session, e in Compare writes the runs
// table into the session's own folder under the store's exports; OpenSSH's
// scp -O then fetches it by the full path the explorer prints, and a run's
// file by a path relative to the store. Paths outside the store and
// uploads are refused.
func TestExportThenScp(t *testing.T) {
	scpBin, err := exec.LookPath("scp")
	if err != nil {
		t.Skip("no scp binary (apt-get install openssh-client)")
	}
	dir := t.TempDir()
	storeDir := filepath.Join(dir, "store")
	store, err := runs.OpenStore(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	id, err := store.Save(&runs.Run{Meta: runs.RunMeta{Kind: "fit", Model: "ridge", Strategy: "pixels:8"}})
	if err != nil {
		t.Fatal(err)
	}
	// The client's key, also as an OpenSSH private key file for scp.
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	sshPub, _ := gossh.NewPublicKey(pub)
	authorized := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(authorized, gossh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, func(c *Config) {
		c.AuthorizedKeys, c.FilesRoot, c.ExportDir = authorized, storeDir, filepath.Join(storeDir, "exports")
	})

	term := openTerminal(t, ts.addr, signer, 100, 30)
	term.waitFor(t, "Data", 10*time.Second)
	term.send(t, "7")
	term.waitFor(t, "Compare", 5*time.Second)
	term.send(t, "e")
	term.waitFor(t, "wrote "+storeDir, 10*time.Second)
	exported := filepath.Join(exportFolder(filepath.Join(storeDir, "exports"), sshPub), "itscope-runs.csv")
	if !strings.HasPrefix(filepath.Base(filepath.Dir(exported)), "SHA256_") {
		t.Fatalf("the session's folder %s is not named by its key", exported)
	}
	want, err := os.ReadFile(exported)
	if err != nil {
		t.Fatalf("the export is not in the session's folder: %v", err)
	}

	host, port, _ := net.SplitHostPort(ts.addr)
	scp := func(args ...string) (string, error) {
		cmd := exec.Command(scpBin, append([]string{"-O", "-P", port, "-i", keyPath, "-o", "BatchMode=yes",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "IdentitiesOnly=yes"}, args...)...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	remote := func(path string) string { return "tester@" + host + ":" + path }
	got := filepath.Join(dir, "fetched.csv")
	if out, err := scp(remote(exported), got); err != nil {
		t.Fatalf("scp -O of the export by its full path: %v: %s", err, out)
	}
	if b, _ := os.ReadFile(got); string(b) != string(want) {
		t.Errorf("fetched %q, want %q", b, want)
	}
	runJSON := filepath.Join(dir, "run.json")
	if out, err := scp(remote(id+"/run.json"), runJSON); err != nil {
		t.Fatalf("scp -O of a run's file by its path in the store: %v: %s", err, out)
	}
	if m, _ := os.ReadFile(runJSON); !strings.Contains(string(m), `"strategy": "pixels:8"`) {
		t.Errorf("fetched run.json %s", m)
	}
	outside := filepath.Join(dir, "secret")
	os.WriteFile(outside, []byte("not for you"), 0o600)
	if err := os.Symlink(outside, filepath.Join(storeDir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{outside, "../secret", "link", "/etc/passwd"} {
		dst := filepath.Join(dir, "refused")
		if out, err := scp(remote(path), dst); err == nil {
			t.Errorf("scp of %s outside the store succeeded: %s", path, out)
		}
		if _, err := os.Stat(dst); err == nil {
			t.Errorf("scp of %s wrote a file", path)
			os.Remove(dst)
		}
	}
	if out, err := scp(got, remote("exports/upload.csv")); err == nil {
		t.Errorf("an upload succeeded: %s", out)
	}
	if _, err := os.Stat(filepath.Join(storeDir, "exports", "upload.csv")); err == nil {
		t.Error("an upload reached the store")
	}
}
