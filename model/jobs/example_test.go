package jobs_test

import (
	"context"
	"fmt"

	"itscope/model/jobs"
	"itscope/model/runs"
)

func ExampleEngine() {
	engine := jobs.NewEngine(nil, 2) // no store: runs are not saved
	events, stop := engine.Subscribe()
	defer stop()
	id, _ := engine.Submit(jobs.Job{Name: "count", Run: func(ctx context.Context, emit func(jobs.Event)) (*runs.Run, error) {
		for i := 1; i <= 3; i++ {
			emit(jobs.Event{Kind: jobs.EventProgress, Done: i, Total: 3})
		}
		return &runs.Run{}, nil
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
