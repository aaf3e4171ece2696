package runs

import (
	"bufio"
	"crypto/rand"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// version is set at link time (-ldflags "-X itscope/model.version=v1.2.3");
// otherwise Version reports the VCS revision the binary was built from.
var version = ""

// Version is itscope's version, recorded in every run.
func Version() string {
	if version != "" {
		return version
	}
	v := "0.1.0-dev"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}

// State is where a job and then its run are: queued -> running -> done |
// failed | cancelled; a job cancelled while queued goes straight to
// cancelled. A saved run is done, failed or cancelled. The strings are
// run.json's "status" values, so stores written by earlier builds still load.
type State string

// The states of a job and its run.
const (
	Queued    State = "queued"
	Running   State = "running"
	Done      State = "done"
	Failed    State = "failed"
	Cancelled State = "cancelled"
)

// Finished reports whether the job has ended.
func (s State) Finished() bool {
	return s == Done || s == Failed || s == Cancelled
}

// Kind says what a job does and so what made its run. The strings are
// run.json's "kind" values.
type Kind string

// The kinds of job and run.
const (
	KindFit     Kind = "fit"
	KindSweep   Kind = "sweep"
	KindTrain   Kind = "train"
	KindCotrain Kind = "cotrain"
	KindScore   Kind = "score" // Brain-Score's protocol (itscope score)
)

// ErrNoRun is what errors.Is finds in the error of asking a store for a run
// it does not hold.
var ErrNoRun = errors.New("no such run")

// NoRunError says that the store in Dir holds no run ID.
type NoRunError struct{ Dir, ID string }

func (e *NoRunError) Error() string { return fmt.Sprintf("run store %s: no run %q", e.Dir, e.ID) }

// Is makes errors.Is(err, ErrNoRun) hold.
func (e *NoRunError) Is(target error) bool { return target == ErrNoRun }

// File names inside a run folder.
const (
	RunJSON        = "run.json"
	NeuronsCSV     = "neurons.csv"
	PredictionsNPY = "predictions.npy"
	LossCSV        = "loss.csv"
)

// DatasetRef names the dataset a run was made on.
type DatasetRef struct {
	Name string `json:"name"` // the spec the user typed: demo, demo:210325, a path
	Hash string `json:"hash"` // data.Dataset.Hash, the content's sha256
}

// RunMeta is a run's run.json: what was run, on what, by which itscope, how
// long it took, how it ended and how well it scored.
type RunMeta struct {
	ID     string `json:"id"` // the folder name, set by Store.Save
	Kind   Kind   `json:"kind"`
	Name   string `json:"name"` // a human label for lists, e.g. "ridgecv on pixels:32"
	Status State  `json:"status"`
	Error  string `json:"error,omitempty"`

	Model    string     `json:"model"`    // linear, ridge, ridgecv, cnn, cotrain
	Strategy string     `json:"strategy"` // the features spec, or the CNN spec
	Dataset  DatasetRef `json:"dataset"`
	Seed     uint64     `json:"seed"`
	Version  string     `json:"itscope_version"`

	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Timings holds seconds per phase: "load", "features", "pca", "fit", "total".
	Timings map[string]float64 `json:"timings_s,omitempty"`

	// Spec is the full request that made the run (a FitSpec, a CNN training
	// spec, ...), enough to repeat it.
	Spec    json.RawMessage `json:"spec,omitempty"`
	Summary Summary         `json:"summary"`
	// Files lists the files in the run folder besides run.json.
	Files []string `json:"files,omitempty"`
	// AlphaGrid is the grid ridge CV chose its alpha from (read-outs fitted
	// with ridgecv only).
	AlphaGrid *AlphaGrid `json:"alpha_grid,omitempty"`
	// Warnings are the run's warnings, one each (an alpha at an end of its
	// grid, PCA components dropped, a read-out too large to save); Error
	// joins them for readers of older stores.
	Warnings []string `json:"warnings,omitempty"`
	// NeuronCVScore is each neuron's training cross-validation score (mean
	// held-out R² over the folds) at the alpha it was refitted with: ridge CV
	// read-outs only. Sweeps choose each neuron's layer by it, never by val.
	NeuronCVScore []float64 `json:"neuron_cv_score,omitempty"`
	// Note is the user's note on the run (note.txt, Store.SetNote): not a
	// key of run.json.
	Note string `json:"-"`
}

// AlphaGrid records a ridge CV grid: the alphas tried, ascending for the
// default grid, whether it was the scale-free default (alphas relative to
// Scale, the mean eigenvalue of the centred design's XᵀX), how many decades
// it grew by because CV chose an end, and whether the alpha chosen for all
// neurons is still an end (false with per-neuron alphas).
type AlphaGrid struct {
	Alphas     []float64 `json:"alphas"`
	Default    bool      `json:"default"`
	Scale      float64   `json:"scale"`
	Extensions int       `json:"extensions"`
	AtEnd      bool      `json:"at_end"`
}

// NeuronScore is one row of neurons.csv: a neuron's scores on validation.
// Ceiling, EVCorrected and Alpha are NaN when unknown or not applicable.
type NeuronScore struct {
	Neuron      int
	EV, R, MSE  float64
	R2          float64
	Ceiling     float64 // split-half noise ceiling (Spearman-Brown)
	EVCorrected float64 // EV / Ceiling
	Alpha       float64 // the neuron's own ridge alpha, with per-neuron CV
}

// LossPoint is one row of loss.csv. Fields not measured at a point are NaN.
type LossPoint struct {
	Step      int
	Epoch     int
	TrainLoss float64
	ValLoss   float64
	ValEV     float64
	// Elapsed is the seconds since the training started (wall time); NaN
	// in a loss.csv written before the column existed.
	Elapsed float64
}

// RunFile is an extra file saved in a run folder (trained weights, a grid
// point's spec): Write streams its content.
type RunFile struct {
	Name  string
	Write func(w io.Writer) error
}

// Run is a finished (or cancelled, or failed) piece of work: what Fit and the
// training loop return and what the store saves.
type Run struct {
	Meta    RunMeta
	Neurons []NeuronScore
	// Predictions are the validation predictions, image-major:
	// Predictions[i*PredCols+j] is neuron j on the i-th validation image, in
	// the order of the val split's Indices (ascending image index).
	Predictions        []float32
	PredRows, PredCols int
	Loss               []LossPoint
	// Extra files to write (Save only; Load does not read them back).
	Extra []RunFile
}

// Store is a folder of runs, one sub-folder per run. Several processes may
// save into the same store at once: each run is written under a temporary
// dot-name and renamed into place, so a reader never sees a partial run and
// a crash leaves none behind in the listing.
type Store struct {
	Dir string
	// Matrices encodes and decodes predictions.npy. The store takes the
	// array format from its caller (data/npy's Matrices) so that it imports
	// no itscope package; a store without one saves and loads runs that
	// have no predictions.
	Matrices MatrixCodec
}

// MatrixCodec writes a float32 matrix (rows x cols, row-major) onto w and
// reads one back from a file.
type MatrixCodec interface {
	WriteMatrix(w io.Writer, data []float32, rows, cols int) error
	ReadMatrix(path string) (data []float32, rows, cols int, err error)
}

// DefaultRunsDir is $ITSCOPE_RUNS, else $XDG_DATA_HOME/itscope/runs, else
// ~/.local/share/itscope/runs (./itscope-runs if there is no home).
func DefaultRunsDir() string {
	if d := os.Getenv("ITSCOPE_RUNS"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "itscope", "runs")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "itscope", "runs")
	}
	return "itscope-runs"
}

