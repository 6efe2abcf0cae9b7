"""PyTorch twins of tumorscope's networks, for parity fixtures and benchmarks (same layout and parameter names),
and a small safetensors writer for the fixtures (Debian has no python3-safetensors)."""
import json
import struct
from collections import OrderedDict

import torch
import torch.nn as nn
import torch.nn.functional as F


def conv_net():
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 2),
    )


def block(in_c, out_c, name):
    return nn.Sequential(OrderedDict([
        (name + "conv1", nn.Conv2d(in_c, out_c, 3, padding=1, bias=False)),
        (name + "norm1", nn.BatchNorm2d(out_c)),
        (name + "relu1", nn.ReLU()),
        (name + "conv2", nn.Conv2d(out_c, out_c, 3, padding=1, bias=False)),
        (name + "norm2", nn.BatchNorm2d(out_c)),
        (name + "relu2", nn.ReLU()),
    ]))


class UNet(nn.Module):
    """Buda et al.'s U-Net with a configurable width and depth, named as src/models/unet.ts."""

    def __init__(self, in_channels=3, out_channels=1, features=32, depth=4):
        super().__init__()
        self.depth = depth
        ch = in_channels
        for level in range(1, depth + 1):
            w = features * 2 ** (level - 1)
            setattr(self, f"encoder{level}", block(ch, w, f"enc{level}"))
            ch = w
        self.bottleneck = block(ch, features * 2 ** depth, "bottleneck")
        ch = features * 2 ** depth
        for level in range(depth, 0, -1):
            w = features * 2 ** (level - 1)
            setattr(self, f"upconv{level}", nn.ConvTranspose2d(ch, w, 2, stride=2))
            setattr(self, f"decoder{level}", block(w * 2, w, f"dec{level}"))
            ch = w
        self.conv = nn.Conv2d(ch, out_channels, 1)

    def forward(self, x):
        skips = []
        for level in range(1, self.depth + 1):
            x = getattr(self, f"encoder{level}")(x)
            skips.append(x)
            x = F.max_pool2d(x, 2)
        x = self.bottleneck(x)
        for level in range(self.depth, 0, -1):
            x = getattr(self, f"decoder{level}")(torch.cat([getattr(self, f"upconv{level}")(x), skips[level - 1]], 1))
        return self.conv(x)


SAFETENSORS_CODES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}


def save_safetensors(path, tensors, metadata):
    """Writes tensors as safetensors: 8-byte header length, JSON header (8-byte aligned), raw data."""
    header, blobs, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        data = t.detach().contiguous().cpu().numpy().tobytes()
        header[name] = {"dtype": SAFETENSORS_CODES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * ((8 - len(head) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head + b"".join(blobs))
