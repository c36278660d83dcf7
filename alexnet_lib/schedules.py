"""Learning-rate schedules, built from `torch.optim.lr_scheduler`.

- "constant": the base rate throughout.
- "warmup-linear": rise linearly over the first 10% of the steps, then fall linearly to
  nearly 0 by the last. The warm-up lets Adam gauge the size of the gradients before it takes
  full steps; the fall lets the weights settle at the end.
- "plateau": the 2012 paper's rule, divide the rate by 10 whenever the validation accuracy
  stops improving (checked after every epoch; needs a validation set).
"""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR, LRScheduler, ReduceLROnPlateau

LR_SCHEDULES = ("constant", "warmup-linear", "plateau")
WARMUP_FRACTION = 0.1
PLATEAU_FACTOR = 0.1


def warmup_linear_factor(step: int, total_steps: int) -> float:
    """The multiple of the base learning rate for step `step` (from 0) of `total_steps`."""
    warmup = max(1, round(WARMUP_FRACTION * total_steps))
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total_steps - step) / (total_steps - warmup + 1))


def check_schedule(schedule: str) -> None:
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {schedule!r}.")


def make_scheduler(schedule: str, optimizer: Optimizer, total_steps: int
                   ) -> LRScheduler | ReduceLROnPlateau | None:
    """The scheduler for `schedule`: stepped after every batch ("warmup-linear"), after every
    epoch with the validation accuracy ("plateau"), or None ("constant")."""
    check_schedule(schedule)
    if schedule == "warmup-linear":
        return LambdaLR(optimizer, lambda step: warmup_linear_factor(step, total_steps))
    if schedule == "plateau":
        # patience=0: the first epoch without a better validation accuracy divides the rate
        return ReduceLROnPlateau(optimizer, mode="max", factor=PLATEAU_FACTOR, patience=0)
    return None
