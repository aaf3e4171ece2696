package data

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"itscope/data/npy"
)

// openFolder loads a folder of the user's own data:
//
//	images/         JPEG, PNG, BMP or GIF files (.jpg .jpeg .png .bmp .gif, any case),
//	                ordered by file name (byte order); other files and dot-files are ignored
//	responses.npy   (images, neurons), any float or integer dtype, or
//	responses.csv   one row per image in file-name order, one column per neuron,
//	                comma-separated; a first row with no numeric field is a header
//	split.csv       optional, header image,split: every image once, split train, val or test
//	objects.csv     optional, header image,object: every image once
//
// Without split.csv the images get DefaultSplit. A test split whose response
// rows are all NaN has no responses (HasResponses false; its rows become 0);
// any other NaN or Inf is an error. Every image is decoded once here so that
// a bad file is reported now, then decoded again on each use, so a large
// folder is never held decoded in memory. root is an os.Root for the folder
// itself: every file is opened through it, so a link leading out of the
// folder is refused. The dataset keeps root open; on error it is closed.
func openFolder(dir string, root *os.Root) (*Dataset, error) {
	d, err := readFolder(dir, root)
	if err != nil {
		root.Close()
	}
	return d, err
}

func readFolder(dir string, root *os.Root) (*Dataset, error) {
	imgDir := filepath.Join(dir, "images")
	entries, err := readImageDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: want an images/ folder with JPEG or PNG files, found none", Printable(dir))
	} else if err != nil {
		return nil, openError(err, imgDir, "dataset folder")
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && isImageName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: want JPEG or PNG images, found none", Printable(imgDir))
	}
	load := func(i int) ([]byte, error) {
		return readBounded(root, "images/"+names[i], filepath.Join(imgDir, names[i]), maxImageFileBytes)
	}
	// The images are read lazily, through root, for as long as the dataset
	// lives; os.Root's finalizer closes it after.
	images := newEncodedImages(imgDir, names, load, false)
	d := &Dataset{Name: dir, Images: images}
	respFile, resp, neurons, err := readFolderResponses(dir, root, len(names))
	if err != nil {
		return nil, err
	}
	d.NumNeurons, d.Responses = neurons, resp

	if d.Splits, err = readFolderSplits(dir, root, names); err != nil {
		return nil, err
	}
	for k, s := range d.Splits {
		if s.Name == Test && allNaNRows(resp, neurons, s.Indices) {
			d.Splits[k].HasResponses = false
			for _, i := range s.Indices {
				clear(resp[i*neurons : (i+1)*neurons])
			}
		}
	}
	if err := checkFinite(Printable(respFile), "responses", resp, neurons, func(i int) string { return Printable(names[i]) }); err != nil {
		return nil, err
	}
	if d.Objects, err = readFolderObjects(dir, root, names); err != nil {
		return nil, err
	}
	// Decoding every image is the slow check: it comes last.
	digests, err := checkImages(images)
	if err != nil {
		return nil, err
	}
	d.Description = fmt.Sprintf("User data from %s: %d neurons x %d images (%s).", Printable(dir), neurons, len(names), splitCounts(d.Splits))
	h := newContentHasher("folder")
	for _, dg := range digests {
		h.bytes(dg[:])
	}
	d.Hash = h.finish(d)
	return d, nil
}

