package runs_test

import (
	"fmt"
	"os"

	"itscope/model/runs"
)

func ExampleStore() {
	dir, _ := os.MkdirTemp("", "runs")
	defer os.RemoveAll(dir)
	store, _ := runs.OpenStore(dir)

	s := runs.NaNSummary()
	s.EVMean = 0.25
	id, _ := store.Save(&runs.Run{Meta: runs.RunMeta{Kind: "fit", Model: "ridge", Strategy: "pixels:32", Summary: s}})

	metas, _ := store.List()
	fmt.Println(len(metas), metas[0].ID == id, metas[0].Status, metas[0].Summary.EVMean)
	// Output: 1 true done 0.25
}
