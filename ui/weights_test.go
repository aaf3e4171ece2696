package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
)

// TestModelPaneOpensNetworksWithTheirWeights picks resnet50 in the Model
// pane with Options.Weights naming a file for it: the network is opened from
// that file (here a corrupt one, whose error names it) rather than refused
// for want of weights.
func TestModelPaneOpensNetworksWithTheirWeights(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "r50.onnx")
	if err := os.WriteFile(bad, []byte("not an ONNX file"), 0o644); err != nil {
		t.Fatal(err)
	}
	tm, pr := startApp(t, Options{Weights: map[string]string{"resnet50": bad}})
	// Model pane, source "network, pretrained", network column, third network.
	keys(tm, "2", "down", "enter", "down", "down", "enter")
	var got error
	pr.waitMsg(t, 30*time.Second, "the taps of resnet50", func(m tea.Msg) bool {
		tp, ok := m.(tapsMsg)
		if ok && tp.net == "resnet50" {
			got = tp.err
		}
		return ok && tp.net == "resnet50"
	})
	if got == nil || !strings.Contains(got.Error(), bad) {
		t.Fatalf("opening resnet50 with weights %s: error %v, want one naming the file", bad, got)
	}
}
