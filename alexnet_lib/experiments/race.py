"""The 2012 paper's Figure 1 in miniature: how fast does a four-layer CNN reach 25% training
error with ReLU, tanh or sigmoid units? And 12%?

Krizhevsky et al. trained a four-layer CNN on CIFAR-10 and found that ReLUs reached 25%
training error six times faster than tanh units, each with the learning rate that made it
fastest. Here the same kind of network learns Fashion-MNIST (28x28), with SGD and momentum;
for each activation the learning rate is chosen from a grid, and every run records its
training error every few batches, against epochs and seconds. Fashion-MNIST is easier than
CIFAR-10 (a ReLU network passes 25% within a fraction of an epoch), so a second, harder
target of 12% training error is measured too; a run stops once it has reached both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..book.columns import left, right
from ..data import load_fashion_mnist
from ..devices import resolve_device, set_seed
from ..errors import UsageError
from ..models import ACTIVATIONS, init_weights
from ..quick import cap_epochs, quick_mode
from ..training.loop import train_step
from .records import RESULTS, load_record, machine, quick_message, read_message, where, write_record
from .runner import mean_sd


class FourLayerCNN(nn.Module):
    """Two convolutional and two fully connected layers, for 28x28 one-channel images: small,
    so that a CPU trains dozens of them in an hour."""

    def __init__(self, activation: str = "relu", num_classes: int = 10,
                 init: str = "default") -> None:
        super().__init__()
        act = ACTIVATIONS[activation]
        self.input_shape = (1, 28, 28)
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, kernel_size=5, padding=2), act(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, kernel_size=5, padding=2), act(), nn.MaxPool2d(2),
        )
        self.fc = nn.Sequential(nn.Linear(32 * 7 * 7, 128), act(), nn.Linear(128, num_classes))
        if init == "paper":  # the 2012 paper's start: every weight from N(0, 0.01)
            for module in self.modules():
                if isinstance(module, (nn.Conv2d, nn.Linear)):
                    nn.init.normal_(module.weight, std=0.01)
                    nn.init.zeros_(module.bias)
        elif init == "default":  # Kaiming for ReLU, Xavier for tanh and sigmoid
            init_weights(self, nonlinearity=activation)
        else:
            raise UsageError(f"init must be 'default' or 'paper', got {init!r}.")

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.conv(img), 1))


@dataclass(frozen=True)
class Race:
    """The settings of the comparison."""

    activations: tuple[str, ...] = ("relu", "tanh", "sigmoid")
    learning_rates: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 5  # at most; a run stops when it reaches the last target
    batch_size: int = 128
    momentum: float = 0.9
    log_every: int = 10  # batches between two points of the curve (1,280 images)
    targets: tuple[float, ...] = (0.25, 0.12)  # the paper's training error, and a harder one
    inits: tuple[str, ...] = ("default",)  # "paper": N(0, 0.01) weights, as in 2012
    name: str = "activations"  # the record: experiment_<name>.json


RACE = Race()
# Does the start explain the paper's factor of six? ReLU and tanh from the book's start
# (Kaiming, Xavier) and from the paper's (N(0, 0.01)), with targets late enough to separate
# a factor of six, timed in optimiser steps.
RACE_INIT = Race(activations=("relu", "tanh"), learning_rates=(0.01, 0.03, 0.1, 0.3),
                 epochs=15, log_every=5, targets=(0.25, 0.15, 0.10),
                 inits=("default", "paper"), name="race-init")
RACES = {race.name: race for race in (RACE, RACE_INIT)}


def race_run(activation: str, lr: float, seed: int, race: Race = RACE,
             device: str | torch.device | None = None,
             root: str | os.PathLike | None = None, init: str = "default",
             lang: str = "en") -> dict[str, Any]:
    """Train one FourLayerCNN; its training-error curve: (epochs done, seconds, error) points,
    each error measured over the batches since the point before, up to the first point at or
    below the last target. Missing data is reported in `lang`."""
    set_seed(seed)
    device = resolve_device(device)
    train_iter, _ = load_fashion_mnist(race.batch_size, root=root, device=device, lang=lang)
    net = FourLayerCNN(activation, init=init).to(device)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=race.momentum)
    points, seconds = [], 0.0
    num_batches = len(train_iter)
    finish = min(race.targets)
    for epoch in range(cap_epochs(race.epochs)):
        if points and points[-1][2] <= finish:
            break
        wrong = torch.zeros((), device=device)
        seen, start = 0, time.perf_counter()
        for i, (X, y) in enumerate(train_iter):
            y_hat, _ = train_step(net, X, y, optimizer)
            wrong += (y_hat.argmax(dim=1) != y).sum()
            seen += len(y)
            if (i + 1) % race.log_every == 0 or i + 1 == num_batches:
                error = wrong.item() / seen  # the only host sync, once per point
                seconds += time.perf_counter() - start
                points.append([round(epoch + (i + 1) / num_batches, 4), round(seconds, 3),
                               round(error, 5)])
                if error <= finish:
                    break
                wrong.zero_()
                seen, start = 0, time.perf_counter()
    run = {"activation": activation, "lr": lr, "seed": seed, "points": points,
           "steps_per_epoch": num_batches}
    return run if init == "default" else {**run, "init": init}


def time_to_target(points: Sequence[Sequence[float]], target: float) -> tuple[float, float] | None:
    """(epochs, seconds) at the first point whose error is at most `target`, or None."""
    for epochs, seconds, error, *_ in points:
        if error <= target:
            return epochs, seconds
    return None


def _matches(definition: dict[str, Any] | None, race: Race) -> bool:
    """Whether a record's definition is `race`'s; a setting it lacks counts as its default."""
    if not isinstance(definition, dict):
        return False
    current = json.loads(json.dumps(asdict(race)))  # as a record reads back: lists
    defaults = json.loads(json.dumps(asdict(Race())))
    return {**defaults, "name": race.name, **definition} == current


def run_race(*, rerun: bool = False, out: str | os.PathLike | None = None,
             device: str | torch.device | None = None,
             root: str | os.PathLike | None = None, lang: str = "en",
             name: str = "activations") -> RaceResult:
    """Every activation at every learning rate from every seed (and every start, `inits`) of
    the race `name`: read from the record shipped in `alexnet_lib/results/`, or trained (quick
    mode: one seed, the largest rate, tiny data)."""
    if name not in RACES:
        raise UsageError(f"Unknown race {name!r}: choose one of {list(RACES)}.")
    race = RACES[name]
    definition = json.loads(json.dumps(asdict(race)))
    shipped = RESULTS / f"experiment_{name}.json"
    if not (rerun or quick_mode()) and out is None:
        record = load_record(shipped)
        if record is not None and _matches(record["definition"], race):
            print(read_message(len(record["runs"]), shipped.name, record,
                               "run_race(rerun=True)", lang))
            return RaceResult(race, record)
    seeds, rates = race.seeds, race.learning_rates
    if quick_mode():
        print(quick_message(name, lang))
        seeds, rates = seeds[:1], rates[-1:]
    path = Path(out or "runs/experiments") / f"experiment_{name}.json"
    record = load_record(path) if not quick_mode() else None
    if record is None or not _matches(record["definition"], race):
        record = {"kind": "experiment", "experiment": name, "definition": definition,
                  **machine(resolve_device(device)),
                  "started": dt.datetime.now().isoformat(timespec="seconds"), "runs": []}
    done = {(r["activation"], r.get("init", "default"), r["lr"], r["seed"])
            for r in record["runs"]}
    for activation in race.activations:
        for init in race.inits:
            for lr in rates:
                for seed in seeds:
                    if (activation, init, lr, seed) in done:
                        continue
                    start = "" if init == "default" else f" (init {init})"
                    print(f"{name}: {activation}{start}, lr {lr}, seed {seed}", flush=True)
                    record["runs"].append(race_run(activation, lr, seed, race, device, root,
                                                   init=init, lang=lang))
                    record["finished"] = dt.datetime.now().isoformat(timespec="seconds")
                    if not quick_mode():
                        write_record(path, record)
    return RaceResult(race, record)


@dataclass
class RaceResult:
    race: Race
    record: dict[str, Any]

    def runs(self, activation: str, lr: float, init: str = "default") -> list[dict[str, Any]]:
        return [r for r in self.record["runs"] if r["activation"] == activation
                and r["lr"] == lr and r.get("init", "default") == init]

    @property
    def epochs_run(self) -> float:
        return max(r["points"][-1][0] for r in self.record["runs"])

    def reach(self, activation: str, lr: float, target: float | None = None,
              init: str = "default") -> list[tuple[float, float] | None]:
        """Per seed: (epochs, seconds) to the target error (default: the first, 25%), or None
        if never reached."""
        target = self.race.targets[0] if target is None else target
        return [time_to_target(r["points"], target) for r in self.runs(activation, lr, init)]

    def steps(self, activation: str, lr: float, target: float | None = None,
              init: str = "default") -> list[int | None]:
        """Per seed: optimiser steps to the target error, or None if never reached."""
        per_epoch = [r.get("steps_per_epoch") for r in self.runs(activation, lr, init)]
        return [None if reached is None or n is None else round(reached[0] * n)
                for reached, n in zip(self.reach(activation, lr, target, init), per_epoch,
                                      strict=True)]

    def best_lr(self, activation: str, target: float | None = None,
                init: str = "default") -> float | None:
        """The rate that reached the target in the fewest epochs on average, every seed
        reaching it; None if no rate did."""
        best, best_epochs = None, float("inf")
        for lr in sorted({r["lr"] for r in self.record["runs"] if r["activation"] == activation}):
            reached = self.reach(activation, lr, target, init)
            if reached and all(reached):
                epochs = sum(e for e, _ in reached) / len(reached)
                if epochs < best_epochs:
                    best, best_epochs = lr, epochs
        return best

    def speedup(self, slow: str = "tanh", fast: str = "relu", target: float | None = None,
                init: str = "default") -> list[float] | None:
        """Per seed: `slow`'s optimiser steps to the target over `fast`'s, each at its own
        best rate (the paper's comparison), seed paired with seed; None where either
        activation reached the target at no rate."""
        rates = self.best_lr(slow, target, init), self.best_lr(fast, target, init)
        if None in rates:
            return None

        def by_seed(activation: str, lr: float) -> dict[int, int | None]:
            seeds = [r["seed"] for r in self.runs(activation, lr, init)]
            return dict(zip(seeds, self.steps(activation, lr, target, init), strict=True))

        a, b = by_seed(slow, rates[0]), by_seed(fast, rates[1])
        return [a[seed] / b[seed] for seed in sorted(a.keys() & b.keys())
                if a[seed] and b[seed]]

    def seed_curves(self, activation: str, lr: float,
                    init: str = "default") -> list[tuple[list[int], list[float]]]:
        """One (optimiser steps, training error) curve per seed, each as long as its run."""
        return [([round(p[0] * r["steps_per_epoch"]) for p in r["points"]],
                 [p[2] for p in r["points"]]) for r in self.runs(activation, lr, init)]

    def table(self, lang: str = "en") -> str:
        """Per activation (and start) and target, at the rate fastest to that target: epochs
        and seconds to reach it, and optimiser steps where the record has them, mean ± sd over
        the seeds."""
        head = {"en": ("activation", "target", "best lr", "epochs", "seconds", "steps", "start",
                       "not reached in {e:g} epochs at any rate"),
                "zh": ("激活函数", "目标", "最佳学习率", "迭代周期", "秒", "步数", "初始化",
                       "{e:g} 个迭代周期内在任何学习率下都没有达到")}[lang]
        inits = len(self.race.inits) > 1
        steps = all("steps_per_epoch" in r for r in self.record["runs"])
        rows = [left(head[0], 12) + (left(head[6], 9) if inits else "") + right(head[1], 8)
                + right(head[2], 12) + right(head[3], 18) + right(head[4], 18)
                + (right(head[5], 18) if steps else "")]
        for activation in self.race.activations:
            for init in self.race.inits:
                for target in self.race.targets:
                    lr = self.best_lr(activation, target, init)
                    start = (f"{activation:<12}" + (f"{init:<9}" if inits else "")
                             + f"{target:>8.0%}")
                    if lr is None:
                        rows.append(f"{start}  " + head[7].format(e=self.epochs_run))
                        continue
                    reached = self.reach(activation, lr, target, init)
                    epochs = mean_sd([e for e, _ in reached])
                    seconds = mean_sd([s for _, s in reached])
                    row = (f"{start}{lr:>12g}{epochs[0]:>11.2f} ± {epochs[1]:<4.2f}"
                           f"{seconds[0]:>11.1f} ± {seconds[1]:<4.1f}")
                    if steps:
                        n = mean_sd(self.steps(activation, lr, target, init))
                        row += f"{n[0]:>11.0f} ± {n[1]:<4.0f}"
                    rows.append(row)
        return "\n".join(rows)

    def settings_line(self, lang: str = "en") -> str:
        """The race's settings, the machine and the seeds, in one line."""
        r = self.race
        seeds = sorted({run["seed"] for run in self.record["runs"]})
        if lang == "zh":
            return (f"四层 CNN，Fashion-MNIST 全部 60,000 张训练图像，SGD（动量 {r.momentum}），"
                    f"批量大小 {r.batch_size}，{r.epochs} 个迭代周期，学习率网格 "
                    f"{list(r.learning_rates)}，种子 {seeds}，每 {r.log_every} 个批量记录一次"
                    f"训练误差；{where(self.record, 'zh')}")
        return (f"four-layer CNN, all 60,000 Fashion-MNIST training images, SGD (momentum "
                f"{r.momentum}), batch size {r.batch_size}, {r.epochs} epochs, learning rates "
                f"{list(r.learning_rates)}, seeds {seeds}, training error every {r.log_every} "
                f"batches; {where(self.record)}")
