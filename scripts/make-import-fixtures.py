#!/usr/bin/env python3
"""Regenerates test/fixtures/import/*: small DenseNets in the formats ImageNet weights are published in.

A seeded torchvision DenseNet (growth 4, blocks 1-2-1-1, 8 initial features, bottleneck 2, 1000 classes) with
non-trivial batch-norm statistics, saved as
  densenet-small.pth               torch.save zip format, torchvision's current key names (norm1, conv1, ...)
  densenet-small-old-keys.pth      zip format, the old names of torchvision's published files (norm.1, conv.1, ...)
                                   and non-contiguous tensors (a transposed view, views at an offset into a shared
                                   storage, a stride-2 view), which torch.save stores as storage + offset + strides
  densenet-small-legacy.pth        the pre-1.6 format of densenet121-a639ec97.pth (old names, no
                                   num_batches_tracked, as that 2017 file), with the same kinds of views
  densenet-small-torch03.pth       the legacy format as PyTorch 0.3 under Python 2 wrote it (the vintage of
                                   densenet121-a639ec97.pth): str as BINSTRING, OrderedDict reduced to a list of pairs,
                                   tensors as torch._utils._rebuild_tensor(storage, offset, size, stride)
  densenet-small-keras.h5          Keras 2's save_weights layout of keras.applications' DenseNet121 (full model,
                                   with fc1000), kernels HWIO
  densenet-small-keras-notop.h5    the same without the classifier (the "_notop" file)
  densenet-small-missing-key.pth   zip, one backbone tensor left out
  evil-global.pth                  zip whose pickle calls posix.system (never to be executed)
  densenet-small-expected.safetensors  an input and the eval-mode torchvision outputs: pooled features, logits
test/models/import/*.test.ts rebuilds the same net in tumorscope, imports each file and compares.
Run: /usr/bin/python3 scripts/make-import-fixtures.py   (needs torch, torchvision, h5py)
"""
import io
import json
import os
import pickle
import re
import struct
from collections import OrderedDict

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision

from torch_reference import save_safetensors

OUT = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "import")
CONFIG = dict(growth_rate=4, block_config=(1, 2, 1, 1), num_init_features=8, bn_size=2, num_classes=1000)


def build_net():
    torch.manual_seed(0)
    net = torchvision.models.DenseNet(**CONFIG)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-0.3, 0.3)
                m.running_var.uniform_(0.5, 2.0)
                m.num_batches_tracked.fill_(7)
        net.classifier.bias.uniform_(-0.1, 0.1)
    return net.eval()


def old_names(state):
    """torchvision's published DenseNet files name dense-layer members 'norm.1' where the model says 'norm1'."""
    return OrderedDict((re.sub(r"(denselayer\d+\.(?:norm|relu|conv))([12])\.", r"\1.\2.", k), v)
                       for k, v in state.items())


def with_views(state):
    """Same values, stored as torch.save stores views: a transposed classifier, two BN vectors at offsets into one
    shared storage, and a stride-2 view at offset 1."""
    state = OrderedDict(state)
    w = state["classifier.weight"]
    state["classifier.weight"] = w.t().contiguous().t()
    a, b = "features.norm0.running_mean", "features.norm0.running_var"
    shared = torch.cat([state[a], state[b]])
    n = state[a].numel()
    state[a], state[b] = shared[:n], shared[n:]
    k = "features.norm5.weight"
    spaced = torch.zeros(2 * state[k].numel() + 1)
    spaced[1::2] = state[k]
    state[k] = spaced[1::2]
    assert not state["classifier.weight"].is_contiguous() and state[k].stride() == (2,)
    return state


def keras_layers(net):
    """(layer name, [(weight name, array)]) in keras.applications.densenet's order, weightless layers included."""
    sd = {k: v.detach().numpy() for k, v in net.state_dict().items()}
    hwio = lambda w: np.ascontiguousarray(w.transpose(2, 3, 1, 0))  # OIHW -> HWIO

    def bn(name, prefix):
        return (name, [(f"{name}/gamma:0", sd[prefix + ".weight"]), (f"{name}/beta:0", sd[prefix + ".bias"]),
                       (f"{name}/moving_mean:0", sd[prefix + ".running_mean"]),
                       (f"{name}/moving_variance:0", sd[prefix + ".running_var"])])

    def conv(name, prefix):
        return (name, [(f"{name}/kernel:0", hwio(sd[prefix + ".weight"]))])

    layers = [("input_1", []), ("zero_padding2d", []), conv("conv1/conv", "features.conv0"),
              bn("conv1/bn", "features.norm0"), ("conv1/relu", []), ("zero_padding2d_1", []), ("pool1", [])]
    blocks = CONFIG["block_config"]
    for b, n in enumerate(blocks):
        for i in range(n):
            name, prefix = f"conv{b + 2}_block{i + 1}", f"features.denseblock{b + 1}.denselayer{i + 1}"
            layers += [bn(name + "_0_bn", prefix + ".norm1"), (name + "_0_relu", []),
                       conv(name + "_1_conv", prefix + ".conv1"), bn(name + "_1_bn", prefix + ".norm2"),
                       (name + "_1_relu", []), conv(name + "_2_conv", prefix + ".conv2"), (name + "_concat", [])]
        if b < len(blocks) - 1:
            name, prefix = f"pool{b + 2}", f"features.transition{b + 1}"
            layers += [bn(name + "_bn", prefix + ".norm"), (name + "_relu", []), conv(name + "_conv", prefix + ".conv"),
                       (name + "_pool", [])]
    layers += [bn("bn", "features.norm5"), ("relu", [])]
    top = [("avg_pool", []), ("fc1000", [("fc1000/kernel:0", np.ascontiguousarray(sd["classifier.weight"].T)),
                                         ("fc1000/bias:0", sd["classifier.bias"])])]
    return layers, top


