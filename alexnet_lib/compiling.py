"""An optional `torch.compile` of the training model, with a way back to plain eager PyTorch.

Compiling fuses the network's small operations into fewer, larger kernels; "reduce-overhead"
also replays each step as a CUDA graph, so that the CPU no longer launches kernels one by one.
Whether that pays depends on the device: measure it with `python -m alexnet_lib bench`.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")
"""`train(compile=...)`: "off" runs eagerly; the others are `torch.compile`'s modes."""


def check_compile_mode(mode: str) -> None:
    if mode not in COMPILE_MODES:
        raise ValueError(f"compile must be one of {COMPILE_MODES}, got {mode!r}.")


def compile_model(model: nn.Module, mode: str) -> nn.Module:
    """`model` compiled in `mode`; `model` itself for "off" or where compiling is unsupported.

    The compiled module shares its parameters with `model`. Compilation happens at the first
    call: use `is_compile_error` to recognise its failures there.
    """
    check_compile_mode(mode)
    if mode == "off":
        return model
    try:
        return torch.compile(model, mode=None if mode == "default" else mode)
    except RuntimeError as err:  # e.g. a Python version that torch.compile does not support yet
        warn_eager_fallback(err)
        return model


def is_compile_error(err: BaseException) -> bool:
    """Did compiling fail (no C++ compiler, no Triton, an unsupported operation ...)?"""
    from torch._dynamo.exc import TorchDynamoException

    return isinstance(err, TorchDynamoException)


def warn_eager_fallback(err: BaseException) -> None:
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    warnings.warn(
        f"torch.compile failed ({reason[:300]}); training continues in eager mode, which gives "
        "the same results, only without the speed-up. Pass compile='off' to skip compiling.",
        RuntimeWarning,
        stacklevel=3,
    )
