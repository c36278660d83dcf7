"""Stopping a run cleanly: Ctrl-C, and the signals that schedulers and containers send.

The first Ctrl-C (SIGINT), or a SIGTERM (Slurm, `docker stop`, `timeout`, Colab) or SIGHUP
(a closed terminal), asks the loop to stop after the current batch and save. A second
Ctrl-C stops at once inside a forward and backward pass or an evaluation, which change
nothing a checkpoint holds; during an optimizer's step or while a checkpoint is being
written it waits for that to finish, so that what is saved is never half updated.
Under torchrun a second Ctrl-C only repeats the request (torchrun itself passes each Ctrl-C
on to every process): one process stopping at once would leave the others waiting for it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import torch

from .distributed import largest_across_processes

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class StopRequest:
    """Set by a signal handler; read by the training loop between batches."""

    def __init__(self, second_ctrl_c_stops: bool = True) -> None:
        self.signal: int | None = None  # the first stop signal received
        self.second_ctrl_c_stops = second_ctrl_c_stops
        self._interruptible = False
        self._saving = False

    @property
    def requested(self) -> bool:
        return self.signal is not None

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
        elif signum == signal.SIGINT and self.second_ctrl_c_stops:
            if self._interruptible:
                self._interruptible = False
                raise KeyboardInterrupt
            print("\nWriting the checkpoint; stopping as soon as it is written." if self._saving
                  else "\nStopping as soon as this step is done.", flush=True)

    @contextmanager
    def interruptible(self) -> Iterator[None]:
        """A block that a second Ctrl-C may cut short with KeyboardInterrupt: one that changes
        nothing a checkpoint holds (a forward and backward pass, an evaluation). It ends at
        the block's end, or earlier at `hold_interrupts()` (an optimizer's step begins)."""
        self._interruptible = True
        try:
            yield
        finally:
            self._interruptible = False

    def hold_interrupts(self) -> None:
        """From here on, a second Ctrl-C waits for the current step to finish."""
        self._interruptible = False

    @contextmanager
    def saving(self) -> Iterator[None]:
        """A block during which a second Ctrl-C waits (a checkpoint being written)."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False


@contextmanager
def _handling(handler) -> Iterator[None]:
    """`handler` for every stop signal not ignored, the previous handlers back after. Outside
    the main thread Python cannot install signal handlers: nothing is installed there."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {
        signum: signal.signal(signum, handler)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is not signal.SIG_IGN  # e.g. SIGHUP under nohup
    }
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


@contextmanager
def stop_requests(second_ctrl_c_stops: bool = True) -> Iterator[StopRequest]:
    """Install the handlers for the duration of a run; the previous ones come back after.
    Outside the main thread the request only changes when the loop calls `request()`."""
    request = StopRequest(second_ctrl_c_stops)
    with _handling(request._on_signal):
        yield request


def agree_on_stop(stop: StopRequest, device: torch.device) -> bool:
    """Whether any process was asked to stop. Every process calls this at the same point, so
    that all stop after the same batch; the first signal's number travels with it."""
    signum = largest_across_processes(stop.signal or 0, device)
    if signum:
        stop.request(signum)
    return bool(signum)


@contextmanager
def lent(optimizer: torch.optim.Optimizer, base_lrs: list[float], stop: StopRequest
         ) -> Iterator[None]:
    """While training: a second Ctrl-C never cuts an optimizer's step short. After: the
    learning rates as they came (`base_lrs`), whatever a schedule did to them."""
    hook = optimizer.register_step_pre_hook(lambda *args: stop.hold_interrupts())
    try:
        yield
    finally:
        hook.remove()
        for group, base_lr in zip(optimizer.param_groups, base_lrs, strict=True):
            group["lr"] = base_lr


@contextmanager
def signals_held() -> Iterator[list[int]]:
    """Hold Ctrl-C, SIGTERM and SIGHUP while files that belong together are written, so that
    a stop leaves all of them new or all of them old; yields the signals received meanwhile.
    Outside the main thread nothing is held."""
    received: list[int] = []
    with _handling(lambda signum, frame: received.append(signum)):
        yield received
