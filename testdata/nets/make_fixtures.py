"""Make the float-path fixtures for model/ tests (run with Debian's /usr/bin/python3).

    cd testdata/nets && /usr/bin/python3 make_fixtures.py

Writes, beside this script:
  allops.onnx, allops/*.npy   a small network with every float operator itscope runs,
                              exported with torch.onnx.export; each intermediate is a
                              graph output named after its tap, and allops/<tap>.npy holds
                              PyTorch's value there (allops/input.npy is the input).
  resnet_basic.onnx,          reduced-width ResNets built from torchvision's BasicBlock and
  resnet_bottleneck.onnx      Bottleneck with torchvision's module names, layers [1,1,1,1],
                              base width 4; exported keeping parameter names (PRESERVE);
  *_folded.onnx               the same networks exported in eval mode, where torch folds
                              each BatchNorm into its conv and renames the initializers;
  resnet_*/<tap>.npy          PyTorch's outputs at conv1, layer1..4, avgpool, fc (forward
                              hooks), for input resnet_input.npy.
Torch 1.13 (Debian python3-torch), opset 13, CPU, float32.
"""
import os

import numpy as np
import onnx
import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, Bottleneck

torch.manual_seed(414)
OPSET = 13


def randomise_bn(model):
    # Non-trivial statistics so that BatchNorm folding is really exercised and
    # torch does not deduplicate identical initializers.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.2)
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 1.5)


def save(path, a):
    np.save(path, np.ascontiguousarray(a.detach().numpy().astype(np.float32)))


class AllOps(nn.Module):
    """Every float operator of issue 3; each forward step is one tap."""

    TAPS = ["conv", "bn", "relu", "dil", "dw", "clip", "maxpool", "avgpool", "add",
            "concat", "gap", "flatten", "reshape", "gemm", "dropout", "softmax"]

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.relu = nn.ReLU()
        self.dil = nn.Conv2d(8, 8, 3, padding=2, dilation=2, bias=False)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.clip = nn.ReLU6()
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avgpool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
        self.side = nn.Conv2d(8, 8, 1, stride=2, groups=2)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 5)
        self.drop = nn.Dropout(0.5)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        conv = self.conv(x)
        bn = self.bn(conv)
        relu = self.relu(bn)
        dil = self.dil(relu)
        dw = self.dw(dil)
        clip = self.clip(dw)
        maxpool = self.maxpool(clip)
        avgpool = self.avgpool(maxpool)
        add = avgpool + self.side(relu)
        concat = torch.cat([add, avgpool], dim=1)
        gap = self.gap(concat)
        flatten = torch.flatten(gap, 1)
        reshape = flatten.reshape(flatten.shape[0], 16)
        gemm = self.fc(reshape)
        dropout = self.drop(gemm)
        softmax = self.softmax(dropout)
        return (conv, bn, relu, dil, dw, clip, maxpool, avgpool, add, concat, gap,
                flatten, reshape, gemm, dropout, softmax)


def make_allops():
    m = AllOps()
    randomise_bn(m)
    m.eval()
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        outs = m(x)
    torch.onnx.export(m, x, "allops.onnx", training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, opset_version=OPSET,
                      input_names=["input"], output_names=AllOps.TAPS,
                      dynamic_axes={"input": {0: "batch"}})
    # torch exports eval-mode Dropout as Identity; put the ONNX Dropout operator
    # back (opset 13 Dropout without training_mode is the identity at inference).
    model = onnx.load("allops.onnx")
    for node in model.graph.node:
        if node.op_type == "Identity" and list(node.output) == ["dropout"]:
            node.op_type = "Dropout"
    ops = sorted({n.op_type for n in model.graph.node})
    print("allops operators:", ops)
    onnx.checker.check_model(model)
    onnx.save(model, "allops.onnx")
    os.makedirs("allops", exist_ok=True)
    save("allops/input.npy", x)
    for name, out in zip(AllOps.TAPS, outs):
        save("allops/%s.npy" % name, out)


class SmallResNet(nn.Module):
    """torchvision's ResNet with a chosen base width, same module names."""

    def __init__(self, block, layers, width, num_classes):
        super().__init__()
        self.inplanes = width
        self.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.layer1 = self._make_layer(block, width, layers[0])
        self.layer2 = self._make_layer(block, width * 2, layers[1], stride=2)
        self.layer3 = self._make_layer(block, width * 4, layers[2], stride=2)
        self.layer4 = self._make_layer(block, width * 8, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(width * 8 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(
                nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        for _ in range(1, blocks):
            layers.append(block(self.inplanes, planes))
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


RESNET_TAPS = ["conv1", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"]


def make_resnet(name, block, x):
    m = SmallResNet(block, [1, 1, 1, 1], 4, 10)
    randomise_bn(m)
    m.eval()
    outs = {}
    for tap in RESNET_TAPS:
        getattr(m, tap).register_forward_hook(
            lambda mod, inp, out, tap=tap: outs.__setitem__(tap, out.detach().clone()))
    with torch.no_grad():
        m(x)
    os.makedirs(name, exist_ok=True)
    for tap in RESNET_TAPS:
        save("%s/%s.npy" % (name, tap), outs[tap])
    kw = dict(opset_version=OPSET, input_names=["input"], output_names=["output"],
              dynamic_axes={"input": {0: "batch"}})
    torch.onnx.export(m, x, name + ".onnx", training=torch.onnx.TrainingMode.PRESERVE,
                      do_constant_folding=False, **kw)
    torch.onnx.export(m, x, name + "_folded.onnx", **kw)


def main():
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    make_allops()
    x = torch.randn(2, 3, 64, 64)
    save("resnet_input.npy", x)
    make_resnet("resnet_basic", BasicBlock, x)
    make_resnet("resnet_bottleneck", Bottleneck, x)


if __name__ == "__main__":
    main()