// checkImages decodes every image (in parallel) and returns each file's
// sha256; the first failure in name order is reported.
func checkImages(images *encodedImages) ([][32]byte, error) {
	n := images.Len()
	digests := make([][32]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				b, err := images.load(i)
				if err != nil {
					errs[i] = err
					continue
				}
				digests[i] = sha256.Sum256(b)
				if _, err := DecodeImage(b); err != nil {
					errs[i] = errImage(images.file, images.names[i], err)
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return digests, nil
}

func readFolderResponses(dir string, root *os.Root, nImages int) (string, []float32, int, error) {
	npyPath := filepath.Join(dir, "responses.npy")
	csvPath := filepath.Join(dir, "responses.csv")
	noNPY, err := optionalFile(root, "responses.npy", npyPath)
	if err != nil {
		return "", nil, 0, err
	}
	noCSV, err := optionalFile(root, "responses.csv", csvPath)
	if err != nil {
		return "", nil, 0, err
	}
	switch {
	case !noNPY && !noCSV:
		return "", nil, 0, fmt.Errorf("%s: want one of responses.npy or responses.csv, found both", Printable(dir))
	case !noNPY:
		raw, err := readBounded(root, "responses.npy", npyPath, maxTableBytes)
		if err != nil {
			return "", nil, 0, err
		}
		a, err := npy.Decode[float32](Printable(npyPath), raw)
		if err != nil {
			return "", nil, 0, err
		}
		if len(a.Shape) != 2 || a.Shape[0] != nImages || a.Shape[1] < 1 {
			return "", nil, 0, fmt.Errorf("%s: want shape (%d images, neurons) to match images/, found %v", Printable(npyPath), nImages, a.Shape)
		}
		return npyPath, a.Data, a.Shape[1], nil
	case !noCSV:
		f, err := openTable(root, "responses.csv", csvPath)
		if err != nil {
			return "", nil, 0, err
		}
		defer f.Close()
		resp, neurons, err := parseResponsesCSV(Printable(csvPath), f, nImages)
		return csvPath, resp, neurons, err
	}
	return "", nil, 0, fmt.Errorf("%s: want responses.npy or responses.csv, found neither", Printable(dir))
}

// maxTableBytes bounds responses.npy, responses.csv, split.csv and
// objects.csv (1 GiB: 268 million float32 responses); a larger file is
// refused before it is read.
const maxTableBytes = 1 << 30

// maxCSVLine bounds one line of a CSV file (1 MiB: 100,000 numbers of ten
// characters), so a file of junk without newlines is not read whole into
// one field.
const maxCSVLine = 1 << 20

// maxImageFileBytes bounds an image file (128 MiB, far above any stimulus:
// an 8192 x 8192 JPEG of high quality is about 30 MB).
const maxImageFileBytes = 128 << 20

// openTable opens a CSV file of the folder, refusing one above maxTableBytes.
func openTable(root *os.Root, name, display string) (*os.File, error) {
	f, err := openRegular(root, name, display, "dataset folder")
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || st.Size() > maxTableBytes {
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", Printable(display), Printable(err.Error()))
		}
		return nil, fmt.Errorf("%s: want a file of at most %s, found %s", Printable(display), byteSize(maxTableBytes), byteSize(st.Size()))
	}
	return f, nil
}

// lineLimitReader fails once a line runs past max bytes.
type lineLimitReader struct {
	r        io.Reader
	max, run int
}

func (l *lineLimitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	for i, c := range p[:n] {
		if c == '\n' {
			l.run = 0
			continue
		}
		if l.run++; l.run > l.max {
			return i, fmt.Errorf("want lines of at most %s, found a longer one (not a CSV file?)", byteSize(int64(l.max)))
		}
	}
	return n, err
}

// parseResponsesCSV reads responses.csv from r; path names it in errors.
// Line numbers in errors are the file's own, blank lines included.
func parseResponsesCSV(path string, r io.Reader, nImages int) ([]float32, int, error) {
	cr := csv.NewReader(skipBOM(&lineLimitReader{r: r, max: maxCSVLine}))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	var out []float32
	neurons, rows := 0, 0
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("%s: %v", path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		vals := make([]float32, len(rec))
		bad, overflow, numbers := -1, false, 0
		for k, s := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				if bad < 0 {
					bad = k
				}
				continue
			}
			numbers++
			if math.Abs(v) > math.MaxFloat32 && !math.IsInf(v, 0) && bad < 0 {
				bad, overflow = k, true
			}
			vals[k] = float32(v)
		}
		switch {
		case bad >= 0 && first && numbers == 0:
			continue // header: no field is a number
		case overflow:
			return nil, 0, fmt.Errorf("%s: line %d, column %d: want a number within float32 range (±3.4e38), found %s", path, line, bad+1, quoteContent(rec[bad]))
		case bad >= 0 && first:
			return nil, 0, fmt.Errorf("%s: line %d, column %d: want a number, found %s (a header row has no numeric field; this row has %d)", path, line, bad+1, quoteContent(rec[bad]), numbers)
		case bad >= 0:
			return nil, 0, fmt.Errorf("%s: line %d, column %d: want a number, found %s", path, line, bad+1, quoteContent(rec[bad]))
		}
		if rows == nImages {
			return nil, 0, fmt.Errorf("%s: line %d: want %d rows (one per image in images/), found more", path, line, nImages)
		}
		if neurons == 0 {
			neurons = len(vals)
		} else if len(vals) != neurons {
			return nil, 0, fmt.Errorf("%s: line %d: want %d values like the first row, found %d", path, line, neurons, len(vals))
		}
		out = append(out, vals...)
		rows++
	}
	if rows != nImages {
		return nil, 0, fmt.Errorf("%s: want %d rows (one per image in images/), found %d", path, nImages, rows)
	}
	return out, neurons, nil
}

