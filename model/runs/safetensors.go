package runs

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// NamedTensor is one array of a safetensors file: float32 (Data, dtype F32)
// or, when Data64 is set, float64 (dtype F64), for arrays that must round-trip
// exactly (a read-out's coefficients).
type NamedTensor struct {
	Name   string
	Shape  []int
	Data   []float32
	Data64 []float64
}

// values is the tensor's length, its dtype and its element size in bytes.
func (t NamedTensor) values() (n int, dtype string, size int64) {
	if t.Data64 != nil {
		return len(t.Data64), "F64", 8
	}
	return len(t.Data), "F32", 4
}

// maxSafetensorsHeader bounds the JSON header we agree to read, so a corrupt
// length cannot make us allocate gigabytes.
const maxSafetensorsHeader = 100 << 20

// safetensorsEntry's fields are in key order, so that the header is the same
// JSON that a writer with sorted keys produces.
type safetensorsEntry struct {
	DataOffsets [2]int64 `json:"data_offsets"`
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
}

// EncodeSafetensors writes tensors in the safetensors format (an 8-byte
// little-endian header length, a JSON header padded with spaces to a
// multiple of 8, then the raw little-endian data), which Python reads with
// safetensors.torch.load_file. Tensors are laid out in name order, as the
// safetensors library does for a single dtype. Runs save it as a RunFile
// (trained weights, saved read-outs), so it is written atomically with them.
func EncodeSafetensors(w io.Writer, tensors []NamedTensor, metadata map[string]string) error {
	sorted := append([]NamedTensor(nil), tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })

	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var offset int64
	for i, t := range sorted {
		if t.Name == "" || t.Name == "__metadata__" {
			return fmt.Errorf("tensor %d: invalid name %q", i, t.Name)
		}
		if _, dup := header[t.Name]; dup {
			return fmt.Errorf("tensor %q given twice", t.Name)
		}
		if t.Data != nil && t.Data64 != nil {
			return fmt.Errorf("tensor %q: both float32 and float64 data given", t.Name)
		}
		n := 1
		for _, d := range t.Shape {
			n *= d
		}
		have, dtype, size := t.values()
		if n != have || n < 0 {
			return fmt.Errorf("tensor %q: shape %v holds %d values, found %d", t.Name, t.Shape, n, have)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = safetensorsEntry{[2]int64{offset, offset + size*int64(n)}, dtype, shape}
		offset += size * int64(n)
	}
	js, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(js)%8 != 0 {
		js = append(js, ' ')
	}
	{
		var lenBuf [8]byte
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(js)))
		if _, err := w.Write(lenBuf[:]); err != nil {
			return err
		}
		if _, err := w.Write(js); err != nil {
			return err
		}
		buf := make([]byte, 0, 1<<16)
		flush := func() error {
			if len(buf)+8 <= cap(buf) {
				return nil
			}
			_, err := w.Write(buf)
			buf = buf[:0]
			return err
		}
		for _, t := range sorted {
			for _, v := range t.Data {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if err := flush(); err != nil {
					return err
				}
			}
			for _, v := range t.Data64 {
				buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(v))
				if err := flush(); err != nil {
					return err
				}
			}
		}
		_, err := w.Write(buf)
		return err
	}
}

// ReadSafetensors reads a safetensors file of float32 (F32) and float64
// (F64, into Data64) tensors, in name order, and its metadata. Every offset, shape and dtype is checked against the file.
func ReadSafetensors(path string) ([]NamedTensor, map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := st.Size()
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, nil, fmt.Errorf("%s: not a safetensors file: %d bytes, want at least 8 for the header length", path, size)
	}
	hlen := binary.LittleEndian.Uint64(lenBuf[:])
	if hlen > maxSafetensorsHeader || int64(hlen) > size-8 {
		return nil, nil, fmt.Errorf("%s: not a safetensors file or truncated: header length %d, file has %d bytes", path, hlen, size)
	}
	hbuf := make([]byte, hlen)
	if _, err := io.ReadFull(f, hbuf); err != nil {
		return nil, nil, fmt.Errorf("%s: reading header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hbuf, &raw); err != nil {
		return nil, nil, fmt.Errorf("%s: header is not JSON: %v", path, err)
	}
	dataSize := size - 8 - int64(hlen)
	var metadata map[string]string
	var tensors []NamedTensor
	for name, msg := range raw {
		if name == "__metadata__" {
			if err := json.Unmarshal(msg, &metadata); err != nil {
				return nil, nil, fmt.Errorf("%s: key %q: want a map of strings: %v", path, name, err)
			}
			continue
		}
		var e safetensorsEntry
		if err := json.Unmarshal(msg, &e); err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %q: %v", path, name, err)
		}
		size := int64(4)
		switch e.DType {
		case "F32":
		case "F64":
			size = 8
		default:
			return nil, nil, fmt.Errorf("%s: tensor %q: want dtype F32 or F64, found %q", path, name, e.DType)
		}
		n := int64(1)
		for _, d := range e.Shape {
			if d < 0 {
				return nil, nil, fmt.Errorf("%s: tensor %q: negative dimension in shape %v", path, name, e.Shape)
			}
			n *= int64(d)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		if begin < 0 || end < begin || end > dataSize {
			return nil, nil, fmt.Errorf("%s: tensor %q: data offsets [%d, %d] outside the %d data bytes (truncated file?)", path, name, begin, end, dataSize)
		}
		if end-begin != size*n {
			return nil, nil, fmt.Errorf("%s: tensor %q: shape %v needs %d bytes, offsets give %d", path, name, e.Shape, size*n, end-begin)
		}
		buf := make([]byte, end-begin)
		if _, err := f.ReadAt(buf, 8+int64(hlen)+begin); err != nil {
			return nil, nil, fmt.Errorf("%s: tensor %q: %v", path, name, err)
		}
		t := NamedTensor{Name: name, Shape: e.Shape}
		if size == 8 {
			t.Data64 = make([]float64, n)
			for i := range t.Data64 {
				t.Data64[i] = math.Float64frombits(binary.LittleEndian.Uint64(buf[8*i:]))
			}
		} else {
			t.Data = make([]float32, n)
			for i := range t.Data {
				t.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
			}
		}
		tensors = append(tensors, t)
	}
	sort.Slice(tensors, func(i, j int) bool { return tensors[i].Name < tensors[j].Name })
	return tensors, metadata, nil
}
