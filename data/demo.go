package data

import (
	"archive/zip"
	"bytes"
	"embed"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"itscope/data/npy"
)

//go:embed demo/images_201025.zip demo/images_210325.zip
//go:embed demo/responses_201025.npy demo/responses_210325.npy demo/responses_raw_210325.npy
var demoFS embed.FS

// DemoSessions are the embedded Cowley et al. V4 sessions; the first is the default.
var DemoSessions = []string{"201025", "210325"}

const demoCitation = `Cowley, Stan, Pillow, Smith, "Compact deep neural network models of visual cortex", bioRxiv 2023 (GPL-3.0)`

var demoAbout = map[string]string{
	"201025": "monkey PE, 89 neurons x 1200 natural images, 12 repeats per image averaged",
	"210325": "monkey PE, 50 neurons x 640 images (Bashivan et al. 2019 set), 6-10 repeats per image, single trials included",
}

// openDemo loads an embedded session. Responses in the files are (neurons,
// images) float64, raw repeats (neurons, images, trials); both are
// transposed to image-major float32. Image k is the zip entry numbered k+1.
func openDemo(session string) (*Dataset, error) {
	if !slices.Contains(DemoSessions, session) {
		return nil, fmt.Errorf("demo:%s: no such session; want one of %s", Printable(session), strings.Join(DemoSessions, ", "))
	}
	name := "demo:" + session
	zipName := "demo/images_" + session + ".zip"
	zipBytes, err := demoFS.ReadFile(zipName)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	images, err := zipImages(zipName, zipBytes)
	if err != nil {
		return nil, err
	}
	avg, err := readEmbeddedNPY("demo/responses_" + session + ".npy")
	if err != nil {
		return nil, err
	}
	if len(avg.Shape) != 2 || avg.Shape[1] != images.Len() {
		return nil, fmt.Errorf("%s: responses: want shape (neurons, %d), found %v", name, images.Len(), avg.Shape)
	}
	d := &Dataset{
		Name:        name,
		Description: fmt.Sprintf("Macaque V4, session %s (%s). %s.", session, demoAbout[session], demoCitation),
		Images:      images,
		NumNeurons:  avg.Shape[0],
		Responses:   transpose2(avg.Data, avg.Shape[0], avg.Shape[1]),
	}
	if raw, err := demoFS.ReadFile("demo/responses_raw_" + session + ".npy"); err == nil {
		rep, err := npy.Decode[float32](name+" raw responses", raw)
		if err != nil {
			return nil, err
		}
		if len(rep.Shape) != 3 || rep.Shape[0] != d.NumNeurons || rep.Shape[1] != images.Len() {
			return nil, fmt.Errorf("%s: raw responses: want shape (%d, %d, trials), found %v", name, d.NumNeurons, images.Len(), rep.Shape)
		}
		d.NumTrials = rep.Shape[2]
		d.Repeats = repeatsImageMajor(rep.Data, d.NumNeurons, images.Len(), d.NumTrials)
	}
	if err := checkFinite(name, "responses", d.Responses, d.NumNeurons, nil); err != nil {
		return nil, err
	}
	if d.Splits, err = defaultSplits(images.Len()); err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	h := newContentHasher("demo")
	h.bytes(zipBytes)
	d.Hash = h.finish(d)
	return d, nil
}

func readEmbeddedNPY(path string) (*npy.Array[float32], error) {
	raw, err := demoFS.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return npy.Decode[float32](path, raw)
}

// repeatsImageMajor reorders (neurons, images, trials) to (images, neurons, trials).
func repeatsImageMajor(src []float32, neurons, images, trials int) []float32 {
	dst := make([]float32, len(src))
	for n := range neurons {
		for i := range images {
			copy(dst[(i*neurons+n)*trials:(i*neurons+n+1)*trials], src[(n*images+i)*trials:])
		}
	}
	return dst
}

// zipImages lists the image files in a zip, ordered by the number in their
// name (image0001.jpg, image0002.jpg, ...; names without a number sort by
// name after those with one), and decodes them on first use.
func zipImages(zipName string, zipBytes []byte) (*encodedImages, error) {
	zr, err := zip.NewReader(bytes.NewReader(zipBytes), int64(len(zipBytes)))
	if err != nil {
		return nil, fmt.Errorf("%s: not a zip file: %v", zipName, err)
	}
	var files []*zip.File
	for _, f := range zr.File {
		if !f.FileInfo().IsDir() && isImageName(f.Name) {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no .jpg/.png images found", zipName)
	}
	slices.SortFunc(files, func(a, b *zip.File) int { return compareNumeric(a.Name, b.Name) })
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	load := func(i int) ([]byte, error) {
		rc, err := files[i].Open()
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", zipName, files[i].Name, err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %v", zipName, files[i].Name, err)
		}
		return b, nil
	}
	return newEncodedImages(zipName, names, load, true), nil
}

func isImageName(name string) bool {
	switch strings.ToLower(name[strings.LastIndexByte(name, '.')+1:]) {
	case "jpg", "jpeg", "png", "bmp", "gif":
		return true
	}
	return false
}

// compareNumeric orders names by the last run of digits in them, then by name.
func compareNumeric(a, b string) int {
	na, oka := lastNumber(a)
	nb, okb := lastNumber(b)
	switch {
	case oka && okb && na != nb:
		if na < nb {
			return -1
		}
		return 1
	case oka != okb:
		if oka {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

func lastNumber(s string) (uint64, bool) {
	end := strings.LastIndexAny(s, "0123456789")
	if end < 0 {
		return 0, false
	}
	start := end
	for start > 0 && s[start-1] >= '0' && s[start-1] <= '9' {
		start--
	}
	n, err := strconv.ParseUint(s[start:end+1], 10, 64)
	return n, err == nil
}

// checkFinite reports the first NaN or Inf in an image-major matrix.
// names, when given, names the rows.
func checkFinite(file, key string, v []float32, cols int, names func(int) string) error {
	for k, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			row := strconv.Itoa(k / cols)
			if names != nil {
				row += " (" + names(k/cols) + ")"
			}
			return fmt.Errorf("%s: %s: want finite values, found %v at row %s, neuron %d", file, key, x, row, k%cols)
		}
	}
	return nil
}

// transpose2 returns the (cols, rows) transpose of a row-major (rows, cols) matrix.
func transpose2(src []float32, rows, cols int) []float32 {
	dst := make([]float32, len(src))
	for r := range rows {
		for c := range cols {
			dst[c*rows+r] = src[r*cols+c]
		}
	}
	return dst
}
