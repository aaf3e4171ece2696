"""PyTorch fixture for itscope's CNN from a spec: random weights (and
BatchNorm running statistics) in a torch model built by cnn_torch.py, saved
as safetensors under its state_dict names, with a batch of inputs and the
eval-mode outputs. model/train/cnn_test.go loads the weights into NewCNN by name
and must reproduce the outputs, which shows that a run's weights.safetensors
and PyTorch's state_dict are the same thing.
Run: /usr/bin/python3 testdata/train/make_cnn_fixture.py"""
import os

import numpy as np
import torch

import cnn_torch
import safetensors_io

here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(0)
for name, spec, outputs in [("flatten", "layers=2,channels=4-6,kernel=3-5,stride=1-2,pool=2-0,bn=on-off,size=64", 7),
                            ("gap", "layers=3,channels=3-4-5,pool=2,bn=on,readout=gap,size=64", 3)]:
    net = cnn_torch.build(spec, outputs)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    net.eval()
    x = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        y = net(x)
    tensors = {k: v.numpy() for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    tensors["input"] = x.numpy()
    tensors["output"] = y.numpy()
    path = os.path.join(here, f"cnn_{name}.safetensors")
    safetensors_io.write(path, tensors, {"cnn": spec, "neurons": str(outputs)})
    print("wrote", path, os.path.getsize(path), "bytes")
