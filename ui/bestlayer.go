package ui

import (
	"fmt"
	"slices"
	"strings"

	tea "github.com/charmbracelet/bubbletea"

	"itscope/model/figures"
	"itscope/model/readout"
	"itscope/model/runs"
)

// bestLayersMsg is the best layer per neuron over the sweep of run runID,
// chosen from the runs ids.
type bestLayersMsg struct {
	runID string
	ids   []string
	best  *readout.BestLayers
	err   error
}

func runIDs(metas []runs.RunMeta) []string {
	ids := make([]string, len(metas))
	for i, m := range metas {
		ids[i] = m.ID
	}
	return ids
}

// loadBestLayers reads the val EVs of the layers of run m's sweep from the
// store and picks each neuron's layer by training CV score; nil when there
// is no store or fewer than two layers.
func loadBestLayers(ctx *Context, m runs.RunMeta) tea.Cmd {
	_, layers, metas, ok := figures.SweepLayers(ctx.Runs, m)
	if !ok || len(metas) < 2 || ctx.Store == nil {
		return nil
	}
	store := ctx.Store
	return func() tea.Msg {
		msg := bestLayersMsg{runID: m.ID, ids: runIDs(metas)}
		scores := make([]readout.LayerScores, len(metas))
		for i, lm := range metas {
			if lm.NeuronCVScore == nil {
				// Nothing to choose by: ChooseBestLayers says so.
				scores[i] = readout.LayerScores{Layer: layers[i], RunID: lm.ID}
				continue
			}
			run, err := store.Load(lm.ID)
			if err != nil {
				msg.err = err
				return msg
			}
			scores[i] = readout.LayerScoresOf(layers[i], run)
		}
		msg.best, msg.err = readout.ChooseBestLayers(scores)
		return msg
	}
}

// bestLayersWidth is the width of the column beside Figure 1a's bars.
const bestLayersWidth = 22

// withBestLayers puts beside Figure 1a's bars (one line per layer) how many
// neurons each layer is best for, and under them the val EV of every
// neuron's own layer against that of the best single layer. b must be over
// the same layers as the bars.
func withBestLayers(st Styles, bars string, b *readout.BestLayers, single float64, w int) string {
	leftW := w - bestLayersWidth
	most := max(1, slices.Max(b.Histogram))
	barW := bestLayersWidth - 8
	var out strings.Builder
	out.WriteString(strings.Repeat(" ", leftW) + st.Dim.Render(" │ ") + st.Label.Render("neurons best") + "\n")
	for l, line := range strings.Split(bars, "\n") {
		n := b.Histogram[l]
		bar := strings.Repeat("#", (n*barW+most-1)/most)
		out.WriteString(fitLine(line, leftW) + st.Dim.Render(" │ ") + fmt.Sprintf("%3d ", n) + st.BarFull.Render(bar) + "\n")
	}
	out.WriteString("\n" + st.Label.Render("each neuron's layer chosen by training CV R² (not val):") + "\n" +
		st.Value.Render(fmt.Sprintf("mean val EV %s over %d neurons", fmtNum(b.ValEVMean), b.Count)) +
		st.Dim.Render(fmt.Sprintf(" (one layer: %s)", fmtNum(single))))
	return out.String()
}
