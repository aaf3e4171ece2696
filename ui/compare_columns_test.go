package ui

import (
	"strings"
	"testing"
	"time"
)

// TestGoldenCompareColumnChooser: C lists every setting the runs have, with
// the values they take, the settings that tell them apart ticked; space
// shows another.
func TestGoldenCompareColumnChooser(t *testing.T) {
	tm, _ := startApp(t, Options{Width: 80, Height: 24})
	tm.Send(runsMessage(trainedRuns()))
	keys(tm, "7", "C")
	waitFor(t, tm, 5*time.Second, "choose columns, 1 shown", "[x] lr         2 values: 0.0003, 0.001")
	keys(tm, "down", "down", "down", "down", "down", "down", "space")
	waitFor(t, tm, 5*time.Second, "choose columns, 2 shown", "[x] wd         1 value: 0.001")
	requireGolden(t, finalFrame(t, tm))
}

// TestGoldenCompareColumns: the chosen columns are the table's at 80x24,
// each run's own value in them; s sorts by them, numerically (0.0003 before
// 0.001 ascending), a run without the setting last either way.
func TestGoldenCompareColumns(t *testing.T) {
	tm, _ := startApp(t, Options{Width: 80, Height: 24})
	tm.Send(runsMessage(trainedRuns()))
	keys(tm, "7", "C", "down", "down", "down", "down", "down", "down", "space", "C")
	waitFor(t, tm, 5*time.Second, "2 columns (C)")
	keys(tm, "s", "s", "s", "s", "s") // EV → r → MSE → ceil EV → dataset → lr
	waitFor(t, tm, 5*time.Second, "lr▼")
	keys(tm, "r")
	waitFor(t, tm, 5*time.Second, "lr▲")
	frame := finalFrame(t, tm)
	requireGolden(t, frame)
	lines := strings.Split(frame, "\n")
	order := func(want ...string) {
		t.Helper()
		at := -1
		for _, w := range want {
			found := -1
			for i, l := range lines {
				if strings.Contains(l, w) {
					found = i
					break
				}
			}
			if found <= at {
				t.Errorf("%q is not below the rows before it in\n%s", w, frame)
			}
			at = found
		}
	}
	order("lr▲", "0.0003 0.001", "0.001  0.001", "features.14")
	if !strings.Contains(frame, "wd") {
		t.Errorf("no wd column in\n%s", frame)
	}
}
