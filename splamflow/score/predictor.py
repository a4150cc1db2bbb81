"""Inference: model inputs -> donor/acceptor scores, on any device and precision.

`Predictor` wraps a loaded model as the fused inference network (BatchNorm folded, channels-last
convolutions) and scores uint8 code arrays in batches under `torch.inference_mode`. `score` and
`evaluate` score with it, and `train` validates with it.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import torch

from splamflow.errors import UserError
from splamflow.model import FusedSplam, SplamNet
from splamflow.score.options import DEVICE, PRECISION, PRECISIONS, PREDICT_BATCH_SIZE
from splamflow.windows import N_CODE, SEQ_LEN, one_hot

_DTYPES = dict(zip(PRECISIONS, (None, torch.bfloat16, torch.float16), strict=True))  # None: plain fp32


def pick_device(requested: str = DEVICE) -> torch.device:
    """auto: cuda, then mps, then cpu. An explicit device that is not available is a user error."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps and mps.is_available())
    if requested == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if has_mps else torch.device("cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (use --device auto or cpu)")
    if requested == "mps" and not has_mps:
        raise UserError("--device mps: no Apple MPS device is available (use --device auto or cpu)")
    return torch.device(requested)


def check_device(device: str = DEVICE, precision: str = PRECISION) -> torch.device:
    """The device to run on; an unavailable device or a precision it cannot run is a UserError.

    Commands call this before any work, so that the error is their only line of output.
    """
    if precision not in _DTYPES:
        raise UserError(f"--precision must be one of {', '.join(PRECISIONS)}")
    picked = pick_device(device)
    if _DTYPES[precision] is torch.float16 and picked.type == "cpu":
        raise UserError("--precision fp16 needs a GPU; on CPU use bf16 or fp32")
    return picked


class Predictor:
    """Scores batches of 800-bp code arrays with a fused copy of `net`."""

    def __init__(self, net: SplamNet, device: str = DEVICE, precision: str = PRECISION):
        self.device = check_device(device, precision)
        self.dtype = _DTYPES[precision]
        self.net = FusedSplam(net.eval()).to(self.device)
        if self.device.type == "cpu":
            self.net = self.net.to(memory_format=torch.channels_last)
        self._frozen: dict[int, torch.nn.Module] = {}

    def _graph(self, batch_size: int) -> torch.nn.Module:
        """The network frozen for one input shape (fp32 only).

        Freezing a traced graph lets oneDNN fuse each convolution with its LeakyReLU and residual
        add (about 1.2-1.4x faster than eager mode on CPU at batch 16). Padded batches keep the shape fixed, so
        one graph serves a whole run.
        """
        if self.dtype is not None:
            return self.net
        if batch_size not in self._frozen:
            example = torch.zeros((batch_size, 4, SEQ_LEN), device=self.device)
            with warnings.catch_warnings(), torch.inference_mode():
                warnings.simplefilter("ignore")  # torch.jit is deprecated in favour of torch.export
                traced = torch.jit.trace_module(self.net, {"sites": example})
                self._frozen[batch_size] = torch.jit.freeze(traced, preserved_attrs=["sites"])
        return self._frozen[batch_size]

    def _autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def predict(self, codes: np.ndarray, graph: torch.nn.Module | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(N, 800) uint8 codes -> donor scores output[2, 200] and acceptor scores output[1, 600]."""
        if len(codes) == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        x = torch.from_numpy(one_hot(codes)).to(self.device, non_blocking=True)
        with torch.inference_mode(), self._autocast():
            probs = (graph or self.net).sites(x)  # (N, 3, 2): at the donor and the acceptor
        donor = probs[:, 2, 0].float().cpu().numpy()
        acceptor = probs[:, 1, 1].float().cpu().numpy()
        return donor, acceptor

    def predict_padded(self, codes: np.ndarray, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
        """Like `predict_all`, but every forward pass has exactly `batch_size` rows (N-padded)."""
        n = len(codes)
        if n == 0:  # nothing to score (every row of the chunk skipped): no graph to build
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        padded = np.full((-(-n // batch_size) * batch_size, SEQ_LEN), N_CODE, dtype=np.uint8)
        padded[:n] = codes
        graph = self._graph(batch_size)
        donor, acceptor = self.predict_all(padded, batch_size, graph)
        return donor[:n], acceptor[:n]

    def predict_all(
        self, codes: np.ndarray, batch_size: int = PREDICT_BATCH_SIZE, graph: torch.nn.Module | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score any number of rows in batches of at most `batch_size`."""
        donors, acceptors = [], []
        for i in range(0, len(codes), batch_size):
            d, a = self.predict(codes[i : i + batch_size], graph)
            donors.append(d)
            acceptors.append(a)
        if not donors:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        return np.concatenate(donors), np.concatenate(acceptors)
