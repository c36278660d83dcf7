"""An optional `torch.compile` of the training model, with a way back to plain eager PyTorch.

Compiling fuses the network's small operations into fewer, larger kernels; "reduce-overhead"
also replays each step as a CUDA graph, so that the CPU no longer launches kernels one by one.
Whether that pays depends on the device: measure it with `python -m alexnet_lib bench`.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from ..errors import check_choice

COMPILE_MODES = ("off", "default", "reduce-overhead", "max-autotune")
"""`train(compile=...)`: "off" runs eagerly; the others are `torch.compile`'s modes."""


def check_compile_mode(mode: str) -> None:
    check_choice("compile", mode, COMPILE_MODES)


class EagerFallback:
    """Calls the compiled model; if compiling fails (at the first call, inside the forward
    pass, before any weight has changed), warns and calls the eager model from then on.
    `fell_back` says whether it did."""

    def __init__(self, compiled, eager: nn.Module) -> None:
        self.compiled, self.eager, self.fell_back = compiled, eager, False

    def __call__(self, *args, **kwargs):
        if not self.fell_back:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as err:
                if not is_compile_error(err):
                    raise
                warn_eager_fallback(err)
                self.fell_back = True
        return self.eager(*args, **kwargs)


def compile_model(model: nn.Module, mode: str) -> nn.Module | EagerFallback:
    """`model` compiled in `mode`, falling back to `model` where compiling fails; `model`
    itself for "off" or where torch.compile is unsupported. The compiled module shares its
    parameters with `model`."""
    check_compile_mode(mode)
    if mode == "off":
        return model
    try:
        return EagerFallback(torch.compile(model, mode=None if mode == "default" else mode),
                             model)
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
