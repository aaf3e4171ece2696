package onnx

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"strings"
	"sync"

	"gorgonia.org/tensor"
)

// Run executes the graph on inputs (keyed by graph input name) and returns
// the requested tensors: any node output (a tap), graph input or
// initializer, by name; with no names, the graph outputs. The batch
// dimension is free. Intermediate tensors are dropped as soon as their last
// consumer has run, so memory stays bounded by the widest point of the graph
// plus the requested taps. ctx is checked between nodes.
func (m *Model) Run(ctx context.Context, inputs map[string]*tensor.Dense, outputs ...string) (map[string]*tensor.Dense, error) {
	vals, err := m.run(ctx, inputs, outputs)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*tensor.Dense, len(vals))
	for k, v := range vals {
		out[k] = v.toDense()
	}
	return out, nil
}

// Shapes runs the graph once on zero inputs of the given shapes (nil: every
// dynamic dimension set to 1) and returns the shape of each named tensor
// (all node outputs if names is empty), for listing taps.
func (m *Model) Shapes(ctx context.Context, inputShapes map[string][]int, names ...string) (map[string][]int, error) {
	ins := map[string]*tensor.Dense{}
	for _, in := range m.inputs {
		shape, ok := inputShapes[in.Name]
		if !ok {
			shape = make([]int, len(in.Dims))
			for i, d := range in.Dims {
				shape[i] = max(d, 1)
			}
		}
		if err := checkActivation(shape); err != nil {
			return nil, fmt.Errorf("onnx: %s: input %q: %w", m.name, in.Name, err)
		}
		dt := in.Type
		if dt == 0 {
			dt = Float32
		}
		ins[in.Name] = newValue(dt, shape).toDense()
	}
	if len(names) == 0 {
		for _, n := range m.nodes {
			for _, o := range n.Outputs {
				if o != "" {
					names = append(names, o)
				}
			}
		}
	}
	shapes := map[string][]int{}
	// Run node by node keeping only shapes, so listing taps of a big network
	// does not hold every activation at once.
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	_, err := m.execute(ctx, ins, nil, func(name string, v *value) {
		if want[name] {
			shapes[name] = append([]int(nil), v.shape...)
		}
	})
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, ok := shapes[n]; !ok {
			if v, ok := m.consts[n]; ok {
				shapes[n] = append([]int(nil), v.shape...)
			} else if t, ok := ins[n]; ok {
				shapes[n] = append([]int(nil), t.Shape()...)
			} else {
				return nil, fmt.Errorf("onnx: %s: no tensor %q in the graph", m.name, n)
			}
		}
	}
	return shapes, nil
}

// Dequantize returns the real values of a tap: float32 tensors as they are,
// quantized ones (see Quantization) as Scale * (q - ZeroPoint).
func (m *Model) Dequantize(name string, t *tensor.Dense) (*tensor.Dense, error) {
	v, err := fromDense(t)
	if err != nil {
		return nil, fmt.Errorf("onnx: %s: tensor %q: %w", m.name, name, err)
	}
	if v.dt == Float32 {
		return t, nil
	}
	q, ok := m.quant[name]
	if !ok {
		return nil, fmt.Errorf("onnx: %s: tensor %q is %v and has no known quantization", m.name, name, v.dt)
	}
	out := newValue(Float32, v.shape)
	switch v.dt {
	case Uint8:
		for i, x := range v.u8 {
			out.f32[i] = float32(int32(x)-q.ZeroPoint) * q.Scale
		}
	case Int8:
		for i, x := range v.i8 {
			out.f32[i] = float32(int32(x)-q.ZeroPoint) * q.Scale
		}
	default:
		return nil, fmt.Errorf("onnx: %s: tensor %q: cannot dequantize %v", m.name, name, v.dt)
	}
	return out.toDense(), nil
}

func (m *Model) run(ctx context.Context, inputs map[string]*tensor.Dense, outputs []string) (map[string]*value, error) {
	if len(outputs) == 0 {
		for _, o := range m.outputs {
			outputs = append(outputs, o.Name)
		}
	}
	if out, ok := m.runSplit(ctx, inputs, outputs); ok {
		return out, nil
	}
	return m.execute(ctx, inputs, outputs, nil)
}

