"""Small, fast models for testing the training loop, some of which fail on purpose."""

from __future__ import annotations

import signal
from collections.abc import Callable

import torch
from torch import nn


class ToyNet(nn.Module):
    """An MLP with dropout for 28x28 images (or image_size); can misbehave on its Nth training
    forward pass."""

    def __init__(self, fail_at: int | None = None, failure: Callable | None = None,
                 image_size: int = 28) -> None:
        super().__init__()
        self.input_shape = (1, image_size, image_size)
        self.layers = nn.Sequential(
            nn.Flatten(), nn.Linear(image_size**2, 32), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(32, 10)
        )
        self.fail_at = fail_at
        self.failure = failure
        self.train_calls = 0

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        out = self.layers(X)
        if self.training:
            self.train_calls += 1
            if self.train_calls == self.fail_at:
                return self.failure(out)
        return out


def raise_keyboard_interrupt(out):
    raise KeyboardInterrupt


def raise_out_of_memory(out):
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")


def make_nan(out):
    return out * float("nan")


class _NanGradient(torch.autograd.Function):
    """The identity, whose gradient is NaN: a finite loss whose step ruins the weights."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("nan")


def nan_gradient(out):
    return _NanGradient.apply(out)


def allocate_too_much(out):
    """Ask the CPU's allocator for a petabyte: a real out-of-memory error, at once."""
    return out + torch.empty(2**50, dtype=torch.uint8).sum()


def send(signum: int, times: int = 1) -> Callable:
    """A failure that sends this process `signum`, `times` times (Ctrl-C is SIGINT)."""

    def failure(out):
        for _ in range(times):
            signal.raise_signal(signum)
        return out

    return failure


class FixedLogits(nn.Module):
    """Always predicts the same logits, so each example's loss depends on its label only."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits
        self.unused = nn.Parameter(torch.zeros(()))  # something for the optimiser to hold

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(len(X), -1) + 0 * self.unused


def weights(net: nn.Module) -> list[torch.Tensor]:
    return [t.detach().clone() for t in net.state_dict().values()]


def same_weights(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b, strict=True))
