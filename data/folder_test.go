package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"
	"gonum.org/v1/gonum/mat"
)

// userFolder writes a folder dataset of n 8x8 PNGs (img00.png, ...; image k
// has red = 10*k) and the given extra files; responses, when not nil, are
// written as responses.npy with shape (rows, cols).
func userFolder(t *testing.T, n int, resp []float64, rows, cols int, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if n >= 0 {
		if err := os.Mkdir(filepath.Join(dir, "images"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for k := range n {
		img := image.NewNRGBA(image.Rect(0, 0, 8, 8))
		for i := range 64 {
			img.Set(i%8, i/8, color.NRGBA{uint8(10 * k), uint8(i), 7, 255})
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "images", fmt.Sprintf("img%02d.png", k)), b.Bytes())
	}
	if resp != nil {
		var b bytes.Buffer
		if err := npyio.Write(&b, mat.NewDense(rows, cols, resp)); err != nil {
			t.Fatal(err)
		}
		write(t, filepath.Join(dir, "responses.npy"), b.Bytes())
	}
	for name, content := range files {
		write(t, filepath.Join(dir, name), []byte(content))
	}
	return dir
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func seq(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = float64(i) / 4
	}
	return v
}

func TestOpenFolderNPY(t *testing.T) {
	dir := userFolder(t, 9, seq(9*3), 9, 3, map[string]string{
		"split.csv": "image,split\nimg00.png,train\nimg01.png,val\nimg02.png,train\nimg03.png,test\nimg04.png,train\nimg05.png,val\n" +
			"img06.png,val\nimg07.png,test\nimg08.png,test\n",
		"objects.csv": "image,object\nimg05.png,car\nimg00.png,face\nimg01.png,face\nimg02.png,car\nimg03.png,dog\nimg04.png,dog\n" +
			"img06.png,car\nimg07.png,car\nimg08.png,car\n",
		"notes.txt": "ignored",
	})
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.NumNeurons != 3 || d.Images.Len() != 9 {
		t.Fatalf("%d neurons x %d images, want 3 x 9", d.NumNeurons, d.Images.Len())
	}
	if got := d.ResponseRow(4); !slices.Equal(got, []float32{3, 3.25, 3.5}) {
		t.Errorf("row 4 = %v, want [3 3.25 3.5]", got)
	}
	wantSplits := []Split{{Train, []int{0, 2, 4}, true}, {Val, []int{1, 5, 6}, true}, {Test, []int{3, 7, 8}, true}}
	for k, s := range d.Splits {
		if s.Name != wantSplits[k].Name || !slices.Equal(s.Indices, wantSplits[k].Indices) || s.HasResponses != wantSplits[k].HasResponses {
			t.Errorf("split %d = %+v, want %+v", k, s, wantSplits[k])
		}
	}
	if want := []string{"face", "face", "car", "dog", "dog", "car", "car", "car", "car"}; !slices.Equal(d.Objects, want) {
		t.Errorf("objects %q, want %q", d.Objects, want)
	}
	img, err := d.Images.RGB(5)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, _, _ := img.At(3, 1).RGBA(); r>>8 != 50 || g>>8 != 11 {
		t.Errorf("image 5 pixel (3,1) = %d,%d, want 50,11", r>>8, g>>8)
	}
	if d.Images.Name(5) != "img05.png" || len(d.Hash) != 64 {
		t.Errorf("name %q hash %q", d.Images.Name(5), d.Hash)
	}
}

func TestOpenFolderCSVDefaultSplit(t *testing.T) {
	var csv strings.Builder
	csv.WriteString("n1,n2\n")
	for k := range 20 {
		fmt.Fprintf(&csv, "%d, %g\n", k, float64(k)/2)
	}
	dir := userFolder(t, 20, nil, 0, 0, map[string]string{"responses.csv": csv.String()})
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.NumNeurons != 2 || !slices.Equal(d.ResponseRow(19), []float32{19, 9.5}) {
		t.Errorf("%d neurons, row 19 = %v", d.NumNeurons, d.ResponseRow(19))
	}
	train, val, _ := DefaultSplit(20)
	if len(d.Splits) != 2 || !slices.Equal(d.Splits[0].Indices, train) || !slices.Equal(d.Splits[1].Indices, val) {
		t.Errorf("splits %+v, want DefaultSplit(20)", d.Splits)
	}
	if d.Objects != nil {
		t.Errorf("objects %q, want none", d.Objects)
	}
	// The same content under another folder has the same hash; other
	// responses do not.
	d2, err := Open(userFolder(t, 20, nil, 0, 0, map[string]string{"responses.csv": csv.String()}))
	if err != nil {
		t.Fatal(err)
	}
	d3, err := Open(userFolder(t, 20, nil, 0, 0, map[string]string{"responses.csv": strings.Replace(csv.String(), "19, 9.5", "19, 9.25", 1)}))
	if err != nil {
		t.Fatal(err)
	}
	if d.Hash != d2.Hash || d.Hash == d3.Hash {
		t.Errorf("hashes %s %s %s: want equal, equal, different", d.Hash, d2.Hash, d3.Hash)
	}
}

// Excel saves CSV files with a UTF-8 byte-order mark; it must not become
// part of the first field (a lost first row, or a header that does not match).
func TestOpenFolderCSVWithBOM(t *testing.T) {
	dir := userFolder(t, 4, nil, 0, 0, map[string]string{
		"responses.csv": "\ufeff1.5,2\r\n3,4\r\n5,6\r\n7,8\r\n",
		"split.csv":     "\ufeffimage,split\r\nimg00.png,val\r\nimg01.png,val\r\nimg02.png,train\r\nimg03.png,val\r\n",
		"objects.csv":   "\ufeffimage,object\r\nimg00.png,a\r\nimg01.png,b\r\nimg02.png,c\r\nimg03.png,d\r\n",
	})
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(d.ResponseRow(0), []float32{1.5, 2}) {
		t.Errorf("row 0 = %v, want [1.5 2]", d.ResponseRow(0))
	}
	if val, _ := d.SplitByName(Val); !slices.Equal(val.Indices, []int{0, 1, 3}) {
		t.Errorf("val = %v, want [0 1 3]", val.Indices)
	}
	if !slices.Equal(d.Objects, []string{"a", "b", "c", "d"}) {
		t.Errorf("objects %q, want [a b c d]", d.Objects)
	}
}

func TestOpenFolderTestWithoutResponses(t *testing.T) {
	resp := seq(7 * 2)
	for k := 8; k < 14; k++ {
		resp[k] = math.NaN()
	}
	dir := userFolder(t, 7, resp, 7, 2, map[string]string{
		"split.csv": "image,split\nimg00.png,train\nimg01.png,val\nimg02.png,val\nimg03.png,val\nimg04.png,test\nimg05.png,test\nimg06.png,test\n",
	})
	d, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.SplitByName(Test)
	if s.HasResponses || !slices.Equal(d.ResponseRow(5), []float32{0, 0}) {
		t.Errorf("test split HasResponses=%v, row %v; want false, zeros", s.HasResponses, d.ResponseRow(5))
	}
}

func TestOpenFolderErrors(t *testing.T) {
	nanResp := seq(6 * 3)
	nanResp[2*3+1] = math.NaN()
	infResp := seq(6 * 3)
	infResp[4*3+2] = math.Inf(1)
	goodNPY := func() []byte {
		var b bytes.Buffer
		if err := npyio.Write(&b, mat.NewDense(6, 3, seq(18))); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}()
	for _, tc := range []struct {
		name  string
		dir   func() string
		wants []string
	}{
		{"empty folder", func() string { return userFolder(t, -1, nil, 0, 0, nil) }, []string{"want an images/ folder", "found none"}},
		{"no images", func() string { return userFolder(t, 0, seq(3), 1, 3, nil) }, []string{"images: want JPEG or PNG images, found none"}},
		{"no responses", func() string { return userFolder(t, 6, nil, 0, 0, nil) }, []string{"want responses.npy or responses.csv, found neither"}},
		{"counts differ npy", func() string { return userFolder(t, 6, seq(15), 5, 3, nil) }, []string{"responses.npy", "want shape (6 images, neurons)", "found [5 3]"}},
		{"counts differ csv", func() string {
			return userFolder(t, 6, nil, 0, 0, map[string]string{"responses.csv": "1,2\n3,4\n5,6\n"})
		}, []string{"responses.csv", "want 6 rows", "found 3"}},
		{"ragged csv", func() string {
			return userFolder(t, 3, nil, 0, 0, map[string]string{"responses.csv": "1,2\n3,4,5\n5,6\n"})
		}, []string{"responses.csv: line 2", "want 2 values", "found 3"}},
		{"text in csv", func() string {
			return userFolder(t, 3, nil, 0, 0, map[string]string{"responses.csv": "1,2\n3,x\n5,6\n"})
		}, []string{"responses.csv: line 2, column 2", `found "x"`}},
		{"NaN", func() string { return userFolder(t, 6, nanResp, 6, 3, nil) }, []string{"responses.npy", "want finite values", "NaN", "row 2 (img02.png), neuron 1"}},
		{"Inf", func() string { return userFolder(t, 6, infResp, 6, 3, nil) }, []string{"responses.npy", "+Inf", "row 4 (img04.png), neuron 2"}},
		{"image does not decode", func() string {
			dir := userFolder(t, 6, seq(18), 6, 3, nil)
			write(t, filepath.Join(dir, "images", "img03.png"), []byte("\x89PNG\r\n\x1a\nbroken"))
			return dir
		}, []string{"img03.png", "does not decode"}},
		{"unknown split", func() string {
			return userFolder(t, 6, seq(18), 6, 3, map[string]string{
				"split.csv": "image,split\nimg00.png,train\nimg01.png,validation\nimg02.png,train\nimg03.png,val\nimg04.png,train\nimg05.png,val\n"})
		}, []string{"split.csv", `image "img01.png"`, "want split train, val or test", `found "validation"`}},
		{"split missing image", func() string {
			return userFolder(t, 6, seq(18), 6, 3, map[string]string{"split.csv": "image,split\nimg00.png,train\nimg01.png,val\n"})
		}, []string{"split.csv", `found none for "img02.png"`}},
		{"split bad header", func() string {
			return userFolder(t, 6, seq(18), 6, 3, map[string]string{"split.csv": "file,set\nimg00.png,train\n"})
		}, []string{"split.csv", `want header "image,split"`, `found "file,set"`}},
		{"split no val", func() string {
			return userFolder(t, 2, seq(6), 2, 3, map[string]string{"split.csv": "image,split\nimg00.png,train\nimg01.png,test\n"})
		}, []string{"split.csv", "want at least 3 val images", "found 0"}},
		{"objects unknown image", func() string {
			return userFolder(t, 4, seq(12), 4, 3, map[string]string{"objects.csv": "image,object\nimg00.png,a\nimg09.png,b\n"})
		}, []string{"objects.csv: line 3", `image "img09.png" is not in images/`}},
		{"truncated npy", func() string {
			dir := userFolder(t, 6, nil, 0, 0, nil)
			write(t, filepath.Join(dir, "responses.npy"), goodNPY[:len(goodNPY)-8])
			return dir
		}, []string{"responses.npy", "truncated", "needs 144 data bytes, found 136"}},
		{"truncated npy header", func() string {
			dir := userFolder(t, 6, nil, 0, 0, nil)
			write(t, filepath.Join(dir, "responses.npy"), goodNPY[:20])
			return dir
		}, []string{"responses.npy", "not a NumPy .npy file"}},
		{"image too large", func() string {
			dir := userFolder(t, 6, seq(18), 6, 3, nil)
			write(t, filepath.Join(dir, "images", "img02.png"), forgedPNG(100000, 100000))
			return dir
		}, []string{"img02.png", "want an image of 1 to 67108864 pixels, found 100000 x 100000"}},
		{"csv line numbers count blank lines", func() string {
			return userFolder(t, 3, nil, 0, 0, map[string]string{"responses.csv": "a,b\n\n1,2\n\n3,x\n5,6\n"})
		}, []string{"responses.csv: line 5, column 2", `found "x"`}},
		{"csv beyond float32", func() string {
			return userFolder(t, 2, nil, 0, 0, map[string]string{"responses.csv": "1,2\n3,1e39\n"})
		}, []string{"responses.csv: line 2, column 2", "want a number within float32 range", `found "1e39"`}},
		{"split extra field", func() string {
			return userFolder(t, 2, seq(6), 2, 3, map[string]string{"split.csv": "image,split\n\nimg00.png,train,x\nimg01.png,val\n"})
		}, []string{"split.csv: line 3", "want 2 fields (image,split), found 3"}},
		{"objects duplicate on line 4", func() string {
			return userFolder(t, 4, seq(12), 4, 3, map[string]string{"objects.csv": "image,object\nimg00.png,a\n\nimg00.png,b\n"})
		}, []string{"objects.csv: line 4", `image "img00.png" listed twice`}},
		{"split.csv is a folder", func() string {
			dir := userFolder(t, 2, seq(6), 2, 3, nil)
			if err := os.Mkdir(filepath.Join(dir, "split.csv"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"split.csv: want a file, found a folder"}},
		{"responses.npy is a folder", func() string {
			dir := userFolder(t, 2, nil, 0, 0, nil)
			if err := os.Mkdir(filepath.Join(dir, "responses.npy"), 0o755); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"responses.npy: want a file, found a folder"}},
		{"both responses", func() string {
			return userFolder(t, 6, seq(18), 6, 3, map[string]string{"responses.csv": "1\n"})
		}, []string{"want one of responses.npy or responses.csv, found both"}},
	} {
		checkOpenError(t, tc.name, tc.dir(), tc.wants)
	}
}

func TestOpenSpecErrors(t *testing.T) {
	notH5 := filepath.Join(t.TempDir(), "IT_data.h5")
	write(t, notH5, []byte("this is not HDF5\n"))
	for _, tc := range []struct {
		spec  string
		wants []string
	}{
		{"demo:999", []string{"demo:999", "no such session", "201025, 210325"}},
		{filepath.Join(t.TempDir(), "missing.h5"), []string{"missing.h5", "not demo, demo:SESSION, an .h5 file or a folder"}},
		{notH5, []string{"IT_data.h5", "not an HDF5 file"}},
	} {
		checkOpenError(t, tc.spec, tc.spec, tc.wants)
	}
}

// checkOpenError opens spec and checks that it fails with an error holding
// every one of wants; name labels the case.
func checkOpenError(t *testing.T, name, spec string, wants []string) {
	t.Helper()
	_, err := Open(spec)
	if err == nil {
		t.Errorf("%s: no error", name)
		return
	}
	for _, w := range wants {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("%s: error %q does not contain %q", name, err, w)
		}
	}
}
