"""Saving and loading training checkpoints: atomically, and only tensors and plain values."""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Any

import torch

from .files import shown, write_atomically

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
