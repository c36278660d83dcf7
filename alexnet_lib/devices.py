"""Choosing the device, the number format it computes in, and seeding."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def try_gpu(i: int = 0) -> torch.device:
    """The i-th CUDA GPU if there is one, else Apple's MPS, else the CPU."""
    if torch.cuda.is_available() and i < torch.cuda.device_count():
        return torch.device(f"cuda:{i}")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """Turn None (pick automatically), "cpu", "cuda", "cuda:1", "mps" ... into a usable device."""
    if device is None:
        return try_gpu()
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(
            f"Unknown device {device!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps' (or None to pick "
            "automatically)."
        ) from err
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"Device {device!r} asked for, but PyTorch sees no CUDA GPU here.")
        index = resolved.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"Device {device!r} asked for, but only {torch.cuda.device_count()} GPU(s) exist."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"Device {device!r} asked for, but Apple's MPS is not available here.")
    elif resolved.type not in {"cpu", "cuda", "mps"}:
        raise ValueError(f"Unsupported device {device!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    return resolved


@dataclass(frozen=True)
class Precision:
    """How the forward pass computes: `dtype` for autocast (None = plain fp32)."""

    name: str
    dtype: torch.dtype | None
    needs_grad_scaler: bool = False


def _cpu_has_fast_bf16() -> bool:
    # Only CPUs with AVX-512 (BF16/AMX) run bf16 faster than fp32; on AVX2 it is emulated.
    capability = torch.backends.cpu.get_cpu_capability()
    return capability.startswith("AVX512") or "AMX" in capability


def choose_precision(device: torch.device, precision: str = "auto") -> Precision:
    """Pick the number format: bf16 where the hardware has it, fp16 + loss scaling on older GPUs."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}.")
    if precision == "auto":
        if device.type == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        elif device.type == "cpu" and _cpu_has_fast_bf16():
            precision = "bf16"
        else:
            precision = "fp32"
    if precision == "fp32":
        return Precision("fp32", None)
    if precision == "bf16":
        return Precision("bf16", torch.bfloat16)
    if device.type != "cuda":
        raise ValueError("fp16 training needs a CUDA GPU; use 'bf16' or 'fp32' here.")
    return Precision("fp16", torch.float16, needs_grad_scaler=True)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (every device), so that CPU runs repeat exactly.

    On a GPU, runs repeat only approximately: cuDNN picks among kernels whose sums round
    differently, and some backward kernels add with atomics in a varying order.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
