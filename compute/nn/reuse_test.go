package nn

import (
	"math/rand/v2"
	"testing"
)

func reuseTestNet(t *testing.T, seed uint64) *Sequential {
	t.Helper()
	conv1, err := NewConv2D(ConvSpec{InC: 3, OutC: 4, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}, Bias: true})
	if err != nil {
		t.Fatal(err)
	}
	conv2, err := NewConv2D(ConvSpec{InC: 4, OutC: 6, Kernel: [2]int{3, 3}, Pad: [4]int{1, 1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	pool, err := NewMaxPool2D(PoolSpec{Kernel: [2]int{2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	lin, err := NewLinear(6*4*4, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	net := NewSequential().Append("c1", conv1).Append("bn1", NewBatchNorm2D(4)).Append("r1", NewReLU()).
		Append("c2", conv2).Append("r2", NewReLU()).Append("p", pool).Append("f", &Flatten{}).Append("l", lin)
	InitDefault(net, NewRand(seed))
	return net
}

// TestReuseBuffersMatchesFresh runs the same steps (with a smaller last
// batch and an eval pass between) on a net reusing its buffers and on one
// allocating afresh: every output, input gradient and parameter gradient
// must be identical.
func TestReuseBuffersMatchesFresh(t *testing.T) {
	fresh, reusing := reuseTestNet(t, 7), reuseTestNet(t, 7)
	ReuseBuffers(reusing, true)
	rng := rand.New(rand.NewPCG(1, 2))
	for step, n := range []int{3, 3, 2, 3} {
		x := New(n, 3, 8, 8)
		for i := range Float32s(x) {
			Float32s(x)[i] = float32(rng.NormFloat64())
		}
		dy := New(n, 5)
		for i := range Float32s(dy) {
			Float32s(dy)[i] = float32(rng.NormFloat64())
		}
		var outs, dxs [2][]float32
		for k, net := range []*Sequential{fresh, reusing} {
			for _, p := range net.Params() {
				clear(Float32s(p.Grad))
			}
			if step == 2 {
				if _, err := net.Forward(x, false); err != nil {
					t.Fatal(err)
				}
			}
			y, err := net.Forward(x, true)
			if err != nil {
				t.Fatal(err)
			}
			dx, err := net.Backward(dy)
			if err != nil {
				t.Fatal(err)
			}
			outs[k] = append([]float32(nil), Float32s(y)...)
			dxs[k] = append([]float32(nil), Float32s(dx)...)
		}
		same := func(what string, a, b []float32) {
			if len(a) != len(b) {
				t.Fatalf("step %d %s: lengths %d and %d", step, what, len(a), len(b))
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("step %d %s[%d]: fresh %v, reusing %v", step, what, i, a[i], b[i])
				}
			}
		}
		same("output", outs[0], outs[1])
		same("dx", dxs[0], dxs[1])
		pf, pr := fresh.Params(), reusing.Params()
		for i := range pf {
			same(pf[i].Name+".grad", Float32s(pf[i].Grad), Float32s(pr[i].Grad))
		}
	}
}

// TestReuseBuffersShareShortLivedValues checks that a reusing step keeps
// its short-lived values in the Sequential's two arena slots: no layer
// holds a gradient buffer of its own, nor an output buffer where only the
// next layer reads that output (bn1 into r1, c2 into r2 or, with the ReLU
// fused into the pool, into the pool through an Identity, r2 into the pool),
// while outputs kept for a Backward (c1's, read by bn1) stay the layer's.
func TestReuseBuffersShareShortLivedValues(t *testing.T) {
	for _, fuse := range []bool{false, true} {
		net := reuseTestNet(t, 7)
		if fuse && FuseReLUMaxPool(net) != 1 {
			t.Fatal("r2 not fused into the pool")
		}
		ReuseBuffers(net, true)
		rng := rand.New(rand.NewPCG(3, 4))
		x := New(3, 3, 8, 8)
		for i := range Float32s(x) {
			Float32s(x)[i] = float32(rng.NormFloat64())
		}
		y, err := net.Forward(x, true)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := net.Backward(New(y.Shape()...)); err != nil {
			t.Fatal(err)
		}
		shortLived := map[string]bool{"bn1": true, "c2": true, "r2": true}
		for _, ch := range net.Children() {
			st, ok := ch.Layer.(stepper)
			if !ok {
				continue
			}
			b := st.steps()
			if b.grad != nil {
				t.Errorf("fused %v: %s keeps a gradient buffer of %d floats", fuse, ch.Name, len(b.grad))
			}
			if got := b.out == nil; got != shortLived[ch.Name] {
				t.Errorf("fused %v: %s: output in the arena = %v, want %v", fuse, ch.Name, got, shortLived[ch.Name])
			}
			if b.lent != nil {
				t.Errorf("fused %v: %s: loan not settled", fuse, ch.Name)
			}
		}
		for i, s := range net.arena.slots {
			if len(s) == 0 {
				t.Errorf("fused %v: arena slot %d unused", fuse, i)
			}
		}
		ReuseBuffers(net, false)
		if net.arena.slots[0] != nil || net.arena.slots[1] != nil {
			t.Errorf("fused %v: ReuseBuffers(false) keeps the arena", fuse)
		}
		// Off also forgets what the step kept for Backward, which lived in
		// the dropped buffers.
		for _, ch := range net.Children() {
			var kept bool
			switch l := ch.Layer.(type) {
			case *Conv2D:
				kept = l.x != nil
			case *BatchNorm2D:
				kept = l.x != nil
			case *ReLU:
				kept = l.positive != nil || l.posBuf != nil
			case *MaxPool2D:
				kept = l.argmax != nil || l.argBuf != nil
			case *Linear:
				kept = l.x != nil
			}
			if kept {
				t.Errorf("fused %v: %s keeps its training pass after ReuseBuffers(false)", fuse, ch.Name)
			}
		}
	}
}
