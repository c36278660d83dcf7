"""The number format training computes in: fp32, bf16, or fp16 with loss scaling, chosen
for the device; and cuDNN's autotuning."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from ..errors import UsageError, check_choice
from .distributed import all_gather
from .messages import COMMAND_LINE

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
        return "bf16", "the CPU has bf16 instructions (AVX-512 BF16 or AMX)"
    return "fp32", f"autocast is not used on {device.type}"


def choose_precision(device: torch.device, precision: str = "auto", saved: str | None = None,
                     saved_in: os.PathLike | str = "The checkpoint") -> Precision:
    """Pick the number format from what the hardware is: bf16 where it computes bf16
    natively (GPUs of compute capability 8.0 or later, CPUs with AVX-512 BF16 or AMX), fp16
    with loss scaling on older GPUs, fp32 otherwise. Under torchrun every process takes the
    first one's choice. `saved`: the format of the checkpoint `saved_in` being resumed, which
    a resumed run keeps ("auto" takes it; another format is refused)."""
    check_choice("precision", precision, PRECISIONS)
    reason = "asked for"
    if saved is not None and precision not in ("auto", saved):
        cli = COMMAND_LINE.get()  # the command line's users answer with options
        keep = f"--precision {saved} (or auto)" if cli else f"precision='{saved}' (or 'auto')"
        raise UsageError(
            f"{saved_in} was trained in {saved}, and a resumed run keeps its number format: "
            f"pass {keep}, or start afresh with {'--overwrite' if cli else 'overwrite=True'}.")
    if saved is not None:
        precision, reason = saved, "kept from the checkpoint"
    elif precision == "auto":
        precision, reason = all_gather(_auto_precision(device))[0]
    if precision == "fp32":
        return Precision("fp32", None, reason=reason)
    if precision == "bf16":
        return Precision("bf16", torch.bfloat16, reason=reason)
    if device.type != "cuda":
        raise UsageError("fp16 training needs a CUDA GPU; use 'bf16' or 'fp32' here.")
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


def saved_precision(checkpoint: os.PathLike | str | None, resume: bool) -> str | None:
    """The number format of the checkpoint a run resumes, if it resumes one."""
    if not resume or checkpoint is None or not os.path.exists(checkpoint):
        return None
    from .checkpoint import load_checkpoint  # mapped, not read: a peek at its settings

    history = load_checkpoint(checkpoint, mmap=True).get("history")
    settings = history.get("settings") if isinstance(history, dict) else None
    return settings.get("precision") if isinstance(settings, dict) else None
