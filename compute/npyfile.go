package compute

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unsafe"
)

// NpyFile is a 2-D little-endian float32 .npy file read in pieces from disk,
// so features far larger than memory can be standardised and PCA-fitted.
// Reads use ReadAt, so it is safe for concurrent use.
type NpyFile struct {
	path   string
	f      *os.File
	r, c   int
	offset int64 // where the data starts
	// BlockRows is how many rows Each reads at a time; 0 means about 64 MB.
	BlockRows int
}

var (
	npyDescrRe   = regexp.MustCompile(`'descr'\s*:\s*'([^']*)'`)
	npyFortranRe = regexp.MustCompile(`'fortran_order'\s*:\s*(True|False)`)
	npyShapeRe   = regexp.MustCompile(`'shape'\s*:\s*\(([^)]*)\)`)
)

// OpenNpy opens a C-ordered float32 ('<f4') 2-D .npy file and checks that its
// size matches its header.
func OpenNpy(path string) (*NpyFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := readNpyHeader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	want := m.offset + 4*int64(m.r)*int64(m.c)
	if st.Size() != want {
		f.Close()
		return nil, fmt.Errorf("%s: shape (%d,%d) float32 needs %d bytes, file has %d (truncated?)", path, m.r, m.c, want, st.Size())
	}
	m.f = f
	return m, nil
}

