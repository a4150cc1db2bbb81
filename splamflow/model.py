"""The Splam network: a deep dilated residual CNN over 800 bp of one-hot DNA.

`SplamNet` is parameter-for-parameter the published Splam 1.0.12 class: the same module tree,
the same state_dict keys and shapes (651,715 parameters), the same arithmetic. Weights saved
from the published class load into it unchanged.

Layout (F = 64 filters everywhere, G = 4 groups inside residual units):

    x (N, 4, 800) -> conv1 (1x1, 4->64) -> skip1: skip = skip1.conv(x)
    20 residual units, each: conv(W, D, G) -> BN -> LeakyReLU(0.1), twice, plus the unit's input;
    after every 4th unit a Skip: skip += conv1x1(x); the published constructor appends one more
    Skip after the last one (so `residual_blocks` has 26 entries and indices 4, 9, 14, 19, 24, 25
    are Skips);
    softmax(last_cov(skip), dim=1) -> (N, 3, 800), channels [neither, acceptor, donor].

Convolutions run as Conv2d over a (N, C, 1, L) view in channels-last memory format: on x86 CPUs
oneDNN's grouped dilated Conv2d is several times faster than Conv1d, with the same results.
`FusedSplam` is the inference form: BatchNorm folded into the convolutions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from splamflow.windows import FLANK, SEQ_LEN

CHANNELS = 64
GROUPS = 4
KERNELS = (11,) * 12 + (21,) * 8
DILATIONS = (1,) * 4 + (5,) * 4 + (10,) * 4 + (15,) * 4 + (20,) * 4
LEAKY_SLOPE = 0.1
N_PARAMETERS = 651_715

ARCHITECTURE = {
    "name": "splam",
    "channels": CHANNELS,
    "groups": GROUPS,
    "kernels": list(KERNELS),
    "dilations": list(DILATIONS),
    "leaky_relu_slope": LEAKY_SLOPE,
    "input": [4, SEQ_LEN],
    "output_channels": ["neither", "acceptor", "donor"],
}


def _conv(x: torch.Tensor, conv: nn.Conv1d) -> torch.Tensor:
    """Apply a Conv1d module to a (N, C, 1, L) tensor as a Conv2d."""
    return F.conv2d(
        x,
        conv.weight.unsqueeze(2),
        conv.bias,
        padding=(0, conv.padding[0]),
        dilation=(1, conv.dilation[0]),
        groups=conv.groups,
    )


class ResidualUnit(nn.Module):
    """Two (grouped dilated conv -> BatchNorm -> LeakyReLU) layers plus the identity."""

    def __init__(self, channels: int, kernel: int, dilation: int, groups: int = GROUPS):
        super().__init__()
        pad = (kernel - 1) * dilation // 2
        # Registration order as in the published class, so state_dict keys come in the same order.
        self.batchnorm1 = nn.BatchNorm1d(channels)
        self.batchnorm2 = nn.BatchNorm1d(channels)
        self.conv1 = nn.Conv1d(channels, channels, kernel, dilation=dilation, padding=pad, groups=groups)
        self.conv2 = nn.Conv1d(channels, channels, kernel, dilation=dilation, padding=pad, groups=groups)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = F.leaky_relu(_bn(self.batchnorm1, _conv(x, self.conv1)), LEAKY_SLOPE)
        h = F.leaky_relu(_bn(self.batchnorm2, _conv(h, self.conv2)), LEAKY_SLOPE)
        return x + h, skip


class Skip(nn.Module):
    """A 1x1 convolution of the current activations added to the running skip sum."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x, skip + _conv(x, self.conv)


def _bn(bn: nn.BatchNorm1d, x: torch.Tensor) -> torch.Tensor:
    """BatchNorm1d over the channel axis of a (N, C, 1, L) tensor (same statistics as over (N, C, L))."""
    return F.batch_norm(
        x,
        bn.running_mean,
        bn.running_var,
        bn.weight,
        bn.bias,
        bn.training,
        bn.momentum if bn.momentum is not None else 0.0,
        bn.eps,
    )


class SplamNet(nn.Module):
    """The published Splam architecture (trainable; state_dict-compatible with Splam 1.0.12)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv1d(4, CHANNELS, 1)
        self.skip1 = Skip(CHANNELS)
        blocks: list[nn.Module] = []
        for i, (kernel, dilation) in enumerate(zip(KERNELS, DILATIONS)):
            blocks.append(ResidualUnit(CHANNELS, kernel, dilation))
            if (i + 1) % 4 == 0:
                blocks.append(Skip(CHANNELS))
        # The published constructor's `if (len(W) + 1) % 4 != 0` appends one more Skip.
        blocks.append(Skip(CHANNELS))
        self.residual_blocks = nn.ModuleList(blocks)
        self.last_cov = nn.Conv1d(CHANNELS, 3, 1)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 4, L) one-hot -> (N, 3, L) pre-softmax scores."""
        h = _conv(x.unsqueeze(2).contiguous(memory_format=torch.channels_last), self.conv1)
        h, skip = self.skip1(h, torch.zeros((), dtype=h.dtype, device=h.device))
        for block in self.residual_blocks:
            h, skip = block(h, skip)
        return _conv(skip, self.last_cov).squeeze(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(x), dim=1)


