package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unsafe"
)

// encodeHeader is a version 1.0 header for a float32 C-order array of the
// given shape, padded so the data starts at a multiple of 64 bytes, as
// numpy writes it.
func encodeHeader(shape []int) []byte {
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	tuple := strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	dict := "{'descr': '<f4', 'fortran_order': False, 'shape': (" + tuple + "), }"
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	h := make([]byte, 0, total+pad)
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)+pad+1))
	h = append(h, dict...)
	h = append(h, strings.Repeat(" ", pad)...)
	return append(h, '\n')
}

// checkShape returns the number of elements of shape and of one row (the
// elements after the first dimension).
func checkShape(name string, shape []int) (n, row int, err error) {
	if len(shape) == 0 {
		return 0, 0, fmt.Errorf("%s: want a shape of at least one dimension", name)
	}
	n, row = 1, 1
	for i, d := range shape {
		if d < 0 || (d > 0 && n > math.MaxInt/d) {
			return 0, 0, fmt.Errorf("%s: bad shape %v", name, shape)
		}
		n *= d
		if i > 0 {
			row *= d
		}
	}
	return n, row, nil
}

// writeFloats writes v little-endian.
func writeFloats(w io.Writer, v []float32) error {
	if len(v) == 0 {
		return nil
	}
	if nativeLittleEndian {
		_, err := w.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)))
		return err
	}
	b := make([]byte, 0, 4*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	_, err := w.Write(b)
	return err
}

// Write encodes data, a float32 C-order array of the given shape, as an
// .npy file onto w.
func Write(w io.Writer, data []float32, shape ...int) error {
	n, _, err := checkShape("npy", shape)
	if err != nil {
		return err
	}
	if len(data) != n {
		return fmt.Errorf("npy: shape %v needs %d values, found %d", shape, n, len(data))
	}
	if _, err := w.Write(encodeHeader(shape)); err != nil {
		return err
	}
	return writeFloats(w, data)
}

// WriteFile writes data, a float32 C-order array of the given shape, to
// path atomically (see Create).
func WriteFile(path string, data []float32, shape ...int) error {
	w, err := Create(path, shape...)
	if err != nil {
		return err
	}
	if err := w.WriteRows(0, data); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// Writer streams a float32 C-order array into an .npy file row block by row
// block: the header first, then rows as they come, to a temporary file
// beside the destination that Commit renames into place once every row has
// arrived. A reader never sees half a file, and a killed writer leaves only
// a hidden ".NAME.tmp-*" file behind.
type Writer struct {
	path     string
	f        *os.File
	w        *bufio.Writer
	rows     int // the first dimension
	rowLen   int // values per row
	rowsDone int
}

// Create starts the .npy file at path for a float32 array of the given
// shape; its first dimension counts the rows that WriteRows hands over.
func Create(path string, shape ...int) (*Writer, error) {
	_, row, err := checkShape(path, shape)
	if err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	w := &Writer{path: path, f: f, w: bufio.NewWriterSize(f, 1<<20), rows: shape[0], rowLen: row}
	if _, err := w.w.Write(encodeHeader(shape)); err != nil {
		w.Abort()
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return w, nil
}

// WriteRows appends whole rows, which must arrive in order: first is the
// index of block's first row.
func (w *Writer) WriteRows(first int, block []float32) error {
	if first != w.rowsDone || (w.rowLen == 0 && len(block) != 0) ||
		(w.rowLen > 0 && (len(block)%w.rowLen != 0 || len(block)/w.rowLen > w.rows-first)) {
		return fmt.Errorf("%s: want whole rows of %d values from row %d of %d, found %d values at row %d",
			w.path, w.rowLen, w.rowsDone, w.rows, len(block), first)
	}
	if err := writeFloats(w.w, block); err != nil {
		return fmt.Errorf("%s: %w", w.f.Name(), err)
	}
	if w.rowLen > 0 {
		w.rowsDone += len(block) / w.rowLen
	}
	return nil
}

// RowsWritten is the number of rows written so far.
func (w *Writer) RowsWritten() int { return w.rowsDone }

// Commit checks that every row was written, then syncs the file and renames
// it into place. On any error the temporary file is removed.
func (w *Writer) Commit() error {
	if w.rowLen > 0 && w.rowsDone != w.rows {
		w.Abort()
		return fmt.Errorf("%s: %d of %d rows written", w.path, w.rowsDone, w.rows)
	}
	tmp := w.f.Name()
	err := w.w.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, w.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", w.path, err)
	}
	return nil
}

// Abort discards the file.
func (w *Writer) Abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}
