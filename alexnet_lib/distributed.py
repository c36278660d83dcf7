"""Data-parallel training under torchrun: joining the process group, who speaks, and sums
over processes."""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

from .devices import resolve_device


def torchrun_world_size() -> int:
    """How many processes torchrun started (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def start_process_group(device: str | None = None) -> torch.device:
    """Join torchrun's process group; return this process's device.

    The backend follows the device's type: NCCL for CUDA GPUs, gloo for the CPU. On GPUs each
    process takes the one numbered by its LOCAL_RANK, whatever index `device` names ("cuda",
    "cuda:0" and None all mean: one GPU per process).
    """
    if device is None:
        kind = "cuda" if torch.cuda.is_available() else "cpu"
    else:
        kind = resolve_device(device).type
    if kind == "cuda":
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if local_rank >= torch.cuda.device_count():
            raise ValueError(
                f"torchrun started process {local_rank} on this machine, but PyTorch sees only "
                f"{torch.cuda.device_count()} GPU(s): pass --nproc_per_node="
                f"{torch.cuda.device_count()} or fewer."
            )
        resolved = torch.device("cuda", local_rank)
        torch.cuda.set_device(resolved)
        backend = "nccl"
    elif kind == "cpu":
        resolved, backend = torch.device("cpu"), "gloo"
    else:
        raise ValueError(
            f"Data-parallel training runs on CUDA GPUs (NCCL) or on the CPU (gloo), not on "
            f"{kind}: pass --device cuda or --device cpu, or run without torchrun."
        )
    dist.init_process_group(backend)
    return resolved


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


def largest_across_processes(value: int, device: torch.device) -> int:
    """The largest of the processes' values (the value itself in a single process). Every
    process must call it at the same point: it is how they agree, e.g. to stop together."""
    if not distributed():
        return value
    tensor = torch.tensor([value], device=device)
    dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
    return int(tensor.item())
