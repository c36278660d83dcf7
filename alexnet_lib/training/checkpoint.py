"""Saving and loading training checkpoints: atomically, only tensors and plain values, and
checked before anything is loaded into a run."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from .config import check_resumable, check_same_run
from .distributed import all_gather, is_main_process, rank, say
from .files import shown, write_atomically
from .history import History
from .messages import no_checkpoint_yet, resuming
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
        raise ValueError(f"Checkpoint {shown(path)} is empty (0 bytes): the run that wrote it "
                         "was stopped before it wrote anything. Delete it to start afresh.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as err:
        if "weights only" not in str(err).lower():
            raise _unreadable(path, err) from None
        raise ValueError(
            f"{shown(path)} holds Python objects besides tensors and plain values, and loading "
            "it would run code: alexnet_lib.train never writes such files, so it refuses to "
            "load it. Pass a checkpoint written by train, or delete this file to start afresh."
        ) from None
    except Exception as err:  # truncated zip, random bytes ...
        raise _unreadable(path, err) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{shown(path)} is a PyTorch file, but not a checkpoint written by "
            "alexnet_lib.train (to load bare weights, use net.load_state_dict(torch.load(path)))."
        )
    if state.get("version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"{shown(path)} is checkpoint version {state.get('version')}; this alexnet_lib reads "
            f"version {CHECKPOINT_VERSION}."
        )
    return state


def _unreadable(path: Path, err: Exception) -> ValueError:
    lines = str(err).strip().splitlines()
    detail = f"{type(err).__name__}: {lines[0][:200]}" if lines else type(err).__name__
    return ValueError(f"Could not load checkpoint {shown(path)}: the file is truncated, corrupt "
                      f"or not a PyTorch checkpoint ({detail}). Delete it to start afresh.")


def check_training_state(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Raise a ValueError naming the file if `state` lacks what resuming needs."""
    missing = [key for key in TRAINING_KEYS if key not in state]
    if missing:
        raise ValueError(
            f"Checkpoint {shown(path)} lacks {', '.join(missing)}: it was not written by "
            "alexnet_lib.train, or by an incompatible version. Delete it to start afresh."
        )


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
    check_training_state(state, checkpoint)
    check_same_run(state["history"].get("settings", {}), history.settings, checkpoint)
    pos = Position.from_dict(state["position"])
    check_resumable(train_iter, checkpoint, pos.batch)
    for name, part in parts.items():
        if part is not None and state.get(name):
            part.load_state_dict(state[name])
    per_process = state.get("rng_per_process") or [state["rng"]]
    set_rng_state(per_process[rank()] if rank() < len(per_process) else state["rng"], device)
    saved = History.from_dict(state["history"])
    saved.settings, saved.interrupted = history.settings, False
    say(resuming(checkpoint, pos, lang))
    return saved, pos


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
