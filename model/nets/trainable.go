package nets

import (
	"encoding/binary"
	"fmt"

	"google.golang.org/protobuf/proto"

	"itscope/compute/nn"
	"itscope/compute/onnx"
	"itscope/compute/onnx/onnxpb"
	"itscope/model/runs"
)

// TrainableStages returns a trainable copy of net's trunk from tap on (up
// to the pooling before the classifier) and the tap that feeds it; net
// itself is left alone. A float network is cloned. The embedded int8
// MobileNetV2 becomes the float architecture holding its dequantized
// weights: its frozen stages keep running int8, and note says so.
func TrainableStages(net Network, tap string) (trunk *nn.Sequential, frozenTap, note string, err error) {
	var float *Net
	switch n := net.(type) {
	case *Net:
		if float, err = n.Clone(); err != nil {
			return nil, "", "", err
		}
	case *onnxNet:
		if n != mobileNet {
			return nil, "", "", fmt.Errorf("cotrain: network %s: want a torchvision architecture (mobilenetv2, resnet18, resnet50, vgg19 or their -random variants)", net.Name())
		}
		if float, err = dequantizedMobileNetV2(); err != nil {
			return nil, "", "", err
		}
		note = "mobilenetv2 is int8: frozen stages run int8; the trainable stages are float and start from its dequantized weights"
	default:
		return nil, "", "", fmt.Errorf("cotrain: network %s: want a torchvision architecture", net.Name())
	}
	trunk, frozenTap, err = float.Trunk(tap)
	return trunk, frozenTap, note, err
}

// dequantizedMobileNetV2 is the float MobileNetV2 holding the embedded int8
// model's convs, dequantized: weight scale·(q - zero point) per output
// channel, bias B·x_scale·w_scale (QLinearConv's int32 bias is in units of
// the product of the input and weight scales). Its classifier stays zero:
// only its trunk is used.
func dequantizedMobileNetV2() (*Net, error) {
	const file = "mobilenetv2-12-int8.onnx (embedded)"
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(mobileNetV2Int8, &m); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	inits := map[string]*onnxpb.TensorProto{}
	for _, t := range m.GetGraph().GetInitializer() {
		inits[t.GetName()] = t
	}
	w := &onnxWeights{path: file, byName: map[string]runs.NamedTensor{}}
	for _, node := range m.GetGraph().GetNode() {
		if node.GetOpType() != "QLinearConv" {
			continue
		}
		in := node.GetInput()
		if len(in) < 6 {
			return nil, fmt.Errorf("%s: QLinearConv %q: want at least 6 inputs, found %d", file, node.GetName(), len(in))
		}
		c := onnxConv{node: node.GetName(), weight: in[3] + ".dequantized"}
		wt, err := dequantizeConvWeight(inits, in[3], in[4], in[5])
		if err != nil {
			return nil, fmt.Errorf("%s: QLinearConv %q: %w", file, node.GetName(), err)
		}
		wt.Name = c.weight
		w.byName[c.weight] = wt
		if len(in) > 8 && in[8] != "" {
			b, err := dequantizeConvBias(inits, in[8], in[1], in[4])
			if err != nil {
				return nil, fmt.Errorf("%s: QLinearConv %q: %w", file, node.GetName(), err)
			}
			c.bias = in[8] + ".dequantized"
			b.Name = c.bias
			w.byName[c.bias] = b
		}
		w.convs = append(w.convs, c)
	}
	n, err := newMobileNetV2Float(1000)
	if err != nil {
		return nil, err
	}
	convs, _ := foldedConvs(n.stages)
	if err := w.loadFolded(convs, nil); err != nil {
		return nil, err
	}
	if err := n.fold(); err != nil {
		return nil, err
	}
	n.identity, n.labels = mobileNet.identity+"-dequantized", ImageNetLabels()
	return n, nil
}

