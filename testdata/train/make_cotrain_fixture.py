"""PyTorch fixture for one co-training step (model/train/cotrain_step_test.go).

    /usr/bin/python3 testdata/train/make_cotrain_fixture.py

A reduced torchvision ResNet (BasicBlock, layers [1,1,1,1], base width 4,
10 classes, random BatchNorm statistics) is exported to cotrain_resnet.onnx
keeping its state_dict names. Its stages from layer3 on are co-trained as
itscope does: each BatchNorm folded into its conv (torch's
fuse_conv_bn_eval), global average pooling, one linear head whose first
NEURONS outputs regress the targets (MSE) and whose others are class logits
(cross-entropy, weighed by LAMBDA), one Adam step (weight decay added to the
gradient). cotrain_step.safetensors holds the images, the targets, the
labels, the head's starting weights, the loss and every parameter after the
step, under itscope's names ("trunk.layer3.0.conv1.weight", "head.bias").
Torch 1.13 (Debian python3-torch), CPU, float32, opset 13.
"""
import copy
import os

import torch
import torch.nn as nn
from torch.nn.utils.fusion import fuse_conv_bn_eval
from torchvision.models.resnet import BasicBlock, ResNet

import safetensors_io

NEURONS, CLASSES, LAMBDA, LR, DECAY = 5, 3, 0.7, 1e-2, 1e-3
here = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(11)


def small_resnet(width=4, classes=10):
    """torchvision's ResNet with the stem narrowed to width channels."""
    m = ResNet(BasicBlock, [1, 1, 1, 1], num_classes=classes)
    m.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
    m.bn1 = nn.BatchNorm2d(width)
    m.inplanes = width
    m.layer1 = m._make_layer(BasicBlock, width, 1)
    m.layer2 = m._make_layer(BasicBlock, width * 2, 1, stride=2)
    m.layer3 = m._make_layer(BasicBlock, width * 4, 1, stride=2)
    m.layer4 = m._make_layer(BasicBlock, width * 8, 1, stride=2)
    m.fc = nn.Linear(width * 8, classes)
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.normal_(0, 0.2)
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
    return m.eval()


def folded(layer):
    """layer with every conv+BatchNorm pair fused, as itscope trains it."""
    layer = copy.deepcopy(layer)
    for block in layer:
        block.conv1, block.bn1 = fuse_conv_bn_eval(block.conv1, block.bn1), nn.Identity()
        block.conv2, block.bn2 = fuse_conv_bn_eval(block.conv2, block.bn2), nn.Identity()
        if block.downsample is not None:
            block.downsample[0] = fuse_conv_bn_eval(block.downsample[0], block.downsample[1])
            block.downsample[1] = nn.Identity()
    return layer


def main():
    net = small_resnet()
    x = torch.randn(4, 3, 32, 32)
    torch.onnx.export(net, x, os.path.join(here, "cotrain_resnet.onnx"), opset_version=13,
                      training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False,
                      input_names=["input"], output_names=["output"], dynamic_axes={"input": {0: "batch"}})
    with torch.no_grad():
        frozen = net.layer2(net.layer1(net.maxpool(net.relu(net.bn1(net.conv1(x))))))
    trunk = nn.Sequential()
    trunk.add_module("layer3", folded(net.layer3))
    trunk.add_module("layer4", folded(net.layer4))
    head = nn.Linear(32, NEURONS + CLASSES)
    model = nn.Sequential()
    model.add_module("trunk", trunk)
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flatten", nn.Flatten())
    model.add_module("head", head)
    model.train()
    targets = torch.randn(4, NEURONS)
    labels = torch.tensor([0, 2, 1, 2])
    start = {"start." + k: v.detach().clone().numpy() for k, v in head.state_dict().items()}

    opt = torch.optim.Adam(model.parameters(), lr=LR, weight_decay=DECAY)
    opt.zero_grad()
    out = model(frozen)
    loss = nn.functional.mse_loss(out[:, :NEURONS], targets) + \
        LAMBDA * nn.functional.cross_entropy(out[:, NEURONS:], labels)
    loss.backward()
    opt.step()

    tensors = {"after." + k: v.detach().numpy() for k, v in model.state_dict().items()}
    tensors.update(start)
    tensors["images"] = x.numpy()
    tensors["targets"] = targets.numpy()
    tensors["labels"] = labels.float().numpy()
    tensors["loss"] = loss.detach().reshape(1).numpy()
    path = os.path.join(here, "cotrain_step.safetensors")
    safetensors_io.write(path, tensors, {"neurons": str(NEURONS), "classes": str(CLASSES), "lambda": str(LAMBDA),
                                         "lr": str(LR), "weight_decay": str(DECAY)})
    print("wrote", path, os.path.getsize(path), "bytes; loss", loss.item())


if __name__ == "__main__":
    main()
