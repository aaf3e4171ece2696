package onnx

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"

	"google.golang.org/protobuf/proto"

	"itscope/compute/onnx/onnxpb"
)

// Model is a loaded, validated ONNX graph ready to run. It is safe for
// concurrent Run calls: runs share only read-only weights.
type Model struct {
	name    string
	opset   int64 // of the default domain
	inputs  []ValueInfo
	outputs []ValueInfo
	consts  map[string]*value // initializers (and folded Constant nodes)
	nodes   []*node           // in execution (topological) order
	produce map[string]int    // tensor name -> index of the node producing it
	quant   map[string]Quant  // quantized tensor name -> its scale and zero point
	plans   sync.Map          // strings.Join(outputs, "\x00") -> *runPlan
}

// ValueInfo describes a graph input or output. Dims holds -1 for a dynamic
// dimension (such as the batch); DimNames the symbolic names ("batch_size").
type ValueInfo struct {
	Name     string
	Type     DType
	Dims     []int
	DimNames []string
}

// Node describes one operator of the graph, in execution order.
type Node struct {
	Index   int // position in execution (topological) order
	Name    string
	OpType  string
	Domain  string // "" for the default ONNX domain, "com.microsoft" for contrib ops
	Inputs  []string
	Outputs []string
}

// Quant is the scale and zero point of a quantized (uint8 or int8) tensor:
// real value = Scale * (q - ZeroPoint).
type Quant struct {
	Scale     float32
	ZeroPoint int32
}

type node struct {
	Node
	attrs  map[string]*onnxpb.AttributeProto
	k      kernel
	folded bool // computed at load; its outputs are constants
}

// kernel runs one node: inputs in the node's order (nil for an omitted
// optional input), one output value per node output.
type kernel interface {
	run(ins []*value) ([]*value, error)
}

// LoadFile reads and validates an ONNX model file.
func LoadFile(path string) (*Model, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnx: %w", err)
	}
	return LoadBytes(data, path)
}

// LoadBytes parses a serialised ModelProto (for example a go:embed'ed file);
// name is used in error messages. The graph is checked now, so every
// unsupported operator, missing initializer or input, or bad attribute is
// reported here, naming the node (index and name) and its operator.
func LoadBytes(data []byte, name string) (*Model, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("onnx: %s: empty file, want a serialised ONNX ModelProto", name)
	}
	var mp onnxpb.ModelProto
	if err := proto.Unmarshal(data, &mp); err != nil {
		return nil, fmt.Errorf("onnx: %s: not a valid ONNX model (truncated or corrupt file?): %v", name, err)
	}
	g := mp.GetGraph()
	if g == nil || len(g.GetNode()) == 0 {
		return nil, fmt.Errorf("onnx: %s: no graph or an empty graph (truncated or not an ONNX model?)", name)
	}
	m := &Model{name: name, opset: 13, consts: map[string]*value{}, produce: map[string]int{}, quant: map[string]Quant{}}
	for _, o := range mp.GetOpsetImport() {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			m.opset = o.GetVersion()
		}
	}
	for _, t := range g.GetInitializer() {
		v, err := tensorFromProto(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: initializer: %w", name, err)
		}
		m.consts[t.GetName()] = v
	}
	for _, vi := range g.GetInput() {
		if _, isInit := m.consts[vi.GetName()]; isInit {
			continue // old exporters list initializers as inputs too
		}
		in := valueInfo(vi)
		if err := checkDeclaredInput(vi); err != nil {
			return nil, fmt.Errorf("onnx: %s: graph input %q: %w", name, in.Name, err)
		}
		m.inputs = append(m.inputs, in)
	}
	for _, vi := range g.GetOutput() {
		m.outputs = append(m.outputs, valueInfo(vi))
	}
	if err := m.order(g.GetNode()); err != nil {
		return nil, fmt.Errorf("onnx: %s: %w", name, err)
	}
	for _, n := range m.nodes {
		if err := m.prepare(n); err != nil {
			return nil, fmt.Errorf("onnx: %s: node %d %q (%s): %w", name, n.Index, n.Name, n.OpType, err)
		}
	}
	for _, o := range m.outputs {
		if _, ok := m.produce[o.Name]; !ok && m.consts[o.Name] == nil && !m.isInput(o.Name) {
			return nil, fmt.Errorf("onnx: %s: graph output %q is produced by no node", name, o.Name)
		}
	}
	return m, nil
}

