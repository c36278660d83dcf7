"""The training loop: fast on a GPU, usable on a CPU, and it never throws a run's work away.

Read `train` top to bottom: settings, model and optimiser, then the loop over epochs and
batches. Metrics are summed on the device and read back only when the progress bar is
refreshed, so the GPU never waits for the host inside a step.
"""

from __future__ import annotations

import math
import os
import signal
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm.auto import tqdm

from .checkpoint import load_checkpoint, save_checkpoint
from .compiling import check_compile_mode, compile_model, is_compile_error, warn_eager_fallback
from .devices import Precision, choose_precision, resolve_device
from .evaluation import eval_mode
from .history import EpochRecord, History
from .quick import cap_epochs, quick_mode
from .schedules import LR_SCHEDULES, lr_factor


class TrainingError(RuntimeError):
    """Training stopped early: `history` holds the finished epochs, `net` the last good weights."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


class NonFiniteLossError(TrainingError, FloatingPointError):
    """The loss became NaN or infinite."""


class OutOfMemoryError(TrainingError):
    """The device ran out of memory during a training step."""


def evaluate_accuracy(
    net: nn.Module,
    data_iter: Iterable,
    device: str | torch.device | None = None,
    precision: str = "fp32",
) -> float:
    """Fraction of correctly classified examples, with `net` in eval mode (dropout off).

    The mode `net` was in before is restored afterwards.
    """
    device = resolve_device(device) if device is not None else _device_of(net)
    correct, count = _count_correct(net, data_iter, device, choose_precision(device, precision))
    return correct.item() / max(count, 1)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _is_main_process() -> bool:
    return not _distributed() or dist.get_rank() == 0


def _say(message: str) -> None:
    """Print once: in data-parallel training only process 0 speaks."""
    if _is_main_process():
        print(message, flush=True)


def _sum_across_processes(*tensors: torch.Tensor) -> None:
    """Add each tensor up over all processes, in place (nothing to do in a single process)."""
    if _distributed():
        for tensor in tensors:
            dist.all_reduce(tensor)


def _device_of(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


def _autocast(device: torch.device, precision: Precision):
    return torch.autocast(device.type, dtype=precision.dtype, enabled=precision.dtype is not None)


def _count_correct(
    net: nn.Module, data_iter: Iterable, device: torch.device, precision: Precision
) -> tuple[torch.Tensor, int]:
    correct = torch.zeros((), dtype=torch.int64, device=device)
    count = 0
    with eval_mode(net), _autocast(device, precision):
        for X, y in data_iter:
            X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
            correct += (net(X).argmax(dim=1) == y).sum()
            count += len(y)
    if _distributed():
        total = torch.tensor([count], device=device)
        _sum_across_processes(correct, total)
        count = int(total.item())
    return correct, count


@contextmanager
def _stop_on_ctrl_c() -> Iterator[dict[str, bool]]:
    """The first Ctrl-C asks the loop to stop after the current batch; a second stops at once."""
    request = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield request
        return

    def on_sigint(signum, frame):
        if request["stop"]:
            raise KeyboardInterrupt
        request["stop"] = True
        print("\nCtrl-C: stopping after this batch (press again to stop at once).", flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield request
    finally:
        signal.signal(signal.SIGINT, previous)


def _rng_state(device: torch.device) -> dict[str, torch.Tensor]:
    state = {"cpu": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def _set_rng_state(state: dict[str, torch.Tensor], device: torch.device) -> None:
    torch.set_rng_state(state["cpu"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def _validate(net: nn.Module, train_iter: Any, num_epochs: int, lr: float,
              lr_schedule: str) -> None:
    if not isinstance(num_epochs, int) or isinstance(num_epochs, bool) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive whole number, got {num_epochs!r}.")
    if not isinstance(lr, (int, float)) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a positive number such as 0.001, got {lr!r}.")
    if lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {lr_schedule!r}.")
    if len(train_iter) == 0:
        raise ValueError("train_iter yields no batches: is the data limit 0?")
    expected = getattr(net, "input_shape", None)
    given = getattr(train_iter, "image_shape", None)
    if expected is not None and given is not None and tuple(expected) != tuple(given):
        raise ValueError(
            f"{type(net).__name__} expects images shaped {list(expected)}, but train_iter yields "
            f"{list(given)}: load the data with resize={expected[-1]}, or build the model with "
            f"image_size={given[-1]}."
        )


class _Position:
    """Where a run stands: the epoch and next batch, and the epoch's sums up to that batch."""

    def __init__(self, epoch: int = 0) -> None:
        self.epoch = epoch  # the epoch in progress, counted from 0
        self.batch = 0  # the next batch of that epoch
        self.loss_sum = 0.0
        self.correct = 0
        self.count = 0
        self.train_seconds = 0.0
        self.order_state: torch.Tensor | None = None  # shuffle generator at the epoch's start

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Position:
        position = cls()
        vars(position).update(data)
        return position


