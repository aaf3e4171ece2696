package runs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// NoteTxt is the file in a run folder holding the user's note on the run.
// It is kept apart from run.json, which stays as the run wrote it.
const NoteTxt = "note.txt"

// maxNote bounds a note: a line or two, not a document.
const maxNote = 4096

// SetNote writes text as run id's note, atomically; an empty text removes
// the note.
func (s *Store) SetNote(id, text string) error {
	if _, err := s.LoadMeta(id); err != nil {
		return err
	}
	text = strings.TrimSpace(text)
	if len(text) > maxNote {
		return fmt.Errorf("run %s: a note is at most %d bytes, found %d", id, maxNote, len(text))
	}
	path := filepath.Join(s.Path(id), NoteTxt)
	if text == "" {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	return WriteFileAtomic(path, func(w io.Writer) error {
		_, err := io.WriteString(w, text+"\n")
		return err
	})
}

// readNote is the note in run folder dir, "" when it has none.
func readNote(dir string) string {
	f, err := os.Open(filepath.Join(dir, NoteTxt))
	if err != nil {
		return ""
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, maxNote+1))
	return strings.TrimSpace(string(b[:min(len(b), maxNote)]))
}