func valueInfo(vi *onnxpb.ValueInfoProto) ValueInfo {
	out := ValueInfo{Name: vi.GetName()}
	tt := vi.GetType().GetTensorType()
	out.Type = DType(tt.GetElemType())
	for _, d := range tt.GetShape().GetDim() {
		if d.GetDimParam() != "" || d.GetDimValue() <= 0 {
			out.Dims = append(out.Dims, -1)
		} else {
			out.Dims = append(out.Dims, int(d.GetDimValue()))
		}
		out.DimNames = append(out.DimNames, d.GetDimParam())
	}
	return out
}

// maxInputElements bounds the product of a graph input's fixed dimensions
// (a dynamic one counts as 1). The loader's callers run the graph once on
// zeros of the declared shape to list tap shapes, so a forged declaration
// would otherwise allocate whatever it names. 1<<25 float32s (128 MiB) hold
// a 3x2048x2048 image or a fixed batch of 128 ImageNet images at 224x224,
// beyond what vision networks are exported with.
const maxInputElements = 1 << 25

// checkDeclaredInput bounds a graph input's declared shape.
func checkDeclaredInput(vi *onnxpb.ValueInfoProto) error {
	var dims []int64
	for _, d := range vi.GetType().GetTensorType().GetShape().GetDim() {
		dims = append(dims, max(d.GetDimValue(), 1))
	}
	if _, _, err := checkedShape(dims, maxInputElements); err != nil {
		return fmt.Errorf("declared shape: %w", err)
	}
	return nil
}

func (m *Model) isInput(name string) bool {
	return slices.ContainsFunc(m.inputs, func(v ValueInfo) bool { return v.Name == name })
}

