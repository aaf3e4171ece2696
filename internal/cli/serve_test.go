package cli

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// TestServePrintsHostKeyFingerprint starts `itscope serve` in a child
// process and reads the host key fingerprint it prints at start; it is the
// fingerprint of the key file it made. SIGTERM then stops it cleanly.
func TestServePrintsHostKeyFingerprint(t *testing.T) {
	dir := t.TempDir()
	hostKey := filepath.Join(dir, "host")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliChildEnv+"="+strings.Join([]string{"serve", "--allow-any-key", "--listen", "127.0.0.1:0",
		"--host-key", hostKey, "--runs", filepath.Join(dir, "runs")}, "\n"))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var printed string
	timeout := time.After(20 * time.Second)
	for printed == "" {
		select {
		case line, ok := <-lines:
			if !ok {
				t.Fatal("serve exited without printing its host key")
			}
			if rest, ok := strings.CutPrefix(line, "itscope serve: host key "); ok {
				printed, _, _ = strings.Cut(rest, " ")
			}
		case <-timeout:
			t.Fatal("serve printed no host key within 20s")
		}
	}
	go func() { // the rest of the output, until the child exits
		for range lines {
		}
	}()
	raw, err := os.ReadFile(hostKey)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := gossh.ParsePrivateKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	if want := gossh.FingerprintSHA256(signer.PublicKey()); printed != want {
		t.Errorf("serve printed host key %q, the key file's fingerprint is %q", printed, want)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGTERM: %v", err)
	}
}
