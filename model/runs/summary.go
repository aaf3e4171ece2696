package runs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"

	"gonum.org/v1/gonum/mat"

	"itscope/compute"
)

// Summary holds a run's headline scores on the validation split, the keys
// that `itscope fit --json`, `train --json` and `sweep --json` print.
// Metrics are means (or medians) over neurons; a metric that does not apply
// or is unknown is NaN in Go and null in JSON (omitted where tagged so).
type Summary struct {
	Dataset  string `json:"dataset"`
	Features string `json:"features"` // the strategy: a features spec, or a CNN spec
	Model    string `json:"model"`    // linear, ridge, ridgecv, cnn, cotrain
	PCA      int    `json:"pca"`      // components kept, 0 for none
	Seed     uint64 `json:"seed"`
	// Alpha is the ridge penalty used: the one chosen by CV, or the median of
	// the per-neuron choices; 0 for least squares.
	Alpha float64 `json:"alpha"`

	NTrain   int `json:"n_train"`
	NVal     int `json:"n_val"`
	NNeurons int `json:"n_neurons"`
	// NConstant counts the neurons whose val responses are constant: their
	// EV, r and R2 are NaN and every mean and median leaves them out.
	NConstant int `json:"n_constant,omitempty"`

	EVMean   float64 `json:"ev_mean"`
	EVMedian float64 `json:"ev_median"`
	RMean    float64 `json:"r_mean"`
	RMedian  float64 `json:"r_median"`
	MSEMean  float64 `json:"mse_mean"`
	R2Mean   float64 `json:"r2_mean"`
	// CeilingMean is the mean split-half noise ceiling (Spearman-Brown) of the
	// validation responses, and CeilingEVMean the mean of EV divided by each
	// neuron's ceiling; both NaN when the dataset has no repeats.
	CeilingMean   float64 `json:"ceiling_mean,omitempty"`
	CeilingEVMean float64 `json:"ceiling_ev_mean,omitempty"`
	// EVMeanLo, EVMeanHi, RMeanLo and RMeanHi are the 95% percentile
	// bootstrap intervals of EVMean and RMean over the validation images
	// (SetIntervals); NaN (left out of the JSON) when unknown.
	EVMeanLo float64 `json:"ev_mean_lo,omitempty"`
	EVMeanHi float64 `json:"ev_mean_hi,omitempty"`
	RMeanLo  float64 `json:"r_mean_lo,omitempty"`
	RMeanHi  float64 `json:"r_mean_hi,omitempty"`
	// Brain-Score's neural predictivity (score runs): the mean over splits
	// of the median over neurons of test-image r, its standard error, and,
	// where the data has repeats, the internal-consistency ceiling, the
	// score over it and that ratio squared (Brain-Score's current form).
	BrainScore              float64 `json:"brain_score,omitempty"`
	BrainScoreStdErr        float64 `json:"brain_score_stderr,omitempty"`
	BrainScoreCeiling       float64 `json:"brain_score_ceiling,omitempty"`
	BrainScoreCeiled        float64 `json:"brain_score_ceiled,omitempty"`
	BrainScoreCeiledSquared float64 `json:"brain_score_ceiled_squared,omitempty"`
}

// BootstrapSeed seeds the resamples of every run's intervals, so that runs
// scored on the same images are resampled alike (as `itscope compare` does).
const BootstrapSeed = 0

// SetIntervals sets the bootstrap intervals of the mean EV and mean r from
// the validation responses and predictions (images x neurons):
// compute.DefaultResamples resamples of the images, never of the neurons,
// drawn by compute.BootstrapIndices with BootstrapSeed.
func (s *Summary) SetIntervals(yTrue, yPred mat.Matrix) error {
	n, _ := yTrue.Dims()
	idx, err := compute.BootstrapIndices(n, compute.DefaultResamples, BootstrapSeed)
	if err != nil {
		return err
	}
	b, err := compute.BootstrapScores(yTrue, yPred, idx)
	if err != nil {
		return err
	}
	s.EVMeanLo, s.EVMeanHi, s.RMeanLo, s.RMeanHi = b.EV.Lo, b.EV.Hi, b.R.Lo, b.R.Hi
	return nil
}

// ConstantNote says over how many neurons the means are taken when some
// were left out for constant val responses, and is empty otherwise.
func (s Summary) ConstantNote() string {
	if s.NConstant == 0 {
		return ""
	}
	return fmt.Sprintf("ev_mean over %d of %d neurons; %d constant on val, left out", s.NNeurons-s.NConstant, s.NNeurons, s.NConstant)
}

// NaNSummary returns a Summary whose metrics are all NaN (unknown), to be
// filled in.
func NaNSummary() Summary {
	var s Summary
	setFloats(reflect.ValueOf(&s).Elem(), math.NaN())
	return s
}

// MarshalJSON writes NaN and infinite metrics as null (JSON has no NaN), or
// leaves them out when their tag says omitempty.
func (s Summary) MarshalJSON() ([]byte, error) { return marshalNaNSafe(reflect.ValueOf(s)) }

// UnmarshalJSON reads null and missing metrics as NaN.
func (s *Summary) UnmarshalJSON(b []byte) error {
	type plain Summary
	p := plain(NaNSummary())
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = Summary(p)
	return nil
}

func setFloats(v reflect.Value, x float64) {
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Float64 {
			f.SetFloat(x)
		}
	}
}

// marshalNaNSafe encodes a flat struct as a JSON object in field order.
func marshalNaNSafe(v reflect.Value) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		if tag == "-" || !sf.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = sf.Name
		}
		f := v.Field(i)
		var val []byte
		if f.Kind() == reflect.Int && f.Int() == 0 && strings.Contains(opts, "omitempty") {
			continue
		}
		if f.Kind() == reflect.Float64 && (math.IsNaN(f.Float()) || math.IsInf(f.Float(), 0)) {
			if strings.Contains(opts, "omitempty") {
				continue
			}
			val = []byte("null")
		} else {
			var err error
			if val, err = json.Marshal(f.Interface()); err != nil {
				return nil, err
			}
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		key, _ := json.Marshal(name)
		buf.Write(key)
		buf.WriteByte(':')
		buf.Write(val)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}
