package data_test

import (
	"fmt"
	"log"

	"itscope/data"
)

func ExampleOpen() {
	d, err := data.Open("demo")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Name, d.NumNeurons, "neurons x", d.Images.Len(), "images")
	for _, s := range d.Splits {
		fmt.Println(s.Name, len(s.Indices), "images, responses:", s.HasResponses)
	}
	img, err := d.Images.RGB(0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(d.Images.Name(0), img.Bounds().Dx(), "x", img.Bounds().Dy())
	x, err := data.NetworkInput(d, 0, 224, nil) // (3, 224, 224) ImageNet-normalised
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(x), "network inputs; first response", d.ResponseRow(0)[0])
	// Output:
	// demo:201025 89 neurons x 1200 images
	// train 1080 images, responses: true
	// val 120 images, responses: true
	// image0001.jpg 112 x 112
	// 150528 network inputs; first response 2.6363637
}
