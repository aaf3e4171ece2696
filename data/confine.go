package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// Every file of a dataset is opened through an os.Root: the data root on
// the server (OpenIn), the dataset folder itself for a folder opened by path
// (Open). The kernel resolves each name inside the root, so a symbolic link
// leading out of it is refused at open time, with no window between a check
// and the open for someone to swap the link.

// errNotFound is the one message for a name that is missing, dangling or
// leads outside the root: distinct messages would let a user probe which
// paths exist outside.
const errNotFound = "not found or outside the %s"

// openRegular opens name inside root for reading and refuses anything but a
// regular file. O_NONBLOCK makes opening a named pipe return at once instead
// of waiting for a writer; it changes nothing for regular files. where names
// the root in errors ("dataset folder", "data root").
func openRegular(root *os.Root, name, display, where string) (*os.File, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	return checkRegular(f, err, display, where)
}

// checkRegular finishes an open: it maps the error to errNotFound (keeping
// permission and I/O errors, which say nothing about what lies outside) and
// closes and refuses anything but a regular file.
func checkRegular(f *os.File, err error, display, where string) (*os.File, error) {
	if err != nil {
		return nil, openError(err, display, where)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %v", Printable(display), Printable(err.Error()))
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: want a regular file, found %s", Printable(display), fileKind(st.Mode()))
	}
	return f, nil
}

// openError words a failed open inside a root. The root reports a name that
// leads outside with an error of its own (no errno); missing files, loops
// and "not a directory" are errnos that would tell a prober as much.
func openError(err error, display, where string) error {
	var errno syscall.Errno
	if errors.As(err, &errno) && errno != syscall.ENOENT && errno != syscall.ENOTDIR && errno != syscall.ELOOP {
		return fmt.Errorf("%s: %v", Printable(display), errno)
	}
	return fmt.Errorf("%s: "+errNotFound, Printable(display), where)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file (" + m.Type().String() + ")"
}

// optionalFile reports whether a file the folder may leave out is absent.
// Any other failure (a folder by that name, a link leading outside the
// root) is an error rather than a silent fall-back to the defaults.
func optionalFile(root *os.Root, name, display string) (absent bool, err error) {
	st, err := root.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case err != nil:
		return false, openError(err, display, "dataset folder")
	case st.IsDir():
		return false, fmt.Errorf("%s: want a file, found a folder", Printable(display))
	}
	return false, nil
}

// readBounded reads a regular file of at most limit bytes, refusing a larger
// one before reading it (a file padded to gigabytes is never read whole).
func readBounded(root *os.Root, name, display string, limit int64) ([]byte, error) {
	f, err := openRegular(root, name, display, "dataset folder")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", Printable(display), Printable(err.Error()))
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("%s: want a file of at most %s, found %s", Printable(display), byteSize(limit), byteSize(st.Size()))
	}
	// The file may grow after Stat: read one byte past the limit to see it.
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", Printable(display), Printable(err.Error()))
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: want a file of at most %s, found more (the file grew while being read)", Printable(display), byteSize(limit))
	}
	return b, nil
}

func byteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Printable returns s with every character a terminal could act on replaced
// by its Go escape: C0 and C1 controls (ESC, BEL, CR, newline, ...), DEL,
// Unicode format characters that reorder or hide text (U+202E, U+2066, ...),
// and bytes that are not UTF-8 (as \xNN). Every string from a file or a
// user headed for a terminal (file names, labels, errors) goes through it;
// other text is returned unchanged.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if !printableRune(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case printableRune(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

func printableRune(r rune) bool {
	return r != utf8.RuneError && !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r)
}

// maxQuoted is how much of a file's content an error may quote.
const maxQuoted = 40

// quoteContent quotes at most maxQuoted characters of s, escaped like
// strconv.Quote (control characters included), marking a cut with "...".
func quoteContent(s string) string {
	n := 0
	for i := range s {
		if n == maxQuoted {
			return strconv.Quote(s[:i]) + "..."
		}
		n++
	}
	return strconv.Quote(s)
}
