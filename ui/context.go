package ui

import (
	"slices"

	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"itscope/data"
	"itscope/model/jobs"
	"itscope/model/nets"
	"itscope/model/runs"
)

// Context is shared by the panes of one app instance (one terminal, one SSH
// session): its size, renderer and styles, the engine and store it was given,
// and what the user has chosen so far. Nothing in it is package-level, so many
// instances run side by side in one process.
type Context struct {
	Width, Height int // of the pane body, without tab bar and help line

	Renderer *lipgloss.Renderer
	Profile  termenv.Profile
	Styles   Styles
	Keys     KeyMap

	Engine   *jobs.Engine
	Store    *runs.Store
	CacheDir string
	CacheMax int64
	// Weights maps a network name to its ONNX export (Options.Weights).
	Weights map[string]string
	// User owns the jobs this session submits; Admin may cancel anyone's
	// (Options).
	User  string
	Admin bool
	// SubmitSlurm sends jobs to Slurm (Options.SubmitSlurm); nil: no
	// Slurm executor.
	SubmitSlurm func(name string, js []jobs.Job) (string, error)
	// Open loads a dataset spec; the SSH server passes one that refuses paths
	// outside its data root.
	Open func(spec string) (*data.Dataset, error)

	// The session's choices, filled in as the user moves through the panes.
	Dataset     *data.Dataset
	DatasetSpec string
	Choice      ModelChoice
	// Started holds the ids of jobs this session started: they are cancelled
	// when it quits.
	Started []jobs.JobID
	// Jobs mirrors the engine's jobs, updated by the app from its events
	// before any pane sees them; JobOrder is submission order.
	Jobs     map[jobs.JobID]jobs.JobStatus
	JobOrder []jobs.JobID
	// Taps caches each network's tap list, as the Model pane read it.
	Taps map[string][]nets.Tap
	// Runs is the store's listing, oldest first.
	Runs []runs.RunMeta

	// Images is how stimuli are drawn: kitty, iterm, sixel or blocks (the
	// mode asked for in Options.Images, or detected).
	Images string

	// zones are where the last frame put what answers the mouse.
	zones zones
	// picture is the image escape the Data pane wants drawn over the
	// frame, if any (see App.placePicture).
	picture picture
}

// picture is an image escape to draw with its top-left cell at (x, y) of
// the pane, over rows lines that the pane left blank for it.
type picture struct {
	x, y, rows int
	seq        string
}

// setJob records a job's latest status.
func (c *Context) setJob(st jobs.JobStatus) {
	if st.ID == 0 {
		return
	}
	if _, ok := c.Jobs[st.ID]; !ok {
		c.JobOrder = append(c.JobOrder, st.ID)
		slices.Sort(c.JobOrder)
	}
	c.Jobs[st.ID] = st
}

// ModelChoice is what the Model pane selected.
type ModelChoice struct {
	Source  string // pixels, pretrained, random, cnn, cotrain
	Pixels  int    // pixel features' image size
	Network string // for pretrained, random and cotrain
	Tap     string
	Sweep   bool // every tap of Network
}

// FeatureSpec is the features spec of a read-out job, or "" for sources that
// train a network.
func (c ModelChoice) FeatureSpec() string {
	switch c.Source {
	case srcPixels:
		return "pixels:" + itoa(c.Pixels)
	case srcPretrained:
		return c.Network + ":" + c.Tap
	case srcRandom:
		return c.Network + "-random:" + c.Tap
	}
	return ""
}

// Trains is true for sources whose jobs train a network.
func (c ModelChoice) Trains() bool { return c.Source == srcCNN || c.Source == srcCotrain }

// Feature sources.
const (
	srcPixels     = "pixels"
	srcPretrained = "pretrained"
	srcRandom     = "random"
	srcCNN        = "cnn"
	srcCotrain    = "cotrain"
)
