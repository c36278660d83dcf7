"""What a training run records, epoch by epoch, and how to plot and save it."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from typing import Any

from .files import write_text_atomically


@dataclass
class EpochRecord:
    epoch: int  # counted from 1
    train_loss: float  # mean cross-entropy over every training example of the epoch
    train_acc: float
    test_acc: float | None  # None when the run had no test set to measure
    seconds: float  # training and evaluation
    images_per_sec: float  # training images per second of training time
    lr: float | None = None  # the learning rate of the epoch's last step
    val_acc: float | None = None  # accuracy on the validation images, when there are some
    val_loss: float | None = None  # their mean cross-entropy (eval mode)
    test_loss: float | None = None


@dataclass
class History:
    """Per-epoch records of a run, plus its settings; `interrupted` is True after Ctrl-C (or
    another stop signal, named in `stopped_by`)."""

    epochs: list[EpochRecord] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    interrupted: bool = False
    stopped_by: str | None = None  # "SIGINT", "SIGTERM" or "SIGHUP"

    def __len__(self) -> int:
        return len(self.epochs)

    def __getitem__(self, i: int) -> EpochRecord:
        return self.epochs[i]

    def column(self, name: str) -> list[float]:
        """One metric for every epoch, e.g. history.column("test_acc")."""
        return [getattr(record, name) for record in self.epochs]

    @property
    def train_loss(self) -> list[float]:
        return self.column("train_loss")

    @property
    def train_acc(self) -> list[float]:
        return self.column("train_acc")

    @property
    def test_acc(self) -> list[float]:
        return self.column("test_acc")

    @property
    def val_acc(self) -> list[float | None]:
        return self.column("val_acc")

    @property
    def total_seconds(self) -> float:
        return sum(self.column("seconds"))

    def summary(self, lang: str = "en") -> str:
        """One line: epochs, time, final metrics and speed."""
        if not self.epochs:
            return "没有完成任何迭代周期" if lang == "zh" else "no epoch finished"
        last = self.epochs[-1]
        if lang == "zh":
            test = f"，测试准确率 {last.test_acc:.3f}" if last.test_acc is not None else ""
            return (
                f"{len(self.epochs)} 个迭代周期，用时 {self.total_seconds:.1f} 秒：损失 "
                f"{last.train_loss:.3f}，训练准确率 {last.train_acc:.3f}{test}，"
                f"每秒 {last.images_per_sec:,.0f} 张图像"
            )
        test = f", test acc {last.test_acc:.3f}" if last.test_acc is not None else ""
        return (
            f"{len(self.epochs)} epoch(s) in {self.total_seconds:.1f} s: "
            f"loss {last.train_loss:.3f}, train acc {last.train_acc:.3f}{test}, "
            f"{last.images_per_sec:,.0f} images/s"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "interrupted": self.interrupted,
            "stopped_by": self.stopped_by,
            "epochs": [asdict(record) for record in self.epochs],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        return cls(
            epochs=[EpochRecord(**record) for record in data["epochs"]],
            settings=dict(data.get("settings", {})),
            interrupted=bool(data.get("interrupted", False)),
            stopped_by=data.get("stopped_by"),
        )

    def save(self, path: str | os.PathLike) -> None:
        """Write the history as JSON, atomically (see files.py)."""
        write_text_atomically(path, json.dumps(self.to_dict(), indent=2, ensure_ascii=False))

    @classmethod
    def load(cls, path: str | os.PathLike) -> History:
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    def plot(self, ax=None, lang: str = "en"):
        """Loss and accuracies against epochs on one matplotlib axes; returns the axes."""
        from ..book.plots import plot_history

        return plot_history(self, ax=ax, lang=lang)
