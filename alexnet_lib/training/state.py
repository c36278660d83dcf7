"""Where a run stands, and what it needs to continue exactly: position, random states, the
last weights known to be good, and the epoch's sums kept on the device."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from .distributed import distributed, sum_across_processes


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
        self.last_lr: float | None = None  # the learning rate of the latest step

    def add(self, sums: RunningSums, done: int) -> None:
        """Count the batches the device summed, up to batch `done`; restart the sums there."""
        self.loss_sum += sums.loss_sum.item()
        self.correct += int(sums.correct.item())
        self.count += sums.count
        self.train_seconds += sums.restart(done)
        self.batch = done

    def progress(self) -> dict[str, str]:
        """The epoch so far, for the progress bar."""
        return {"loss": f"{self.loss_sum / max(self.count, 1):.3f}",
                "acc": f"{self.correct / max(self.count, 1):.3f}",
                "img_s": f"{self.count / max(self.train_seconds, 1e-9):,.0f}"}

    def next_epoch(self, generator: torch.Generator | None) -> None:
        """Start the next epoch; its order comes from the loader's generator as it is now."""
        self.__init__(self.epoch + 1, generator.get_state() if generator is not None else None)

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


def seed_each_process(device: torch.device) -> None:
    """Under torchrun, give each process its own random stream for dropout and augmentation
    (the example order comes from the loader's own generator, shared by all): every process
    draws the same number and adds its rank. Nothing changes in a single process."""
    if distributed():
        seed = int(torch.randint(0, 2**62, ()))
        torch.manual_seed(seed + torch.distributed.get_rank())


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

    def restore(self) -> None:
        with torch.no_grad():
            for good, tensor in zip(self._good, self._tensors, strict=True):
                tensor.copy_(good)
        self._holding = False


class RunningSums:
    """An epoch's loss and accuracy, summed on the device between two reads by the host:
    reading a number from a GPU makes the host wait for all queued work."""

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

    def sum_across_processes(self, done: int) -> None:
        """Add up the processes' sums since the last read, and the batch losses up to `done`
        (the new window only: older entries were added up already)."""
        if distributed():
            count = torch.tensor([self.count], device=self.loss_sum.device)
            window = self.losses[self.first : done]  # a view: reduced in place
            sum_across_processes(window, self.loss_sum, self.correct, count)
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


def replays_its_order(data_iter) -> bool:
    """Whether a loader can start an epoch again at any batch, in the same order (the
    library's loader can; a torch DataLoader cannot)."""
    return hasattr(data_iter, "generator") and hasattr(data_iter, "batches")


def replayable_batches(data_iter, pos: Position, device: torch.device
                       ) -> Iterator[tuple[int, Any, dict[str, torch.Tensor]]]:
    """(index, batch, random state before the batch was made) from `pos.batch` on. The
    library's loader replays the epoch's order from the generator state kept in `pos`;
    augmentation draws from the random state, so an interrupted batch can be made again."""
    if replays_its_order(data_iter):
        if pos.order_state is None:
            pos.order_state = data_iter.generator.get_state()
        data_iter.generator.set_state(pos.order_state)
        batches = data_iter.batches(data_iter.epoch_order(), start=pos.batch)
    else:
        batches = iter(data_iter)
    i = pos.batch
    while True:
        rng_before = rng_state(device)
        batch = next(batches, None)
        if batch is None:
            return
        yield i, batch, rng_before
        i += 1
