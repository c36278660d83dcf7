"""A run's settings in one frozen `TrainConfig`, checked in full before any work, and the
settings a history records."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..devices import resolve_device
from ..errors import UsageError, check_choice
from ..quick import quick_mode
from . import messages
from .compiling import check_compile_mode
from .distributed import distributed, world_size
from .files import check_output_file
from .optim import check_optimizer_settings, check_schedule
from .precision import PRECISIONS, Precision
from .state import replays_its_order


@dataclass(frozen=True)
class TrainConfig:
    """Everything `train` is told besides the network and the data."""

    num_epochs: int
    lr: float = 0.001
    # "adam", "sgd" (momentum 0.9, the 2012 paper's), or an optimizer you built (lr and
    # weight_decay are then its own)
    optimizer: str | torch.optim.Optimizer = "adam"
    device: str | torch.device | None = None  # None: the best there is (CUDA, MPS, CPU)
    weight_decay: float = 0.0  # the L2 penalty (the paper's: 5e-4)
    # "constant"; "warmup-linear" (up over the first 10% of the steps, then down linearly);
    # "plateau" (divide by 10 when the validation accuracy stops rising: needs val_iter)
    lr_schedule: str = "constant"
    # "auto" (bf16 where the hardware computes it natively, fp16 with loss scaling on older
    # GPUs, else fp32), "fp32", "bf16" or "fp16"
    precision: str = "auto"
    # a torch.compile mode or "off"; a compiled run leaves out each epoch's partial last
    # batch, so that nothing compiles again mid-epoch
    compile: str = "off"
    # a file written atomically after every epoch and when stopped; resume=True continues
    # from it; an existing one is replaced only with overwrite=True
    checkpoint: str | os.PathLike | None = None
    resume: bool = False
    overwrite: bool = False
    progress: bool = True  # a progress bar per epoch
    lang: str = "en"  # what `train` prints: "en" or "zh"


def check_config(config: TrainConfig, net: nn.Module, train_iter: Iterable,
                 test_iter: Iterable | None, val_iter: Iterable | None) -> None:
    """Raise a UsageError saying what to do for any setting or loader `train` cannot use."""
    if (not isinstance(config.num_epochs, int) or isinstance(config.num_epochs, bool)
            or config.num_epochs < 1):
        raise UsageError(f"num_epochs must be a positive whole number, got {config.num_epochs!r}.")
    if isinstance(config.optimizer, str):
        check_optimizer_settings(config.optimizer, config.lr, config.weight_decay)
    elif not isinstance(config.optimizer, torch.optim.Optimizer):
        raise UsageError(f"optimizer must be 'adam', 'sgd' or a torch.optim.Optimizer, got "
                         f"{type(config.optimizer).__name__}.")
    check_schedule(config.lr_schedule)
    if config.lr_schedule == "plateau" and val_iter is None:
        raise UsageError("lr_schedule='plateau' watches the validation accuracy: pass "
                         "val_iter=... (e.g. train_iter, val_iter = split_validation(train_iter, "
                         "5000)).")
    check_compile_mode(config.compile)
    _check_precision(config.precision, config.device)
    messages.check_lang(config.lang)
    _check_checkpoint_path(config)
    _check_loaders(net, train_iter, test_iter, val_iter)
    _check_image_shapes(net, {"train_iter": train_iter, "test_iter": test_iter,
                              "val_iter": val_iter})


def _check_precision(precision: str, device) -> None:
    """An unknown number format, or fp16 where there is no CUDA GPU, before any work."""
    check_choice("precision", precision, PRECISIONS)
    if precision == "fp16" and resolve_device(device).type != "cuda":
        raise UsageError("precision='fp16' needs a CUDA GPU: pass precision='bf16' or 'fp32' "
                         f"on {resolve_device(device)}.")


def _check_loaders(net, train_iter, test_iter, val_iter) -> None:
    for name, data_iter in (("train_iter", train_iter), ("test_iter", test_iter),
                            ("val_iter", val_iter)):
        if isinstance(data_iter, Iterator):  # a generator: empty after its first epoch
            raise UsageError(
                f"{name} is a {type(data_iter).__name__}, which runs out after one pass: pass "
                "the loader itself (e.g. from load_fashion_mnist), not iter(...) of it or a "
                "generator over it."
            )
        if data_iter is not None and distributed() and not hasattr(data_iter, "shard"):
            raise UsageError(
                f"{name} is a {type(data_iter).__name__}, which cannot give each process its "
                "share of every batch: under torchrun, load the data with load_fashion_mnist."
            )
    if not hasattr(train_iter, "__len__") or not hasattr(train_iter, "__iter__"):
        raise UsageError(f"train_iter must be a re-iterable data loader with a length (e.g. from "
                         f"load_fashion_mnist), got {type(train_iter).__name__}.")
    if len(train_iter) == 0:
        raise UsageError("train_iter yields no batches: is the data limit 0?")


def _check_image_shapes(net: nn.Module, loaders: dict[str, Iterable | None]) -> None:
    """Every loader's images fit the model (and each other) before the first batch: a test or
    validation loader of the wrong size would otherwise fail only after an epoch's training."""
    expected = getattr(net, "input_shape", None)
    what = f"{type(net).__name__} expects"
    for name, data_iter in loaders.items():
        given = image_shape(data_iter, peek=name != "train_iter")
        if given is None:
            continue
        if expected is None:
            expected, what = given, "train_iter yields"
        elif tuple(expected) != tuple(given):
            raise UsageError(
                f"{what} images shaped {list(expected)}, but {name} yields {list(given)}: load "
                f"the data with resize={expected[-1]}"
                + (f", or build the model with image_size={given[-1]}."
                   if name == "train_iter" else ".")
            )