func readNpyHeader(path string, f *os.File) (*NpyFile, error) {
	var pre [10]byte
	if _, err := io.ReadFull(f, pre[:]); err != nil {
		return nil, fmt.Errorf("%s: not an .npy file: %v", path, err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, fmt.Errorf("%s: not an .npy file (bad magic)", path)
	}
	var hlen, start int64
	switch pre[6] {
	case 1:
		hlen, start = int64(binary.LittleEndian.Uint16(pre[8:10])), 10
	case 2, 3:
		var b [2]byte
		if _, err := io.ReadFull(f, b[:]); err != nil {
			return nil, fmt.Errorf("%s: truncated .npy header", path)
		}
		hlen, start = int64(binary.LittleEndian.Uint32(append(pre[8:10:10], b[:]...))), 12
	default:
		return nil, fmt.Errorf("%s: unsupported .npy version %d", path, pre[6])
	}
	if hlen > 1<<20 {
		return nil, fmt.Errorf("%s: .npy header of %d bytes is implausible", path, hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return nil, fmt.Errorf("%s: truncated .npy header", path)
	}
	h := string(hdr)
	d := npyDescrRe.FindStringSubmatch(h)
	if d == nil || d[1] != "<f4" {
		found := "none"
		if d != nil {
			found = d[1]
		}
		return nil, fmt.Errorf("%s: dtype: want '<f4' (float32), found %s", path, found)
	}
	if fo := npyFortranRe.FindStringSubmatch(h); fo == nil || fo[1] != "False" {
		return nil, fmt.Errorf("%s: want C order (fortran_order False)", path)
	}
	sh := npyShapeRe.FindStringSubmatch(h)
	if sh == nil {
		return nil, fmt.Errorf("%s: .npy header has no shape", path)
	}
	var dims []int
	for _, p := range strings.Split(sh[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("%s: bad shape (%s)", path, sh[1])
		}
		dims = append(dims, v)
	}
	if len(dims) != 2 {
		return nil, fmt.Errorf("%s: shape: want 2 dimensions (rows, cols), found (%s)", path, sh[1])
	}
	return &NpyFile{path: path, r: dims[0], c: dims[1], offset: start + hlen}, nil
}

// Rows is the number of rows.
func (m *NpyFile) Rows() int { return m.r }

// Cols is the number of columns.
func (m *NpyFile) Cols() int { return m.c }

// Path is the file's path.
func (m *NpyFile) Path() string { return m.path }

// Close closes the file.
func (m *NpyFile) Close() error { return m.f.Close() }

// readFloats fills dst from the file at byte offset off.
func (m *NpyFile) readFloats(dst []float32, off int64) error {
	if len(dst) == 0 {
		return nil
	}
	b := unsafe.Slice((*byte)(unsafe.Pointer(&dst[0])), 4*len(dst))
	if _, err := m.f.ReadAt(b, off); err != nil {
		return fmt.Errorf("%s: reading at byte %d: %w", m.path, off, err)
	}
	if !nativeLittleEndian {
		for i := range dst {
			dst[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	return nil
}

var nativeLittleEndian = func() bool {
	x := uint16(1)
	return *(*byte)(unsafe.Pointer(&x)) == 1
}()

// Each reads consecutive row blocks.
func (m *NpyFile) Each(fn func(firstRow int, block []float32) error) error {
	if m.c == 0 {
		return nil
	}
	step := m.BlockRows
	if step <= 0 {
		step = max(1, (64<<20)/(4*m.c))
	}
	buf := make([]float32, min(step, m.r)*m.c)
	for r := 0; r < m.r; r += step {
		end := min(r+step, m.r)
		blk := buf[:(end-r)*m.c]
		if err := m.readFloats(blk, m.offset+4*int64(r)*int64(m.c)); err != nil {
			return err
		}
		if err := fn(r, blk); err != nil {
			return err
		}
	}
	return nil
}

// ReadCols reads a column range row by row.
func (m *NpyFile) ReadCols(c0, w int, dst []float32) error {
	if err := checkColRange(m, c0, w, dst); err != nil {
		return err
	}
	if c0 == 0 && w == m.c {
		return m.readFloats(dst, m.offset)
	}
	for i := 0; i < m.r; i++ {
		if err := m.readRowCols(i, c0, w, dst[i*w:(i+1)*w]); err != nil {
			return err
		}
	}
	return nil
}

func (m *NpyFile) readRowCols(i, c0, w int, dst []float32) error {
	return m.readFloats(dst, m.offset+4*(int64(i)*int64(m.c)+int64(c0)))
}

// NpyWriter streams rows of a float32 matrix into an .npy file: it writes a
// temporary file beside path and renames it into place on Close, so a reader
// never sees half a file.
type NpyWriter struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	r, c      int
	written   int // values
}

// CreateNpy starts a (rows, cols) float32 .npy file at path.
func CreateNpy(path string, rows, cols int) (*NpyWriter, error) {
	if rows < 0 || cols < 0 {
		return nil, fmt.Errorf("%s: negative shape (%d,%d)", path, rows, cols)
	}
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	// Pad so the data starts on a 64-byte boundary, as numpy does.
	total := 10 + len(hdr) + 1
	hdr += strings.Repeat(" ", (64-total%64)%64) + "\n"
	var pre [10]byte
	copy(pre[:], "\x93NUMPY\x01\x00")
	binary.LittleEndian.PutUint16(pre[8:], uint16(len(hdr)))
	w.Write(pre[:])
	w.WriteString(hdr)
	return &NpyWriter{path: path, tmp: f.Name(), f: f, w: w, r: rows, c: cols}, nil
}

// Write appends whole rows.
func (nw *NpyWriter) Write(block []float32) error {
	if nw.c == 0 || len(block)%nw.c != 0 {
		return fmt.Errorf("%s: block of %d values is not whole rows of %d", nw.path, len(block), nw.c)
	}
	if nw.written+len(block) > nw.r*nw.c {
		return fmt.Errorf("%s: more than the %d rows declared", nw.path, nw.r)
	}
	if nativeLittleEndian && len(block) > 0 {
		if _, err := nw.w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&block[0])), 4*len(block))); err != nil {
			return fmt.Errorf("%s: %w", nw.path, err)
		}
	} else {
		var b [4]byte
		for _, v := range block {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			if _, err := nw.w.Write(b[:]); err != nil {
				return fmt.Errorf("%s: %w", nw.path, err)
			}
		}
	}
	nw.written += len(block)
	return nil
}

// Close checks every declared row was written, then renames the file into
// place. On error the temporary file is removed.
func (nw *NpyWriter) Close() error {
	err := nw.w.Flush()
	if err == nil && nw.written != nw.r*nw.c {
		err = fmt.Errorf("%s: %d of %d rows written", nw.path, nw.written/max(nw.c, 1), nw.r)
	}
	if cerr := nw.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(nw.tmp, nw.path)
	}
	if err != nil {
		os.Remove(nw.tmp)
	}
	return err
}

// Abort discards the file.
func (nw *NpyWriter) Abort() {
	nw.f.Close()
	os.Remove(nw.tmp)
}
