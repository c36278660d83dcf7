"""Where a run stands, and what it needs to continue exactly: position, random states, the
last weights known to be good."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn


class Position:
    """The epoch and next batch of a run, and the epoch's sums up to that batch."""

    def __init__(self, epoch: int = 0, order_state: torch.Tensor | None = None) -> None:
        self.epoch = epoch  # the epoch in progress, counted from 0
        self.batch = 0  # the next batch of that epoch
        self.loss_sum = 0.0
        self.correct = 0
        self.count = 0
        self.train_seconds = 0.0
        # The loader's shuffling generator as it was when the epoch began: restoring it
        # replays the epoch's order, so a resumed run draws exactly the batches it would have.
        self.order_state = order_state

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        position = cls()
        vars(position).update(data)
        return position


def rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    """The random-number state that dropout and augmentation draw from."""
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


class GoodWeights:
    """A copy of the weights that last gave a finite loss, to fall back on after a NaN.

    A loss is computed *before* its step, so a finite loss vouches for the weights it was
    computed with, not for the step that follows. `hold` copies the weights just before a
    step; once that step's loss is known to be finite, `confirm` makes the copy the good one.
    """

    def __init__(self, net: nn.Module) -> None:
        self._tensors = list(net.state_dict().values())
        self._good = [t.detach().clone() for t in self._tensors]
        self._held = [t.detach().clone() for t in self._tensors]
        self._holding = False

    def hold(self) -> None:
        with torch.no_grad():
            for held, tensor in zip(self._held, self._tensors, strict=True):
                held.copy_(tensor)
        self._holding = True

    def confirm(self) -> None:
        if self._holding:
            self._good, self._held = self._held, self._good
            self._holding = False

    def cancel(self) -> None:
        """Forget the held copy: its step never happened, so no loss will vouch for it."""
        self._holding = False

    def take_current(self) -> None:
        """Vouch for the weights as they are now (at the start, or after loading a checkpoint)."""
        self.hold()
        self.confirm()

    def restore(self) -> None:
        with torch.no_grad():
            for good, tensor in zip(self._good, self._tensors, strict=True):
                tensor.copy_(good)
        self._holding = False