def image_shape(data_iter, peek: bool = False) -> tuple[int, ...] | None:
    """The shape of one image of a loader: its `image_shape`; else, with `peek`, that of its
    first batch (read with the random state put back after, so that the run draws what it
    would have)."""
    shape = getattr(data_iter, "image_shape", None)
    if shape is not None or data_iter is None or not peek:
        return tuple(shape) if shape is not None else None
    try:
        with torch.random.fork_rng(devices=[]):
            X, _ = next(iter(data_iter))
        return tuple(X.shape[1:])
    except Exception:  # an odd loader: the first batch will tell
        return None


def check_resumable(data_iter, checkpoint, position_batch: int) -> None:
    """Refuse to resume in the middle of an epoch with a loader that cannot replay it."""
    if position_batch and not replays_its_order(data_iter):
        raise UsageError(
            f"{checkpoint} stopped in the middle of an epoch, and a "
            f"{type(data_iter).__name__} cannot start again at batch {position_batch + 1} in "
            "the same order: load the data with load_fashion_mnist to resume it."
        )


def _check_checkpoint_path(config: TrainConfig) -> None:
    """Before any work: the checkpoint can be written, and an existing one is not replaced
    unless asked."""
    checkpoint = config.checkpoint
    if checkpoint is None:
        if config.resume:
            raise UsageError("resume=True needs checkpoint=PATH to resume from.")
        if config.overwrite:
            raise UsageError("overwrite=True needs checkpoint=PATH to overwrite.")
        return
    if config.resume and config.overwrite:
        raise UsageError("resume=True continues the checkpoint, overwrite=True replaces it: "
                         "pass one of them.")
    path = check_output_file(checkpoint, "checkpoint")
    if path.exists() and not (config.resume or config.overwrite):
        raise UsageError(
            f"{checkpoint} already holds a checkpoint. Pass resume=True to continue that run, "
            "overwrite=True to start afresh and replace it, or another checkpoint path."
        )


RESUME_KEYS = ("model", "parameters", "image_shape", "batch_size", "train_examples",
               "val_examples", "optimizer", "lr", "weight_decay", "lr_schedule")
"""Settings a resumed run must share with its checkpoint (num_epochs too, with a schedule)."""


def check_same_run(saved: dict[str, Any], current: dict[str, Any], checkpoint) -> None:
    """Refuse to resume a checkpoint made with another model, data, optimizer or schedule."""
    keys = list(RESUME_KEYS)
    if current["lr_schedule"] != "constant":  # the schedule's length depends on the epochs
        keys.append("num_epochs")
    differ = [f"{key}: {saved[key]!r} in the checkpoint, {current[key]!r} now"
              for key in keys if key in saved and saved[key] != current[key]]
    if differ:
        raise UsageError(
            f"{checkpoint} was made by a different run ({'; '.join(differ)}). Resume with the "
            "same settings, or pass another checkpoint path (or delete this file) to start "
            "afresh."
        )


def has_partial_last_batch(data_iter) -> bool:
    """Whether the loader's last batch is smaller than the others."""
    batch_size = getattr(data_iter, "batch_size", None)
    return bool(examples(data_iter) and batch_size) and examples(data_iter) % batch_size != 0


def examples(data_iter) -> int:
    if data_iter is None:
        return 0
    return getattr(data_iter, "num_examples", None) or len(getattr(data_iter, "dataset", []))


def run_settings(config: TrainConfig, net: nn.Module, loaders: dict[str, Iterable | None],
                 optimizer: torch.optim.Optimizer, device: torch.device, precision: Precision,
                 num_epochs: int, compiled: bool, drop_last: bool) -> dict[str, Any]:
    """What the history records about a run, and what a resumed run must share with it."""
    train_iter = loaders["train"]
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
        "val_examples": examples(loaders["val"]),
        "test_examples": examples(loaders["test"]),
        "image_shape": "x".join(str(s) for s in image_shape),
        "optimizer": type(optimizer).__name__,
        "lr": group["lr"],
        "weight_decay": group.get("weight_decay", 0.0),
        "momentum": group.get("momentum"),
        "lr_schedule": config.lr_schedule,
        "compile": config.compile if compiled else "off",
        "drop_last": drop_last,
        "torch": str(torch.__version__),
        "quick_mode": quick_mode(),
        "processes": world_size(),
    }
