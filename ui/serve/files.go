package serve

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/ssh"
	"github.com/charmbracelet/wish"
	"github.com/charmbracelet/wish/scp"
	gossh "golang.org/x/crypto/ssh"
)

// filesMiddleware serves the files under root read-only over the classic
// scp protocol (`scp -O host:PATH .`; OpenSSH 9's scp speaks SFTP unless
// given -O). PATH is relative to root, or absolute under it as the explorer
// prints it; os.Root refuses anything outside root, symbolic links
// included. Uploads are refused. Sessions that are not scp pass on.
func filesMiddleware(root string) (wish.Middleware, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("serve: files root: %w", err)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("serve: files root: %w", err)
	}
	serveFiles := scp.Middleware(storePaths{scp.NewFSReadHandler(r.FS()), abs}, nil)
	return func(next ssh.Handler) ssh.Handler {
		h := serveFiles(next)
		return func(s ssh.Session) {
			h(s)
			if scp.GetInfo(s.Command()).Op == scp.OpCopyToClient {
				drainAcks(s)
			}
		}
	}, nil
}

// drainAcks ends a classic scp download as OpenSSH expects: wish's source
// writes every file without waiting for the client's acks, and closing at
// once would break the acks still in flight ("lost connection"). It sends
// EOF, then reads the client's acks until they stop for ackQuiet (the
// client keeps the channel open until the server closes it), the client
// closes, or 10 s pass.
func drainAcks(s ssh.Session) {
	s.CloseWrite()
	got := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 64)
		for {
			if _, err := s.Read(buf); err != nil {
				close(got)
				return
			}
			select {
			case got <- struct{}{}:
			default:
			}
		}
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case _, open := <-got:
			if !open {
				return
			}
		case <-time.After(ackQuiet):
			return
		case <-s.Context().Done():
			return
		case <-deadline:
			return
		}
	}
}

// ackQuiet is how long the client's acks must pause before a download is
// taken as received.
const ackQuiet = 300 * time.Millisecond

// storePaths lets a client name a file by the full path the explorer
// printed: a path under dir is made relative to it before it reaches the
// fs.FS, which takes relative paths only.
type storePaths struct {
	scp.CopyToClientHandler
	dir string
}

func (h storePaths) rel(path string) string {
	if rest, ok := strings.CutPrefix(filepath.Clean(path), h.dir+string(filepath.Separator)); ok {
		return filepath.ToSlash(rest)
	}
	return path
}

func (h storePaths) Glob(s ssh.Session, pattern string) ([]string, error) {
	return h.CopyToClientHandler.Glob(s, h.rel(pattern))
}

func (h storePaths) WalkDir(s ssh.Session, path string, fn fs.WalkDirFunc) error {
	return h.CopyToClientHandler.WalkDir(s, h.rel(path), fn)
}

func (h storePaths) NewDirEntry(s ssh.Session, path string) (*scp.DirEntry, error) {
	return h.CopyToClientHandler.NewDirEntry(s, h.rel(path))
}

func (h storePaths) NewFileEntry(s ssh.Session, path string) (*scp.FileEntry, func() error, error) {
	return h.CopyToClientHandler.NewFileEntry(s, h.rel(path))
}

// exportFolder is a session's own folder under the exports: named by its
// key's fingerprint, the identity no client can choose ("" stays the
// working folder).
func exportFolder(exports string, key ssh.PublicKey) string {
	if exports == "" {
		return ""
	}
	if key == nil {
		return filepath.Join(exports, "anonymous")
	}
	fp := gossh.FingerprintSHA256(key) // SHA256:base64, whose / and + are no file name's
	return filepath.Join(exports, strings.NewReplacer(":", "_", "/", "_", "+", "-").Replace(fp))
}