// OpenStore opens (creating if needed) the run store in dir, removing the
// temporary folders of writers that died more than an hour ago. Set
// Matrices before saving or loading runs with predictions.
func OpenStore(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("run store %s: %w", dir, err)
	}
	s := &Store{Dir: dir}
	if err := s.CleanPartial(staleTemp); err != nil {
		return nil, fmt.Errorf("run store %s: %w", dir, err)
	}
	return s, nil
}

// staleTemp is how old a temporary folder must be before OpenStore removes
// it: a younger one may belong to a writer still running in another
// process.
const staleTemp = time.Hour

// NewRunID returns a unique, time-ordered run id: 20261127-004932.123-fit-1f3a9c.
func NewRunID(kind string) string {
	var b [3]byte
	rand.Read(b[:])
	kind = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(kind))
	if kind == "" {
		kind = "run"
	}
	return time.Now().UTC().Format("20060102-150405.000") + "-" + kind + "-" + hex.EncodeToString(b[:])
}

// Path is the folder of run id.
func (s *Store) Path(id string) string { return filepath.Join(s.Dir, id) }

// Save writes run into the store under a new id, which it sets in
// run.Meta.ID and returns. The run is complete on disk before it becomes
// visible. Meta.Status defaults to done and Meta.Version to Version().
func (s *Store) Save(run *Run) (string, error) {
	if run.Meta.Status == "" {
		run.Meta.Status = Done
	}
	if run.Meta.Version == "" {
		run.Meta.Version = Version()
	}
	tmp, err := os.MkdirTemp(s.Dir, ".partial-")
	if err != nil {
		return "", fmt.Errorf("run store %s: %w", s.Dir, err)
	}
	renamed := false
	defer func() {
		if !renamed {
			os.RemoveAll(tmp)
		}
	}()
	if err := run.writeFiles(tmp, s.Matrices); err != nil {
		return "", err
	}
	// The id goes into run.json, which is written last under the temp
	// name; a rename collision (same millisecond and suffix) retries.
	for attempt := 0; ; attempt++ {
		run.Meta.ID = NewRunID(string(run.Meta.Kind))
		os.Remove(filepath.Join(tmp, RunJSON))
		err := writeFileSynced(filepath.Join(tmp, RunJSON), func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(run.Meta)
		})
		if err != nil {
			return "", err
		}
		syncDir(tmp)
		err = os.Rename(tmp, s.Path(run.Meta.ID))
		if err == nil {
			renamed = true
			break
		}
		if attempt >= 5 {
			return "", fmt.Errorf("run store %s: %w", s.Dir, err)
		}
	}
	return run.Meta.ID, syncDir(s.Dir)
}

