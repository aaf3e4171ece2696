package runs

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
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
