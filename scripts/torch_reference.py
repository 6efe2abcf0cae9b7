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


class ResidualBlock(nn.Module):
    """1x1 conv-BN-ReLU, 3x3 conv-BN, plus a 1x1 conv-BN shortcut; summed, then ReLU."""

    def __init__(self, in_c, filters):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, filters, 1)
        self.bn1 = nn.BatchNorm2d(filters)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(filters)
        self.shortcut = nn.Conv2d(in_c, filters, 1)
        self.shortcut_bn = nn.BatchNorm2d(filters)

    def forward(self, x):
        main = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(main + self.shortcut_bn(self.shortcut(x)))


class Stem(nn.Module):
    """Conv -> ReLU -> BN twice (the reference stem puts the activation before batch norm)."""

    def __init__(self, in_c, filters):
        super().__init__()
        self.conv1 = nn.Conv2d(in_c, filters, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(filters)
        self.conv2 = nn.Conv2d(filters, filters, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(filters)

    def forward(self, x):
        return self.bn2(F.relu(self.conv2(self.bn1(F.relu(self.conv1(x))))))


class ResUNet(nn.Module):
    """The reference design's ResUNet, named as src/models/resunet.ts (stem, encoder1.., decoderN..1, head)."""

    def __init__(self, in_channels=3, out_channels=1, features=16, depth=4):
        super().__init__()
        self.depth = depth
        self.stem = Stem(in_channels, features)
        widths = [features * 2 ** level for level in range(depth + 1)]
        for level in range(1, depth + 1):
            setattr(self, f"encoder{level}", ResidualBlock(widths[level - 1], widths[level]))
        ch = widths[depth]
        for level in range(depth - 1, -1, -1):
            setattr(self, f"decoder{level + 1}", ResidualBlock(ch + widths[level], widths[level]))
            ch = widths[level]
        self.head = nn.Conv2d(ch, out_channels, 1)

    def forward(self, x):
        skips = [self.stem(x)]
        for level in range(1, self.depth + 1):
            skips.append(getattr(self, f"encoder{level}")(F.max_pool2d(skips[-1], 2)))
        x = skips.pop()
        for level in range(self.depth - 1, -1, -1):
            up = F.interpolate(x, scale_factor=2, mode="nearest")
            x = getattr(self, f"decoder{level + 1}")(torch.cat([up, skips[level]], 1))
        return self.head(x)


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