// runSplit runs a batch as one sub-batch per core, each through the whole
// graph, so every core keeps its own images' activations in its caches
// instead of all cores sharing each layer of a large batch. It declines
// (ok false) for batches of one, inputs without a common batch dimension,
// or outputs that do not keep the batch as their first dimension (shape
// tensors); the caller then runs the batch whole. Errors are left to that
// run too, so they are reported once.
func (m *Model) runSplit(ctx context.Context, inputs map[string]*tensor.Dense, outputs []string) (map[string]*value, bool) {
	parts := runtime.GOMAXPROCS(0)
	batch := -1
	vals := map[string]*value{}
	for name, t := range inputs {
		v, err := fromDense(t)
		if err != nil || len(v.shape) == 0 || (batch >= 0 && v.shape[0] != batch) {
			return nil, false
		}
		batch, vals[name] = v.shape[0], v
	}
	parts = min(parts, batch)
	if parts < 2 {
		return nil, false
	}
	results := make([]map[string]*value, parts)
	errs := make([]error, parts)
	// One goroutine per part rather than parallel.For: a part runs for
	// milliseconds, and the caller would spin waiting for the slowest while
	// the parts' own kernel regions need the cores.
	var wg sync.WaitGroup
	for p := range parts {
		lo, hi := p*batch/parts, (p+1)*batch/parts
		sub := map[string]*tensor.Dense{}
		for name, v := range vals {
			sub[name] = v.rows(lo, hi).toDense()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[p], errs[p] = m.execute(ctx, sub, outputs, nil)
		}()
	}
	wg.Wait()
	out := map[string]*value{}
	for _, o := range outputs {
		var pieces []*value
		for p := range parts {
			if errs[p] != nil {
				return nil, false
			}
			v := results[p][o]
			if v == nil || len(v.shape) == 0 || v.shape[0] != (p+1)*batch/parts-p*batch/parts {
				return nil, false
			}
			pieces = append(pieces, v)
		}
		out[o] = concatRows(pieces)
	}
	return out, true
}

// rows views rows [lo,hi) of the first dimension.
func (v *value) rows(lo, hi int) *value {
	inner := numel(v.shape[1:])
	w := *v
	w.shape = append([]int{hi - lo}, v.shape[1:]...)
	a, b := lo*inner, hi*inner
	switch v.dt {
	case Float32:
		w.f32 = v.f32[a:b]
	case Uint8:
		w.u8 = v.u8[a:b]
	case Int8:
		w.i8 = v.i8[a:b]
	case Int32:
		w.i32 = v.i32[a:b]
	case Int64:
		w.i64 = v.i64[a:b]
	}
	w.pooled = false
	return &w
}

// concatRows joins values along their first dimension.
func concatRows(vs []*value) *value {
	shape := append([]int(nil), vs[0].shape...)
	shape[0] = 0
	for _, v := range vs {
		shape[0] += v.shape[0]
	}
	out := newValue(vs[0].dt, shape)
	off := 0
	for _, v := range vs {
		copyRange(out, off, v, 0, v.len())
		off += v.len()
	}
	return out
}

// execute runs the nodes needed for outputs (all nodes if observe is set),
// releasing each intermediate after its last consumer.
func (m *Model) execute(ctx context.Context, inputs map[string]*tensor.Dense, outputs []string, observe func(string, *value)) (map[string]*value, error) {
	env := map[string]*value{}
	for _, in := range m.inputs {
		t, ok := inputs[in.Name]
		if !ok {
			return nil, fmt.Errorf("onnx: %s: missing input %q (want %v %v)", m.name, in.Name, in.Type, in.Dims)
		}
		v, err := fromDense(t)
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: input %q: %w", m.name, in.Name, err)
		}
		if v.dt != in.Type && in.Type != 0 {
			return nil, fmt.Errorf("onnx: %s: input %q: want %v, found %v", m.name, in.Name, in.Type, v.dt)
		}
		if len(in.Dims) > 0 {
			bad := len(v.shape) != len(in.Dims)
			for i := 0; !bad && i < len(in.Dims); i++ {
				bad = in.Dims[i] > 0 && in.Dims[i] != v.shape[i]
			}
			if bad {
				return nil, fmt.Errorf("onnx: %s: input %q: want shape %v (-1 is free), found %v", m.name, in.Name, in.Dims, v.shape)
			}
		}
		env[in.Name] = v
	}
	for name := range inputs {
		if _, ok := env[name]; !ok {
			return nil, fmt.Errorf("onnx: %s: unknown input %q", m.name, name)
		}
	}
	pl, err := m.plan(outputs, observe != nil)
	if err != nil {
		return nil, err
	}
	need, wanted, shapeOnly := pl.need, pl.wanted, pl.shapeOnly
	uses := maps.Clone(pl.uses)
	result := map[string]*value{}
	for _, o := range outputs {
		if v := env[o]; v != nil {
			result[o] = v
		} else if v := m.consts[o]; v != nil {
			result[o] = v
		}
	}
	ins := make([]*value, 0, 16)
	for i, n := range m.nodes {
		if !need[i] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		ins = ins[:0]
		for _, in := range n.Inputs {
			var v *value
			if in != "" {
				if v = env[in]; v == nil {
					v = m.consts[in]
				}
			}
			ins = append(ins, v)
		}
		var outs []*value
		var err error
		if shapeOnly[i] {
			// Only Shape reads this elementwise node's output: skip the work.
			outs = []*value{{dt: ins[0].dt, shape: ins[0].shape}}
		} else {
			outs, err = runKernel(n, ins)
		}
		if err != nil {
			return nil, fmt.Errorf("onnx: %s: node %d %q (%s): %w", m.name, n.Index, n.Name, n.OpType, err)
		}
		for j, o := range n.Outputs {
			if o == "" || j >= len(outs) {
				continue
			}
			if observe != nil {
				observe(o, outs[j])
			}
			if wanted[o] {
				result[o] = outs[j]
			}
			if uses[o] > 0 {
				env[o] = outs[j]
				if liveHook != nil {
					liveHook(len(env))
				}
			}
		}
		for _, in := range n.Inputs {
			if uses[in]--; uses[in] == 0 {
				v := env[in]
				delete(env, in)
				if _, kept := result[in]; !kept && observe == nil {
					release(v, env, result)
				}
			}
		}
	}
	return result, nil
}

