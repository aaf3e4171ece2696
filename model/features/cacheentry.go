package features

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"time"
	"unsafe"

	"itscope/data/npy"
	"itscope/model/runs"
)

// sumSuffix names a cache entry's sidecar: NAME.npy.crc32c beside NAME.npy.
const sumSuffix = ".crc32c"

// castagnoli is CRC-32C, which amd64 and arm64 compute in hardware at many
// GB/s, so verifying an entry costs about one sequential read of it.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// entrySum is a sidecar: what the entry holds and the CRC-32C of its data
// bytes (the little-endian float32 rows after the .npy header). Its
// modification time is the entry's last use.
type entrySum struct {
	Key    string `json:"key"`
	Rows   int    `json:"rows"`
	Cols   int    `json:"cols"`
	CRC32C uint32 `json:"crc32c"`
}

// entryWriter streams a cache entry: the rows go to an npy.Writer and
// into the running checksum, which Commit stores in the sidecar.
type entryWriter struct {
	*npy.Writer
	path    string
	sum     entrySum
	scratch []byte
}

func createEntry(path, key string, rows, cols int) (*entryWriter, error) {
	w, err := npy.Create(path, rows, cols)
	if err != nil {
		return nil, fmt.Errorf("feature cache: %w", err)
	}
	return &entryWriter{Writer: w, path: path, sum: entrySum{Key: key, Rows: rows, Cols: cols}}, nil
}

// WriteRows writes whole rows in order and adds them to the checksum.
func (w *entryWriter) WriteRows(first int, block []float32) error {
	if err := w.Writer.WriteRows(first, block); err != nil {
		return err
	}
	var b []byte
	b, w.scratch = littleEndianBytes(block, w.scratch)
	w.sum.CRC32C = crc32.Update(w.sum.CRC32C, castagnoli, b)
	return nil
}

// Commit writes the sidecar, then renames the .npy file into place. In that
// order a crash between the two leaves a sidecar without its file (ignored,
// and removed after an hour), never a file without its checksum.
func (w *entryWriter) Commit() error {
	b, err := json.Marshal(w.sum)
	if err == nil {
		err = runs.WriteFileAtomic(w.path+sumSuffix, func(f io.Writer) error {
			_, err := f.Write(b)
			return err
		})
	}
	if err != nil {
		w.Writer.Abort()
		return fmt.Errorf("feature cache: %w", err)
	}
	if err := w.Writer.Commit(); err != nil {
		os.Remove(w.path + sumSuffix)
		return err
	}
	return nil
}

// readEntrySum reads the sidecar of the entry at path.
func readEntrySum(path string) (entrySum, error) {
	var s entrySum
	b, err := os.ReadFile(path + sumSuffix)
	if os.IsNotExist(err) {
		return s, fmt.Errorf("%s: no checksum beside it (written by an older itscope, or damaged)", path)
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", path+sumSuffix, err)
	}
	return s, nil
}

// verifyEntry checks an open entry against its sidecar: the shape, then
// the CRC-32C of every row, read once from start to end in large blocks.
func verifyEntry(m *npy.File) error {
	s, err := readEntrySum(m.Path())
	if err != nil {
		return err
	}
	if m.Rows() != s.Rows || m.Cols() != s.Cols {
		return fmt.Errorf("%s: shape (%d, %d), its checksum file says (%d, %d)", m.Path(), m.Rows(), m.Cols(), s.Rows, s.Cols)
	}
	var crc uint32
	var scratch []byte
	err = m.Each(func(_ int, block []float32) error {
		var b []byte
		b, scratch = littleEndianBytes(block, scratch)
		crc = crc32.Update(crc, castagnoli, b)
		return nil
	})
	if err != nil {
		return err
	}
	if crc != s.CRC32C {
		return fmt.Errorf("%s: checksum mismatch: the rows' CRC-32C is %08x, written as %08x (the file changed after it was written)",
			m.Path(), crc, s.CRC32C)
	}
	return nil
}

// touchEntry records that the entry at path was used now, for eviction.
func touchEntry(path string) {
	now := time.Now()
	os.Chtimes(path+sumSuffix, now, now)
}

var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// littleEndianBytes returns v's bytes as stored in an .npy file: v's own
// memory on a little-endian machine, else an encoding into scratch (which
// it returns for reuse).
func littleEndianBytes(v []float32, scratch []byte) (b, next []byte) {
	if len(v) == 0 {
		return nil, scratch
	}
	if nativeLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)), scratch
	}
	scratch = scratch[:0]
	for _, x := range v {
		scratch = binary.LittleEndian.AppendUint32(scratch, math.Float32bits(x))
	}
	return scratch, scratch
}
