package ui

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// docs/explorer.md shows the explorer's screens. Each one is the fenced block
// right after a marker line `<!-- golden: NAME -->`, and must equal the
// golden file testdata/NAME.golden that the golden tests check, so the
// screens in the docs are the screens the tests assert. `go test ./ui
// -update` rewrites the goldens and these blocks together.

const explorerDoc = "../docs/explorer.md"

var goldenMarker = regexp.MustCompile(`^<!-- golden: (\S+) -->\s*$`)

// explorerDocMu serialises rewrites of a document by golden tests.
var explorerDocMu sync.Mutex

// goldenBlock is one screen of a document: the golden it shows and the
// lines [start, end) between its opening and closing fences.
type goldenBlock struct {
	name       string
	start, end int
}

// goldenBlocks finds every marked block of a document, or says which marker
// is not followed by a fenced block.
func goldenBlocks(doc string, lines []string) ([]goldenBlock, error) {
	var blocks []goldenBlock
	for i := 0; i < len(lines); i++ {
		m := goldenMarker.FindStringSubmatch(lines[i])
		if m == nil {
			continue
		}
		if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "```") {
			return nil, fmt.Errorf("%s:%d: want a ``` fence after the marker for %s, found %q", doc, i+1, m[1], lineAt(lines, i+1))
		}
		end := i + 2
		for end < len(lines) && lines[end] != "```" {
			end++
		}
		if end == len(lines) {
			return nil, fmt.Errorf("%s:%d: the block for %s has no closing ``` fence", doc, i+2, m[1])
		}
		blocks = append(blocks, goldenBlock{name: m[1], start: i + 2, end: end})
		i = end
	}
	return blocks, nil
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "the end of the file"
}

func goldenPath(name string) string {
	return filepath.Join("testdata", filepath.FromSlash(name)+".golden")
}

// goldenLines reads a golden file as the lines a block shows (without the
// final newline, which the closing fence's line supplies).
func goldenLines(name string) ([]string, error) {
	b, err := os.ReadFile(goldenPath(name))
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	return strings.Split(text, "\n"), nil
}

// syncGoldenDoc compares every marked block of doc (or only the block of the
// golden named only, when it is not empty) with its golden file. With write
// it rewrites the blocks that differ and returns nothing; without, it returns
// one line per block that differs.
func syncGoldenDoc(doc, only string, write bool) ([]string, error) {
	explorerDocMu.Lock()
	defer explorerDocMu.Unlock()
	b, err := os.ReadFile(doc)
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	blocks, err := goldenBlocks(doc, lines)
	if err != nil {
		return nil, err
	}
	var drift []string
	// From the last block to the first, so a rewrite keeps earlier line numbers valid.
	for k := len(blocks) - 1; k >= 0; k-- {
		blk := blocks[k]
		if only != "" && blk.name != only {
			continue
		}
		want, err := goldenLines(blk.name)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: marker names golden %s: %w", doc, blk.start-1, blk.name, err)
		}
		got := lines[blk.start:blk.end]
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			continue
		}
		if !write {
			drift = append(drift, fmt.Sprintf("%s:%d: the block for %s differs from %s", doc, blk.start+1, blk.name, goldenPath(blk.name)))
			continue
		}
		lines = append(lines[:blk.start], append(append([]string(nil), want...), lines[blk.end:]...)...)
	}
	if write {
		return nil, os.WriteFile(doc, []byte(strings.Join(lines, "\n")), 0o644)
	}
	return drift, nil
}

// updatingGoldens reports whether the test binary runs with -update (the flag
// of charmbracelet/x/exp/golden).
func updatingGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// updateExplorerDocBlock rewrites the block of the golden a test has just
// written, so `go test ./ui -update` keeps the docs in step whatever order
// the tests run in.
func updateExplorerDocBlock(t *testing.T) {
	t.Helper()
	if !updatingGoldens() {
		return
	}
	if _, err := syncGoldenDoc(explorerDoc, t.Name(), true); err != nil {
		t.Fatal(err)
	}
}

func TestGoldenDocs(t *testing.T) {
	if updatingGoldens() {
		if _, err := syncGoldenDoc(explorerDoc, "", true); err != nil {
			t.Fatal(err)
		}
	}
	drift, err := syncGoldenDoc(explorerDoc, "", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range drift {
		t.Error(d + "; run `go test ./ui -run Golden -update` to rewrite both")
	}
	b, err := os.ReadFile(explorerDoc)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := goldenBlocks(explorerDoc, strings.Split(string(b), "\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Errorf("%s shows no golden screen (no %q marker)", explorerDoc, "<!-- golden: NAME -->")
	}
}

func TestGoldenBlocksParse(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []goldenBlock
		err       string
	}{
		{"two blocks", "intro\n<!-- golden: TestA -->\n```text\na\nb\n```\ntext\n<!-- golden: TestB/Sub -->\n```\n```\n",
			[]goldenBlock{{"TestA", 3, 5}, {"TestB/Sub", 9, 9}}, ""},
		{"no fence", "<!-- golden: TestA -->\nplain text\n", nil, "want a ``` fence after the marker for TestA"},
		{"marker at the end", "<!-- golden: TestA -->", nil, `found "the end of the file"`},
		{"unclosed", "<!-- golden: TestA -->\n```text\na\n", nil, "no closing ``` fence"},
		{"other comments", "<!-- not a golden -->\n```\nx\n```\n", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := goldenBlocks("doc.md", strings.Split(tc.doc, "\n"))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("blocks %v, want %v", got, tc.want)
			}
		})
	}
}

// TestGoldenDocDrift checks that a block differing from its golden by one
// character is reported, that a rewrite makes it equal, and that text
// around the blocks is kept.
func TestGoldenDocDrift(t *testing.T) {
	want, err := goldenLines("TestGoldenTooSmall")
	if err != nil {
		t.Fatal(err)
	}
	stale := append([]string(nil), want...)
	stale[len(stale)/2] = strings.Replace(stale[len(stale)/2], " ", "x", 1)
	doc := filepath.Join(t.TempDir(), "explorer.md")
	text := "# Screens\n\n<!-- golden: TestGoldenTooSmall -->\n```text\n" + strings.Join(stale, "\n") + "\n```\n\nafter\n"
	if err := os.WriteFile(doc, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	drift, err := syncGoldenDoc(doc, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) != 1 || !strings.Contains(drift[0], "explorer.md:5: the block for TestGoldenTooSmall differs") {
		t.Fatalf("drift %q, want one line naming explorer.md:5 and TestGoldenTooSmall", drift)
	}
	if _, err := syncGoldenDoc(doc, "", true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	fixed := "# Screens\n\n<!-- golden: TestGoldenTooSmall -->\n```text\n" + strings.Join(want, "\n") + "\n```\n\nafter\n"
	if string(b) != fixed {
		t.Errorf("rewritten document:\n%s\nwant:\n%s", b, fixed)
	}
	if drift, err := syncGoldenDoc(doc, "", false); err != nil || len(drift) != 0 {
		t.Errorf("after the rewrite: drift %q, error %v; want none", drift, err)
	}
}

func TestGoldenDocMissingGolden(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "explorer.md")
	if err := os.WriteFile(doc, []byte("<!-- golden: TestNoSuchScreen -->\n```\nx\n```\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := syncGoldenDoc(doc, "", false)
	if err == nil || !strings.Contains(err.Error(), "explorer.md:1: marker names golden TestNoSuchScreen") {
		t.Errorf("error %v, want one naming line 1 and TestNoSuchScreen", err)
	}
}