// dequantizeConvWeight is scale·(q - zero point), the scale and zero point
// per output channel (or one for all).
func dequantizeConvWeight(inits map[string]*onnxpb.TensorProto, q, scale, zero string) (runs.NamedTensor, error) {
	r := initializers{inits: inits}
	dims, qs := r.ints(q)
	scales := r.floats(scale)
	_, zeros := r.ints(zero)
	if r.err != nil {
		return runs.NamedTensor{}, r.err
	}
	out := dims[0]
	if (len(scales) != 1 && len(scales) != out) || len(scales) != len(zeros) {
		return runs.NamedTensor{}, fmt.Errorf("weight %q: want 1 or %d scales and zero points, found %d and %d", q, out, len(scales), len(zeros))
	}
	per := len(qs) / out
	data := make([]float32, len(qs))
	for i, v := range qs {
		k := min(i/per, len(scales)-1)
		data[i] = scales[k] * float32(v-zeros[k])
	}
	return runs.NamedTensor{Shape: dims, Data: data}, nil
}

// dequantizeConvBias is B·x_scale·w_scale per output channel.
func dequantizeConvBias(inits map[string]*onnxpb.TensorProto, bias, xScale, wScale string) (runs.NamedTensor, error) {
	r := initializers{inits: inits}
	dims, b := r.ints(bias)
	xs, ws := r.floats(xScale), r.floats(wScale)
	if r.err != nil {
		return runs.NamedTensor{}, r.err
	}
	if len(xs) != 1 || (len(ws) != 1 && len(ws) != len(b)) {
		return runs.NamedTensor{}, fmt.Errorf("bias %q: want one input scale and 1 or %d weight scales, found %d and %d", bias, len(b), len(xs), len(ws))
	}
	data := make([]float32, len(b))
	for i, v := range b {
		data[i] = float32(float64(v) * float64(xs[0]) * float64(ws[min(i, len(ws)-1)]))
	}
	return runs.NamedTensor{Shape: dims, Data: data}, nil
}

func floatTensor(inits map[string]*onnxpb.TensorProto, name string) ([]float32, error) {
	t, ok := inits[name]
	if !ok {
		return nil, fmt.Errorf("%q is not an initializer", name)
	}
	_, data, err := onnx.Float32Tensor(t)
	return data, err
}

// initializers reads a model's initializers one after another, keeping the
// first error (later reads then return nothing).
type initializers struct {
	inits map[string]*onnxpb.TensorProto
	err   error
}

func (r *initializers) floats(name string) []float32 {
	if r.err != nil {
		return nil
	}
	v, err := floatTensor(r.inits, name)
	r.err = err
	return v
}

func (r *initializers) ints(name string) ([]int, []int32) {
	if r.err != nil {
		return nil, nil
	}
	dims, v, err := intTensor(r.inits, name)
	r.err = err
	return dims, v
}

// intTensor reads an int8, uint8 or int32 initializer as int32s.
func intTensor(inits map[string]*onnxpb.TensorProto, name string) ([]int, []int32, error) {
	t, ok := inits[name]
	if !ok {
		return nil, nil, fmt.Errorf("%q is not an initializer", name)
	}
	n := 1
	dims := make([]int, len(t.GetDims()))
	for i, d := range t.GetDims() {
		if d < 0 || d > 1<<30 || n > (1<<30)/max(1, int(d)) {
			return nil, nil, fmt.Errorf("tensor %q: dims %v: want at most %d elements", name, t.GetDims(), 1<<30)
		}
		dims[i] = int(d)
		n *= int(d)
	}
	raw, out := t.GetRawData(), make([]int32, 0, n)
	switch dt := onnxpb.TensorProto_DataType(t.GetDataType()); {
	case len(raw) == 0 && (dt == onnxpb.TensorProto_INT8 || dt == onnxpb.TensorProto_UINT8 || dt == onnxpb.TensorProto_INT32):
		out = append(out, t.GetInt32Data()...)
	case dt == onnxpb.TensorProto_INT8 && len(raw) == n:
		for _, b := range raw {
			out = append(out, int32(int8(b)))
		}
	case dt == onnxpb.TensorProto_UINT8 && len(raw) == n:
		for _, b := range raw {
			out = append(out, int32(b))
		}
	case dt == onnxpb.TensorProto_INT32 && len(raw) == 4*n:
		for i := range n {
			out = append(out, int32(binary.LittleEndian.Uint32(raw[4*i:])))
		}
	default:
		return nil, nil, fmt.Errorf("tensor %q: want %d int8, uint8 or int32 values, found type %v with %d bytes", name, n, dt, len(raw))
	}
	if len(out) != n {
		return nil, nil, fmt.Errorf("tensor %q: want %d values for dims %v, found %d", name, n, dims, len(out))
	}
	return dims, out, nil
}
