"""The number format training computes in: fp32, bf16, or fp16 with loss scaling, chosen
for the device; and cuDNN's autotuning."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass(frozen=True)
class Precision:
    """How the forward pass computes: `dtype` for autocast (None = plain fp32), and why."""

    name: str
    dtype: torch.dtype | None
    needs_grad_scaler: bool = False
    reason: str = ""


def _cpu_reports_bf16() -> bool:
    """Does the CPU have bf16 instructions (AVX-512 BF16 or AMX)? Plain AVX-512 emulates bf16."""
    cpu = getattr(torch, "cpu", None)
    return any(
        bool(getattr(cpu, probe, lambda: False)())
        for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    )


def _time_step(net: nn.Module, X: torch.Tensor, dtype: torch.dtype | None) -> float:
    """Seconds for one forward and backward pass of `net` on X, in fp32 or under bf16
    autocast."""
    start = time.perf_counter()
    with torch.autocast("cpu", dtype=dtype or torch.bfloat16, enabled=dtype is not None):
        out = net(X)
    out.float().square().mean().backward()
    return time.perf_counter() - start


MEASURE_SECONDS = 0.3
"""How long the CPU's bf16 measurement runs after its warm-up round (at least 2 rounds)."""


@functools.cache
def _cpu_bf16_speedup() -> float:
    """How many times faster a training pass ran under bf16 autocast than in fp32, measured
    once per process on AlexNet at 67 px (8 images): every kind of layer the book trains,
    backward passes included, where a single layer can mislead (on one AVX-512 BF16 CPU a
    3x3 convolution ran 1.8x faster in bf16, the whole network no faster at all).

    fp32 and bf16 alternate and the fastest of each counts, so that another program's load
    on the CPU affects both alike; it stops after `MEASURE_SECONDS` (about half a second on
    an idle CPU, several on a busy one). The random state is left as it was.
    """
    from ..models import AlexNet

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = AlexNet(image_size=67)
        X = torch.rand(8, 1, 67, 67)
        for dtype in (None, torch.bfloat16):  # warm-up: the first pass sets kernels up
            _time_step(net, X, dtype)
        fp32, bf16 = [], []
        start = time.perf_counter()
        while len(fp32) < 2 or (time.perf_counter() - start < MEASURE_SECONDS
                                and len(fp32) < 12):
            fp32.append(_time_step(net, X, None))
            bf16.append(_time_step(net, X, torch.bfloat16))
    return min(fp32) / min(bf16)


BF16_MIN_SPEEDUP = 1.1
"""bf16 is chosen on a CPU only when it measured at least this much faster than fp32."""


def _auto_precision(device: torch.device) -> tuple[str, str]:
    """The number format "auto" picks for `device`, and the reason in a few words."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        major, minor = torch.cuda.get_device_capability(index)
        if major >= 8:  # Ampere and later compute bf16 natively
            return "bf16", f"GPU compute capability {major}.{minor} has native bf16"
        return "fp16", (f"GPU compute capability {major}.{minor} emulates bf16; fp16 with loss "
                        "scaling instead")
    if device.type == "cpu":
        if not _cpu_reports_bf16():
            return "fp32", (f"the CPU ({torch.backends.cpu.get_cpu_capability()}) has no bf16 "
                            "instructions (AVX-512 BF16 or AMX)")
        speedup = _cpu_bf16_speedup()
        if speedup >= BF16_MIN_SPEEDUP:
            return "bf16", f"the CPU has bf16 instructions and bf16 measured {speedup:.1f}x fp32"
        return "fp32", f"the CPU has bf16 instructions, but bf16 measured only {speedup:.2f}x fp32"
    return "fp32", f"autocast is not used on {device.type}"


def choose_precision(device: torch.device, precision: str = "auto") -> Precision:
    """Pick the number format: bf16 where the hardware computes it natively (GPUs of compute
    capability 8.0 or later; CPUs with bf16 instructions where it measured faster), fp16 with
    loss scaling on older GPUs, fp32 otherwise."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    reason = "asked for"
    if precision == "auto":
        precision, reason = _auto_precision(device)
    if precision == "fp32":
        return Precision("fp32", None, reason=reason)
    if precision == "bf16":
        return Precision("bf16", torch.bfloat16, reason=reason)
    if device.type != "cuda":
        raise ValueError("fp16 training needs a CUDA GPU; use 'bf16' or 'fp32' here.")
    return Precision("fp16", torch.float16, needs_grad_scaler=True, reason=reason)


@contextmanager
def cudnn_autotuning(device: torch.device) -> Iterator[None]:
    """On a CUDA device, let cuDNN time its convolution kernels and keep the fastest
    (`cudnn.benchmark`: pays where every batch has the same shape); the setting as it was after."""
    before = torch.backends.cudnn.benchmark
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark = before
