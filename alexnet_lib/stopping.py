"""Stopping a run cleanly: Ctrl-C, and the signals that schedulers and containers send.

The first Ctrl-C (SIGINT), or a SIGTERM (Slurm, `docker stop`, `timeout`, Colab) or SIGHUP
(a closed terminal), asks the loop to stop after the current batch and save. A second
Ctrl-C stops at once, except while a checkpoint is being written: that write finishes first.
Under torchrun a second Ctrl-C only repeats the request (torchrun itself passes each Ctrl-C
on to every process): one process stopping at once would leave the others waiting for it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class StopRequest:
    """Set by a signal handler; read by the training loop between batches."""

    def __init__(self, second_ctrl_c_stops: bool = True) -> None:
        self.signal: int | None = None  # the first stop signal received
        self.second_ctrl_c_stops = second_ctrl_c_stops
        self._saving = False
        self._interrupt_after_save = False

    @property
    def requested(self) -> bool:
        return self.signal is not None

    @property
    def exit_status(self) -> int:
        """The shell's convention for a process stopped by a signal: 128 + its number."""
        return 128 + (self.signal or signal.SIGINT)

    def request(self, signum: int = signal.SIGINT) -> None:
        if self.signal is None:
            self.signal = signum

    def _on_signal(self, signum, frame) -> None:
        if self.signal is None:
            self.signal = signum
            name = signal.Signals(signum).name
            what = "Ctrl-C" if signum == signal.SIGINT else name
            print(f"\n{what}: stopping after this batch and saving"
                  + (" (press Ctrl-C again to stop at once)." if signum == signal.SIGINT
                     else "."), flush=True)
        elif signum == signal.SIGINT and self.second_ctrl_c_stops:  # stop now, never mid-save
            if self._saving:
                self._interrupt_after_save = True
                print("\nWriting the checkpoint; stopping as soon as it is written.", flush=True)
            else:
                raise KeyboardInterrupt

    @contextmanager
    def saving(self) -> Iterator[None]:
        """A block during which a second Ctrl-C waits (a checkpoint being written)."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False
        if self._interrupt_after_save:
            self._interrupt_after_save = False
            raise KeyboardInterrupt


@contextmanager
def stop_requests(second_ctrl_c_stops: bool = True) -> Iterator[StopRequest]:
    """Install the handlers for the duration of a run; the previous ones come back after.

    Outside the main thread Python cannot install signal handlers: the request then only
    changes when the loop itself calls `request()`.
    """
    request = StopRequest(second_ctrl_c_stops)
    if threading.current_thread() is not threading.main_thread():
        yield request
        return
    previous = {
        signum: signal.signal(signum, request._on_signal)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is not signal.SIG_IGN  # e.g. SIGHUP under nohup
    }
    try:
        yield request
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
