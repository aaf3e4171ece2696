package npy

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"unsafe"
)

// File is a 2-D little-endian float32 C-order .npy file read in pieces
// from disk, so features far larger than memory can be standardised and
// PCA-fitted. Reads use ReadAt, so it is safe for concurrent use.
type File struct {
	path   string
	f      *os.File
	r, c   int
	offset int64 // where the data starts
	// BlockRows is how many rows Each reads at a time; 0 means about 64 MB.
	BlockRows int
}

// Open opens a (rows, cols) '<f4' C-order .npy file and checks that its
// size matches its header exactly.
func Open(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := openHeader(path, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	m.f = f
	return m, nil
}

func openHeader(path string, f *os.File) (*File, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	h, err := readHeader(path, f)
	if err != nil {
		return nil, err
	}
	if h.dtype != "<f4" {
		return nil, fmt.Errorf("%s: dtype: want '<f4' (float32), found %q", path, h.dtype)
	}
	if h.fortran {
		return nil, fmt.Errorf("%s: want C order (fortran_order False), found Fortran order", path)
	}
	if len(h.shape) != 2 {
		return nil, fmt.Errorf("%s: shape: want 2 dimensions (rows, cols), found %v", path, h.shape)
	}
	if err := h.checkSize(path, st.Size(), 4); err != nil {
		return nil, err
	}
	return &File{path: path, r: h.shape[0], c: h.shape[1], offset: h.offset}, nil
}

// Rows is the number of rows.
func (m *File) Rows() int { return m.r }

// Cols is the number of columns.
func (m *File) Cols() int { return m.c }

// Path is the file's path.
func (m *File) Path() string { return m.path }

// Close closes the file.
func (m *File) Close() error { return m.f.Close() }

// readFloats fills dst from the file at byte offset off.
func (m *File) readFloats(dst []float32, off int64) error {
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

// Each calls fn with consecutive blocks of whole rows, top to bottom; block
// is a scratch buffer that fn must not keep.
func (m *File) Each(fn func(firstRow int, block []float32) error) error {
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

// ReadCols copies columns [c0, c0+w) of every row into dst (Rows() x w
// values, row-major).
func (m *File) ReadCols(c0, w int, dst []float32) error {
	if c0 < 0 || w < 0 || c0+w > m.c || len(dst) != m.r*w {
		return fmt.Errorf("%s: columns [%d,%d) of (%d,%d) into %d values: out of range", m.path, c0, c0+w, m.r, m.c, len(dst))
	}
	if c0 == 0 && w == m.c {
		return m.readFloats(dst, m.offset)
	}
	for i := range m.r {
		if err := m.ReadRowCols(i, c0, dst[i*w:(i+1)*w]); err != nil {
			return err
		}
	}
	return nil
}

// ReadRowCols copies columns [c0, c0+len(dst)) of row i into dst.
func (m *File) ReadRowCols(i, c0 int, dst []float32) error {
	if i < 0 || i >= m.r || c0 < 0 || c0+len(dst) > m.c {
		return fmt.Errorf("%s: row %d, columns [%d,%d) outside (%d,%d)", m.path, i, c0, c0+len(dst), m.r, m.c)
	}
	return m.readFloats(dst, m.offset+4*(int64(i)*int64(m.c)+int64(c0)))
}
