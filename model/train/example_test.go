package train_test

import (
	"fmt"

	"itscope/model/train"
)

func ExampleParseCNNSpec() {
	spec, err := train.ParseCNNSpec("layers=2,channels=16-32,bn=on-off,size=112")
	if err != nil {
		fmt.Println(err)
		return
	}
	feat, _ := spec.FeatureShape()
	fmt.Println(spec)
	fmt.Println("read-out input (C, H, W):", feat)
	// Output:
	// layers=2,channels=16-32,kernel=3,stride=1,pool=2,bn=on-off,dropout=0,size=112,readout=flatten
	// read-out input (C, H, W): [32 28 28]
}