def save_keras_h5(path, layers):
    """Keras 2's save_weights_to_hdf5_group: root attrs layer_names/backend/keras_version, a group per layer (in
    sorted order) with attr weight_names, each weight a dataset at <group>/<weight name> (so 'conv1/conv' holds
    'conv1/conv/kernel:0' as nested groups)."""
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [name.encode("utf8") for name, _ in layers]
        f.attrs["backend"] = b"tensorflow"
        f.attrs["keras_version"] = b"2.2.4"
        for name, weights in sorted(layers, key=lambda layer: layer[0]):
            g = f.create_group(name)
            g.attrs["weight_names"] = [w.encode("utf8") for w, _ in weights]
            for w, value in weights:
                g.create_dataset(w, value.shape, dtype=value.dtype)[...] = value


LEGACY_MAGIC, LEGACY_PROTOCOL = 0x1950A86A20F9469CFC6C, 1001


class Py2Pickler(pickle._Pickler):
    """Python 2's protocol 2: str written as (SHORT_)BINSTRING bytes rather than BINUNICODE."""
    dispatch = dict(pickle._Pickler.dispatch)

    def save_py2_str(self, obj):
        data = obj.encode("utf8")
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + struct.pack("<i", len(data)) + data)
        self.memoize(obj)

    dispatch[str] = save_py2_str


class Py2OrderedDict:
    """Reduces as Python 2.7's OrderedDict.__reduce__: (OrderedDict, ([[key, value], ...],))."""

    def __init__(self, items):
        self.items = items

    def __reduce__(self):
        return OrderedDict, ([[k, v] for k, v in self.items],)


class StorageId:
    def __init__(self, key, storage_type, numel):
        self.id = ("storage", storage_type, key, "cpu", numel, None)


class Torch03Tensor:
    """Pickles as PyTorch 0.3's Tensor.__reduce__: _rebuild_tensor(storage, offset, size, stride)."""

    def __init__(self, storage, t):
        self.args = (storage, t.storage_offset(), tuple(t.size()), t.stride())

    def __reduce__(self):
        return torch._utils._rebuild_tensor, self.args


def save_torch03(state, path):
    storages, blobs = {}, {}
    entries = []
    for name, t in state.items():
        ptr = t.storage().data_ptr()
        if ptr not in storages:
            key = str(len(storages))
            whole = torch.empty(0, dtype=t.dtype).set_(t.storage())
            storage_type = {torch.float32: torch.FloatStorage, torch.int64: torch.LongStorage}[t.dtype]
            storages[ptr] = StorageId(key, storage_type, whole.numel())
            blobs[key] = (whole.numel(), whole.numpy().tobytes())
        entries.append((name, Torch03Tensor(storages[ptr], t)))
    out = io.BytesIO()
    for header in (LEGACY_MAGIC, LEGACY_PROTOCOL,
                   {"protocol_version": LEGACY_PROTOCOL, "little_endian": True,
                    "type_sizes": {"short": 2, "int": 4, "long": 8}}):
        Py2Pickler(out, protocol=2).dump(header)
    pickler = Py2Pickler(out, protocol=2)
    pickler.persistent_id = lambda obj: obj.id if isinstance(obj, StorageId) else None
    pickler.dump(Py2OrderedDict(entries))
    keys = sorted(blobs, key=int)
    Py2Pickler(out, protocol=2).dump(keys)
    for key in keys:
        numel, data = blobs[key]
        out.write(struct.pack("<q", numel) + data)
    with open(path, "wb") as f:
        f.write(out.getvalue())


class Evil:
    def __reduce__(self):
        return os.system, ("echo this must never run",)


def main():
    os.makedirs(OUT, exist_ok=True)
    net = build_net()
    state = net.state_dict()
    torch.save(state, os.path.join(OUT, "densenet-small.pth"))
    torch.save(with_views(old_names(state)), os.path.join(OUT, "densenet-small-old-keys.pth"))
    legacy = OrderedDict((k, v) for k, v in old_names(state).items() if not k.endswith("num_batches_tracked"))
    torch.save(with_views(legacy), os.path.join(OUT, "densenet-small-legacy.pth"),
               _use_new_zipfile_serialization=False)
    save_torch03(with_views(legacy), os.path.join(OUT, "densenet-small-torch03.pth"))
    missing = OrderedDict(old_names(state))
    del missing["features.denseblock2.denselayer1.conv.2.weight"]
    torch.save(missing, os.path.join(OUT, "densenet-small-missing-key.pth"))
    torch.save({"features.conv0.weight": torch.ones(2), "payload": Evil()}, os.path.join(OUT, "evil-global.pth"))

    layers, top = keras_layers(net)
    save_keras_h5(os.path.join(OUT, "densenet-small-keras.h5"), layers + top)
    save_keras_h5(os.path.join(OUT, "densenet-small-keras-notop.h5"), layers)

    torch.manual_seed(1)
    x = torch.rand(2, 3, 48, 48)
    with torch.no_grad():
        pooled = torch.flatten(F.adaptive_avg_pool2d(F.relu(net.features(x)), 1), 1)
        logits = net.classifier(pooled)
        assert torch.allclose(logits, net(x))
    save_safetensors(os.path.join(OUT, "densenet-small-expected.safetensors"),
                     {"input": x, "features": pooled, "logits": logits},
                     {"torch": torch.__version__, "torchvision": torchvision.__version__,
                      "config": json.dumps(CONFIG)})
    for name in sorted(os.listdir(OUT)):
        print(f"{name}: {os.path.getsize(os.path.join(OUT, name))} bytes")


if __name__ == "__main__":
    main()
