"""Data-parallel training under torchrun: joining the process group, who speaks, and sums
over processes."""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from ..devices import resolve_device
from ..errors import UsageError


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
            raise UsageError(
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
        raise UsageError(
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


def rank() -> int:
    return dist.get_rank() if distributed() else 0


def all_gather(value: Any) -> list[Any]:
    """Every process's `value`, in rank order ([value] in a single process). Every process
    must call it at the same point."""
    if not distributed():
        return [value]
    gathered: list[Any] = [None] * world_size()
    dist.all_gather_object(gathered, value)
    return gathered


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


def share_of_batch(data_iter, i: int) -> float | None:
    """What batch i's summed loss is divided by in this process: None (its own share's size)
    in a single process; under torchrun, the whole batch's size over the number of processes,
    so that every example weighs the same in the averaged gradient."""
    if not distributed():
        return None
    whole = min(data_iter.batch_size, data_iter.num_examples - i * data_iter.batch_size)
    return whole / world_size()


def data_parallel(net: torch.nn.Module, device: torch.device, loaders) -> torch.nn.Module:
    """Under torchrun: each loader serves this process its share of every batch, and `net`
    is wrapped so that gradients are averaged over the processes. Else `net` as it is."""
    if not distributed():
        return net
    for data_iter in loaders:
        if data_iter is not None:
            data_iter.shard(rank(), world_size())
    return DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
