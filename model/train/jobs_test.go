package train

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"itscope/data"
	"itscope/model/jobs"
)

// A training job rebuilt from its queue payload, as another process would,
// trains the same network to the same losses and predictions.
func TestTrainJobFromPayload(t *testing.T) {
	ds := SyntheticDataset(40, 5, 1)
	cfg := smallConfig(t, "layers=2,channels=4-8,pool=4,dropout=0.2", 2)
	direct := TrainJob(ds, cfg, "t")
	reg := jobs.Registry{}
	opened := 0
	RegisterJobs(reg, func(spec string) (*data.Dataset, error) {
		opened++
		if spec != ds.Name {
			return nil, fmt.Errorf("opened %q, want %q", spec, ds.Name)
		}
		return ds, nil
	}, "", 0)
	rebuilt, err := reg.Build(jobs.Spec{Kind: direct.Kind, Name: direct.Name, Payload: direct.Payload})
	if err != nil {
		t.Fatal(err)
	}
	if opened != 1 || rebuilt.Name != "t" || rebuilt.Kind != "train" {
		t.Errorf("rebuilt %q (%s) after %d opens", rebuilt.Name, rebuilt.Kind, opened)
	}
	a, err := direct.Run(context.Background(), func(jobs.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rebuilt.Run(context.Background(), func(jobs.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lossValues(a.Loss), lossValues(b.Loss)) || !reflect.DeepEqual(a.Predictions, b.Predictions) {
		t.Errorf("rebuilt job trained differently:\n%v\n%v", a.Loss, b.Loss)
	}
}

func TestTrainPayloadErrors(t *testing.T) {
	reg := jobs.Registry{}
	RegisterJobs(reg, func(string) (*data.Dataset, error) { return SyntheticDataset(10, 5, 1), nil }, "", 0)
	bad := map[string]jobs.Spec{
		"payload: want":      {Kind: "train", Payload: json.RawMessage(`[1]`)},
		`no "train" config`:  {Kind: "train", Payload: json.RawMessage(`{"data":"x"}`)},
		`no "cotrain"`:       {Kind: "cotrain", Payload: json.RawMessage(`{"data":"x","train":{}}`)},
		"cotrain: want a ne": {Kind: "cotrain", Payload: json.RawMessage(`{"data":"x","cotrain":{"train":{"cnn":"","lr":0.001,"wd":0,"batch":8,"epochs":1,"optimizer":"adam"}}}`)},
	}
	for want, spec := range bad {
		if _, err := reg.Build(spec); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Build(%s) = %v, want an error with %q", spec.Payload, err, want)
		}
	}
}