func (run *Run) writeFiles(dir string, matrices MatrixCodec) error {
	run.Meta.Files = run.Meta.Files[:0]
	// The folder is invisible until Save renames it, so its files need no
	// temp-and-rename of their own; syncing each makes them durable.
	write := func(name string, fn func(io.Writer) error) error {
		if err := writeFileSynced(filepath.Join(dir, name), fn); err != nil {
			return err
		}
		run.Meta.Files = append(run.Meta.Files, name)
		return nil
	}
	if len(run.Neurons) > 0 {
		if err := write(NeuronsCSV, func(w io.Writer) error { return writeNeuronsCSV(w, run.Neurons) }); err != nil {
			return err
		}
	}
	if len(run.Predictions) > 0 {
		if run.PredRows*run.PredCols != len(run.Predictions) {
			return fmt.Errorf("run %s: predictions: want %d x %d = %d values, found %d",
				run.Meta.Name, run.PredRows, run.PredCols, run.PredRows*run.PredCols, len(run.Predictions))
		}
		if matrices == nil {
			return fmt.Errorf("run %s: %s: the run store was opened without a matrix codec", run.Meta.Name, PredictionsNPY)
		}
		if err := write(PredictionsNPY, func(w io.Writer) error {
			return matrices.WriteMatrix(w, run.Predictions, run.PredRows, run.PredCols)
		}); err != nil {
			return err
		}
	}
	if len(run.Loss) > 0 {
		if err := write(LossCSV, func(w io.Writer) error { return writeLossCSV(w, run.Loss) }); err != nil {
			return err
		}
	}
	for _, f := range run.Extra {
		if f.Name == "" || f.Name == RunJSON || strings.ContainsAny(f.Name, `/\`) || f.Name[0] == '.' {
			return fmt.Errorf("run %s: bad extra file name %q", run.Meta.Name, f.Name)
		}
		if err := write(f.Name, f.Write); err != nil {
			return err
		}
	}
	return nil
}

// writeFileSynced writes a new file and syncs it to disk.
func writeFileSynced(path string, write func(w io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 1<<16)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func fmtFloat(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return strconv.FormatFloat(x, 'g', -1, 64) // shortest form that reads back exactly
}

func parseFloat(s string) (float64, error) {
	if s == "" || strings.EqualFold(s, "nan") {
		return math.NaN(), nil
	}
	return strconv.ParseFloat(s, 64)
}

var neuronsHeader = []string{"neuron", "ev", "r", "mse", "r2", "ceiling", "ev_corrected", "alpha"}

func writeNeuronsCSV(w io.Writer, ns []NeuronScore) error {
	cw := csv.NewWriter(w)
	cw.Write(neuronsHeader)
	for _, n := range ns {
		cw.Write([]string{strconv.Itoa(n.Neuron), fmtFloat(n.EV), fmtFloat(n.R), fmtFloat(n.MSE),
			fmtFloat(n.R2), fmtFloat(n.Ceiling), fmtFloat(n.EVCorrected), fmtFloat(n.Alpha)})
	}
	cw.Flush()
	return cw.Error()
}

var lossHeader = []string{"step", "epoch", "train_loss", "val_loss", "val_ev", "elapsed_s"}

// lossHeaderNoTime is loss.csv's header before elapsed_s was added: such
// files still load, their points' Elapsed NaN.
var lossHeaderNoTime = lossHeader[:5]

func writeLossCSV(w io.Writer, ps []LossPoint) error {
	cw := csv.NewWriter(w)
	cw.Write(lossHeader)
	for _, p := range ps {
		cw.Write([]string{strconv.Itoa(p.Step), strconv.Itoa(p.Epoch), fmtFloat(p.TrainLoss),
			fmtFloat(p.ValLoss), fmtFloat(p.ValEV), fmtFloat(p.Elapsed)})
	}
	cw.Flush()
	return cw.Error()
}

// readCSV reads a CSV file with the expected header, or one of the older
// headers it may have, into rows of floats.
func readCSV(path string, header []string, older ...[]string) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: want header %q, found an empty file", path, strings.Join(header, ","))
	}
	found := slices.IndexFunc(append([][]string{header}, older...), func(h []string) bool { return slices.Equal(recs[0], h) })
	if found < 0 {
		return nil, fmt.Errorf("%s: want header %q, found %q", path, strings.Join(header, ","), strings.Join(recs[0], ","))
	}
	out := make([][]float64, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		row := make([]float64, len(rec))
		for j, s := range rec {
			if row[j], err = parseFloat(s); err != nil {
				return nil, fmt.Errorf("%s: line %d, column %s: want a number, found %q", path, i+2, header[j], s)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// isRunName reports whether a folder entry may be a run: not hidden (temp
// folders start with a dot).
func isRunName(name string) bool { return name != "" && name[0] != '.' }

// LoadMeta reads run id's run.json.
func (s *Store) LoadMeta(id string) (RunMeta, error) {
	if !isRunName(id) || strings.ContainsAny(id, `/\`) {
		return RunMeta{}, &NoRunError{Dir: s.Dir, ID: id}
	}
	m, err := ReadMeta(s.Path(id))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return RunMeta{}, &NoRunError{Dir: s.Dir, ID: id}
		}
		return RunMeta{}, err
	}
	m.ID = id
	return m, nil
}

// ReadMeta reads the run.json of the run folder dir, inside a store or not,
// and the folder's note.
func ReadMeta(dir string) (RunMeta, error) {
	var m RunMeta
	path := filepath.Join(dir, RunJSON)
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s: %v", path, err)
	}
	m.Note = readNote(dir)
	return m, nil
}

// List returns every complete run in the store, oldest first. Folders that
// are hidden or lack a readable run.json (not a run) are skipped.
func (s *Store) List() ([]RunMeta, error) {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("run store %s: %w", s.Dir, err)
	}
	var runs []RunMeta
	for _, e := range ents {
		if !e.IsDir() || !isRunName(e.Name()) {
			continue
		}
		m, err := s.LoadMeta(e.Name())
		if err != nil {
			continue
		}
		runs = append(runs, m)
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].ID < runs[j].ID })
	return runs, nil
}

// Load reads run id: its run.json, neurons.csv, predictions.npy and loss.csv
// when present.
func (s *Store) Load(id string) (*Run, error) {
	m, err := s.LoadMeta(id)
	if err != nil {
		return nil, err
	}
	run := &Run{Meta: m}
	dir := s.Path(id)
	has := func(name string) bool {
		for _, f := range m.Files {
			if f == name {
				return true
			}
		}
		return false
	}
	if has(NeuronsCSV) {
		rows, err := readCSV(filepath.Join(dir, NeuronsCSV), neuronsHeader)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			run.Neurons = append(run.Neurons, NeuronScore{Neuron: int(r[0]), EV: r[1], R: r[2], MSE: r[3],
				R2: r[4], Ceiling: r[5], EVCorrected: r[6], Alpha: r[7]})
		}
	}
	if has(PredictionsNPY) {
		path := filepath.Join(dir, PredictionsNPY)
		if s.Matrices == nil {
			return nil, fmt.Errorf("%s: the run store was opened without a matrix codec", path)
		}
		run.Predictions, run.PredRows, run.PredCols, err = s.Matrices.ReadMatrix(path)
		if err != nil {
			return nil, err
		}
	}
	if has(LossCSV) {
		rows, err := readCSV(filepath.Join(dir, LossCSV), lossHeader, lossHeaderNoTime)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			p := LossPoint{Step: int(r[0]), Epoch: int(r[1]), TrainLoss: r[2], ValLoss: r[3], ValEV: r[4], Elapsed: math.NaN()}
			if len(r) > 5 {
				p.Elapsed = r[5]
			}
			run.Loss = append(run.Loss, p)
		}
	}
	return run, nil
}

// Delete removes run id. It first renames the run to a hidden name, so
// listings never see it half-deleted.
func (s *Store) Delete(id string) error {
	if _, err := s.LoadMeta(id); err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, ".deleting-"+id)
	if err := os.Rename(s.Path(id), tmp); err != nil {
		return err
	}
	return os.RemoveAll(tmp)
}

// CleanPartial removes temporary folders left by writers that died (a crash
// or kill -9) more than olderThan ago. Younger ones may still be in use by
// another process.
func (s *Store) CleanPartial(olderThan time.Duration) error {
	ents, err := os.ReadDir(s.Dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.IsDir() || !(strings.HasPrefix(e.Name(), ".partial-") || strings.HasPrefix(e.Name(), ".deleting-")) {
			continue
		}
		if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > olderThan {
			os.RemoveAll(filepath.Join(s.Dir, e.Name()))
		}
	}
	return nil
}

// ExportHeader is the header of the comparison table: the run, its scores,
// its settings (HparamNames) and its note.
var ExportHeader = append([]string{"id", "kind", "status", "model", "strategy", "dataset", "pca", "alpha", "seed",
	"n_train", "n_val", "n_neurons", "ev_mean", "ev_median", "r_mean", "r_median", "mse_mean", "r2_mean",
	"ceiling_ev_mean", "started", "seconds"}, append(slices.Clone(HparamNames), "note")...)

// WriteComparisonCSV writes the comparison table of runs, one row per run.
func WriteComparisonCSV(w io.Writer, runs []RunMeta) error {
	cw := csv.NewWriter(w)
	cw.Write(ExportHeader)
	for _, m := range runs {
		s := m.Summary
		secs := math.NaN()
		if !m.Started.IsZero() && !m.Finished.IsZero() {
			secs = m.Finished.Sub(m.Started).Seconds()
		}
		row := []string{m.ID, string(m.Kind), string(m.Status), m.Model, m.Strategy, m.Dataset.Name,
			strconv.Itoa(s.PCA), fmtFloat(s.Alpha), strconv.FormatUint(m.Seed, 10),
			strconv.Itoa(s.NTrain), strconv.Itoa(s.NVal), strconv.Itoa(s.NNeurons),
			fmtFloat(s.EVMean), fmtFloat(s.EVMedian), fmtFloat(s.RMean), fmtFloat(s.RMedian),
			fmtFloat(s.MSEMean), fmtFloat(s.R2Mean), fmtFloat(s.CeilingEVMean),
			m.Started.UTC().Format(time.RFC3339), fmtFloat(secs)}
		h := m.Hparams()
		for _, name := range HparamNames {
			row = append(row, h[name])
		}
		cw.Write(append(row, m.Note))
	}
	cw.Flush()
	return cw.Error()
}

// Export writes the comparison table of every run in the store to path,
// atomically.
func (s *Store) Export(path string) error {
	runs, err := s.List()
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, func(w io.Writer) error { return WriteComparisonCSV(w, runs) })
}
