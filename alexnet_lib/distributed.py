"""Data-parallel training under torchrun: who speaks, and sums over processes."""

from __future__ import annotations

import torch
import torch.distributed as dist


def distributed() -> bool:
    """True inside a torchrun process group."""
    return dist.is_available() and dist.is_initialized()


def is_main_process() -> bool:
    return not distributed() or dist.get_rank() == 0


def world_size() -> int:
    return dist.get_world_size() if distributed() else 1


def say(message: str) -> None:
    """Print once: in data-parallel training only process 0 speaks."""
    if is_main_process():
        print(message, flush=True)


def sum_across_processes(*tensors: torch.Tensor) -> None:
    """Add each tensor up over all processes, in place (nothing to do in a single process)."""
    if distributed():
        for tensor in tensors:
            dist.all_reduce(tensor)