class FusedSplam(nn.Module):
    """Inference-only Splam: BatchNorm folded into the convolutions, all weights as Conv2d.

    Built from a `SplamNet` in eval mode; gives the same probabilities (to float rounding).
    """

    def __init__(self, net: SplamNet) -> None:
        super().__init__()
        self.convs = nn.ModuleList()
        self.plan: list[tuple[str, int, int]] = []  # (kind, first conv index, n convs)
        self.input_conv = self._add(net.conv1, None)
        self.skip1 = self._add(net.skip1.conv, None)
        for block in net.residual_blocks:
            if isinstance(block, ResidualUnit):
                a = self._add(block.conv1, block.batchnorm1)
                self._add(block.conv2, block.batchnorm2)
                self.plan.append(("unit", a, 2))
            else:
                self.plan.append(("skip", self._add(block.conv, None), 1))
        self.output = self._add(net.last_cov, None)
        self._build_site_heads()
        self.eval()

    def _build_site_heads(self) -> None:
        """Fold last_cov into every skip conv: softmax(last_cov(sum_k skip_k(h_k))) at a position only
        needs sum_k (W_last W_k) h_k + (W_last sum_k b_k + b_last) there, a 64->3 map per skip."""
        w_last = self.convs[self.output].weight[:, :, 0, 0]  # (3, 64)
        skips = [self.skip1] + [i for kind, i, _ in self.plan if kind == "skip"]
        heads = torch.stack([w_last @ self.convs[i].weight[:, :, 0, 0] for i in skips])  # (S, 3, 64)
        bias = w_last @ torch.stack([self.convs[i].bias for i in skips]).sum(0) + self.convs[self.output].bias
        self.register_buffer("site_heads", heads)
        self.register_buffer("site_bias", bias)

    def _add(self, conv: nn.Conv1d, bn: nn.BatchNorm1d | None) -> int:
        weight = conv.weight.detach().clone()
        bias = conv.bias.detach().clone() if conv.bias is not None else torch.zeros(conv.out_channels)
        if bn is not None:
            scale = bn.weight.detach() / torch.sqrt(bn.running_var.detach() + bn.eps)
            weight = weight * scale[:, None, None]
            bias = (bias - bn.running_mean.detach()) * scale + bn.bias.detach()
        conv2d = nn.Conv2d(
            conv.in_channels,
            conv.out_channels,
            (1, conv.kernel_size[0]),
            padding=(0, conv.padding[0]),
            dilation=(1, conv.dilation[0]),
            groups=conv.groups,
        )
        conv2d.weight = nn.Parameter(weight.unsqueeze(2), requires_grad=False)
        conv2d.bias = nn.Parameter(bias, requires_grad=False)
        self.convs.append(conv2d)
        return len(self.convs) - 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convs[self.input_conv](x.unsqueeze(2).contiguous(memory_format=torch.channels_last))
        skip = self.convs[self.skip1](h)
        for kind, i, _ in self.plan:
            if kind == "unit":
                u = F.leaky_relu(self.convs[i](h), LEAKY_SLOPE)
                h = h + F.leaky_relu(self.convs[i + 1](u), LEAKY_SLOPE)
            else:
                skip = skip + self.convs[i](h)
        return torch.softmax(self.convs[self.output](skip).squeeze(2).float(), dim=1)

    def sites(self, x: torch.Tensor) -> torch.Tensor:
        """Probabilities at the donor (index 200) and acceptor (index 600) positions only: (N, 3, 2).

        The same function as forward()[:, :, [200, 600]], with the work that cannot reach those two
        positions left out: the skip convolutions and last_cov are applied at two positions only,
        and so is the last unit's second convolution.
        """
        sites = [FLANK, SEQ_LEN - FLANK]
        h = self.convs[self.input_conv](x.unsqueeze(2).contiguous(memory_format=torch.channels_last))
        taken = [h[:, :, 0, sites]]
        last_unit = max(i for kind, i, _ in self.plan if kind == "unit")
        for kind, i, _ in self.plan:
            if kind == "unit" and i == last_unit:
                u = F.leaky_relu(self.convs[i](h), LEAKY_SLOPE)
                h_sites = h[:, :, :, sites] + F.leaky_relu(self._at_sites(self.convs[i + 1], u), LEAKY_SLOPE)
                h = h_sites
            elif kind == "unit":
                u = F.leaky_relu(self.convs[i](h), LEAKY_SLOPE)
                h = h + F.leaky_relu(self.convs[i + 1](u), LEAKY_SLOPE)
            elif h.shape[-1] == 2:
                taken.append(h[:, :, 0, :])
            else:
                taken.append(h[:, :, 0, sites])
        stacked = torch.stack(taken)  # (S, N, 64, 2)
        logits = torch.einsum("sck,snkp->ncp", self.site_heads, stacked) + self.site_bias[None, :, None]
        return torch.softmax(logits.float(), dim=1)

    @staticmethod
    def _at_sites(conv: nn.Conv2d, u: torch.Tensor) -> torch.Tensor:
        """`conv(u)` evaluated at positions 200 and 600 only (a strided convolution over a padded view)."""
        pad = conv.padding[1]
        span = (conv.kernel_size[1] - 1) * conv.dilation[1]
        padded = F.pad(u, (pad, pad))
        start = FLANK  # padded index of the receptive field's first base for position 200
        stride = SEQ_LEN - 2 * FLANK
        window = padded[:, :, :, start : start + stride + span + 1]
        return F.conv2d(window, conv.weight, conv.bias, dilation=conv.dilation, groups=conv.groups, stride=(1, stride))
