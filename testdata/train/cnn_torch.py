"""The PyTorch twin of itscope's CNN from a spec (model/train/cnn.go): a flat
nn.Sequential numbered as itscope numbers its layers, so a run's
weights.safetensors loads with load_state_dict. Usage from Python:

    import cnn_torch, safetensors_io
    tensors, meta = safetensors_io.read("RUN/weights.safetensors")
    net = cnn_torch.build(meta["cnn"], int(meta["neurons"]))
    cnn_torch.load(net, tensors)          # then net.eval(); net(x) * std + mean
"""
import torch
import torch.nn as nn


def parse(spec):
    kv = dict(item.split("=", 1) for item in spec.split(",") if item)
    n = int(kv.get("layers", len(kv.get("channels", "32-64-128").split("-"))))

    def per_block(key, default, conv=int):
        vals = kv.get(key, default).split("-")
        vals = vals * n if len(vals) == 1 else vals
        return [conv(v) for v in vals]

    default_channels = "-".join(["32", "64", "128", "256", "256"][:n])
    return dict(layers=n, channels=per_block("channels", default_channels), kernel=per_block("kernel", "3"),
                stride=per_block("stride", "1"), pool=per_block("pool", "2"),
                bn=per_block("bn", "on", lambda v: v == "on"), dropout=per_block("dropout", "0", float),
                size=int(kv.get("size", 64)), readout=kv.get("readout", "flatten"))


def build(spec, outputs):
    s = parse(spec)
    layers, c_in, side = [], 3, s["size"]
    for b in range(s["layers"]):
        k, st = s["kernel"][b], s["stride"][b]
        layers.append(nn.Conv2d(c_in, s["channels"][b], k, stride=st, padding=k // 2))
        side = (side + 2 * (k // 2) - k) // st + 1
        if s["bn"][b]:
            layers.append(nn.BatchNorm2d(s["channels"][b]))
        layers.append(nn.ReLU())
        if s["pool"][b] > 1:
            layers.append(nn.MaxPool2d(s["pool"][b]))
            side //= s["pool"][b]
        if s["dropout"][b] > 0:
            layers.append(nn.Dropout(s["dropout"][b]))
        c_in = s["channels"][b]
    if s["readout"] == "gap":
        layers.append(nn.AdaptiveAvgPool2d(1))
        side = 1
    layers += [nn.Flatten(), nn.Linear(c_in * side * side, outputs)]
    return nn.Sequential(*layers)


def load(net, tensors):
    state = {k: torch.from_numpy(v.copy()) for k, v in tensors.items() if not k.startswith("target.")}
    missing, unexpected = net.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert all(m.endswith("num_batches_tracked") for m in missing), missing
