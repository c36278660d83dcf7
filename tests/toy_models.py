"""Small, fast models for testing the training loop, some of which fail on purpose."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class ToyNet(nn.Module):
    """An MLP with dropout for 28x28 images; can misbehave on its Nth training forward pass."""

    def __init__(self, fail_at: int | None = None, failure: Callable | None = None) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Dropout(0.5), nn.Linear(32, 10)
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
