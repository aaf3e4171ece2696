package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"itscope/model/jobs"
	"itscope/model/runs"

	tea "github.com/charmbracelet/bubbletea"
)

// drive hands msg to the app and then the messages its commands return
// at once (statuses, pane switches, batches), as the program would; commands
// that wait (ticks, engine events) are not run.
func drive(a *App, msg tea.Msg) {
	_, cmd := a.Update(msg)
	runCmd(a, cmd)
}

func runCmd(a *App, cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch m := cmd().(type) {
	case tea.BatchMsg:
		for _, c := range m {
			runCmd(a, c)
		}
	case statusMsg, gotoPaneMsg, watchJobMsg:
		drive(a, m)
	}
}

func runes(s string) tea.KeyMsg { return tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(s)} }

// manyJobs are n finished fit jobs, for lists longer than a burst.
func manyJobs(n int) snapshotMsg {
	var out snapshotMsg
	for i := 1; i <= n; i++ {
		out = append(out, jobs.JobStatus{ID: jobs.JobID(i), Name: fmt.Sprintf("fit %d", i), Kind: "fit", State: runs.Done})
	}
	return out
}

// TestKeyBurst sends ten j in one KeyRunes message, as bubbletea delivers
// runes that arrive in one read: the cursor moves ten rows.
func TestKeyBurst(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	drive(a, manyJobs(15))
	drive(a, gotoPaneMsg(paneJobs))
	jobs := a.panes[paneJobs].(*jobsPane)
	drive(a, runes("jjjjjjjjjj"))
	if jobs.row.pos != 10 {
		t.Fatalf("after a burst of ten j the cursor is on row %d, want 10", jobs.row.pos)
	}
	drive(a, runes("kkk"))
	if jobs.row.pos != 7 {
		t.Fatalf("after a burst of three k the cursor is on row %d, want 7", jobs.row.pos)
	}
	if !strings.Contains(a.frame(), ">  8  fit 8") {
		t.Errorf("the frame does not show job 8 selected:\n%s", a.frame())
	}
	// A burst that ends in a pane switch: the keys after the digit go to
	// the new pane.
	drive(a, runes("2jj"))
	if a.active != paneModel || a.panes[paneModel].(*modelPane).src.pos != 2 {
		t.Errorf("burst 2jj: pane %d, source row %d; want Model, row 2", a.active+1, a.panes[paneModel].(*modelPane).src.pos)
	}
}

// TestKeyBurstInTeatest sends the burst through a running program.
func TestKeyBurstInTeatest(t *testing.T) {
	tm, _ := startApp(t, Options{})
	tm.Send(manyJobs(15))
	keys(tm, "4")
	tm.Send(runes("jjjjjjjjjj"))
	waitFor(t, tm, 5*time.Second, "> 11  fit 11")
}

// TestPasteAndTypingStayText checks that text typed or pasted into a
// focused field is text, and that a paste outside a field moves nothing.
func TestPasteAndTypingStayText(t *testing.T) {
	a := New(Options{Renderer: plainRenderer(), Width: testW, Height: testH})
	drive(a, gotoPaneMsg(paneGrid))
	g := a.panes[paneGrid].(*gridPane)

	// A paste outside a field is not keys: "jj" does not move the cursor.
	drive(a, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("jj"), Paste: true})
	if g.row.pos != 0 || g.edit.active {
		t.Fatalf("a pasted jj moved the cursor to %d (editing %v)", g.row.pos, g.edit.active)
	}
	// A burst "je" moves down and opens the field; the burst after it is
	// typed, not obeyed.
	drive(a, runes("je"))
	if g.row.pos != 1 || !g.edit.active {
		t.Fatalf("burst je: row %d, editing %v; want row 1 editing", g.row.pos, g.edit.active)
	}
	drive(a, tea.KeyMsg{Type: tea.KeyCtrlU})
	drive(a, runes("jk10"))
	drive(a, tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune("3,30"), Paste: true})
	if g.edit.value != "jk103,30" {
		t.Fatalf("the field holds %q, want the typed and pasted text jk103,30", g.edit.value)
	}
	// A burst "eq" in a field types q; it does not quit.
	drive(a, runes("q"))
	if a.quit {
		t.Fatal("q typed into a field quit the explorer")
	}
}
