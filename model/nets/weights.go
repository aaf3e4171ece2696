package nets

import (
	"fmt"
	"os"
	"slices"

	"google.golang.org/protobuf/proto"

	"itscope/compute/nn"
	"itscope/compute/onnx"
	"itscope/compute/onnx/onnxpb"
	"itscope/model/runs"
)

// onnxWeights are the float32 parameters of an ONNX export of a torchvision
// network.
type onnxWeights struct {
	path   string
	byName map[string]runs.NamedTensor
	// convs lists the weight and bias (may be "") of every Conv node in graph
	// order: a BatchNorm-folded export has lost the parameter names of its
	// convs, so they are matched by position and shape instead.
	convs []onnxConv
	hasBN bool
}

type onnxConv struct {
	node         string
	weight, bias string
}

// readONNXWeights loads every float32 initializer of an ONNX file, under its
// own name and under the names Identity nodes give it (torch.onnx.export
// stores identical tensors once and aliases the others through Identity).
func readONNXWeights(path string) (*onnxWeights, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m onnxpb.ModelProto
	if err := proto.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("%s: not an ONNX model (truncated or corrupt file?): %v", path, err)
	}
	raw = nil
	g := m.GetGraph()
	if g == nil {
		return nil, fmt.Errorf("%s: ONNX model has no graph", path)
	}
	w := &onnxWeights{path: path, byName: map[string]runs.NamedTensor{}}
	for _, t := range g.GetInitializer() {
		nt, ok, err := onnxFloatTensor(t)
		if err != nil {
			return nil, fmt.Errorf("%s: initializer: %v", path, err)
		}
		if ok {
			w.byName[nt.Name] = nt
		}
	}
	for _, n := range g.GetNode() {
		switch n.GetOpType() {
		case "Identity":
			if len(n.GetInput()) != 1 || len(n.GetOutput()) != 1 {
				continue
			}
			if src, ok := w.byName[n.GetInput()[0]]; ok {
				alias := src
				alias.Name = n.GetOutput()[0]
				w.byName[alias.Name] = alias
			}
		case "Constant":
			for _, a := range n.GetAttribute() {
				if a.GetName() == "value" && a.GetT() != nil && len(n.GetOutput()) == 1 {
					if nt, ok, err := onnxFloatTensor(a.GetT()); err == nil && ok {
						nt.Name = n.GetOutput()[0]
						w.byName[nt.Name] = nt
					}
				}
			}
		case "BatchNormalization":
			w.hasBN = true
		case "Conv":
			in := n.GetInput()
			c := onnxConv{node: n.GetName()}
			if len(in) > 1 {
				c.weight = in[1]
			}
			if len(in) > 2 {
				c.bias = in[2]
			}
			w.convs = append(w.convs, c)
		}
	}
	return w, nil
}

// onnxFloatTensor converts a float32 TensorProto; ok is false for other
// types (shape constants and the like).
func onnxFloatTensor(t *onnxpb.TensorProto) (runs.NamedTensor, bool, error) {
	if t.GetDataType() != int32(onnxpb.TensorProto_FLOAT) {
		return runs.NamedTensor{}, false, nil
	}
	shape, data, err := onnx.Float32Tensor(t)
	if err != nil {
		return runs.NamedTensor{}, false, err
	}
	return runs.NamedTensor{Name: t.GetName(), Shape: shape, Data: data}, true, nil
}

// netParam is one tensor of an architecture that a weights file must supply.
type netParam struct {
	Name  string
	Shape []int
	Data  []float32 // the layer's own storage: loading copies into it
}

// loadNamed copies tensors matched by name and shape into params.
func (w *onnxWeights) loadNamed(params []netParam) error {
	for _, p := range params {
		t, ok := w.byName[p.Name]
		if !ok {
			return fmt.Errorf("%s: tensor %q: want shape %v, not in the file (is it an export of the same torchvision architecture?)", w.path, p.Name, p.Shape)
		}
		if !slices.Equal(t.Shape, p.Shape) {
			return fmt.Errorf("%s: tensor %q: want shape %v, found %v", w.path, p.Name, p.Shape, t.Shape)
		}
		copy(p.Data, t.Data)
	}
	return nil
}

// foldedConv is a conv of an architecture with the BatchNorm after it (nil
// parameters when it has none), for loading a BatchNorm-folded export.
type foldedConv struct {
	Weight                          netParam
	Bias                            *netParam // the conv's own bias, if any
	BNWeight, BNBias, BNMean, BNVar *netParam
	BNEps                           float32
}

