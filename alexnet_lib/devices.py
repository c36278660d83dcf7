"""Choosing the device, and seeding."""

from __future__ import annotations

import random

import numpy as np
import torch

from .errors import UsageError


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
        raise UsageError(
            f"Unknown device {device!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps' (or None to pick "
            "automatically)."
        ) from err
    if resolved.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"Device {device!r} asked for, but PyTorch sees no CUDA GPU here.")
        index = resolved.index or 0
        if index >= torch.cuda.device_count():
            raise UsageError(
                f"Device {device!r} asked for, but only {torch.cuda.device_count()} GPU(s) exist."
            )
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        raise UsageError(f"Device {device!r} asked for, but Apple's MPS is not available here.")
    elif resolved.type not in {"cpu", "cuda", "mps"}:
        raise UsageError(f"Unsupported device {device!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    return resolved


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (every device), so that CPU runs repeat exactly.

    On a GPU, runs repeat only approximately: cuDNN picks among kernels whose sums round
    differently, and some backward kernels add with atomics in a varying order.
    """
    if not isinstance(seed, int) or isinstance(seed, bool) or not -2**63 <= seed < 2**64:
        raise UsageError(f"seed must be a whole number from -2**63 to 2**64 - 1, got {seed!r}.")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA device