class _Trainer:
    """One training run's parts, and the two things it repeats: an epoch and a sync."""

    def __init__(self, net, optimizer, device, precision, progress, schedule,
                 compile_mode) -> None:
        self.net = net
        # In data-parallel training the wrapper averages gradients over processes.
        self.eager_model = (
            DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
            if _distributed() else net
        )
        self.model = compile_model(self.eager_model, compile_mode)
        self.optimizer = optimizer
        self.schedule, self.total_steps = schedule  # (name, number of steps in the whole run)
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.device = device
        self.precision = precision
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision.needs_grad_scaler)
        self.progress = progress
        self.history = History()
        self.position = _Position()
        self.good_weights = [t.detach().clone() for t in net.state_dict().values()]
        self.rng_at_batch_start = _rng_state(device)
        self.stop_requested = {"stop": False}

    def state(self) -> dict[str, Any]:
        """Everything `resume` needs: tensors and plain values only."""
        return {
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "grad_scaler": self.scaler.state_dict() if self.scaler.is_enabled() else {},
            "history": self.history.to_dict(),
            "position": self.position.to_dict(),
            "rng": _rng_state(self.device),
        }

    def load(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scaler.is_enabled() and state["grad_scaler"]:
            self.scaler.load_state_dict(state["grad_scaler"])
        self.history = History.from_dict(state["history"])
        self.position = _Position.from_dict(state["position"])
        _set_rng_state(state["rng"], self.device)
        self._keep_weights()

    def _keep_weights(self) -> None:
        with torch.no_grad():
            for good, tensor in zip(self.good_weights, self.net.state_dict().values(), strict=True):
                good.copy_(tensor)

    def _restore_weights(self) -> None:
        with torch.no_grad():
            for good, tensor in zip(self.good_weights, self.net.state_dict().values(), strict=True):
                tensor.copy_(good)

    def run_epoch(self, train_iter) -> None:
        """Train from `position.batch` to the end of the epoch, or until Ctrl-C."""
        net, pos, device = self.net, self.position, self.device
        net.train()
        generator = getattr(train_iter, "generator", None)
        if generator is not None:  # our loader: its order can be replayed when resuming
            if pos.order_state is None:
                pos.order_state = generator.get_state()
            generator.set_state(pos.order_state)
            batches = train_iter.batches(train_iter.epoch_order(), start=pos.batch)
        else:
            batches = iter(train_iter)
        num_batches = len(train_iter)
        sync_every = max(1, min(50, num_batches // 20))
        sums = _DeviceSums(num_batches, device, first=pos.batch)
        bar = tqdm(total=num_batches, initial=pos.batch,
                   disable=not (self.progress and _is_main_process()),
                   leave=False, desc=f"epoch {pos.epoch + 1}", unit="batch")
        try:
            for i, (X, y) in enumerate(batches, start=pos.batch):
                self.rng_at_batch_start = _rng_state(device)
                self._set_lr(pos.epoch * num_batches + i)
                X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
                try:
                    y_hat, loss = self._step(X, y)
                except KeyboardInterrupt:
                    # This batch never reached optimizer.step(): account for the ones before it
                    # and rewind the random state, so that resuming repeats nothing.
                    self._sync(sums, i, bar)
                    _set_rng_state(self.rng_at_batch_start, device)
                    raise
                except torch.OutOfMemoryError:
                    self._sync(sums, i, bar)
                    raise self._out_of_memory(len(y), i) from None
                sums.add(i, loss, y_hat, y)
                bar.update(1)
                done = i + 1
                if done - sums.first >= sync_every or done == num_batches or \
                        self.stop_requested["stop"]:
                    self._sync(sums, done, bar)
                    if self.stop_requested["stop"]:
                        break
        finally:
            bar.close()

    def _set_lr(self, step: int) -> None:
        factor = lr_factor(self.schedule, step, self.total_steps)
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base_lr * factor

    def _step(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            return self._forward_backward(X, y)
        except Exception as err:
            if self.model is self.eager_model or not is_compile_error(err):
                raise
            # Compiling fails inside the forward pass, before any weight has changed.
            warn_eager_fallback(err)
            self.model = self.eager_model
            self.history.settings["compile"] = "off"
            return self._forward_backward(X, y)

    def _forward_backward(self, X: torch.Tensor, y: torch.Tensor
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        with _autocast(self.device, self.precision):
            y_hat = self.model(X)
            loss = F.cross_entropy(y_hat, y)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        return y_hat, loss

    def _sync(self, sums: _DeviceSums, done: int, bar) -> None:
        """Read the device's sums (one host sync), check the losses, keep the weights if good."""
        pos = self.position
        sums.sum_across_processes()
        bad = sums.first_non_finite(done)
        if bad is not None:
            self._restore_weights()
            raise NonFiniteLossError(
                f"The loss became {sums.losses[bad].item()} at epoch {pos.epoch + 1}, batch "
                f"{bad + 1}. Training stopped; net holds the last weights with a finite loss "
                f"(after batch {sums.first} of this epoch). Try a lower learning rate, e.g. "
                f"lr={self.optimizer.param_groups[0]['lr'] / 10:g}, with a fresh optimizer.",
                self.history,
            )
        self._keep_weights()
        pos.loss_sum += sums.loss_sum.item()
        pos.correct += int(sums.correct.item())
        pos.count += sums.count
        pos.train_seconds += sums.restart(done)
        pos.batch = done
        if self.progress:
            bar.set_postfix(loss=f"{pos.loss_sum / max(pos.count, 1):.3f}",
                            acc=f"{pos.correct / max(pos.count, 1):.3f}",
                            img_s=f"{pos.count / max(pos.train_seconds, 1e-9):,.0f}")

    def _out_of_memory(self, batch_size: int, i: int) -> OutOfMemoryError:
        self.optimizer.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return OutOfMemoryError(
            f"{self.device} ran out of memory at batch size {batch_size} (epoch "
            f"{self.position.epoch + 1}, batch {i + 1}). Load the data with a smaller batch "
            f"size, e.g. load_fashion_mnist({max(1, batch_size // 2)}, ...), or use a smaller "
            "image size. net keeps the weights of the last finished step.",
            self.history,
        )

    def finish_epoch(self, test_iter) -> EpochRecord:
        """Evaluate, record the epoch, and move the position to the next epoch."""
        pos = self.position
        start = time.perf_counter()
        correct, count = _count_correct(self.net, test_iter, self.device, self.precision)
        record = EpochRecord(
            epoch=pos.epoch + 1,
            train_loss=pos.loss_sum / pos.count,
            train_acc=pos.correct / pos.count,
            test_acc=correct.item() / max(count, 1),
            seconds=pos.train_seconds + time.perf_counter() - start,
            images_per_sec=pos.count / max(pos.train_seconds, 1e-9),
        )
        self.history.epochs.append(record)
        self.position = _Position(epoch=record.epoch)
        return record


class _DeviceSums:
    """An epoch's loss and accuracy, summed on the device between two syncs."""

    def __init__(self, num_batches: int, device: torch.device, first: int) -> None:
        self.losses = torch.zeros(num_batches, device=device)  # every batch's loss
        self.loss_sum = torch.zeros((), device=device)
        self.correct = torch.zeros((), dtype=torch.int64, device=device)
        self.count = 0
        self.first = first  # first batch since the last sync
        self.started = time.perf_counter()

    def add(self, i: int, loss: torch.Tensor, y_hat: torch.Tensor, y: torch.Tensor) -> None:
        loss = loss.detach().float()
        self.losses[i] = loss
        self.loss_sum += loss * len(y)
        self.correct += (y_hat.argmax(dim=1) == y).sum()
        self.count += len(y)

    def sum_across_processes(self) -> None:
        if _distributed():
            count = torch.tensor([self.count], device=self.loss_sum.device)
            _sum_across_processes(self.losses, self.loss_sum, self.correct, count)
            self.count = int(count.item())

    def first_non_finite(self, done: int) -> int | None:
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


def train(
    net: nn.Module,
    train_iter: Iterable,
    test_iter: Iterable,
    num_epochs: int,
    lr: float = 0.001,
    optimizer: torch.optim.Optimizer | None = None,
    device: str | torch.device | None = None,
    *,
    precision: str = "auto",
    lr_schedule: str = "constant",
    compile: str = "off",
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
) -> History:
    """Train `net` with cross-entropy for `num_epochs` epochs; return the per-epoch `History`.

    optimizer: default Adam(lr). device: default the best available (CUDA, MPS, CPU).
    precision: "auto" (bf16 where the hardware has it, fp16 with loss scaling on older GPUs,
    else fp32), or "fp32", "bf16", "fp16". lr_schedule: "constant", or "one-cycle" (warm up
    over the first 10% of the steps, then decay linearly to 0 by the last). checkpoint: a
    file written atomically after every epoch and on Ctrl-C; with resume=True training
    continues from it.

    Ctrl-C stops after the current batch and returns the history so far with
    `history.interrupted == True`; `net` keeps its weights. A NaN loss or running out of
    memory raises `NonFiniteLossError` / `OutOfMemoryError`, whose `.history` holds the
    finished epochs.
    """
    _validate(net, train_iter, num_epochs, lr, lr_schedule)
    check_compile_mode(compile)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH to resume from.")
    num_epochs = cap_epochs(num_epochs)
    device = resolve_device(device)
    precision_used = choose_precision(device, precision)

    net.to(device, memory_format=torch.channels_last)  # NHWC: what GPU tensor cores want
    if optimizer is None:
        # The fused kernel updates all 46.8 M parameters in one pass: 6x faster than the
        # default loop over tensors on a CPU, where the update is a noticeable share of a step.
        optimizer = torch.optim.Adam(net.parameters(), lr=lr,
                                     fused=device.type in ("cuda", "cpu"))
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels
    if _distributed():  # each process trains on its share of every batch
        for data_iter in (train_iter, test_iter):
            data_iter.shard(dist.get_rank(), dist.get_world_size())
    schedule = (lr_schedule, num_epochs * len(train_iter))
    trainer = _Trainer(net, optimizer, device, precision_used, progress, schedule, compile)
    settings = _settings(net, train_iter, test_iter, optimizer, device, precision_used,
                         num_epochs, trainer.base_lrs[0], lr_schedule,
                         compile if trainer.model is not trainer.eager_model else "off")
    if resume and os.path.exists(checkpoint):
        state = load_checkpoint(checkpoint)
        _check_same_run(state["history"].get("settings", {}), settings, checkpoint)
        trainer.load(state)
        _say(f"Resuming from {checkpoint}: epoch {trainer.position.epoch + 1}, "
             f"batch {trainer.position.batch}.")
    elif resume:
        _say(f"No checkpoint at {checkpoint} yet: starting from scratch.")
    history = trainer.history
    history.interrupted = False
    history.settings = settings
    _print_start(history.settings)

    with _stop_on_ctrl_c() as stop_requested:
        trainer.stop_requested = stop_requested
        try:
            while trainer.position.epoch < num_epochs:
                trainer.run_epoch(train_iter)
                if trainer.position.batch < len(train_iter):
                    raise KeyboardInterrupt  # Ctrl-C stopped the epoch between two batches
                record = trainer.finish_epoch(test_iter)
                _print_epoch(record, num_epochs)
                if checkpoint is not None and _is_main_process():
                    save_checkpoint(trainer.state(), checkpoint)
                if trainer.stop_requested["stop"] and trainer.position.epoch < num_epochs:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            history.interrupted = True
            saved = ""
            if checkpoint is not None and _is_main_process():
                save_checkpoint(trainer.state(), checkpoint)
                saved = f" Saved {checkpoint}; train(..., resume=True) continues from there."
            pos = trainer.position
            _say(f"Interrupted at epoch {pos.epoch + 1}, batch {pos.batch}: returning the "
                 f"{len(history)} finished epoch(s); net keeps its weights.{saved}")
            return history
        finally:  # leave the optimizer as it came, so a second train() starts from its lr
            for group, base_lr in zip(optimizer.param_groups, trainer.base_lrs, strict=True):
                group["lr"] = base_lr
    _say("Done: " + history.summary())
    return history


def _check_same_run(saved: dict[str, Any], current: dict[str, Any], checkpoint) -> None:
    """Refuse to resume a checkpoint made with another model, data or schedule."""
    keys = ["model", "parameters", "image_shape", "batch_size", "train_examples", "lr_schedule"]
    if current["lr_schedule"] != "constant":  # the schedule's length depends on the epochs
        keys.append("num_epochs")
    differ = [f"{key}: {saved[key]!r} in the checkpoint, {current[key]!r} now"
              for key in keys if key in saved and saved[key] != current[key]]
    if differ:
        raise ValueError(
            f"{checkpoint} was made by a different run ({'; '.join(differ)}). Resume with the "
            "same settings, or pass another checkpoint path (or delete this file) to start "
            "afresh."
        )


def _print_start(settings: dict[str, Any]) -> None:
    _say(
        f"Training {settings['model']} on {settings['device']} ({settings['precision']}): "
        f"{settings['num_epochs']} epochs, batch size {settings['batch_size']}, "
        f"{settings['train_examples']:,} training / {settings['test_examples']:,} test images "
        f"of {settings['image_shape']}, {settings['optimizer']} lr={settings['lr']:g}"
        + (f" ({settings['lr_schedule']})" if settings["lr_schedule"] != "constant" else "")
        + (f", compiled ({settings['compile']})" if settings["compile"] != "off" else "")
        + (" [quick mode]" if settings["quick_mode"] else "")
        + (f" [{settings['processes']} processes]" if settings["processes"] > 1 else "")
    )


def _print_epoch(record: EpochRecord, num_epochs: int) -> None:
    _say(
        f"epoch {record.epoch}/{num_epochs}: loss {record.train_loss:.4f}, "
        f"train acc {record.train_acc:.3f}, test acc {record.test_acc:.3f}, "
        f"{record.seconds:.1f} s, {record.images_per_sec:,.0f} images/s"
    )


def _settings(net, train_iter, test_iter, optimizer, device, precision, num_epochs, lr,
              lr_schedule, compile_mode) -> dict:
    def examples(data_iter) -> int:
        return getattr(data_iter, "num_examples", None) or len(getattr(data_iter, "dataset", []))

    image_shape = getattr(train_iter, "image_shape", None) or getattr(net, "input_shape", ())
    return {
        "model": type(net).__name__,
        "parameters": sum(p.numel() for p in net.parameters()),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU",
        "precision": precision.name,
        "num_epochs": num_epochs,
        "batch_size": getattr(train_iter, "batch_size", None),
        "train_examples": examples(train_iter),
        "test_examples": examples(test_iter),
        "image_shape": "x".join(str(s) for s in image_shape),
        "optimizer": type(optimizer).__name__,
        "lr": lr,
        "lr_schedule": lr_schedule,
        "compile": compile_mode,
        "torch": str(torch.__version__),
        "quick_mode": quick_mode(),
        "processes": dist.get_world_size() if _distributed() else 1,
    }
