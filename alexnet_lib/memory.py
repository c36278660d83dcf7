"""Roughly how much memory training needs, and how much the device has.

Checked before a run starts, so that a setting no machine could hold (an image size of
10,000 pixels) gets one clear line instead of an attempt to allocate terabytes.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from .errors import UsageError

BYTES_PER_VALUE = 4  # fp32


def device_memory(device: torch.device) -> int | None:
    """The device's total memory in bytes (the host's RAM for the CPU and MPS), or None."""
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system
        return None


def gigabytes(size: int) -> str:
    return f"{size / 2**30:,.1f} GB"


def training_bytes(net: nn.Module, batch_size: int) -> int:
    """An fp32 estimate of what training `net` takes: four copies of the parameters (weights,
    gradients and Adam's two moments), and every layer's output for a batch together with
    its gradient. `net` is built on the meta device (`with torch.device("meta"): ...`), so
    that nothing is allocated; it needs an `input_shape`."""
    outputs = []
    leaves = [module for module in net.modules() if not any(module.children())]
    hooks = [module.register_forward_hook(lambda m, args, out: outputs.append(out.numel()))
             for module in leaves]
    try:
        with torch.no_grad():
            net(torch.empty(batch_size, *net.input_shape, device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    parameters = sum(p.numel() for p in net.parameters())
    return BYTES_PER_VALUE * (4 * parameters + 2 * sum(outputs))


def check_fits(need: int, device: torch.device, what: str, advice: str) -> None:
    """Raise a UsageError (a ValueError) when `need` bytes exceed the device's whole memory."""
    have = device_memory(device)
    if have is not None and need > have:
        where = "this machine" if device.type != "cuda" else torch.cuda.get_device_name(device)
        raise UsageError(f"{what} needs about {gigabytes(need)} of memory, but {where} has "
                         f"{gigabytes(have)}: {advice}.")


def is_out_of_memory(err: BaseException) -> bool:
    """Whether `err` says the device ran out of memory: torch.OutOfMemoryError on a GPU; on
    the CPU the allocator raises a RuntimeError, or Python a MemoryError."""
    if isinstance(err, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(err)
    return isinstance(err, RuntimeError) and (
        "DefaultCPUAllocator" in text or "can't allocate memory" in text
        or "out of memory" in text.lower())
