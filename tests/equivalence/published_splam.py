"""The published Splam 1.0.12 network, restated from its facts as plain Conv1d modules.

This is the reference our implementation must match parameter for parameter: same module names,
same shapes, Conv1d (not Conv2d), BatchNorm1d, LeakyReLU(0.1) modules, the (x, skip) pairs passed
between blocks, and the extra Skip the published constructor appends. It is TorchScript-able, so
`torch.jit.script` + `torch.jit.save` of it produces an archive in the format of the official splam.pt.
"""

from __future__ import annotations

import torch
from torch import nn

W = [11] * 12 + [21] * 8
AR = [1] * 4 + [5] * 4 + [10] * 4 + [15] * 4 + [20] * 4


class ResidualUnit(nn.Module):
    def __init__(self, channels: int, w: int, ar: int):
        super().__init__()
        self.batchnorm1 = nn.BatchNorm1d(channels)
        self.batchnorm2 = nn.BatchNorm1d(channels)
        self.relu1 = nn.LeakyReLU(0.1)
        self.relu2 = nn.LeakyReLU(0.1)
        groups = channels // 16
        self.conv1 = nn.Conv1d(channels, channels, w, dilation=ar, padding=(w - 1) * ar // 2, groups=groups)
        self.conv2 = nn.Conv1d(channels, channels, w, dilation=ar, padding=(w - 1) * ar // 2, groups=groups)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x1 = self.relu1(self.batchnorm1(self.conv1(x)))
        x2 = self.relu2(self.batchnorm2(self.conv2(x1)))
        return x + x2, y


class Skip(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, self.conv(x) + y


class SPLAM(nn.Module):
    def __init__(self, channels: int = 64):
        super().__init__()
        self.conv1 = nn.Conv1d(4, channels, 1)
        self.skip1 = Skip(channels)
        self.residual_blocks = nn.ModuleList()
        for i, (w, r) in enumerate(zip(W, AR)):
            self.residual_blocks.append(ResidualUnit(channels, w, r))
            if (i + 1) % 4 == 0:
                self.residual_blocks.append(Skip(channels))
        if (len(W) + 1) % 4 != 0:
            self.residual_blocks.append(Skip(channels))
        self.last_cov = nn.Conv1d(channels, 3, 1)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x, skip = self.skip1(self.conv1(x), torch.zeros(1))
        for m in self.residual_blocks:
            x, skip = m(x, skip)
        return self.softmax(self.last_cov(skip))


def randomized(seed: int = 0) -> SPLAM:
    """A published-architecture model with random weights and non-trivial BatchNorm statistics."""
    torch.manual_seed(seed)
    model = SPLAM()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm1d):
            module.running_mean.uniform_(-0.3, 0.3)
            module.running_var.uniform_(0.5, 2.0)
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.2, 0.2)
            module.num_batches_tracked.fill_(1000)
    return model.eval()
