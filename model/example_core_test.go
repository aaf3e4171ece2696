package model_test

import (
	"context"
	"fmt"
	"os"

	"itscope/model"
)

func ExampleParseAlphas() {
	grid, _ := model.ParseAlphas("1e-2:1e2:5")
	fmt.Println(grid)
	list, _ := model.ParseAlphas("0.5,10")
	fmt.Println(list)
	// Output:
	// [0.01 0.1 1 10 100]
	// [0.5 10]
}

func ExampleStore() {
	dir, _ := os.MkdirTemp("", "runs")
	defer os.RemoveAll(dir)
	store, _ := model.OpenStore(dir)

	s := model.NaNSummary()
	s.EVMean = 0.25
	id, _ := store.Save(&model.Run{Meta: model.RunMeta{Kind: "fit", Model: "ridge", Strategy: "pixels:32", Summary: s}})

	runs, _ := store.List()
	fmt.Println(len(runs), runs[0].ID == id, runs[0].Status, runs[0].Summary.EVMean)
	// Output: 1 true done 0.25
}

func ExampleEngine() {
	engine := model.NewEngine(nil, 2) // no store: runs are not saved
	events, stop := engine.Subscribe()
	defer stop()
	id, _ := engine.Submit(model.Job{Name: "count", Run: func(ctx context.Context, emit func(model.Event)) (*model.Run, error) {
		for i := 1; i <= 3; i++ {
			emit(model.Event{Kind: model.EventProgress, Done: i, Total: 3})
		}
		return &model.Run{}, nil
	}})
	for ev := range events {
		if ev.Kind.Terminal() {
			fmt.Println(ev.Kind)
			break
		}
	}
	st, _ := engine.Status(id)
	fmt.Println(st.State, st.Done, st.Total)
	// Output:
	// done
	// done 3 3
}
