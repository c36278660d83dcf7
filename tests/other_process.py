"""Another process holding a run's lock, as a second training would."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alexnet_lib.training.files import run_lock


def _hold(path: str, locked, release) -> None:
    with run_lock(path):
        locked.set()
        release.wait(60)


@contextmanager
def lock_held_elsewhere(path: Path) -> Iterator[None]:
    """Run the block while a forked process holds the lock on `path`."""
    context = multiprocessing.get_context("fork")  # no second import of torch: fast
    locked, release = context.Event(), context.Event()
    process = context.Process(target=_hold, args=(str(path), locked, release))
    process.start()
    try:
        assert locked.wait(30), "the other process never took the lock"
        yield
    finally:
        release.set()
        process.join(30)
