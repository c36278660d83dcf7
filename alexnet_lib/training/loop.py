"""The training loop. `train_step` is all of learning: forward, loss, backward, step. `train`
runs it over epochs and batches and reads top to bottom; what keeps a run safe and fast is a
small named helper below it, or a module beside it:

- config.py: the settings in one frozen `TrainConfig`, every one checked before any work;
- state.py: the position in the run, the device's running sums, the last good weights;
- checkpoint.py, files.py: checkpoints written atomically, one run per checkpoint;
- stopping.py: Ctrl-C, SIGTERM and SIGHUP set a flag; the loop finishes the batch and saves;
- precision.py, compiling.py: the number format, and torch.compile with a way back to eager;
- optim.py: Adam or the 2012 paper's SGD, and the learning-rate schedule;
- distributed.py: data-parallel training under torchrun.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.lr_scheduler import ReduceLROnPlateau
from tqdm.auto import tqdm

from ..devices import resolve_device
from ..evaluation import accuracy_and_loss
from ..memory import is_out_of_memory
from ..quick import cap_epochs, quick_checkpoint
from . import messages
from .checkpoint import resume_or_start, save
from .compiling import compile_model
from .config import (
    TrainConfig,
    check_config,
    has_partial_last_batch,
    run_settings,
)
from .distributed import data_parallel, distributed, is_main_process, say, share_of_batch
from .files import run_lock
from .history import EpochRecord, History
from .optim import make_optimizer, make_scheduler, resize_schedule, step_per_batch
from .precision import Precision, choose_precision, cudnn_autotuning, saved_precision
from .state import (
    GoodWeights,
    Position,
    RunningSums,
    replayable_batches,
    set_rng_state,
)
from .stopping import StopRequest, agree_on_stop, lent, stop_requests


def train_step(model: nn.Module, X: torch.Tensor, y: torch.Tensor,
               optimizer: torch.optim.Optimizer, precision: Precision | None = None,
               scaler: torch.amp.GradScaler | None = None, examples: float | None = None,
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """One step of gradient descent on the batch (X, y); returns the logits and the loss.

    precision: autocast to its dtype (default fp32). scaler: a GradScaler, needed for fp16.
    examples: what the summed loss is divided by; default len(y), the mean. In data-parallel
    training X is one process's share of the batch and the gradients are averaged over the
    processes: pass the batch's size divided by the number of processes, and every example
    weighs the same however unevenly the batch divides (an empty share adds nothing).
    """
    dtype = precision.dtype if precision is not None else None
    with torch.autocast(X.device.type, dtype=dtype, enabled=dtype is not None):
        y_hat = model(X)  # forward
        loss = F.cross_entropy(y_hat, y, reduction="sum") / (examples or len(y))  # loss
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()  # backward
        optimizer.step()  # step
    else:  # fp16: scale the loss so that small gradients survive, unscale before the step
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    return y_hat, loss


class TrainingError(RuntimeError):
    """Training stopped early: `history` holds the finished epochs, `net` the last good weights."""

    def __init__(self, message: str, history: History) -> None:
        super().__init__(message)
        self.history = history


class NonFiniteLossError(TrainingError, FloatingPointError):
    """The loss became NaN or infinite."""


class OutOfMemoryError(TrainingError, torch.OutOfMemoryError):
    """The device ran out of memory during a training step."""


def train(net: nn.Module, train_iter: Iterable, test_iter: Iterable | None, num_epochs: int,
          lr: float = 0.001, optimizer: str | torch.optim.Optimizer = "adam",
          device: str | torch.device | None = None, *, weight_decay: float = 0.0,
          lr_schedule: str = "constant", val_iter: Iterable | None = None,
          precision: str = "auto", compile: str = "off",
          checkpoint: str | os.PathLike | None = None, resume: bool = False,
          overwrite: bool = False, progress: bool = True, lang: str = "en") -> History:
    """Train `net` with cross-entropy for `num_epochs` epochs; return the per-epoch `History`.
    The settings are `TrainConfig`'s (see its fields); `val_iter` holds held-out training
    images, measured after every epoch like `test_iter`.

    Ctrl-C (or SIGTERM, SIGHUP) stops after the current batch, saves, and returns the history
    so far with `history.interrupted == True`. A NaN loss or running out of memory raises
    `NonFiniteLossError` / `OutOfMemoryError`, whose `.history` holds the finished epochs.
    """
    cfg = TrainConfig(num_epochs=num_epochs, lr=lr, optimizer=optimizer, device=device,
                      weight_decay=weight_decay, lr_schedule=lr_schedule, precision=precision,
                      compile=compile, checkpoint=quick_checkpoint(checkpoint), resume=resume,
                      overwrite=overwrite,
                      progress=progress, lang=lang)
    check_config(cfg, net, train_iter, test_iter, val_iter)  # every setting, before any work
    loaders = {"train": train_iter, "val": val_iter, "test": test_iter}
    device = resolve_device(cfg.device)
    precision = choose_precision(device, cfg.precision,  # a resumed run keeps its format
                                 saved_precision(cfg.checkpoint, cfg.resume), cfg.checkpoint)
    num_epochs = cap_epochs(cfg.num_epochs)
    net.to(device, memory_format=torch.channels_last)  # NHWC: what GPU tensor cores want
    optimizer = make_optimizer(cfg.optimizer, net.parameters(), cfg.lr, cfg.weight_decay, device)
    base_lrs = [group["lr"] for group in optimizer.param_groups]  # given back at the end
    eager = data_parallel(net, device, loaders.values())  # under torchrun: DDP, shared data
    model = compile_model(eager, cfg.compile)  # falls back to `eager` if compiling fails
    drop_last = model is not eager and has_partial_last_batch(train_iter)
    num_batches = len(train_iter) - drop_last
    history = History(settings=run_settings(cfg, net, loaders, optimizer, device, precision,
                                            num_epochs, model is not eager, drop_last))
    scheduler = make_scheduler(cfg.lr_schedule, optimizer, num_epochs * num_batches)
    scaler = torch.amp.GradScaler(device.type) if precision.needs_grad_scaler else None
    parts = {"model": net, "optimizer": optimizer, "scheduler": scheduler, "grad_scaler": scaler}
    history, pos = resume_or_start(cfg, parts, history, train_iter, device)
    good_weights = GoodWeights(net)
    if pos.epoch < num_epochs:  # a complete run says so instead (resume_from)
        say(messages.start(history.settings, lang))
    with lock(cfg.checkpoint), cudnn_autotuning(device), \
            stop_requests(second_ctrl_c_stops=not distributed()) as stop, \
            lent(optimizer, base_lrs, stop):
        while pos.epoch < num_epochs:
            net.train()
            sums = RunningSums(len(train_iter), device, first=pos.batch)
            with progress_bar(pos, num_batches, cfg) as bar:
                for i, (X, y), rng_before in replayable_batches(train_iter, pos, device):
                    if i >= num_batches:  # a compiled run leaves out the partial last batch
                        break
                    X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    sync_now = sync_due(i + 1, sums, num_batches, stop)
                    if sync_now:
                        good_weights.hold()  # this batch's loss will vouch for these weights
                    examples = share_of_batch(train_iter, i)
                    try:
                        with stop.interruptible():  # a second Ctrl-C, until the step begins
                            y_hat, loss = train_step(model, X, y, optimizer, precision, scaler,
                                                     examples)
                    except KeyboardInterrupt:  # cut short before its step: it never happened
                        good_weights.cancel()
                        set_rng_state(rng_before, device)
                        read_sums(sums, i, pos, good_weights, optimizer, history, lang)
                        break
                    except (torch.OutOfMemoryError, RuntimeError, MemoryError) as err:
                        raise out_of_memory(err, optimizer, device, len(y), pos, i, history,
                                            lang) from None
                    bar.update(1)
                    sums.add(i, loss, y_hat, y, examples)
                    pos.last_lr = optimizer.param_groups[0]["lr"]
                    if getattr(model, "fell_back", False) and history.settings["compile"] != "off":
                        num_batches = len(train_iter)  # compiling failed: train as eager runs do
                        resize_schedule(scheduler, num_epochs * num_batches)
                        history.settings.update(compile="off", drop_last=False)
                    step_per_batch(scheduler)
                    if sync_now:
                        read_sums(sums, i + 1, pos, good_weights, optimizer, history, lang)
                        bar.set_postfix(pos.progress())
                        if agree_on_stop(stop, device):
                            break
            if pos.batch < num_batches:  # stopped within the epoch
                return stopped(history, pos, stop, parts, device, cfg.checkpoint, lang)
            try:
                with stop.interruptible():  # a second Ctrl-C may cut the evaluation short
                    measured = evaluate(net, loaders, device)
            except KeyboardInterrupt:
                return stopped(history, pos, stop, parts, device, cfg.checkpoint, lang)
            finish_epoch(measured, pos, history, scheduler, train_iter, num_epochs, lang)
            save(cfg.checkpoint, parts, history, pos, device, stop)
            if agree_on_stop(stop, device) and pos.epoch < num_epochs:
                return stopped(history, pos, stop, parts, device, cfg.checkpoint, lang,
                               saved_already=True)
    say(messages.done(history, lang))
    return history


# --- What keeps a run exact and safe -----------------------------------------------------------


def sync_due(done: int, sums: RunningSums, num_batches: int, stop: StopRequest) -> bool:
    """Read the sums every few dozen batches and after the last one; in a single process also
    as soon as a stop is asked for (under torchrun the processes agree at regular syncs)."""
    every = max(1, min(50, num_batches // 20))
    return (done - sums.first >= every or done == num_batches
            or (stop.requested and not distributed()))


def read_sums(sums: RunningSums, done: int, pos: Position, good_weights: GoodWeights,
              optimizer: torch.optim.Optimizer, history: History, lang: str) -> None:
    """Read the device's sums up to batch `done` (one host sync); on a NaN or infinite loss,
    put the last good weights back and raise; else vouch for the held weights."""
    sums.sum_across_processes(done)
    bad = sums.first_non_finite(done)
    if bad is not None:
        good_weights.restore()
        raise NonFiniteLossError(
            messages.non_finite(sums.losses[bad].item(), pos.epoch + 1, bad + 1,
                                optimizer.param_groups[0]["lr"], lang), history)
    good_weights.confirm()
    pos.add(sums, done)


def evaluate(net: nn.Module, loaders: dict[str, Iterable | None], device: torch.device
             ) -> dict[str, float]:
    """Accuracy and loss on the test and validation images, where there are some, and the
    seconds it took."""
    start = time.perf_counter()
    measured = {}
    for name in ("test", "val"):
        if loaders[name] is not None:
            measured[f"{name}_acc"], measured[f"{name}_loss"] = accuracy_and_loss(
                net, loaders[name], device)
    measured["seconds"] = time.perf_counter() - start
    return measured


def finish_epoch(measured: dict[str, float], pos: Position, history: History, scheduler,
                 train_iter, num_epochs: int, lang: str) -> None:
    """Record the epoch, step a per-epoch schedule, print, and move to the next epoch."""
    record = EpochRecord(
        epoch=pos.epoch + 1, train_loss=pos.loss_sum / pos.count,
        train_acc=pos.correct / pos.count, test_acc=measured.get("test_acc"),
        seconds=pos.train_seconds + measured["seconds"],
        images_per_sec=pos.count / max(pos.train_seconds, 1e-9), lr=pos.last_lr,
        val_acc=measured.get("val_acc"), val_loss=measured.get("val_loss"),
        test_loss=measured.get("test_loss"))
    history.epochs.append(record)
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(record.val_acc)
    pos.next_epoch(getattr(train_iter, "generator", None))
    say(messages.epoch(record, num_epochs, lang))


def stopped(history: History, pos: Position, stop: StopRequest, parts: dict[str, Any],
            device: torch.device, checkpoint, lang: str, saved_already: bool = False) -> History:
    """A stop asked for by a signal: save where the run stands, say so, return the history."""
    history.interrupted = True
    history.stopped_by = signal.Signals(stop.signal or signal.SIGINT).name
    if not saved_already:
        save(checkpoint, parts, history, pos, device, stop)
    saved = str(checkpoint) if checkpoint is not None and is_main_process() else ""
    say(messages.interrupted(pos, len(history), saved, lang))
    return history


def out_of_memory(err: BaseException, optimizer: torch.optim.Optimizer, device: torch.device,
                  batch_size: int, pos: Position, i: int, history: History, lang: str
                  ) -> OutOfMemoryError:
    """The error to raise for `err`: one saying which batch size to try, where the device
    ran out of memory (the CPU's allocator raises a RuntimeError); else `err` itself."""
    if not is_out_of_memory(err):
        raise err
    optimizer.zero_grad(set_to_none=True)
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return OutOfMemoryError(
        messages.out_of_memory(device, batch_size, pos.epoch + 1, i + 1, lang), history)


def progress_bar(pos: Position, num_batches: int, cfg: TrainConfig) -> tqdm:
    return tqdm(total=num_batches, initial=pos.batch, leave=False, unit="batch",
                disable=not (cfg.progress and is_main_process()),
                desc=messages.epoch_label(pos.epoch + 1, cfg.lang))


def lock(checkpoint):
    """One run per checkpoint; only the process that writes it holds the lock."""
    return run_lock(checkpoint) if checkpoint is not None and is_main_process() else nullcontext()
