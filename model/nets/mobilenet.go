package nets

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"

	"itscope/compute/onnx"
)

// The ONNX Model Zoo's mobilenetv2-12-int8 (Apache-2.0) and the ImageNet
// labels (google-coral/test_data, Apache-2.0); see weights/README.md.
var (
	//go:embed weights/mobilenetv2-12-int8.onnx
	mobileNetV2Int8 []byte
	//go:embed weights/imagenet_labels_1001.txt
	imageNetLabelsFile string
)

// ImageNetLabels returns the 1000 ImageNet class names, index k for class k
// (the file's first line, "background", is dropped).
func ImageNetLabels() []string {
	lines := strings.Split(strings.TrimRight(imageNetLabelsFile, "\n"), "\n")
	if len(lines) == 1001 {
		lines = lines[1:]
	}
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return lines
}

var (
	mobileNetOnce sync.Once
	mobileNet     *onnxNet
	mobileNetErr  error
)

// openMobileNetV2 is the embedded int8 model with taps features.0..18 and
// classifier; it is loaded once per process (runs are safe concurrently).
func openMobileNetV2() (Network, error) {
	mobileNetOnce.Do(func() {
		sum := sha256.Sum256(mobileNetV2Int8)
		m, err := onnx.LoadBytes(mobileNetV2Int8, "mobilenetv2-12-int8.onnx")
		if err != nil {
			mobileNetErr = err
			return
		}
		n, err := newONNXNet("mobilenetv2", "sha256-"+hex.EncodeToString(sum[:]), m)
		if err != nil {
			mobileNetErr = err
			return
		}
		taps, tensors, err := mobileNetV2Taps(m)
		if err != nil {
			mobileNetErr = err
			return
		}
		if err := n.setTaps(taps, tensors); err != nil {
			mobileNetErr = err
			return
		}
		n.labels = ImageNetLabels()
		mobileNet = n
	})
	if mobileNetErr != nil {
		return nil, mobileNetErr
	}
	return mobileNet, nil
}

// mobileNetV2Taps maps torchvision's mobilenet_v2 module names to the
// outputs of an ONNX export of it, working from the graph's structure (the
// tensor numbers of an export say nothing):
//
//   - features.0 is the first conv (with its activation);
//   - features.1 to features.17 are the inverted-residual blocks, each ending
//     at its projection, a 1x1 conv with fewer outputs than inputs, or at the
//     Add of that projection and the block's input when the block has a
//     residual connection;
//   - features.18 is the 1x1 conv after the last block;
//   - avgpool is the global average pool after it (torchvision pools in
//     forward(), not in a module, but the 1280 pooled features are useful);
//   - classifier is the graph output (the logits).
//
// In the embedded int8 file (QLinearConv, QLinearAdd) this gives
// features.0 = 474_quantized (Conv_0), features.1 = 480 (Conv_4),
// features.3 = 339 (Add_15), features.13 = 426 (Add_72),
// features.18 = 627 (Conv_95) and classifier = output.
func mobileNetV2Taps(m *onnx.Model) (taps, tensors []string, err error) {
	nodes := m.Nodes()
	consumers := map[string][]onnx.Node{}
	for _, n := range nodes {
		for _, in := range n.Inputs {
			consumers[in] = append(consumers[in], n)
		}
	}
	// after follows a lone activation node, for graphs that keep ReLU6 apart.
	after := func(t string) string {
		for {
			c := consumers[t]
			if len(c) != 1 || !slices.Contains([]string{"Relu", "Clip"}, c[0].OpType) {
				return t
			}
			t = c[0].Outputs[0]
		}
	}
	var blocks []string
	var convs int
	var last string
	for _, n := range nodes {
		wi := map[string]int{"Conv": 1, "QLinearConv": 3}
		k, ok := wi[n.OpType]
		if !ok || len(n.Inputs) <= k {
			continue
		}
		dims, _, ok := m.Initializer(n.Inputs[k])
		if !ok || len(dims) != 4 {
			return nil, nil, fmt.Errorf("mobilenetv2: node %q: weight %q is not a 4-d initializer", n.Name, n.Inputs[k])
		}
		convs++
		out := after(n.Outputs[0])
		last = out
		if convs == 1 {
			blocks = append(blocks, out)
			continue
		}
		projection := dims[2] == 1 && dims[3] == 1 && dims[0] < dims[1]
		if !projection {
			continue
		}
		// A residual block adds its input back; a block without one still
		// feeds the next block's Add, as that block's input.
		prev := blocks[len(blocks)-1]
		for _, c := range consumers[out] {
			if (c.OpType == "Add" || c.OpType == "QLinearAdd") && slices.Contains(c.Inputs, prev) {
				out = c.Outputs[0]
			}
		}
		blocks = append(blocks, out)
	}
	if len(blocks) != 18 {
		return nil, nil, fmt.Errorf("mobilenetv2: want torchvision's stem and 17 inverted-residual blocks, found %d convs making %d blocks", convs, len(blocks))
	}
	blocks = append(blocks, last)
	outs := m.Outputs()
	if len(outs) != 1 {
		return nil, nil, fmt.Errorf("mobilenetv2: want one graph output (the logits), found %d", len(outs))
	}
	for i, b := range blocks {
		taps = append(taps, fmt.Sprintf("features.%d", i))
		tensors = append(tensors, b)
	}
	// torchvision pools functionally; the pooled 1280 features are a tap too.
	for _, c := range consumers[last] {
		if strings.HasSuffix(c.OpType, "GlobalAveragePool") {
			taps, tensors = append(taps, "avgpool"), append(tensors, c.Outputs[0])
		}
	}
	return append(taps, "classifier"), append(tensors, outs[0].Name), nil
}
