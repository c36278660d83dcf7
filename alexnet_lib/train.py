"""The training loop.

`train_step` is all of learning: forward, loss, backward, step. `train` runs it over epochs
and batches; everything else in this module keeps a run fast and safe, in named pieces:

- `RunningSums` (running_sums.py): loss and accuracy summed on the device, read once per sync;
- `Position`, `GoodWeights` (run_state.py) and checkpoint.py: exact resume, and the last good
  weights when a loss turns NaN;
- `stop_requests` (stopping.py): Ctrl-C, SIGTERM and SIGHUP finish the batch, then save;
- compiling.py: torch.compile, falling back to eager where it fails;
- optimizers.py, schedules.py: Adam or the 2012 paper's SGD, and the learning-rate schedule;
- distributed.py: data-parallel training under torchrun.
"""

from __future__ import annotations

import itertools
import os
import signal
import time
from collections.abc import Iterable, Iterator
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim.lr_scheduler import ReduceLROnPlateau
from tqdm.auto import tqdm

from . import log
from .checkpoint import check_training_state, load_checkpoint, save_checkpoint
from .compiling import check_compile_mode, compile_model, is_compile_error, warn_eager_fallback
from .devices import Precision, choose_precision, cudnn_autotuning, resolve_device
from .distributed import (
    distributed,
    is_main_process,
    largest_across_processes,
    say,
    world_size,
)
from .evaluation import correct_and_loss, evaluate_accuracy
from .files import check_output_file, run_lock
from .history import EpochRecord, History
from .memory import is_out_of_memory
from .optimizers import check_optimizer_settings, make_optimizer
from .quick import cap_epochs, quick_mode
from .run_state import GoodWeights, Position, rng_state, set_rng_state
from .running_sums import RunningSums
from .schedules import check_schedule, make_scheduler
from .stopping import StopRequest, stop_requests

__all__ = ["NonFiniteLossError", "OutOfMemoryError", "TrainingError", "evaluate_accuracy",
           "train", "train_step"]


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


def train(
    net: nn.Module,
    train_iter: Iterable,
    test_iter: Iterable | None,
    num_epochs: int,
    lr: float = 0.001,
    optimizer: str | torch.optim.Optimizer = "adam",
    device: str | torch.device | None = None,
    *,
    weight_decay: float = 0.0,
    lr_schedule: str = "constant",
    val_iter: Iterable | None = None,
    precision: str = "auto",
    compile: str = "off",
    checkpoint: str | os.PathLike | None = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    lang: str = "en",
) -> History:
    """Train `net` with cross-entropy for `num_epochs` epochs; return the per-epoch `History`.

    optimizer: "adam" (default), "sgd" (momentum 0.9, the 2012 paper's), or an optimizer you
    built (lr and weight_decay are then its own). weight_decay: L2 penalty (the paper: 5e-4).
    lr_schedule: "constant", "warmup-linear" (warm up over the first 10% of the steps, then
    decay linearly) or "plateau" (divide by 10 when the accuracy on `val_iter` stops rising).
    val_iter: held-out training images, measured after every epoch (so is test_iter, unless
    it is None). device: default the best available (CUDA, MPS, CPU). precision: "auto"
    (bf16 where the hardware computes it natively, fp16 with loss scaling on older GPUs, else
    fp32), or "fp32", "bf16", "fp16".
    compile: a torch.compile mode, or "off". checkpoint: a file written atomically after
    every epoch and when stopped; with resume=True training continues from it. An existing
    checkpoint is replaced only with overwrite=True; while a run writes it, a second run
    asking for it fails at once. lang: "en" or "zh", for what `train` prints.

    Ctrl-C (or SIGTERM, SIGHUP) stops after the current batch and returns the history so far
    with `history.interrupted == True`; `net` keeps its weights. Under torchrun the processes
    agree on a stop at their next sync of the sums, so all stop after the same batch. When
    compiling, each epoch's last partial batch is left out, so that every step has the same
    shape and nothing recompiles mid-epoch. A NaN loss or running out of
    memory raises `NonFiniteLossError` / `OutOfMemoryError`, whose `.history` holds the
    finished epochs.
    """
    _check_checkpoint_path(checkpoint, resume, overwrite)
    run = _Run.start(net, train_iter, test_iter, num_epochs, lr, optimizer, device,
                     weight_decay, lr_schedule, val_iter, precision, compile, checkpoint,
                     resume, progress, lang)
    device, history = run.device, run.history
    # Under torchrun, a second Ctrl-C must not stop one process at once: the others would
    # wait for it in their next collective.
    with _checkpoint_lock(checkpoint), cudnn_autotuning(device), \
            stop_requests(second_ctrl_c_stops=not distributed()) as stop:
        run.stop = stop
        try:
            while run.position.epoch < run.num_epochs:
                net.train()
                for i, (X, y) in run.batches():  # from the saved position on
                    X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
                    y_hat, loss = run.step(i, X, y)  # train_step, and what may go wrong in it
                    run.sums.add(i, loss, y_hat, y, run.examples(i))  # on the device
                    if run.sync_due(i):
                        run.sync(i + 1)  # read the sums; stop on a NaN; agree on a stop
                    if run.stopping:
                        break
                run.close_bar()
                if run.position.batch < run.num_batches:
                    raise KeyboardInterrupt  # stopped between two batches
                run.finish_epoch()  # evaluate, record, print, checkpoint
                if run.agree_on_stop() and run.position.epoch < run.num_epochs:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            run.close_bar()
            run.interrupted()
            return history
        finally:
            run.close_bar()
            run.give_optimizer_back()
    say(log.done(history, lang))
    return history


