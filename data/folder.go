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

	"itscope/data/npy"
)

// openFolder loads a folder of the user's own data:
//
//	images/         JPEG, PNG, BMP or GIF files (.jpg .jpeg .png .bmp .gif, any case),
//	                ordered by file name (byte order); other files and dot-files are ignored
//	responses.npy   (images, neurons), any float or integer dtype, or
//	responses.csv   one row per image in file-name order, one column per neuron,
//	                comma-separated; a first row with any non-numeric field is a header
//	split.csv       optional, header image,split: every image once, split train, val or test
//	objects.csv     optional, header image,object: every image once
//
// Without split.csv the images get DefaultSplit. A test split whose response
// rows are all NaN has no responses (HasResponses false; its rows become 0);
// any other NaN or Inf is an error. Every image is decoded once here so that
// a bad file is reported now, then decoded again on each use, so a large
// folder is never held decoded in memory.
func openFolder(dir string) (*Dataset, error) {
	imgDir := filepath.Join(dir, "images")
	entries, err := os.ReadDir(imgDir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: want an images/ folder with JPEG or PNG files, found none", dir)
		}
		return nil, fmt.Errorf("%s: %v", imgDir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && !strings.HasPrefix(e.Name(), ".") && isImageName(e.Name()) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: want JPEG or PNG images, found none", imgDir)
	}
	load := func(i int) ([]byte, error) { return os.ReadFile(filepath.Join(imgDir, names[i])) }
	images := newEncodedImages(imgDir, names, load, false)
	d := &Dataset{Name: dir, Images: images}
	respFile, resp, neurons, err := readFolderResponses(dir, len(names))
	if err != nil {
		return nil, err
	}
	d.NumNeurons, d.Responses = neurons, resp

	if d.Splits, err = readFolderSplits(dir, names); err != nil {
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
	if err := checkFinite(respFile, "responses", resp, neurons, func(i int) string { return names[i] }); err != nil {
		return nil, err
	}
	if d.Objects, err = readFolderObjects(dir, names); err != nil {
		return nil, err
	}
	// Decoding every image is the slow check: it comes last.
	digests, err := checkImages(images)
	if err != nil {
		return nil, err
	}
	d.Description = fmt.Sprintf("User data from %s: %d neurons x %d images (%s).", dir, neurons, len(names), splitCounts(d.Splits))
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

func readFolderResponses(dir string, nImages int) (string, []float32, int, error) {
	npyPath := filepath.Join(dir, "responses.npy")
	csvPath := filepath.Join(dir, "responses.csv")
	noNPY, err := optionalFile(npyPath)
	if err != nil {
		return "", nil, 0, err
	}
	noCSV, err := optionalFile(csvPath)
	if err != nil {
		return "", nil, 0, err
	}
	switch {
	case !noNPY && !noCSV:
		return "", nil, 0, fmt.Errorf("%s: want one of responses.npy or responses.csv, found both", dir)
	case !noNPY:
		a, err := npy.ReadFile[float32](npyPath)
		if err != nil {
			return "", nil, 0, err
		}
		if len(a.Shape) != 2 || a.Shape[0] != nImages || a.Shape[1] < 1 {
			return "", nil, 0, fmt.Errorf("%s: want shape (%d images, neurons) to match images/, found %v", npyPath, nImages, a.Shape)
		}
		return npyPath, a.Data, a.Shape[1], nil
	case !noCSV:
		resp, neurons, err := readResponsesCSV(csvPath, nImages)
		return csvPath, resp, neurons, err
	}
	return "", nil, 0, fmt.Errorf("%s: want responses.npy or responses.csv, found neither", dir)
}

func readResponsesCSV(path string, nImages int) ([]float32, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return parseResponsesCSV(path, f, nImages)
}

// parseResponsesCSV reads responses.csv from r; path names it in errors.
// Line numbers in errors are the file's own, blank lines included.
func parseResponsesCSV(path string, r io.Reader, nImages int) ([]float32, int, error) {
	cr := csv.NewReader(skipBOM(r))
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
		bad, overflow := -1, false
		for k, s := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				bad = k
				break
			}
			if math.Abs(v) > math.MaxFloat32 && !math.IsInf(v, 0) {
				bad, overflow = k, true
				break
			}
			vals[k] = float32(v)
		}
		switch {
		case bad >= 0 && first && !overflow:
			continue // header
		case overflow:
			return nil, 0, fmt.Errorf("%s: line %d, column %d: want a number within float32 range (±3.4e38), found %q", path, line, bad+1, rec[bad])
		case bad >= 0:
			return nil, 0, fmt.Errorf("%s: line %d, column %d: want a number, found %q", path, line, bad+1, rec[bad])
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
func readLabelCSV(path, column string, names []string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parseLabelCSV(path, f, column, names)
}

// parseLabelCSV is readLabelCSV on r; path names it in errors.
func parseLabelCSV(path string, r io.Reader, column string, names []string) ([]string, error) {
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	cr := csv.NewReader(skipBOM(r))
	cr.TrimLeadingSpace = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(header) != 2 || strings.TrimSpace(header[0]) != "image" || strings.TrimSpace(header[1]) != column {
		found := "nothing"
		if header != nil {
			found = strconv.Quote(strings.Join(header, ","))
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
			return nil, fmt.Errorf("%s: line %d: image %q is not in images/", path, line, name)
		}
		if seen[i] {
			return nil, fmt.Errorf("%s: line %d: image %q listed twice", path, line, name)
		}
		seen[i] = true
		out[i] = strings.TrimSpace(rec[1])
	}
	for i, name := range names {
		if !seen[i] {
			return nil, fmt.Errorf("%s: want a row for every image, found none for %q", path, name)
		}
	}
	return out, nil
}

func readFolderSplits(dir string, names []string) ([]Split, error) {
	path := filepath.Join(dir, "split.csv")
	if absent, err := optionalFile(path); err != nil {
		return nil, err
	} else if absent {
		splits, err := defaultSplits(len(names))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", dir, err)
		}
		return splits, nil
	}
	labels, err := readLabelCSV(path, "split", names)
	if err != nil {
		return nil, err
	}
	byName := map[string][]int{}
	for i, l := range labels {
		if l != Train && l != Val && l != Test {
			return nil, fmt.Errorf("%s: image %q: want split train, val or test, found %q", path, names[i], l)
		}
		byName[l] = append(byName[l], i)
	}
	var splits []Split
	for _, name := range []string{Train, Val, Test} {
		idx := byName[name]
		if len(idx) == 0 {
			if name == Test {
				continue
			}
			return nil, fmt.Errorf("%s: want at least one %s image, found none", path, name)
		}
		splits = append(splits, Split{Name: name, Indices: idx, HasResponses: true})
	}
	return splits, nil
}

func readFolderObjects(dir string, names []string) ([]string, error) {
	path := filepath.Join(dir, "objects.csv")
	if absent, err := optionalFile(path); absent || err != nil {
		return nil, err
	}
	return readLabelCSV(path, "object", names)
}

// optionalFile reports whether a file the folder may leave out is absent; any other
// failure to look at it (permissions, a folder by that name) is an error
// rather than a silent fall-back to the defaults.
func optionalFile(path string) (absent bool, err error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, err
	case st.IsDir():
		return false, fmt.Errorf("%s: want a file, found a folder", path)
	}
	return false, nil
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
