#!/usr/bin/python3
"""Fixture for itscope's float ONNX path: a small CNN using every float operator
itscope runs (Conv with stride/padding/dilation/groups, BatchNormalization, Relu,
Clip (ReLU6), MaxPool (ceil_mode), AveragePool, GlobalAveragePool, Add, Concat,
Flatten, Reshape, Gemm, MatMul, Dropout, Identity, Softmax, and the Cast and
Constant nodes the exporter adds), exported by torch.onnx.export
with its intermediate tensors as extra graph outputs, plus PyTorch's values for
one seeded input batch.

Needs Debian python3-torch (1.13) and python3-onnx. Run from this directory:
    /usr/bin/python3 make_float_net.py
Writes float_net.onnx, float_net.input.npy and float_net.<output>.npy.
"""
import numpy as np
import torch
from torch import nn

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, padding=2, dilation=2, groups=8, bias=False)
        self.bn2 = nn.BatchNorm2d(8)
        self.bn3 = nn.BatchNorm2d(8)  # after an Add, so the export cannot fold it into a Conv
        self.pw = nn.Conv2d(8, 16, 1)
        self.branch = nn.Conv2d(8, 8, (1, 3), padding=(0, 1), groups=2)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.avg = nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False)
        self.fc = nn.Linear(24, 10)
        self.proj = nn.Parameter(torch.randn(10, 6) * 0.3)
        self.drop = nn.Dropout(0.5)

    def forward(self, x):
        a = torch.relu(self.bn1(self.conv1(x)))
        b = torch.clamp(self.bn2(self.dw(a)), 0, 6)      # ReLU6 -> Clip
        r = self.bn3(a + b)                                # Add, BatchNormalization
        c = torch.cat([self.pw(r), self.branch(r)], 1)     # Concat (16 + 8)
        p = self.pool(c)
        q = self.avg(p)
        g = torch.flatten(nn.functional.adaptive_avg_pool2d(q, 1), 1)   # GlobalAveragePool, Flatten
        logits = self.fc(self.drop(g))                     # Gemm
        z = torch.reshape(logits, (-1, 10)) @ self.proj    # Reshape, MatMul
        return a, r, c, p, q, logits, z, torch.softmax(z, dim=1)


names = ['relu1', 'add', 'concat', 'maxpool', 'avgpool', 'gemm', 'matmul', 'softmax']
net = Net().eval()
with torch.no_grad():  # non-trivial BatchNorm statistics
    for bn in (net.bn1, net.bn2, net.bn3):
        bn.running_mean.uniform_(-0.5, 0.5)
        bn.running_var.uniform_(0.5, 2.0)
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-0.2, 0.2)
x = torch.randn(2, 3, 20, 18)
torch.onnx.export(net, x, 'float_net.onnx', input_names=['input'], output_names=names, opset_version=13,
                  do_constant_folding=False, dynamic_axes={'input': {0: 'batch'}})
with torch.no_grad():
    outs = net(x)
np.save('float_net.input.npy', x.numpy())
for n, o in zip(names, outs):
    np.save('float_net.%s.npy' % n, o.numpy())

# Dropout and Identity vanish from eval-mode exports; put them back (on the
# Gemm's input) so the fixture covers them.
import onnx
from onnx import helper
m = onnx.load('float_net.onnx')
gemm = next(n for n in m.graph.node if n.op_type == 'Gemm')
src = gemm.input[0]
i = list(m.graph.node).index(gemm)
m.graph.node.insert(i, helper.make_node('Dropout', [src], ['dropped'], name='Dropout_inserted'))
m.graph.node.insert(i + 1, helper.make_node('Identity', ['dropped'], ['identity'], name='Identity_inserted'))
gemm.input[0] = 'identity'
onnx.checker.check_model(m)
onnx.save(m, 'float_net.onnx')
ops = sorted({n.op_type for n in m.graph.node})
print('operators:', ' '.join(ops))
