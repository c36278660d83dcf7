"""An epoch's loss and accuracy, summed on the device between two reads by the host.

Reading a number from a GPU makes the host wait for all queued work; summing on the device
and reading once every few dozen batches keeps the GPU busy.
"""

from __future__ import annotations

import time

import torch

from .distributed import distributed, sum_across_processes


class RunningSums:
    def __init__(self, num_batches: int, device: torch.device, first: int) -> None:
        self.losses = torch.zeros(num_batches, device=device)  # every batch's loss
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.count = 0
        self.first = first  # first batch since the last read
        self.started = time.perf_counter()

    def add(self, i: int, loss: torch.Tensor, y_hat: torch.Tensor, y: torch.Tensor,
            examples: float | None = None) -> None:
        """Add batch i: `loss` is its summed loss divided by `examples` (default len(y))."""
        loss_sum = loss.detach().float() * (examples or len(y))
        self.losses[i] = loss_sum  # summed over processes, checked for NaN
        self.loss_sum += loss_sum
        self.correct += (y_hat.argmax(dim=1) == y).sum()
        self.count += len(y)

    def sum_across_processes(self) -> None:
        if distributed():
            count = torch.tensor([self.count], device=self.loss_sum.device)
            sum_across_processes(self.losses, self.loss_sum, self.correct, count)
            self.count = int(count.item())

    def first_non_finite(self, done: int) -> int | None:
        """The first batch before `done` (since the last read) whose loss was NaN or infinite."""
        finite = torch.isfinite(self.losses[self.first : done])
        if bool(finite.all()):
            return None
        return self.first + int((~finite).nonzero()[0])

    def restart(self, done: int) -> float:
        """Zero the sums for batches from `done` on; return the seconds since the last restart."""
        self.loss_sum.zero_()
        self.correct.zero_()
        self.count, self.first = 0, done
        now = time.perf_counter()
        seconds, self.started = now - self.started, now
        return seconds