// order sorts the nodes topologically (keeping the file's order among ready
// nodes) and checks that every input is a graph input, an initializer or
// the output of some node.
func (m *Model) order(protoNodes []*onnxpb.NodeProto) error {
	producer := map[string]int{}
	for i, np := range protoNodes {
		for _, o := range np.GetOutput() {
			if o == "" {
				continue
			}
			if j, dup := producer[o]; dup {
				return fmt.Errorf("node %d %q (%s): output %q is also produced by node %d", i, np.GetName(), np.GetOpType(), o, j)
			}
			producer[o] = i
		}
	}
	waiting := make([]int, len(protoNodes)) // unfinished producers per node
	users := make([][]int, len(protoNodes))
	for i, np := range protoNodes {
		for _, in := range np.GetInput() {
			switch {
			case in == "", m.consts[in] != nil, m.isInput(in):
			default:
				p, ok := producer[in]
				if !ok {
					return fmt.Errorf("node %d %q (%s): input %q is neither a graph input, an initializer nor any node's output (missing initializer?)", i, np.GetName(), np.GetOpType(), in)
				}
				waiting[i]++
				users[p] = append(users[p], i)
			}
		}
	}
	var ready []int
	for i := range protoNodes {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		slices.Sort(ready)
		i := ready[0]
		ready = ready[1:]
		np := protoNodes[i]
		n := &node{Node: Node{Index: len(m.nodes), Name: np.GetName(), OpType: np.GetOpType(), Domain: np.GetDomain(),
			Inputs: np.GetInput(), Outputs: np.GetOutput()}, attrs: map[string]*onnxpb.AttributeProto{}}
		if n.Name == "" {
			n.Name = fmt.Sprintf("%s_%d", n.OpType, i)
		}
		for _, a := range np.GetAttribute() {
			n.attrs[a.GetName()] = a
		}
		for _, o := range n.Outputs {
			if o != "" {
				m.produce[o] = n.Index
			}
		}
		m.nodes = append(m.nodes, n)
		for _, u := range users[i] {
			if waiting[u]--; waiting[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	if len(m.nodes) != len(protoNodes) {
		return errors.New("the graph has a cycle")
	}
	return nil
}

// prepare finds the node's operator and lets it check attributes and
// pre-compute what depends only on constants (packed weights).
func (m *Model) prepare(n *node) error {
	domain := n.Domain
	if domain == "ai.onnx" {
		domain = ""
	}
	op, ok := operators[opKey{domain, n.OpType}]
	if !ok {
		if domain == "" {
			return fmt.Errorf("unsupported operator %s", n.OpType)
		}
		return fmt.Errorf("unsupported operator %s (domain %s)", n.OpType, domain)
	}
	if len(n.Inputs) < op.minIn || (op.maxIn >= 0 && len(n.Inputs) > op.maxIn) {
		return fmt.Errorf("has %d inputs, want %s", len(n.Inputs), arity(op.minIn, op.maxIn))
	}
	for i := 0; i < op.minIn; i++ {
		if n.Inputs[i] == "" {
			return fmt.Errorf("required input %d is empty", i)
		}
	}
	if err := checkWindowAttrs(n); err != nil {
		return err
	}
	k, err := op.prepare(m, n)
	if err != nil {
		return err
	}
	n.k = k
	return m.fold(n)
}

// fold runs a node whose inputs are all constants once, at load, and keeps
// its outputs as constants: exporters route weights through Identity, Cast
// or Reshape nodes (torch.onnx.export shares equal initializers through
// Identity), and the operators that pack weights need them constant.
func (m *Model) fold(n *node) error {
	if len(n.Inputs) == 0 { // Constant registers its value when prepared
		n.folded = len(n.Outputs) > 0 && m.consts[n.Outputs[0]] != nil
		return nil
	}
	ins := make([]*value, len(n.Inputs))
	for i, in := range n.Inputs {
		if in == "" {
			continue
		}
		if ins[i] = m.consts[in]; ins[i] == nil {
			return nil
		}
	}
	outs, err := runKernel(n, ins)
	if err != nil {
		return err
	}
	for j, o := range n.Outputs {
		if o != "" {
			m.consts[o] = outs[j]
		}
	}
	n.folded = true
	return nil
}

func arity(lo, hi int) string {
	switch {
	case hi < 0:
		return fmt.Sprintf("at least %d", lo)
	case lo == hi:
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d to %d", lo, hi)
}

// Name is the file name the model was loaded from.
func (m *Model) Name() string { return m.name }

// Inputs lists the graph inputs that are not initializers.
func (m *Model) Inputs() []ValueInfo { return slices.Clone(m.inputs) }

// Outputs lists the graph outputs.
func (m *Model) Outputs() []ValueInfo { return slices.Clone(m.outputs) }

// Nodes lists the operators in execution order. Any of their outputs can be
// asked of Run (a tap).
func (m *Model) Nodes() []Node {
	out := make([]Node, len(m.nodes))
	for i, n := range m.nodes {
		out[i] = n.Node
		out[i].Inputs = slices.Clone(n.Inputs)
		out[i].Outputs = slices.Clone(n.Outputs)
	}
	return out
}

// Quantization reports the scale and zero point of a quantized tensor that a
// QuantizeLinear or QLinear* node produces (for example "474_quantized").
func (m *Model) Quantization(tensor string) (Quant, bool) {
	q, ok := m.quant[tensor]
	return q, ok
}

// Initializer returns a copy of a constant tensor's shape and type, for tools
// that list weights.
func (m *Model) Initializer(name string) (dims []int, dt DType, ok bool) {
	v, ok := m.consts[name]
	if !ok {
		return nil, 0, false
	}
	return slices.Clone(v.shape), v.dt, true
}

// recordQuant remembers the output quantization of a QLinear-style node
// whose scale and zero point are constants.
func (m *Model) recordQuant(n *node, scaleIn, zpIn int) {
	if scaleIn >= len(n.Inputs) || len(n.Outputs) == 0 {
		return
	}
	s, ok := m.consts[n.Inputs[scaleIn]]
	if !ok || s.dt != Float32 || len(s.f32) != 1 {
		return
	}
	q := Quant{Scale: s.f32[0]}
	if zpIn < len(n.Inputs) && n.Inputs[zpIn] != "" {
		z, ok := m.consts[n.Inputs[zpIn]]
		if !ok {
			return
		}
		zp, err := z.zeroPoint("zero point")
		if err != nil {
			return
		}
		q.ZeroPoint = zp
	}
	m.quant[n.Outputs[0]] = q
}

// constInput returns input i of n if it is a constant, else nil.
func (m *Model) constInput(n *node, i int) *value {
	if i >= len(n.Inputs) || n.Inputs[i] == "" {
		return nil
	}
	return m.consts[n.Inputs[i]]
}

// Bounds on the window attributes of convolutions and pools. The largest in
// vision exports are DeepLab's dilated 3x3 convs (dilation and pad 72 at
// output stride 8) and ViT's 32x32 patch stride; maxWindow leaves a margin
// while keeping one node's padding from multiplying an activation's size
// (pads of 1e6 would ask for terabytes). A depthwise conv's group is its
// channel count, a few thousand at most.
const (
	maxWindow = 128
	maxGroup  = 1 << 16
)

// checkWindowAttrs bounds kernel_shape, strides, dilations, pads and group
// on any node, before its operator reads them.
func checkWindowAttrs(n *node) error {
	for _, name := range []string{"kernel_shape", "strides", "dilations", "pads"} {
		a, ok := n.attrs[name]
		if !ok {
			continue
		}
		lo := int64(1)
		if name == "pads" {
			lo = 0
		}
		vals := a.GetInts()
		if len(vals) > 2*maxRank {
			return fmt.Errorf("attribute %s: want at most %d values, found %d", name, 2*maxRank, len(vals))
		}
		for _, v := range vals {
			if v < lo || v > maxWindow {
				return fmt.Errorf("attribute %s %v: want values from %d to %d, found %d", name, vals, lo, maxWindow, v)
			}
		}
	}
	if a, ok := n.attrs["group"]; ok && (a.GetI() < 1 || a.GetI() > maxGroup) {
		return fmt.Errorf("attribute group: want 1 to %d, found %d", maxGroup, a.GetI())
	}
	return nil
}

func attrInt(n *node, name string, def int64) int64 {
	if a, ok := n.attrs[name]; ok {
		return a.GetI()
	}
	return def
}

func attrFloat(n *node, name string, def float32) float32 {
	if a, ok := n.attrs[name]; ok {
		return a.GetF()
	}
	return def
}

func attrInts(n *node, name string) []int64 {
	if a, ok := n.attrs[name]; ok {
		return a.GetInts()
	}
	return nil
}

func attrString(n *node, name, def string) string {
	if a, ok := n.attrs[name]; ok {
		return string(a.GetS())
	}
	return def
}

// operator is a registered ONNX operator: its arity and how to prepare a node.
type operator struct {
	minIn, maxIn int // maxIn < 0: unbounded
	prepare      func(m *Model, n *node) (kernel, error)
}

type opKey struct{ domain, op string }

var operators = map[opKey]operator{}

func register(domain, op string, minIn, maxIn int, prep func(m *Model, n *node) (kernel, error)) {
	operators[opKey{domain, op}] = operator{minIn, maxIn, prep}
}

// kernelFunc adapts a function to the kernel interface.
type kernelFunc func(ins []*value) ([]*value, error)

func (f kernelFunc) run(ins []*value) ([]*value, error) { return f(ins) }
