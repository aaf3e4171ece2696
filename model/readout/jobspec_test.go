package readout

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

// A fit job rebuilt from its queue payload, as another process would,
// scores the same.
func TestFitJobFromPayload(t *testing.T) {
	spec := FitSpec{Data: "demo:210325", Features: "pixels:8", Model: ModelRidge, Alpha: 10, Seed: 3}
	direct := FitJob(spec)
	reg := jobs.Registry{}
	RegisterJobs(reg, data.Open, t.TempDir(), 0)
	var payload FitSpec
	if err := json.Unmarshal(direct.Payload, &payload); err != nil || payload.Alpha != 10 || payload.Features != "pixels:8" {
		t.Fatalf("payload %s: %v", direct.Payload, err)
	}
	rebuilt, err := reg.Build(jobs.Spec{Kind: "sweep", Name: "n", Payload: direct.Payload})
	if err != nil {
		t.Fatal(err)
	}
	a, err := direct.Run(context.Background(), func(jobs.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	b, err := rebuilt.Run(context.Background(), func(jobs.Event) {})
	if err != nil {
		t.Fatal(err)
	}
	// %v prints every float so that it reads back to the same bits (and
	// NaN, which DeepEqual never finds equal, as NaN).
	if fmt.Sprintf("%v", a.Meta.Summary) != fmt.Sprintf("%v", b.Meta.Summary) || !reflect.DeepEqual(a.Predictions, b.Predictions) {
		t.Errorf("rebuilt fit scored %+v, the direct one %+v", b.Meta.Summary, a.Meta.Summary)
	}
	if _, err := reg.Build(jobs.Spec{Kind: "fit", Payload: json.RawMessage(`{"data":"demo","features":"pixels","model":"lasso"}`)}); err == nil || !strings.Contains(err.Error(), `model "lasso"`) {
		t.Errorf("a bad fit payload: %v", err)
	}
}