// skipBOM drops a leading UTF-8 byte-order mark, which Excel writes at the
// start of every CSV it saves; left in, it would become part of the first field.
func skipBOM(r io.Reader) io.Reader {
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	return br
}

// readLabelCSV reads a two-column CSV with the given header; every image in
// names must appear exactly once. It returns the second column per image.
func readLabelCSV(root *os.Root, name, path, column string, names []string) ([]string, error) {
	f, err := openTable(root, name, path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseLabelCSV(Printable(path), f, column, names)
}

// parseLabelCSV is readLabelCSV on r; path names it in errors.
func parseLabelCSV(path string, r io.Reader, column string, names []string) ([]string, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	cr := csv.NewReader(skipBOM(&lineLimitReader{r: r, max: maxCSVLine}))
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(header) != 2 || strings.TrimSpace(header[0]) != "image" || strings.TrimSpace(header[1]) != column {
		found := "nothing"
		if header != nil {
			found = quoteContent(strings.Join(header, ","))
		}
		return nil, fmt.Errorf("%s: want header \"image,%s\", found %s", path, column, found)
	}
	out := make([]string, len(index))
	seen := make([]bool, len(index))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != 2 {
			return nil, fmt.Errorf("%s: line %d: want 2 fields (image,%s), found %d", path, line, column, len(rec))
		}
		name := strings.TrimSpace(rec[0])
		i, ok := index[name]
		if !ok {
			return nil, fmt.Errorf("%s: line %d: image %s is not in images/", path, line, quoteContent(name))
		}
		if seen[i] {
			return nil, fmt.Errorf("%s: line %d: image %s listed twice", path, line, quoteContent(name))
		}
		seen[i] = true
		out[i] = strings.TrimSpace(rec[1])
	}
	for i, name := range names {
		if !seen[i] {
			return nil, fmt.Errorf("%s: want a row for every image, found none for %s", path, quoteContent(name))
		}
	}
	return out, nil
}

func readFolderSplits(dir string, root *os.Root, names []string) ([]Split, error) {
	path := filepath.Join(dir, "split.csv")
	if absent, err := optionalFile(root, "split.csv", path); err != nil {
		return nil, err
	} else if absent {
		splits, err := defaultSplits(len(names))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", Printable(dir), Printable(err.Error()))
		}
		return splits, nil
	}
	labels, err := readLabelCSV(root, "split.csv", path, "split", names)
	if err != nil {
		return nil, err
	}
	byName := map[string][]int{}
	for i, l := range labels {
		if l != Train && l != Val && l != Test {
			return nil, fmt.Errorf("%s: image %s: want split train, val or test, found %s", Printable(path), quoteContent(names[i]), quoteContent(l))
		}
		byName[l] = append(byName[l], i)
	}
	var splits []Split
	for _, name := range []string{Train, Val, Test} {
		idx := byName[name]
		if len(idx) == 0 && name == Test {
			continue
		}
		splits = append(splits, Split{Name: name, Indices: idx, HasResponses: true})
	}
	if err := checkSplitSizes(splits); err != nil {
		return nil, fmt.Errorf("%s: %v", Printable(path), Printable(err.Error()))
	}
	return splits, nil
}

func readFolderObjects(dir string, root *os.Root, names []string) ([]string, error) {
	path := filepath.Join(dir, "objects.csv")
	if absent, err := optionalFile(root, "objects.csv", path); absent || err != nil {
		return nil, err
	}
	return readLabelCSV(root, "objects.csv", path, "object", names)
}

// readImageDir lists images/ inside root. O_DIRECTORY refuses anything but
// a folder without blocking on a named pipe.
func readImageDir(root *os.Root) ([]os.DirEntry, error) {
	d, err := root.OpenFile("images", os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.ReadDir(-1)
}

func allNaNRows(v []float32, cols int, rows []int) bool {
	for _, i := range rows {
		for _, x := range v[i*cols : (i+1)*cols] {
			if !math.IsNaN(float64(x)) {
				return false
			}
		}
	}
	return len(rows) > 0
}