class _Run:
    """One training run's parts and state; `train` above drives them."""

    @classmethod
    def start(cls, net, train_iter, test_iter, num_epochs, lr, optimizer, device, weight_decay,
              lr_schedule, val_iter, precision, compile_mode, checkpoint, resume, progress,
              lang) -> _Run:
        """Check the arguments, place everything on the device, and resume if asked."""
        _validate(net, train_iter, test_iter, num_epochs, lr, optimizer, weight_decay,
                  lr_schedule, val_iter, compile_mode, checkpoint, resume, lang)
        num_epochs = cap_epochs(num_epochs)
        device = resolve_device(device)
        precision = choose_precision(device, precision)
        net.to(device, memory_format=torch.channels_last)  # NHWC: what GPU tensor cores want
        if isinstance(optimizer, str):
            optimizer = make_optimizer(optimizer, net.parameters(), lr, weight_decay, device)
        if distributed():  # each process trains on its share of every batch
            for data_iter in (train_iter, test_iter, val_iter):
                if data_iter is not None:
                    data_iter.shard(torch.distributed.get_rank(), world_size())
        run = cls(net, train_iter, test_iter, val_iter, num_epochs, optimizer, device,
                  precision, lr_schedule, compile_mode, checkpoint, progress, lang)
        if resume and os.path.exists(checkpoint):
            state = load_checkpoint(checkpoint)
            check_training_state(state, checkpoint)
            _check_same_run(state["history"].get("settings", {}), run.history.settings,
                            checkpoint)
            run.load(state)
            say(log.resuming(checkpoint, run.position, lang))
        elif resume:
            say(log.no_checkpoint_yet(checkpoint, lang))
        run.history.interrupted = False
        say(log.start(run.history.settings, lang))
        return run

    def __init__(self, net, train_iter, test_iter, val_iter, num_epochs, optimizer, device,
                 precision, lr_schedule, compile_mode, checkpoint, progress, lang) -> None:
        self.net, self.device, self.precision = net, device, precision
        self.train_iter, self.test_iter, self.val_iter = train_iter, test_iter, val_iter
        # In data-parallel training the wrapper averages gradients over processes.
        self.eager_model = (
            DistributedDataParallel(net, device_ids=[device] if device.type == "cuda" else None)
            if distributed() else net
        )
        self.model = compile_model(self.eager_model, compile_mode)
        # A compiled step is specialised to its batch's shape: a smaller last batch would
        # compile again (and record a second CUDA graph) in the middle of an epoch.
        self.drop_last = self.model is not self.eager_model and _has_partial_last_batch(
            train_iter)
        self.num_epochs, self.num_batches = num_epochs, len(train_iter) - self.drop_last
        self.optimizer = optimizer
        # A second Ctrl-C may cut a forward or backward pass short, never an optimizer's step.
        self.step_hook = optimizer.register_step_pre_hook(
            lambda *args: self.stop.hold_interrupts())
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.lr_schedule = lr_schedule
        self.scheduler = make_scheduler(lr_schedule, optimizer, num_epochs * self.num_batches)
        self.scaler = torch.amp.GradScaler(device.type) if precision.needs_grad_scaler else None
        self.checkpoint, self.progress, self.lang = checkpoint, progress, lang
        self.history = History(settings=_settings(
            net, train_iter, test_iter, val_iter, optimizer, device, precision, num_epochs,
            self.base_lrs[0], lr_schedule,
            compile_mode if self.model is not self.eager_model else "off", self.drop_last))
        self.position = Position()
        self.good_weights = GoodWeights(net)
        self.rng_at_batch_start = rng_state(device)
        self.stop = StopRequest()
        self.stopping = False  # a stop all processes agreed on
        self.saved_at: tuple[int, int] | None = None  # (epoch, batch) of the last checkpoint
        self.sums: RunningSums | None = None
        self.last_lr = self.base_lrs[0]
        self.bar = None
        self.sync_every = max(1, min(50, self.num_batches // 20))

    # --- Checkpoints ----------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """Everything `resume` needs: tensors and plain values only."""
        return {
            "model": self.net.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
            "grad_scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "history": self.history.to_dict(),
            "position": self.position.to_dict(),
            "rng": rng_state(self.device),
        }

    def load(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state["grad_scaler"]:
            self.scaler.load_state_dict(state["grad_scaler"])
        settings = self.history.settings
        self.history = History.from_dict(state["history"])
        self.history.settings = settings
        self.position = Position.from_dict(state["position"])
        set_rng_state(state["rng"], self.device)
        self.good_weights.take_current()

    def save(self) -> str:
        """Write the checkpoint (main process only); a message saying so, or ""."""
        if self.checkpoint is None or not is_main_process():
            return ""
        position = (self.position.epoch, self.position.batch)
        if position != self.saved_at:  # an epoch's end saved already when a stop follows it
            with self.stop.saving():  # a second Ctrl-C waits for the write to finish
                save_checkpoint(self.state(), self.checkpoint)
            self.saved_at = position
        return str(self.checkpoint)

    # --- One epoch ------------------------------------------------------------------------

    def batches(self) -> Iterator[tuple[int, tuple[torch.Tensor, torch.Tensor]]]:
        """(index, batch) from `position.batch` to the end of the epoch."""
        pos, data = self.position, self.train_iter
        generator = getattr(data, "generator", None)
        if generator is not None:  # the library's loader: its order can be replayed
            if pos.order_state is None:
                pos.order_state = generator.get_state()
            generator.set_state(pos.order_state)
            batches = data.batches(data.epoch_order(), start=pos.batch)
        else:
            batches = iter(data)
        batches = itertools.islice(batches, self.num_batches - pos.batch)  # drop_last
        self.sums = RunningSums(self.num_batches, self.device, first=pos.batch)
        self.bar = tqdm(total=self.num_batches, initial=pos.batch,
                        disable=not (self.progress and is_main_process()),
                        leave=False, desc=log.epoch_label(pos.epoch + 1, self.lang),
                        unit="batch")
        return self._numbered(batches, pos.batch)

    def _numbered(self, batches: Iterator, start: int) -> Iterator[tuple[int, Any]]:
        """enumerate(batches, start), noting the random state before each batch is made:
        augmentation draws from it, so an interrupted batch can be made again exactly."""
        for i in itertools.count(start):
            self.rng_at_batch_start = rng_state(self.device)
            batch = next(batches, None)
            if batch is None:
                return
            yield i, batch

    def step(self, i: int, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`train_step` on batch i, and what may go wrong in it."""
        if self.sync_due(i):
            self.good_weights.hold()  # this batch's loss will vouch for these weights
        try:
            with self.stop.interruptible():  # until the optimizer's step begins
                return self._train_step(i, X, y)
        except KeyboardInterrupt:
            # This batch never reached its step: count the ones before it and rewind the
            # random state, so that resuming repeats nothing.
            self.good_weights.cancel()
            self.sync(i)
            set_rng_state(self.rng_at_batch_start, self.device)
            raise
        except (torch.OutOfMemoryError, RuntimeError, MemoryError) as err:
            if not is_out_of_memory(err):  # the CPU's allocator raises a RuntimeError
                raise
            self.good_weights.cancel()
            self.sync(i)
            raise self._out_of_memory(len(y), i) from None
        finally:
            self.bar.update(1)

    def _train_step(self, i, X, y):
        examples = self.examples(i)
        try:
            y_hat, loss = train_step(self.model, X, y, self.optimizer, self.precision,
                                     self.scaler, examples)
        except Exception as err:
            if self.model is self.eager_model or not is_compile_error(err):
                raise
            # Compiling fails inside the forward pass, before any weight has changed.
            warn_eager_fallback(err)
            self.model = self.eager_model
            self.history.settings["compile"] = "off"
            y_hat, loss = train_step(self.model, X, y, self.optimizer, self.precision,
                                     self.scaler, examples)
        self.last_lr = self.optimizer.param_groups[0]["lr"]
        if self.scheduler is not None and not isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step()
        return y_hat, loss

    def examples(self, i: int) -> float | None:
        """What batch i's summed loss is divided by in this process: None (its own share's
        size) in a single process; under torchrun, the whole batch's size over the number of
        processes, so that every example weighs the same in the averaged gradient."""
        if not distributed():
            return None
        data = self.train_iter
        whole = min(data.batch_size, data.num_examples - i * data.batch_size)
        return whole / world_size()

    def sync_due(self, i: int) -> bool:
        """Read the sums every `sync_every` batches and after the last one; in a single
        process also as soon as a stop is asked for (under torchrun the processes agree on a
        stop at their regular syncs)."""
        done = i + 1
        return (done - self.sums.first >= self.sync_every or done == self.num_batches
                or (self.stop.requested and not distributed()))

    def agree_on_stop(self) -> bool:
        """Whether any process was asked to stop. Every process calls this at the same point,
        so that all stop after the same batch; the first signal's number travels with it."""
        signum = largest_across_processes(self.stop.signal or 0, self.device)
        if signum:
            self.stop.request(signum)
        self.stopping = bool(signum)
        return self.stopping

    def sync(self, done: int) -> None:
        """Read the device's sums (one host sync), check the losses, keep the weights if good."""
        pos, sums = self.position, self.sums
        sums.sum_across_processes()
        bad = sums.first_non_finite(done)
        if bad is not None:
            self.good_weights.restore()
            raise NonFiniteLossError(
                log.non_finite(sums.losses[bad].item(), pos.epoch + 1, bad + 1,
                               self.optimizer.param_groups[0]["lr"], self.lang),
                self.history,
            )
        self.good_weights.confirm()
        self.agree_on_stop()
        pos.loss_sum += sums.loss_sum.item()
        pos.correct += int(sums.correct.item())
        pos.count += sums.count
        pos.train_seconds += sums.restart(done)
        pos.batch = done
        if self.progress:
            self.bar.set_postfix(loss=f"{pos.loss_sum / max(pos.count, 1):.3f}",
                                 acc=f"{pos.correct / max(pos.count, 1):.3f}",
                                 img_s=f"{pos.count / max(pos.train_seconds, 1e-9):,.0f}")

    def close_bar(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def _out_of_memory(self, batch_size: int, i: int) -> OutOfMemoryError:
        self.optimizer.zero_grad(set_to_none=True)
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        return OutOfMemoryError(
            log.out_of_memory(self.device, batch_size, self.position.epoch + 1, i + 1,
                              self.lang),
            self.history,
        )

    def finish_epoch(self) -> EpochRecord:
        """Evaluate, record the epoch, step a per-epoch schedule, print and save."""
        pos = self.position
        start = time.perf_counter()
        with self.stop.interruptible():  # a second Ctrl-C may cut the evaluation short
            test_acc = val_acc = test_loss = val_loss = None
            if self.test_iter is not None:
                test_acc, test_loss = _accuracy_and_loss(self.net, self.test_iter, self.device)
            if self.val_iter is not None:
                val_acc, val_loss = _accuracy_and_loss(self.net, self.val_iter, self.device)
        record = EpochRecord(
            epoch=pos.epoch + 1,
            train_loss=pos.loss_sum / pos.count,
            train_acc=pos.correct / pos.count,
            test_acc=test_acc,
            seconds=pos.train_seconds + time.perf_counter() - start,
            images_per_sec=pos.count / max(pos.train_seconds, 1e-9),
            lr=self.last_lr,
            val_acc=val_acc,
            val_loss=val_loss,
            test_loss=test_loss,
        )
        self.history.epochs.append(record)
        if isinstance(self.scheduler, ReduceLROnPlateau):
            self.scheduler.step(val_acc)
        generator = getattr(self.train_iter, "generator", None)
        # The next epoch's order comes from the generator as it is now.
        self.position = Position(epoch=record.epoch,
                                 order_state=generator.get_state() if generator else None)
        say(log.epoch(record, self.num_epochs, self.lang))
        self.save()
        return record

    def interrupted(self) -> None:
        self.history.interrupted = True
        self.history.stopped_by = signal.Signals(self.stop.signal or signal.SIGINT).name
        saved = self.save()
        say(log.interrupted(self.position, len(self.history), saved, self.lang))

    def give_optimizer_back(self) -> None:
        """Leave the optimizer's learning rate as it came, without this run's hook."""
        for group, base_lr in zip(self.optimizer.param_groups, self.base_lrs, strict=True):
            group["lr"] = base_lr
        self.step_hook.remove()


def _accuracy_and_loss(net, data_iter, device) -> tuple[float, float]:
    correct, loss_sum, count = correct_and_loss(net, data_iter, device)
    return correct.item() / max(count, 1), loss_sum.item() / max(count, 1)


def _validate(net, train_iter, test_iter, num_epochs, lr, optimizer, weight_decay, lr_schedule,
              val_iter, compile_mode, checkpoint, resume, lang) -> None:
    if not isinstance(num_epochs, int) or isinstance(num_epochs, bool) or num_epochs < 1:
        raise ValueError(f"num_epochs must be a positive whole number, got {num_epochs!r}.")
    if isinstance(optimizer, str):
        check_optimizer_settings(optimizer, lr, weight_decay)
    elif not isinstance(optimizer, torch.optim.Optimizer):
        raise ValueError(f"optimizer must be 'adam', 'sgd' or a torch.optim.Optimizer, got "
                         f"{type(optimizer).__name__}.")
    check_schedule(lr_schedule)
    if lr_schedule == "plateau" and val_iter is None:
        raise ValueError("lr_schedule='plateau' watches the validation accuracy: pass "
                         "val_iter=... (e.g. train_iter, val_iter = split_validation(train_iter, "
                         "5000)).")
    check_compile_mode(compile_mode)
    log.check_lang(lang)
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH to resume from.")
    for name, data_iter in (("train_iter", train_iter), ("test_iter", test_iter),
                            ("val_iter", val_iter)):
        if isinstance(data_iter, Iterator):  # a generator: empty after its first epoch
            raise ValueError(
                f"{name} is a {type(data_iter).__name__}, which runs out after one pass: pass "
                "the loader itself (e.g. from load_fashion_mnist), not iter(...) of it or a "
                "generator over it."
            )
    if not hasattr(train_iter, "__len__") or not hasattr(train_iter, "__iter__"):
        raise ValueError(f"train_iter must be a re-iterable data loader with a length (e.g. from "
                         f"load_fashion_mnist), got {type(train_iter).__name__}.")
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


RESUME_KEYS = ("model", "parameters", "image_shape", "batch_size", "train_examples",
               "val_examples", "optimizer", "lr", "weight_decay", "lr_schedule")
"""Settings a resumed run must share with its checkpoint (num_epochs too, with a schedule)."""


def _check_checkpoint_path(checkpoint, resume: bool, overwrite: bool) -> None:
    """Before any work: the checkpoint can be written, and an existing one is not replaced
    unless asked."""
    if checkpoint is None:
        if overwrite:
            raise ValueError("overwrite=True needs checkpoint=PATH to overwrite.")
        return
    if resume and overwrite:
        raise ValueError("resume=True continues the checkpoint, overwrite=True replaces it: "
                         "pass one of them.")
    path = check_output_file(checkpoint, "checkpoint")
    if path.exists() and not (resume or overwrite):
        raise ValueError(
            f"{checkpoint} already holds a checkpoint. Pass resume=True to continue that run, "
            "overwrite=True to start afresh and replace it, or another checkpoint path."
        )


def _checkpoint_lock(checkpoint):
    """Only the main process writes the checkpoint, so only it holds the lock."""
    return run_lock(checkpoint) if checkpoint is not None and is_main_process() else nullcontext()


def _check_same_run(saved: dict[str, Any], current: dict[str, Any], checkpoint) -> None:
    """Refuse to resume a checkpoint made with another model, data, optimizer or schedule."""
    keys = list(RESUME_KEYS)
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


def _has_partial_last_batch(data_iter) -> bool:
    """Whether the loader's last batch is smaller than the others."""
    examples = getattr(data_iter, "num_examples", None) or len(getattr(data_iter, "dataset", []))
    batch_size = getattr(data_iter, "batch_size", None)
    return bool(examples and batch_size) and examples % batch_size != 0


def _settings(net, train_iter, test_iter, val_iter, optimizer, device, precision, num_epochs,
              lr, lr_schedule, compile_mode, drop_last) -> dict:
    def examples(data_iter) -> int:
        if data_iter is None:
            return 0
        return getattr(data_iter, "num_examples", None) or len(getattr(data_iter, "dataset", []))

    image_shape = getattr(train_iter, "image_shape", None) or getattr(net, "input_shape", ())
    group = optimizer.param_groups[0]
    return {
        "model": type(net).__name__,
        "parameters": sum(p.numel() for p in net.parameters()),
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU",
        "precision": precision.name,
        "precision_reason": precision.reason,
        "num_epochs": num_epochs,
        "batch_size": getattr(train_iter, "batch_size", None),
        "train_examples": examples(train_iter),
        "val_examples": examples(val_iter),
        "test_examples": examples(test_iter),
        "image_shape": "x".join(str(s) for s in image_shape),
        "optimizer": type(optimizer).__name__,
        "lr": lr,
        "weight_decay": group.get("weight_decay", 0.0),
        "momentum": group.get("momentum"),
        "lr_schedule": lr_schedule,
        "compile": compile_mode,
        "drop_last": drop_last,
        "torch": str(torch.__version__),
        "quick_mode": quick_mode(),
        "processes": world_size(),
    }
