"""Experiments that measure what the chapters teach: several seeds, the full test set.

An experiment is a baseline recipe and variants that each change one setting. `run_experiment`
trains every variant from every seed and writes a record after each run, so a long run never
loses finished work and picks up where it stopped. The records the book quotes ship in
`alexnet_lib/results/`: a chapter calls `run_experiment(name)`, which reads the record when it
matches the experiment's current definition, and trains only when there is none (in quick mode
it always trains, on the tiny data). From the command line:

    python -m alexnet_lib experiment dropout --out alexnet_lib/results
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import MISSING, asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .. import augment as aug
from ..book.columns import display_width, left, right
from ..data import load_fashion_mnist, split_validation
from ..devices import resolve_device, set_seed
from ..errors import UsageError
from ..evaluation import accuracy_and_loss, evaluate_accuracy
from ..models import AlexNet, AlexNetHead
from ..quick import cap_seeds, quick_mode
from ..training.files import check_output_file
from ..training.history import History
from ..training.loop import train
from .records import (
    RESULTS,
    add_run,
    load_record,
    machine,
    merged,
    quick_message,
    read_message,
    where,
)


@dataclass(frozen=True)
class Recipe:
    """Everything that defines one training run of an experiment, but the seed."""

    epochs: int
    model: str = "alexnet"  # or "head": AlexNet's fully connected layers alone, on pixels
    image_size: int = 67
    batch_size: int = 128
    train_examples: int | None = None  # None: all 60,000 (less the validation images)
    validation: int = 1000  # training images held out and measured after every epoch
    augment: str = "none"  # a key of AUGMENTATIONS
    dropout: float = 0.5
    activation: str = "relu"
    lrn: bool = False
    pooling: str = "overlapping"
    batch_norm: bool = False
    optimizer: str = "adam"
    lr: float = 0.001
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    precision: str = "fp32"  # pinned, so that every CPU runs the same arithmetic
    eval_train_acc: bool = False  # also measure the training accuracy in eval mode at the end


def _crop_padding(image_size: int) -> int:
    return max(1, round(image_size / 16))  # shifts of up to 1/16 of the side


AUGMENTATIONS: dict[str, Callable[[int], nn.Module | None]] = {
    "none": lambda size: None,
    "flip": lambda size: aug.RandomHorizontalFlip(),
    "crop": lambda size: aug.RandomCrop(padding=_crop_padding(size)),
    "flip+crop": lambda size: nn.Sequential(aug.RandomCrop(padding=_crop_padding(size)),
                                            aug.RandomHorizontalFlip()),
    "vflip": lambda size: aug.RandomVerticalFlip(),
    "resized-crop": lambda size: aug.RandomResizedCrop(scale=(0.5, 1.0)),
    "brightness": lambda size: aug.RandomBrightnessContrast(),
}
"""Augmentations by name, as functions of the image size (crops shift by 1/16 of the side)."""


@dataclass(frozen=True)
class Experiment:
    """A named set of variants, trained from each of `seeds`."""

    name: str
    claim: str  # what the experiment should show, in a sentence
    variants: dict[str, Recipe]
    seeds: tuple[int, ...] = (0, 1, 2)

    def definition(self) -> dict[str, Any]:
        return {"variants": {label: asdict(r) for label, r in self.variants.items()},
                "seeds": list(self.seeds)}

    def matches(self, definition: dict[str, Any] | None) -> bool:
        """Whether a record's definition is this one, or this one with fewer variants: a
        setting the record lacks counts as its default, and a variant it lacks is one added
        since, so adding either keeps the runs recorded before."""
        if not isinstance(definition, dict) or not isinstance(definition.get("variants"), dict):
            return False
        defaults = {f.name: f.default for f in fields(Recipe) if f.default is not MISSING}
        current = self.definition()["variants"]
        return (all(current.get(label) == {**defaults, **variant}
                    for label, variant in definition["variants"].items())
                and definition.get("seeds") == list(self.seeds))

    def changes(self, label: str, baseline: str | None = None) -> dict[str, Any]:
        """The settings in which variant `label` differs from `baseline` (default: the first)."""
        base = asdict(self.variants[baseline or next(iter(self.variants))])
        return {key: value for key, value in asdict(self.variants[label]).items()
                if base[key] != value}


def _variants(base: Recipe, **changes: dict[str, Any]) -> dict[str, Recipe]:
    return {label: replace(base, **change) for label, change in changes.items()}


# Chapter 4's first attempt: few images, many epochs, so that AlexNet overfits without
# dropout; SGD with momentum, as in 2012. At 67 px dropout changed nothing, so the pilots below
# searched for a regime where it has something to act on.
_DROPOUT_67PX = Recipe(epochs=30, train_examples=2000, optimizer="sgd", lr=0.01,
                       lr_schedule="warmup-linear", eval_train_acc=True)
# Chapter 5: few images, many epochs, dropout on, one augmentation at a time.
_AUGMENT_BASE = Recipe(epochs=30, train_examples=2000, lr=0.001, lr_schedule="warmup-linear",
                       eval_train_acc=True)
# The ablation: one of AlexNet's ideas changed at a time, in a regime where each has
# something to act on: 5,000 training images for 20 epochs, so that the network can overfit
# (what dropout and augmentation fight) and the optimiser's speed shows (activations, batch
# norm, the 2012 recipe), at 67 px so that 27 runs fit a CPU.
_ABLATION_BASE = Recipe(epochs=20, train_examples=5000, validation=2000, augment="flip+crop",
                        lr=0.001, lr_schedule="warmup-linear", eval_train_acc=True)
# Chapter 4's pilots: single runs with and without dropout in six regimes, to find one where
# dropout has something to act on before spending seeds on it (seed 100: the final runs use
# others).
_HEAD_PILOT = Recipe(epochs=200, model="head", image_size=28, train_examples=1000,
                     optimizer="sgd", lr=0.01, eval_train_acc=True)
_ALEXNET_PILOT = Recipe(epochs=60, train_examples=2000, optimizer="sgd", lr=0.01,
                        eval_train_acc=True)
_DROPOUT_PILOTS = {
    # The ablation's regime without augmentation, which there fitted every training image:
    # does dropout pay once nothing else regularises?
    "67 px, 5k images, Adam, no augmentation": replace(_ABLATION_BASE, augment="none"),
    "head, 1k images, SGD": _HEAD_PILOT,
    "head, 1k images, Adam": replace(_HEAD_PILOT, optimizer="adam", lr=1e-4),
    "head, 5k images, SGD": replace(_HEAD_PILOT, train_examples=5000, epochs=60),
    "67 px, 2k images, SGD": _ALEXNET_PILOT,
    "67 px, 500 images, SGD": replace(_ALEXNET_PILOT, train_examples=500, epochs=150),
    "99 px, 1k images, Adam": replace(_ALEXNET_PILOT, image_size=99, train_examples=1000,
                                      optimizer="adam", lr=1e-4),
}

EXPERIMENTS: dict[str, Experiment] = {
    e.name: e for e in (
        Experiment(
            "dropout-67px",
            "Dropout narrows the gap between training and test accuracy and raises the test "
            "accuracy of an AlexNet that overfits.",
            _variants(_DROPOUT_67PX, **{
                "p=0": {"dropout": 0.0}, "p=0.5": {"dropout": 0.5}, "p=0.75": {"dropout": 0.75},
            }),
        ),
        Experiment(
            "dropout",
            "At 99 px on 1,000 images, where AlexNet's first fully connected layer has 4.2 M "
            "weights and the network memorises its training set, dropout raises the test "
            "accuracy and lowers the test loss (the one pilot regime where it did, on new seeds).",
            _variants(_DROPOUT_PILOTS["99 px, 1k images, Adam"], **{
                "p=0": {"dropout": 0.0}, "p=0.5": {"dropout": 0.5},
            }),
        ),
        Experiment(
            "augmentation",
            "Augmentations that keep an image's class (flips left-right, small shifts) raise "
            "the test accuracy of an AlexNet that overfits; those that do not (upside down) "
            "lower it.",
            _variants(_AUGMENT_BASE, **{
                name: {"augment": name}
                for name in ("none", "flip", "vflip", "crop", "flip+crop")
            }),
        ),
        Experiment(
            "ablation",
            "Which of AlexNet's ideas matter on 5,000 Fashion-MNIST images at 67 px.",
            {
                "baseline": _ABLATION_BASE,
                **_variants(_ABLATION_BASE, **{
                    "no dropout": {"dropout": 0.0},
                    "no augmentation": {"augment": "none"},
                    "tanh": {"activation": "tanh"},
                    "sigmoid": {"activation": "sigmoid"},
                    "with LRN": {"lrn": True},
                    "non-overlapping pooling": {"pooling": "non-overlapping"},
                    "2012 recipe (SGD)": {"optimizer": "sgd", "lr": 0.01,
                                          "weight_decay": 5e-4, "lr_schedule": "plateau"},
                    "with batch norm": {"batch_norm": True},
                }),
            },
        ),
        Experiment(
            "dropout-pilots",
            "Pilots: in which regime does dropout raise the test accuracy?",
            {f"{regime}, p={p}": replace(recipe, dropout=p)
             for regime, recipe in _DROPOUT_PILOTS.items() for p in (0.0, 0.5)},
            seeds=(100,),
        ),
    )
}
EXPERIMENTS["ablation-224"] = Experiment(
    "ablation-224",
    "The ablation at AlexNet's own input size, 224 px (a GPU run; bf16 there).",
    {label: replace(recipe, image_size=224, precision="bf16")
     for label, recipe in EXPERIMENTS["ablation"].variants.items()},
)
"""The experiments the book runs, by name."""


# --- Running ---------------------------------------------------------------------------------


def train_recipe(recipe: Recipe, seed: int, device: str | torch.device | None = None,
                 root: str | os.PathLike | None = None, lang: str = "en") -> dict[str, Any]:
    """Train one fresh AlexNet as `recipe` says, from `seed`; the run's record. Missing data
    is reported in `lang`."""
    set_seed(seed)
    device = resolve_device(device)
    augment = AUGMENTATIONS[recipe.augment](recipe.image_size)
    resize = recipe.image_size if recipe.image_size != 28 else None
    train_iter, test_iter = load_fashion_mnist(
        recipe.batch_size, resize=resize, root=root, augment=augment, device=device, lang=lang)
    train_iter, val_iter = split_validation(train_iter, recipe.validation, lang=lang)
    if recipe.train_examples is not None:
        train_iter = _first(train_iter, recipe.train_examples)
    if recipe.model == "head":
        net = AlexNetHead(dropout=recipe.dropout, image_size=recipe.image_size)
    else:
        net = AlexNet(dropout=recipe.dropout, image_size=recipe.image_size,
                      activation=recipe.activation, lrn=recipe.lrn, pooling=recipe.pooling,
                      batch_norm=recipe.batch_norm)
    start = time.perf_counter()
    # The curves come from the validation images after every epoch; the full test set is
    # measured once, at the end.
    history = train(net, train_iter, None, recipe.epochs, lr=recipe.lr,
                    optimizer=recipe.optimizer, device=device,
                    weight_decay=recipe.weight_decay, lr_schedule=recipe.lr_schedule,
                    val_iter=val_iter, precision=recipe.precision, progress=False)
    if history.interrupted:  # stopped by Ctrl-C or a signal: not a result, so not recorded
        raise KeyboardInterrupt(history.stopped_by or "SIGINT")
    test_acc, test_loss = accuracy_and_loss(net, test_iter)
    record = {"seed": seed, "test_acc": test_acc, "test_loss": test_loss,
              "history": history.to_dict(),
              "wall_seconds": round(time.perf_counter() - start, 1)}
    if recipe.eval_train_acc:
        plain = _first(train_iter, train_iter.num_examples, augment=False)
        record["train_acc_eval"] = evaluate_accuracy(net, plain)
    return record


def _first(data_iter, n: int, augment: bool = True):
    """The first n examples of a loader, as a loader of the same kind (augmentation optional)."""
    return data_iter.subset(slice(n), shuffle=data_iter.shuffle, augment=augment)


def _load_matching(path: Path, experiment: Experiment) -> ExperimentResult | None:
    record = load_record(path)
    if record is None or not experiment.matches(record.get("definition")):
        return None
    return ExperimentResult(experiment, record, str(path))


def recorded_experiment(name: str) -> ExperimentResult | None:
    """The record of experiment `name` in alexnet_lib/results/, or None where it has not been
    run yet (or was run with another definition)."""
    return _load_matching(RESULTS / f"experiment_{_get(name).name}.json", _get(name))


def run_experiment(
    name: str,
    *,
    seeds: Sequence[int] | None = None,
    rerun: bool = False,
    out: str | os.PathLike | None = None,
    device: str | torch.device | None = None,
    root: str | os.PathLike | None = None,
    variants: Sequence[str] | None = None,
    lang: str = "en",
) -> ExperimentResult:
    """The results of experiment `name`: read from its record, or trained.

    Reads `alexnet_lib/results/experiment_<name>.json` when it holds every run the current
    definition asks for, unless `rerun` or quick mode; otherwise trains what is missing from
    the record in `out` (default `runs/experiments/`), saving after every run.
    """
    experiment = _get(name)
    seeds = tuple(seeds) if seeds is not None else experiment.seeds
    labels = list(variants) if variants is not None else list(experiment.variants)
    unknown = [label for label in labels if label not in experiment.variants]
    if unknown:
        raise UsageError(f"{name} has no variant {unknown}; it has {list(experiment.variants)}.")
    shipped = RESULTS / f"experiment_{name}.json"
    if not (rerun or quick_mode()) and out is None:
        result = _load_matching(shipped, experiment)
        if result is not None and result.complete(labels, seeds):
            print(read_message(len(result.record["runs"]), shipped.name, result.record,
                               f"run_experiment({name!r}, rerun=True)", lang))
            return result
    if quick_mode():
        print(quick_message(name, lang))
        seeds = cap_seeds(seeds)
    if out is not None and str(out) == "":
        raise UsageError("out is an empty string: name a folder (\".\" for this one).")
    path = Path(out or "runs/experiments") / f"experiment_{name}.json"
    if not quick_mode():  # before any training: a record that could not be written
        check_output_file(path, "record")
    record = load_record(path) if not quick_mode() else None
    if record is not None and experiment.matches(record.get("definition")):
        record = {**record, "definition": experiment.definition()}  # variants added since
    else:
        record = {"kind": "experiment", "experiment": name, "claim": experiment.claim,
                  "definition": experiment.definition(), **machine(resolve_device(device)),
                  "started": dt.datetime.now().isoformat(timespec="seconds"), "runs": []}
    for label in labels:
        for seed in seeds:
            if not quick_mode():  # another process may be training the same experiment
                record = merged(record, load_record(path), experiment.matches)
            if (label, seed) in {(run["variant"], run["seed"]) for run in record["runs"]}:
                continue
            print(f"{name}: {label}, seed {seed}", flush=True)
            run = train_recipe(experiment.variants[label], seed, device=device, root=root,
                               lang=lang)
            if quick_mode():
                record["runs"].append({"variant": label, **run})
            else:
                record = _recorded(path, record, {"variant": label, **run}, experiment)
    return ExperimentResult(experiment, record, str(path) if not quick_mode() else None)


def _recorded(path: Path, record: dict[str, Any], run: dict[str, Any],
              experiment: Experiment) -> dict[str, Any]:
    """`add_run`, with an error that says which finished run could not be written."""
    try:
        return add_run(path, record, run, experiment.matches)
    except OSError as err:
        raise OSError(err.errno, f"The run {run['variant']!r}, seed {run['seed']} finished (test "
                      f"accuracy {run['test_acc']:.4f}) but could not be recorded in {path}: "
                      f"{err.strerror or err}") from err


def _get(name: str) -> Experiment:
    if name not in EXPERIMENTS:
        raise UsageError(f"Unknown experiment {name!r}: choose one of {list(EXPERIMENTS)}.")
    return EXPERIMENTS[name]


# --- Results -----------------------------------------------------------------------------------


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


@dataclass
class ExperimentResult:
    """Every run of an experiment, with ways to summarise them."""

    experiment: Experiment
    record: dict[str, Any]
    file: str | None = None
    histories: dict[tuple[str, int], History] = field(init=False)

    def __post_init__(self) -> None:
        self.histories = {(run["variant"], run["seed"]): History.from_dict(run["history"])
                          for run in self.record["runs"]}

    @property
    def labels(self) -> list[str]:
        present = {label for label, _ in self.histories}
        return [label for label in self.experiment.variants if label in present]

    def complete(self, labels: Sequence[str], seeds: Sequence[int]) -> bool:
        return all((label, seed) in self.histories for label in labels for seed in seeds)

    def seeds(self, label: str) -> list[int]:
        return sorted(seed for lab, seed in self.histories if lab == label)

    def final(self, label: str, metric: str = "test_acc") -> list[float]:
        """One value per seed: "test_acc" and "test_loss" (the full test set, after training),
        "train_acc_eval" (the training images, in eval mode), "gap" (the two's difference),
        "minutes", or a metric of the last epoch ("val_acc", "train_acc", "train_loss")."""
        values = []
        for run in self.record["runs"]:
            if run["variant"] != label:
                continue
            if metric == "gap":
                values.append(run["train_acc_eval"] - run["test_acc"])
            elif metric in ("test_acc", "test_loss", "train_acc_eval"):
                values.append(run[metric])
            elif metric == "minutes":
                values.append(run["wall_seconds"] / 60)
            else:
                values.append(run["history"]["epochs"][-1][metric])
        return values

    def summary(self, label: str, metric: str = "test_acc") -> tuple[float, float]:
        return mean_sd(self.final(label, metric))

    def differences(self, label: str, baseline: str, metric: str = "test_acc") -> list[float]:
        """Per seed, `label`'s metric minus `baseline`'s from the same seed: runs with one seed
        share the data order and the validation split, so pairing removes that part of the
        spread."""
        def by_seed(lab: str) -> dict[int, float]:
            runs = [run for run in self.record["runs"] if run["variant"] == lab]
            return dict(zip((run["seed"] for run in runs), self.final(lab, metric), strict=True))

        mine, base = by_seed(label), by_seed(baseline)
        return [mine[seed] - base[seed] for seed in sorted(mine.keys() & base.keys())]

    def curve(self, label: str, metric: str = "val_acc") -> tuple[list[int], list[float],
                                                                   list[float]]:
        """Epochs, and the mean and sd over seeds of a per-epoch metric."""
        histories = [self.histories[(label, seed)] for seed in self.seeds(label)]
        epochs = [record.epoch for record in histories[0].epochs]
        columns = list(zip(*(h.column(metric) for h in histories), strict=True))
        means, sds = zip(*(mean_sd(column) for column in columns), strict=True)
        return epochs, list(means), list(sds)

    def table(self, names: dict[str, str] | None = None, lang: str = "en",
              metrics: Sequence[str] | None = None) -> str:
        """A row per variant: mean ± sd over the seeds of each metric."""
        recipe = next(iter(self.experiment.variants.values()))
        if metrics is None:
            metrics = (["train_acc_eval", "test_acc", "gap"] if recipe.eval_train_acc
                       else ["test_acc"])
        headers = {
            "en": {"train_acc_eval": "train acc", "test_acc": "test acc", "gap": "gap",
                   "test_loss": "test loss",
                   "val_acc": "val acc", "train_acc": "train acc (running)",
                   "minutes": "minutes", "variant": "variant"},
            "zh": {"train_acc_eval": "训练准确率", "test_acc": "测试准确率", "gap": "差距",
                   "test_loss": "测试损失",
                   "val_acc": "验证准确率", "train_acc": "训练准确率（训练中）",
                   "minutes": "分钟", "variant": "变体"},
        }[lang]
        names = names or {}
        width = max(display_width(names.get(label, label)) for label in self.labels) + 2
        rows = [left(headers["variant"], width) + "".join(right(headers[m], 18) for m in metrics)]
        for label in self.labels:
            cells = []
            for metric in metrics:
                mean, sd = self.summary(label, metric)
                cells.append(f"{mean:.3f} ± {sd:.3f}" if metric != "minutes"
                             else f"{mean:.1f} ± {sd:.1f}")
            rows.append(left(names.get(label, label), width)
                        + "".join(right(cell, 18) for cell in cells))
        return "\n".join(rows)

    def settings_line(self, lang: str = "en") -> str:
        """The shared settings, the machine and the seeds, in one line."""
        base = asdict(next(iter(self.experiment.variants.values())))
        differing = {key for key in base
                     if len({getattr(r, key) for r in self.experiment.variants.values()}) > 1}
        shared = ", ".join(f"{key}={value}" for key, value in base.items()
                           if key not in differing)
        seeds = sorted({seed for _, seed in self.histories})
        if self.file is None:  # trained just now in quick mode: tiny data, not these settings
            return quick_message(self.experiment.name, lang)
        if lang == "zh":
            return (f"实验 {self.experiment.name}：{shared}；种子 {seeds}；"
                    f"完整测试集 10,000 张图像；{where(self.record, 'zh')}")
        return (f"experiment {self.experiment.name}: {shared}; seeds {seeds}; the full "
                f"10,000-image test set; {where(self.record)}")


def compare_columns(columns: dict[str, ExperimentResult | None], labels: Sequence[str],
                    names: dict[str, str] | None = None, baseline: str | None = None,
                    lang: str = "en") -> str:
    """A row per variant, a column per experiment (e.g. 67 px and 224 px): test accuracy mean
    ± sd over the seeds, and the difference from `baseline` in percentage points. A column
    without a record, or a row it lacks, reads "not run yet"."""
    missing = "not run yet" if lang == "en" else "尚未运行"
    change = "vs baseline" if lang == "en" else "与基线之差"
    names = names or {}
    width = max(display_width(names.get(label, label)) for label in labels) + 2
    header = " " * width
    for title in columns:
        header += right(title, 18) + (right(change, 14) if baseline else "")
    rows = [header]
    for label in labels:
        row = left(names.get(label, label), width)
        for result in columns.values():
            if result is None or label not in result.labels:
                row += right(missing, 18) + (" " * 14 if baseline else "")
                continue
            mean, sd = result.summary(label)
            row += right(f"{mean:.3f} ± {sd:.3f}", 18)
            if baseline:
                delta = 100 * (mean - result.summary(baseline)[0])
                row += right("" if label == baseline else f"{delta:+.1f}", 14)
        rows.append(row)
    return "\n".join(rows)
