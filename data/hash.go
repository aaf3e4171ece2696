package data

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"math"
	"runtime"
	"sync"
	"unsafe"
)

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// contentHasher builds Dataset.Hash: sha256 over a tagged stream of the
// stimuli (as the loader saw them), then responses, repeats, labels and
// splits. Lengths precede every field so that no two datasets share a stream.
type contentHasher struct{ h hash.Hash }

func newContentHasher(kind string) *contentHasher {
	c := &contentHasher{h: sha256.New()}
	c.str("itscope-dataset-v1")
	c.str(kind)
	return c
}

func (c *contentHasher) int(v int) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	c.h.Write(b[:])
}

func (c *contentHasher) bytes(b []byte) {
	c.int(len(b))
	c.h.Write(b)
}

func (c *contentHasher) str(s string) { c.bytes([]byte(s)) }

func (c *contentHasher) f32s(v []float32) {
	c.int(len(v))
	if littleEndian && len(v) > 0 {
		// The bytes are already little-endian float32: hash them in place.
		c.h.Write(unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v)))
		return
	}
	var buf [4096]byte
	for len(v) > 0 {
		n := min(len(v), len(buf)/4)
		for i, x := range v[:n] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
		}
		c.h.Write(buf[:4*n])
		v = v[n:]
	}
}

// hashBlock is the block size of bigF32s's tree hash.
const hashBlock = 32 << 20 // floats

// bigF32s hashes a large float32 array as a tree: the sha256 of each block
// of hashBlock floats, computed on every core, then those digests in order.
// The result does not depend on the number of cores.
func (c *contentHasher) bigF32s(v []float32) {
	c.int(len(v))
	n := (len(v) + hashBlock - 1) / hashBlock
	sums := make([][]byte, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for b := range next {
				h := &contentHasher{h: sha256.New()}
				h.f32s(v[b*hashBlock : min(len(v), (b+1)*hashBlock)])
				sums[b] = h.h.Sum(nil)
			}
		})
	}
	for b := range n {
		next <- b
	}
	close(next)
	wg.Wait()
	for _, s := range sums {
		c.bytes(s)
	}
}

// finish adds everything but the stimuli and returns the hex digest.
func (c *contentHasher) finish(d *Dataset) string {
	c.int(d.Images.Len())
	for i := range d.Images.Len() {
		c.str(d.Images.Name(i))
	}
	c.int(d.NumNeurons)
	c.f32s(d.Responses)
	c.int(d.NumTrials)
	c.f32s(d.Repeats)
	c.int(len(d.Objects))
	for _, o := range d.Objects {
		c.str(o)
	}
	c.int(len(d.Splits))
	for _, s := range d.Splits {
		c.str(s.Name)
		c.int(len(s.Indices))
		for _, i := range s.Indices {
			c.int(i)
		}
		if s.HasResponses {
			c.int(1)
		} else {
			c.int(0)
		}
	}
	return hex.EncodeToString(c.h.Sum(nil))
}
