#!/usr/bin/python3
"""Writes the PyTorch fixtures for itscope/compute/nn's tests.

Run with Debian's python3-torch (1.13), from the repository root:

    /usr/bin/python3 testdata/nn/make_torch_fixtures.py

layers.npz: for each case "<case>.<tensor>": the input x, the parameters,
a random upstream gradient dy, the forward output y and the gradients dx,
d<param> from autograd (float32, one thread, deterministic).

epoch.npz: one epoch of a fixed small CNN (16 images, batch 4, MSE) from
fixed initial weights and a fixed batch order, for SGD, Adam and AdamW:
"init.<param>", "x", "target", "order", "<opt>.losses", "<opt>.final.<param>".
"""
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models.resnet import BasicBlock, Bottleneck

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.manual_seed(414)
rng = np.random.default_rng(414)
here = os.path.dirname(os.path.abspath(__file__))
out = {}


def t(a):
    return torch.tensor(np.asarray(a, dtype=np.float32))


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def put(case, name, v):
    if isinstance(v, torch.Tensor):
        v = v.detach().numpy()
    out[f"{case}.{name}"] = np.array(v, dtype=np.float32, copy=True, order="C")


def run(case, module, x, pre=None, params=None):
    """Forward and backward of module on x with a random dy; records all."""
    xt = t(x).requires_grad_(True)
    inp = pre(xt) if pre else xt
    y = module(inp)
    dy = randn(*y.shape)
    y.backward(t(dy))
    put(case, "x", x)
    put(case, "y", y)
    put(case, "dy", dy)
    put(case, "dx", xt.grad)
    for name, p in (params or module).named_parameters():
        put(case, name, p)
        put(case, "d" + name, p.grad)
    for name, b in (params or module).named_buffers():
        if b.dtype == torch.float32:
            put(case, name, b)


def conv(case, x, *args, pre=None, **kw):
    m = nn.Conv2d(*args, **kw)
    with torch.no_grad():
        m.weight.copy_(t(randn(*m.weight.shape) * 0.5))
        if m.bias is not None:
            m.bias.copy_(t(randn(*m.bias.shape) * 0.5))
    run(case, m, x, pre=pre)


conv("conv_basic", randn(2, 3, 7, 7), 3, 4, 3, padding=1)
conv("conv_batch5", randn(5, 3, 6, 6), 3, 4, 3, padding=1)
conv("conv_stride", randn(2, 4, 9, 8), 4, 6, 3, stride=2, padding=1, bias=False)
conv("conv_dilated", randn(2, 3, 10, 9), 3, 5, 3, dilation=2, padding=2)
conv("conv_grouped", randn(2, 4, 6, 6), 4, 6, 3, groups=2, padding=1)
conv("conv_depthwise", randn(2, 4, 9, 9), 4, 8, 3, groups=4, stride=2, padding=1)
conv("conv_pointwise", randn(3, 6, 5, 5), 6, 5, 1)
conv("conv_rect", randn(2, 3, 8, 9), 3, 4, (3, 1), stride=(1, 2), padding=(1, 0))
# ONNX-style asymmetric pads (top 2, left 1, bottom 1, right 0) as F.pad then conv.
conv("conv_asympad", randn(2, 3, 7, 6), 3, 4, (2, 3), stride=(2, 1),
     pre=lambda v: F.pad(v, (1, 0, 2, 1)))

# BatchNorm in training: batch statistics, running statistics updated.
bn = nn.BatchNorm2d(4)
with torch.no_grad():
    bn.weight.copy_(t(1 + 0.3 * randn(4)))
    bn.bias.copy_(t(0.3 * randn(4)))
    bn.running_mean.copy_(t(0.2 * randn(4)))
    bn.running_var.copy_(t(1 + 0.2 * np.abs(randn(4))))
for name, b in bn.named_buffers():
    if b.dtype == torch.float32:
        put("bn_train", "before_" + name, b)
bn.train()
run("bn_train", bn, randn(3, 4, 5, 5) * 2 + 1)
bn.eval()
bn.zero_grad()
run("bn_eval", bn, randn(3, 4, 5, 5) * 2 + 1)

