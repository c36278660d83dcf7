"""Quick mode: ALEXNET_QUICK=1 caps data and epochs so that a notebook runs in a minute on a CPU.

The book's continuous integration executes every notebook this way; readers never need it.
The notebooks' code is the same in both modes: only the library looks at the variable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

QUICK_TRAIN_EXAMPLES = 256
QUICK_TEST_EXAMPLES = 256
QUICK_VALIDATION_EXAMPLES = 64
QUICK_EPOCHS = 2
QUICK_SEEDS = 2


def quick_mode() -> bool:
    """True when the environment variable ALEXNET_QUICK is set to 1 (or true/yes)."""
    return os.environ.get("ALEXNET_QUICK", "").strip().lower() in {"1", "true", "yes", "on"}


def cap_examples(limit: int | None, cap: int, split: str) -> int | None:
    """In quick mode, return min(limit, cap) and say so; otherwise return `limit` unchanged."""
    if not quick_mode() or (limit is not None and limit <= cap):
        return limit
    print(f"[quick mode] ALEXNET_QUICK=1: using the first {cap} {split} images only.")
    return cap


def cap_epochs(num_epochs: int) -> int:
    """In quick mode, return min(num_epochs, QUICK_EPOCHS) and say so."""
    if not quick_mode() or num_epochs <= QUICK_EPOCHS:
        return num_epochs
    print(
        f"[quick mode] ALEXNET_QUICK=1: training {QUICK_EPOCHS} of {num_epochs} epochs; "
        "unset ALEXNET_QUICK for the full run."
    )
    return QUICK_EPOCHS


def cap_seeds(seeds: tuple[int, ...]) -> tuple[int, ...]:
    """In quick mode, the first QUICK_SEEDS of an experiment's seeds, saying so."""
    if not quick_mode() or len(seeds) <= QUICK_SEEDS:
        return seeds
    print(f"[quick mode] ALEXNET_QUICK=1: training seeds {list(seeds[:QUICK_SEEDS])} of "
          f"{list(seeds)}.")
    return seeds[:QUICK_SEEDS]


def quick_checkpoint(path: str | os.PathLike | None) -> str | os.PathLike | None:
    """Where a checkpoint goes: `path`, except in quick mode, where it moves to the same path
    under a temporary folder (ALEXNET_QUICK_DIR, or the system's), so that a quick run and a
    real run never share a checkpoint, and testing leaves nothing beside the notebooks."""
    if path is None or not quick_mode():
        return path
    folder = Path(os.environ.get("ALEXNET_QUICK_DIR")
                  or Path(tempfile.gettempdir()) / "alexnet_lib-quick")
    absolute = Path(path).resolve()
    moved = folder / absolute.relative_to(absolute.anchor)
    print(f"[quick mode] ALEXNET_QUICK=1: the checkpoint goes to {moved}.")
    return moved
