"""Saving and loading training checkpoints: atomically, only tensors and plain values, and
checked before anything is loaded into a run."""

from __future__ import annotations

import copy
import os
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..errors import CheckpointError
from .config import check_resumable, check_same_run
from .distributed import all_gather, is_main_process, rank, say
from .files import shown, write_atomically
from .history import History
from .messages import COMMAND_LINE, no_checkpoint_yet, resuming, run_complete
from .state import Position, rng_state, seed_each_process, set_rng_state
from .stopping import StopRequest

CHECKPOINT_FORMAT = "alexnet-hands-on checkpoint"
CHECKPOINT_VERSION = 1
TRAINING_KEYS = ("model", "optimizer", "history", "position", "rng")
"""What `train` needs from a checkpoint to resume."""


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write `state` to `path` so that a crash mid-write never leaves a corrupt file.

    The data goes to a temporary file of its own next to `path`, is flushed to disk, and then
    renamed over `path` in one step: readers see either the old checkpoint or the new one. On
    any failure (a full disk, Ctrl-C) the temporary file is deleted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}
    write_atomically(path, lambda f: torch.save(payload, f))


def load_checkpoint(path: str | os.PathLike, mmap: bool = False) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (with `weights_only=True`: no code runs).

    mmap: map the file instead of reading it, to check a large checkpoint cheaply.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {shown(path)}.")
    if path.stat().st_size == 0:
        raise CheckpointError(f"Checkpoint {shown(path)} is empty (0 bytes): the run that wrote it "
                         "was stopped before it wrote anything. Delete it to start afresh.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        if "weights only" not in str(err).lower():
            raise _unreadable(path, err) from None
        raise CheckpointError(
            f"{shown(path)} holds Python objects besides tensors and plain values, and loading "
            "it would run code: alexnet_lib.train never writes such files, so it refuses to "
            "load it. Pass a checkpoint written by train, or delete this file to start afresh."
        ) from None
    except Exception as err:  # truncated zip, random bytes ...
        raise _unreadable(path, err) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{shown(path)} is a PyTorch file, but not a checkpoint written by "
            "alexnet_lib.train (to load bare weights, use net.load_state_dict(torch.load(path)))."
        )
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(
            f"{shown(path)} is checkpoint version {state.get('version')}; this alexnet_lib reads "
            f"version {CHECKPOINT_VERSION}."
        )
    return state


def _unreadable(path: Path, err: Exception) -> CheckpointError:
    if isinstance(err, OSError) and not isinstance(err, IsADirectoryError):
        return CheckpointError(f"Could not read checkpoint {shown(path)} "
                               f"({err.strerror or err}): make it readable, or pass another path.")
    return CheckpointError(f"Could not load checkpoint {shown(path)}: the file is truncated, "
                           f"corrupt or not a PyTorch checkpoint ({_detail(err)}). Delete it to "
                           "start afresh.")


def _detail(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0][:200]}" if lines else type(err).__name__