// loadFolded loads an export whose BatchNorms torch folded into the convs
// (torch.onnx.export in eval mode renames their tensors "onnx::Conv_NNN"):
// the convs are matched in graph order by shape, and each folded bias goes to
// the BatchNorm made an identity plus shift. Tensors that kept their names
// (the classifier) are matched by name.
func (w *onnxWeights) loadFolded(convs []foldedConv, named []netParam) error {
	if len(w.convs) != len(convs) {
		return fmt.Errorf("%s: want %d Conv nodes for this architecture, found %d", w.path, len(convs), len(w.convs))
	}
	for i, c := range convs {
		fc := w.convs[i]
		t, ok := w.byName[fc.weight]
		if !ok {
			return fmt.Errorf("%s: Conv node %q: weight %q is not an initializer", w.path, fc.node, fc.weight)
		}
		if !slices.Equal(t.Shape, c.Weight.Shape) {
			return fmt.Errorf("%s: Conv node %q (conv %d, %s): want weight shape %v, found %v", w.path, fc.node, i, c.Weight.Name, c.Weight.Shape, t.Shape)
		}
		copy(c.Weight.Data, t.Data)
		bias := make([]float32, c.Weight.Shape[0])
		if fc.bias != "" {
			b, ok := w.byName[fc.bias]
			if !ok || !slices.Equal(b.Shape, []int{len(bias)}) {
				return fmt.Errorf("%s: Conv node %q: bias %q: want shape [%d]", w.path, fc.node, fc.bias, len(bias))
			}
			copy(bias, b.Data)
		}
		switch {
		case c.BNWeight != nil:
			for k := range bias {
				c.BNWeight.Data[k] = 1
				c.BNBias.Data[k] = bias[k]
				c.BNMean.Data[k] = 0
				c.BNVar.Data[k] = 1 - c.BNEps
			}
			if c.Bias != nil {
				clear(c.Bias.Data)
			}
		case c.Bias != nil:
			copy(c.Bias.Data, bias)
		case fc.bias != "":
			return fmt.Errorf("%s: Conv node %q has a bias where %s has none", w.path, fc.node, c.Weight.Name)
		}
	}
	return w.loadNamed(named)
}

// loadONNX copies the weights of a torchvision export into n's layers: by
// state_dict name and shape, or, for an export whose BatchNorms torch
// folded (and whose conv tensors lost their names), conv by conv in graph
// order.
func (n *Net) loadONNX(path string) error {
	w, err := readONNXWeights(path)
	if err != nil {
		return err
	}
	var named []netParam
	for _, p := range nn.State(n.stages) {
		named = append(named, viewParam(p.Name, p))
	}
	if _, ok := w.byName[named[0].Name]; ok || w.hasBN {
		return w.loadNamed(named)
	}
	convs, rest := foldedConvs(n.stages)
	return w.loadFolded(convs, rest)
}

func viewParam(name string, p *nn.Param) netParam {
	return netParam{Name: name, Shape: []int(p.Value.Shape()), Data: nn.Float32s(p.Value)}
}

// foldedConvs lists l's convs in forward order, each with the BatchNorm
// that follows it (the next BatchNorm2D met before another conv), and the
// parameters of its Linear layers.
func foldedConvs(l nn.Layer) (convs []foldedConv, linears []netParam) {
	nn.Walk(l, func(name string, l nn.Layer) {
		switch v := l.(type) {
		case *nn.Conv2D:
			fc := foldedConv{Weight: viewParam(name+".weight", v.Weight)}
			if v.Bias != nil {
				b := viewParam(name+".bias", v.Bias)
				fc.Bias = &b
			}
			convs = append(convs, fc)
		case *nn.BatchNorm2D:
			if len(convs) == 0 || convs[len(convs)-1].BNWeight != nil {
				return
			}
			c := &convs[len(convs)-1]
			pw, pb := viewParam(name+".weight", v.Weight), viewParam(name+".bias", v.Bias)
			pm, pv := viewParam(name+".running_mean", v.RunningMean), viewParam(name+".running_var", v.RunningVar)
			c.BNWeight, c.BNBias, c.BNMean, c.BNVar = &pw, &pb, &pm, &pv
			c.BNEps = float32(v.Eps)
		case *nn.Linear:
			linears = append(linears, viewParam(name+".weight", v.Weight))
			if v.Bias != nil {
				linears = append(linears, viewParam(name+".bias", v.Bias))
			}
		}
	})
	return convs, linears
}