run("relu", nn.ReLU(), randn(2, 3, 4, 5))
run("relu6", nn.ReLU6(), randn(2, 3, 4, 5) * 5)
run("maxpool_k3s2p1", nn.MaxPool2d(3, 2, 1), randn(2, 3, 9, 9))
run("maxpool_k2", nn.MaxPool2d(2), randn(2, 3, 8, 7))
run("maxpool_ceil", nn.MaxPool2d(3, 2, ceil_mode=True), randn(1, 2, 8, 8))
run("avgpool_incpad", nn.AvgPool2d(3, 2, 1), randn(2, 3, 9, 8))
run("avgpool_excpad", nn.AvgPool2d(3, 2, 1, count_include_pad=False), randn(2, 3, 9, 8))
run("avgpool_ceil", nn.AvgPool2d(3, 2, 1, ceil_mode=True), randn(1, 2, 8, 8))
run("gap", nn.AdaptiveAvgPool2d(1), randn(2, 5, 4, 3))
lin = nn.Linear(12, 5)
run("linear", lin, randn(4, 12))
run("softmax", nn.Softmax(dim=1), randn(4, 7) * 3)
run("softmax4d", nn.Softmax(dim=1), randn(2, 3, 2, 2))

# A torchvision BasicBlock with a downsample shortcut and a Bottleneck, in
# training mode: names and gradients as torchvision has them.
for case, block in [
    ("basicblock", BasicBlock(4, 8, stride=2, downsample=nn.Sequential(
        nn.Conv2d(4, 8, 1, stride=2, bias=False), nn.BatchNorm2d(8)))),
    ("bottleneck", Bottleneck(8, 2)),
]:
    with torch.no_grad():
        for name, p in block.named_parameters():
            p.copy_(t(randn(*p.shape) * 0.5 + (1 if name.endswith("weight") and p.dim() == 1 else 0)))
    block.train()
    c = 4 if case == "basicblock" else 8
    run(case, block, randn(2, c, 8, 8))

# Losses: the value and the gradient with respect to the prediction.
pred, target = t(randn(4, 6)).requires_grad_(True), t(randn(4, 6))
loss = F.mse_loss(pred, target)
loss.backward()
put("mse", "pred", pred)
put("mse", "target", target)
put("mse", "loss", loss.reshape(1))
put("mse", "dpred", pred.grad)
logits = t(randn(5, 7) * 2).requires_grad_(True)
labels = torch.tensor([3, -100, 0, 6, 2])
loss = F.cross_entropy(logits, labels, ignore_index=-100)
loss.backward()
put("ce", "logits", logits)
put("ce", "labels", labels.float())
put("ce", "loss", loss.reshape(1))
put("ce", "dlogits", logits.grad)

np.savez(os.path.join(here, "layers.npz"), **out)

# One epoch of a fixed small CNN.
out = {}


def small_cnn():
    # No bias before the BatchNorm: its gradient is zero up to rounding, and
    # Adam would turn the rounding noise into full-size steps.
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1, bias=False), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(4, 8, 3, stride=2), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(8, 5))


init = small_cnn().state_dict()
x, target = randn(16, 3, 12, 12), randn(16, 5)
order = rng.permutation(16)
out["x"], out["target"], out["order"] = x, target, order.astype(np.float32)
for k, v in init.items():
    if v.dtype == torch.float32:
        out["init." + k] = v.numpy().copy()
for opt_name, make in [
    ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3)),
    ("adam", lambda ps: torch.optim.Adam(ps, lr=1e-3, weight_decay=1e-3)),
    ("adamw", lambda ps: torch.optim.AdamW(ps, lr=1e-3, weight_decay=1e-2)),
]:
    net = small_cnn()
    net.load_state_dict(init)
    net.train()
    opt = make(net.parameters())
    losses = []
    for b in range(0, 16, 4):
        idx = order[b:b + 4]
        opt.zero_grad()
        loss = F.mse_loss(net(t(x[idx])), t(target[idx]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out[opt_name + ".losses"] = np.array(losses, dtype=np.float32)
    for k, v in net.state_dict().items():
        if v.dtype == torch.float32:
            out[f"{opt_name}.final.{k}"] = v.numpy().copy()
np.savez(os.path.join(here, "epoch.npz"), **out)
print("wrote layers.npz and epoch.npz")