def check_training_state(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Raise a CheckpointError naming the file if `state` lacks what resuming needs."""
    missing = [key for key in TRAINING_KEYS if key not in state]
    if missing:
        raise CheckpointError(
            f"Checkpoint {shown(path)} lacks {', '.join(missing)}: it was not written by "
            "alexnet_lib.train, or by an incompatible version. Delete it to start afresh."
        )


def check_checkpoint(state: dict[str, Any], path: str | os.PathLike, net: nn.Module,
                     optimizer: torch.optim.Optimizer | None = None,
                     num_batches: int | None = None) -> None:
    """Check a checkpoint's whole structure before anything is loaded: its keys, the types of
    its parts, its tensors' names and shapes against `net` and `optimizer` (default: one group
    of all of net's parameters), and its position (an epoch matching its history, a batch
    within `num_batches`). Raise a CheckpointError naming the file and what is wrong."""
    check_training_state(state, path)
    problem = (_model_problem(state["model"], net)
               or _optimizer_problem(state["optimizer"], _parameter_groups(net, optimizer))
               or _history_problem(state["history"])
               or _position_problem(state["position"], state["history"], num_batches)
               or _rng_problem(state["rng"], state.get("rng_per_process"))
               or _parts_problem(state))
    if problem:
        raise CheckpointError(
            f"Checkpoint {shown(path)} cannot be resumed: {problem}. It was made for another "
            "model or changed since it was written; nothing was loaded. Delete it, or start "
            "afresh with " + ("--overwrite." if COMMAND_LINE.get() else "overwrite=True.")
        )


def _few(names: list) -> str:
    shown_names = ", ".join(str(name) for name in names[:3])
    return shown_names + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _is_tensor_dict(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(key, str) and isinstance(tensor, torch.Tensor)
        for key, tensor in value.items())


def _model_problem(saved: Any, net: nn.Module) -> str | None:
    if not _is_tensor_dict(saved):
        return "its model is not a dict of named tensors"
    expected = net.state_dict()
    missing = [key for key in expected if key not in saved]
    unexpected = [key for key in saved if key not in expected]
    if missing or unexpected:
        return (f"its model's tensors are named differently from the model's (missing: "
                f"{_few(missing) or 'none'}; unexpected: {_few(unexpected) or 'none'})")
    wrong = [f"{key} is {list(saved[key].shape)}, the model's {list(tensor.shape)}"
             for key, tensor in expected.items() if saved[key].shape != tensor.shape]
    return f"its model's tensors have other shapes ({_few(wrong)})" if wrong else None


def _parameter_groups(net: nn.Module, optimizer: torch.optim.Optimizer | None
                      ) -> list[list[torch.Size]]:
    if optimizer is None:
        return [[p.shape for p in net.parameters()]]
    return [[p.shape for p in group["params"]] for group in optimizer.param_groups]


def _optimizer_problem(saved: Any, groups: list[list[torch.Size]]) -> str | None:
    if (not isinstance(saved, dict) or not isinstance(saved.get("state"), dict)
            or not isinstance(saved.get("param_groups"), list)):
        return "its optimizer is not an optimizer's state_dict"
    saved_groups = saved["param_groups"]
    if len(saved_groups) != len(groups):
        return (f"its optimizer has {len(saved_groups)} parameter group(s), this run's "
                f"{len(groups)}")
    shapes = {}
    for number, (saved_group, group) in enumerate(zip(saved_groups, groups, strict=True), start=1):
        params = saved_group.get("params") if isinstance(saved_group, dict) else None
        if (not isinstance(params, list) or len(params) != len(group)
                or not all(_is_count(index) for index in params)):
            count = len(params) if isinstance(params, list) else "no"
            return (f"its optimizer's group {number} holds {count} parameters, this run's "
                    f"{len(group)}")
        if not _is_number(saved_group.get("lr", 0.0)):
            return f"its optimizer's group {number} has the learning rate {saved_group['lr']!r}"
        shapes.update(zip(params, group, strict=True))
    for key, values in saved["state"].items():
        if key not in shapes or not isinstance(values, dict):
            return f"its optimizer holds state for a parameter it does not list ({key!r})"
        for name, value in values.items():
            if (isinstance(value, torch.Tensor) and value.dim() > 0
                    and value.shape != shapes[key]):
                return (f"its optimizer's {name} of parameter {key} is {list(value.shape)}, the "
                        f"parameter {list(shapes[key])}")
    return None


def _history_problem(saved: Any) -> str | None:
    if not isinstance(saved, dict) or not isinstance(saved.get("epochs"), list):
        return f"its history is a {type(saved).__name__}, not a training history"
    if not isinstance(saved.get("settings", {}), dict):
        return "its history's settings are not a dict"
    try:
        History.from_dict(saved)
    except (TypeError, ValueError, AttributeError) as err:
        return f"its history's epochs are not epoch records ({_detail(err)})"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _position_problem(saved: Any, history: dict[str, Any], num_batches: int | None
                      ) -> str | None:
    if not isinstance(saved, dict) or set(saved) != set(Position().to_dict()):
        return "its position is not a training position (epoch, batch and the epoch's sums)"
    for key in ("epoch", "batch", "correct", "count"):
        if not _is_count(saved[key]):
            return f"its position's {key} is {saved[key]!r}, not a whole number of 0 or more"
    for key in ("loss_sum", "train_seconds"):
        if not _is_number(saved[key]) or not saved[key] >= 0:
            return f"its position's {key} is {saved[key]!r}, not a number of 0 or more"
    if saved["last_lr"] is not None and not _is_number(saved["last_lr"]):
        return f"its position's last_lr is {saved['last_lr']!r}"
    if saved["order_state"] is not None and not _is_random_state(saved["order_state"]):
        return "its position's order_state is not a random-number generator's state"
    if saved["epoch"] != len(history["epochs"]):
        return (f"its position is at epoch {saved['epoch'] + 1}, but its history holds "
                f"{len(history['epochs'])} finished epoch(s)")
    if num_batches is not None and saved["batch"] > num_batches:
        return (f"its position is at batch {saved['batch']}, but an epoch has {num_batches} "
                "batches")
    return None


def _is_random_state(value: Any) -> bool:
    return isinstance(value, torch.Tensor) and value.dtype == torch.uint8 and value.dim() == 1


def _rng_problem(saved: Any, per_process: Any) -> str | None:
    states = [saved, *(per_process if isinstance(per_process, list) else [])]
    if per_process is not None and not isinstance(per_process, list):
        return "its random states per process are not a list"
    for state in states:
        if (not isinstance(state, dict) or not _is_random_state(state.get("cpu"))
                or not all(_is_random_state(value) for value in state.values())):
            return "its random-number state is not one"
    return None


def _parts_problem(state: dict[str, Any]) -> str | None:
    for name in ("scheduler", "grad_scaler"):
        if not isinstance(state.get(name, {}), dict):
            return f"its {name} is a {type(state[name]).__name__}, not a state_dict"
    return None


def checkpoint_state(parts: dict[str, Any], history: History, pos: Position,
                     device: torch.device) -> dict[str, Any]:
    """Everything a resume needs, tensors and plain values only; every process's random
    state (each draws its own dropout and augmentation)."""
    states = {name: part.state_dict() if part is not None else {}
              for name, part in parts.items()}
    return {**states, "history": history.to_dict(), "position": pos.to_dict(),
            "rng": rng_state(device), "rng_per_process": all_gather(rng_state(device))}


def save(checkpoint, parts: dict[str, Any], history: History, pos: Position,
         device: torch.device, stop: StopRequest) -> None:
    """Write the checkpoint (every process calls this; the first one writes)."""
    if checkpoint is None:
        return
    state = checkpoint_state(parts, history, pos, device)
    if is_main_process():
        with stop.saving():  # a second Ctrl-C waits for the write to finish
            save_checkpoint(state, checkpoint)


def resume_from(checkpoint, parts: dict[str, Any], history: History, train_iter,
                device: torch.device, lang: str) -> tuple[History, Position]:
    """Load a checkpoint into the parts of this run; the history and position it holds."""
    state = load_checkpoint(checkpoint)
    check_checkpoint(state, checkpoint, parts["model"], parts["optimizer"], len(train_iter))
    check_same_run(state["history"].get("settings", {}), history.settings, checkpoint)
    pos = Position.from_dict(state["position"])
    check_resumable(train_iter, checkpoint, pos.batch)
    load_parts(parts, state, checkpoint)
    per_process = state.get("rng_per_process") or [state["rng"]]
    set_rng_state(per_process[rank()] if rank() < len(per_process) else state["rng"], device)
    saved = History.from_dict(state["history"])
    saved.settings, saved.interrupted = history.settings, False
    num_epochs = history.settings.get("num_epochs")
    if num_epochs is not None and pos.epoch >= num_epochs:
        say(run_complete(checkpoint, len(saved), lang))
    else:
        say(resuming(checkpoint, pos, lang))
    return saved, pos


def load_parts(parts: dict[str, Any], state: dict[str, Any], checkpoint) -> None:
    """Load the checkpoint's state_dicts into the parts; if any load fails, put every part
    back as it was and raise a CheckpointError naming the file."""
    before = {name: copy.deepcopy(part.state_dict()) for name, part in parts.items()
              if part is not None}
    try:
        for name, part in parts.items():
            if part is not None and state.get(name):
                part.load_state_dict(state[name])
    except Exception as err:
        for name, part in parts.items():
            if part is not None:
                part.load_state_dict(before[name])
        raise CheckpointError(
            f"Checkpoint {shown(checkpoint)} cannot be loaded into this run ({_detail(err)}); "
            "the model and optimizer are as they were."
        ) from err


def resume_or_start(config, parts: dict[str, Any], history: History, train_iter,
                    device: torch.device) -> tuple[History, Position]:
    """The history and position to start from: the checkpoint's with `config.resume` (where
    there is one yet), else a fresh start, each process with its own random stream."""
    if config.resume and os.path.exists(config.checkpoint):
        return resume_from(config.checkpoint, parts, history, train_iter, device, config.lang)
    if config.resume:
        say(no_checkpoint_yet(config.checkpoint, config.lang))
    seed_each_process(device)  # dropout and augmentation differ between processes
    return history, Position()
