"""Saving and loading training checkpoints: atomically, and only tensors and plain values."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

CHECKPOINT_FORMAT = "alexnet-hands-on checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write `state` to `path` so that a crash mid-write never leaves a corrupt file.

    The data goes to a temporary file next to `path`, is flushed to disk, and then renamed
    over `path` in one step: readers see either the old checkpoint or the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    payload = {"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **state}
    with open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by `save_checkpoint` (with `weights_only=True`: no code runs)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, random bytes, a pickle with code in it ...
        raise ValueError(
            f"Could not load checkpoint {path}: the file is truncated, corrupt or not a "
            f"PyTorch checkpoint ({type(err).__name__}: {str(err).splitlines()[0][:200]}). "
            "Delete it to start afresh."
        ) from err
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(
            f"{path} is a PyTorch file, but not a checkpoint written by alexnet_lib.train "
            "(to load bare weights, use net.load_state_dict(torch.load(path)))."
        )
    if state.get("version") != CHECKPOINT_VERSION:
        raise ValueError(
            f"{path} is checkpoint version {state.get('version')}; this alexnet_lib reads "
            f"version {CHECKPOINT_VERSION}."
        )
    return state
