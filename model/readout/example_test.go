package readout_test

import (
	"fmt"

	"itscope/model/readout"
)

func ExampleParseAlphas() {
	grid, _ := readout.ParseAlphas("1e-2:1e2:5")
	fmt.Println(grid)
	list, _ := readout.ParseAlphas("0.5,10")
	fmt.Println(list)
	// Output:
	// [0.01 0.1 1 10 100]
	// [0.5 10]
}
