package onnx_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"

	"codeberg.org/sbinet/npyio"
	"gorgonia.org/tensor"

	"itscope/compute/onnx"
)

// Run the embedded int8 MobileNetV2 on a preprocessed photo, asking for the
// logits and one inner tap (torchvision's features.13).
func ExampleModel_Run() {
	m, err := onnx.LoadFile("../../model/nets/weights/mobilenetv2-12-int8.onnx")
	if err != nil {
		log.Fatal(err)
	}
	raw, err := os.ReadFile("../../testdata/onnx/cat.input.npy") // (1,3,224,224), ImageNet-normalised
	if err != nil {
		log.Fatal(err)
	}
	var pixels []float32
	if err := npyio.Read(bytes.NewReader(raw), &pixels); err != nil {
		log.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(1, 3, 224, 224), tensor.WithBacking(pixels))
	out, err := m.Run(context.Background(), map[string]*tensor.Dense{"input": x}, "output", "426_quantized")
	if err != nil {
		log.Fatal(err)
	}
	logits := out["output"].Data().([]float32)
	best := 0
	for k, v := range logits {
		if v > logits[best] {
			best = k
		}
	}
	q, _ := m.Quantization("426_quantized")
	fmt.Println("top-1 class:", best, "logit:", logits[best])
	fmt.Println("features.13:", out["426_quantized"].Shape(), out["426_quantized"].Dtype(), "scale", q.Scale, "zero point", q.ZeroPoint)
	// Output:
	// top-1 class: 285 logit: 15.053591
	// features.13: (1, 96, 14, 14) uint8 scale 0.07048993 zero point 123
}