// runPlan is what a run works out from the requested outputs alone:
// which nodes it needs, how many needed consumers each tensor has, and
// which nodes only feed Shape. Runs without an observer keep it per set of
// outputs (Model.plans): working it out on every run cost 3-5% of a
// batch-1 MobileNetV2 run (BENCHMARKS.md).
type runPlan struct {
	need, shapeOnly []bool
	wanted          map[string]bool
	uses            map[string]int
}

// plan returns the run plan for outputs; every node is needed when the
// run is observed (Shapes).
func (m *Model) plan(outputs []string, observed bool) (*runPlan, error) {
	key := strings.Join(outputs, "\x00")
	if !observed {
		if pl, ok := m.plans.Load(key); ok {
			return pl.(*runPlan), nil
		}
	}
	pl := &runPlan{need: make([]bool, len(m.nodes)), shapeOnly: make([]bool, len(m.nodes)), wanted: map[string]bool{}, uses: map[string]int{}}
	isInput := map[string]bool{}
	for _, in := range m.inputs {
		isInput[in.Name] = true
	}
	var stack []int
	for _, o := range outputs {
		pl.wanted[o] = true
		if i, ok := m.produce[o]; ok && !m.nodes[i].folded {
			stack = append(stack, i)
		} else if m.consts[o] == nil && !isInput[o] {
			return nil, fmt.Errorf("onnx: %s: no tensor %q in the graph (see Nodes for the taps)", m.name, o)
		}
	}
	if observed {
		for i, n := range m.nodes {
			if !n.folded {
				stack = append(stack, i)
			}
		}
	}
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if pl.need[i] {
			continue
		}
		pl.need[i] = true
		for _, in := range m.nodes[i].Inputs {
			if p, ok := m.produce[in]; ok && !pl.need[p] && !m.nodes[p].folded {
				stack = append(stack, p)
			}
		}
	}
	for i, n := range m.nodes {
		if pl.need[i] {
			for _, in := range n.Inputs {
				pl.uses[in]++
			}
		}
	}
	if observed {
		return pl, nil
	}
	// Nodes whose output only feeds Shape (DequantizeLinear -> Shape in
	// quantized exports) need only the shape, which elementwise ops keep.
	consumers := map[string][]string{}
	for i, n := range m.nodes {
		if pl.need[i] {
			for _, in := range n.Inputs {
				consumers[in] = append(consumers[in], n.OpType)
			}
		}
	}
	for i, n := range m.nodes {
		if !pl.need[i] || !elementwise[n.OpType] || len(n.Outputs) != 1 || pl.wanted[n.Outputs[0]] {
			continue
		}
		cs := consumers[n.Outputs[0]]
		pl.shapeOnly[i] = len(cs) > 0
		for _, op := range cs {
			pl.shapeOnly[i] = pl.shapeOnly[i] && op == "Shape"
		}
	}
	m.plans.Store(key, pl)
	return pl, nil
}

// elementwise lists operators whose output has their first input's shape.
var elementwise = map[string]bool{"DequantizeLinear": true, "QuantizeLinear": true, "Relu": true, "Clip": true, "Identity": true}

// liveHook, when set (by tests), sees the number of live tensors after
// each addition.
var liveHook func(live int)

// runKernel runs one node, turning a panic (a kernel meeting a tensor it
// did not validate) into an error, so bad input never crashes the caller.
func runKernel(n *node, ins []*value) (outs []*value, err error) {
	defer func() {
		if r := recover(); r != nil {
			outs, err = nil, fmt.Errorf("internal error on inputs %s: %v", describe(ins), r)
		}
	}()
	outs, err = n.k.run(ins)
	if err == nil && len(outs) < len(n.Outputs) {
		err = fmt.Errorf("produced %d outputs, want %d", len(outs), len(n.Outputs))
	}
	return outs, err
}

func describe(vs []*value) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		if v == nil {
			b.WriteString("(none)")
			continue
		}
		fmt.Fprintf(&b, "%v %v", v.dt, v.shape)
	}
	return b.String()
}
