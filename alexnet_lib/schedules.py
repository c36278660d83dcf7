"""Learning-rate schedules: the factor that multiplies the base learning rate at each step."""

from __future__ import annotations

LR_SCHEDULES = ("constant", "one-cycle")
WARMUP_FRACTION = 0.1


def lr_factor(schedule: str, step: int, total_steps: int) -> float:
    """The multiple of the base learning rate to use for step `step` (counted from 0).

    "constant": always 1. "one-cycle": rise linearly over the first 10% of the steps, then fall
    linearly to 0 at the last one. The warm-up lets Adam gauge the size of the gradients
    before it takes full steps; the fall lets the weights settle at the end.
    """
    if schedule == "constant":
        return 1.0
    if schedule != "one-cycle":
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {schedule!r}.")
    warmup = max(1, round(WARMUP_FRACTION * total_steps))
    if step < warmup:
        return (step + 1) / warmup
    return max(0.0, (total_steps - step) / (total_steps - warmup + 1))
