"""Fashion-MNIST kept whole on the training device, served in resized (and augmented) batches.

The naive version resizes every image with PIL, one at a time, inside the training loop.
Here the 70,000 uint8 images live in one tensor on the device, and each batch is gathered,
converted and resized there in a single call: no per-image Python work at all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from torchvision.datasets import FashionMNIST
from torchvision.datasets.mnist import read_image_file, read_label_file

from .devices import resolve_device
from .errors import UsageError, check_choice
from .quick import (
    QUICK_TEST_EXAMPLES,
    QUICK_TRAIN_EXAMPLES,
    QUICK_VALIDATION_EXAMPLES,
    cap_examples,
)

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)

FASHION_MNIST_CLASSES = {
    "en": (
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ),
    "zh": ("T恤", "裤子", "套衫", "连衣裙", "外套", "凉鞋", "衬衫", "运动鞋", "包", "短靴"),
}  # fmt: skip

Augment = Callable[[torch.Tensor], torch.Tensor]

MESSAGES = {
    "en": {
        "not_found": (
            "Fashion-MNIST not found: {raw} lacks {missing}.\n"
            "The loader needs these four uncompressed files in that folder: {files}.\n"
            "Fix it in one of these ways:\n"
            "  - set the environment variable ALEXNET_DATA (or pass root=...) to a folder that "
            "holds FashionMNIST/raw/ with those files;\n"
            "  - or run once with internet access and no root set: the files are then "
            "downloaded into {cache}."
        ),
        "download_failed": "\nThe download failed: {error}",
        "unreadable": ("Could not read {path} ({reason}): make it readable, or point --data "
                       "(or root=) at another copy."),
        "damaged": ("Could not read {path}: it is truncated or not a Fashion-MNIST IDX file "
                    "({error}). Delete it and download or copy it again."),
        "count_mismatch": ("{images_path} holds {images} images but {labels_path} holds "
                           "{labels} labels; one of them is truncated or from another data "
                           "set."),
        "image_size": ("{path} holds images of {height} x {width} pixels, but Fashion-MNIST's "
                       "are 28 x 28: the file is from another data set or damaged. Delete it "
                       "and download or copy it again."),
        "label": ("{path} holds the label {label} (example {example}), but Fashion-MNIST's "
                  "labels are 0 to 9: the file is from another data set or damaged. Delete it "
                  "and download or copy it again."),
        "positive": "{name} must be a positive whole number, got {value}.",
        "validation": ("Cannot hold out {wanted:,} validation images from {available:,} "
                       "training images: choose fewer."),
    },
    "zh": {
        "not_found": (
            "找不到 Fashion-MNIST：{raw} 中缺少 {missing}。\n"
            "读取数据需要该文件夹里有这四个未压缩的文件：{files}。\n"
            "可以用下面任一办法解决：\n"
            "  - 把环境变量 ALEXNET_DATA 设为（或者传入 root=...）一个文件夹，其中的 "
            "FashionMNIST/raw/ 里有这些文件；\n"
            "  - 或者在能联网时不设 root 运行一次：文件会下载到 {cache}。"
        ),
        "download_failed": "\n下载失败：{error}",
        "unreadable": ("无法读取 {path}（{reason}）：请让它可读，或者把 --data（或 root=）"
                       "指向另一份副本。"),
        "damaged": ("无法读取 {path}：文件不完整，或者不是 Fashion-MNIST 的 IDX 文件"
                    "（{error}）。请删除它，重新下载或复制。"),
        "count_mismatch": ("{images_path} 中有 {images} 张图像，{labels_path} 中却有 {labels} "
                           "个标签：其中一个文件不完整，或者来自别的数据集。"),
        "image_size": ("{path} 中的图像是 {height} × {width} 像素，而 Fashion-MNIST 的图像是 "
                       "28 × 28：这个文件来自别的数据集，或者已经损坏。请删除它，重新下载或复制。"),
        "label": ("{path} 中有标签 {label}（第 {example} 个样本），而 Fashion-MNIST 的标签是 "
                  "0 到 9：这个文件来自别的数据集，或者已经损坏。请删除它，重新下载或复制。"),
        "positive": "{name} 必须是正整数，收到的是 {value}。",
        "validation": ("无法从 {available:,} 张训练图像中留出 {wanted:,} 张验证图像："
                       "请少留一些。"),
    },
}  # fmt: skip
"""What the data functions say when something is wrong, in English and in Chinese."""


def _check_lang(lang: str) -> None:
    check_choice("lang", lang, MESSAGES, sort=True)


def _say(key: str, lang: str, **facts: object) -> str:
    """The message `key` in `lang` ("en" or "zh"), filled in with `facts`."""
    _check_lang(lang)
    return MESSAGES[lang][key].format(**facts)


def class_names(lang: str = "en") -> list[str]:
    """The ten class names in English ("en") or Chinese ("zh"), in label order."""
    _check_lang(lang)
    return list(FASHION_MNIST_CLASSES[lang])


def text_labels(labels: torch.Tensor | list[int], lang: str = "en") -> list[str]:
    """Class names for a sequence of label indices."""
    names = class_names(lang)
    return [names[int(i)] for i in labels]


def default_data_root() -> Path:
    """The per-user cache folder where Fashion-MNIST is downloaded when no root is given."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "alexnet-hands-on"


def resolve_data_root(root: str | os.PathLike | None = None) -> tuple[Path, bool]:
    """Where to read the data: the argument, else $ALEXNET_DATA, else the per-user cache.

    Returns the folder and whether downloading into it is allowed (only into the cache).
    """
    if root is not None:
        return Path(root).expanduser(), False
    if os.environ.get("ALEXNET_DATA"):
        return Path(os.environ["ALEXNET_DATA"]).expanduser(), False
    return default_data_root(), True


def _missing_folders(path: Path) -> list[Path]:
    """`path` and those of its parents that do not exist yet, deepest first."""
    missing = []
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing


def _missing_files(raw: Path) -> list[str]:
    return [name for name in FASHION_MNIST_FILES if not (raw / name).is_file()]


def _not_found_message(raw: Path, missing: list[str], lang: str = "en") -> str:
    return _say("not_found", lang, raw=raw, missing=", ".join(missing),
                files=", ".join(FASHION_MNIST_FILES), cache=default_data_root())


def _read_split(raw: Path, train: bool, lang: str = "en") -> tuple[torch.Tensor, torch.Tensor]:
    prefix = "train" if train else "t10k"
    readers = (
        (raw / f"{prefix}-images-idx3-ubyte", read_image_file),
        (raw / f"{prefix}-labels-idx1-ubyte", read_label_file),
    )
    tensors = []
    for path, reader in readers:
        try:
            tensors.append(reader(str(path)))
        except (PermissionError, IsADirectoryError) as err:  # not the file's fault
            raise UsageError(_say("unreadable", lang, path=path, reason=err.strerror)) from None
        except Exception as err:  # torchvision raises assorted errors on bad IDX files
            raise UsageError(_say("damaged", lang, path=path,
                                  error=f"{type(err).__name__}: {err}")) from err
    images, labels = tensors
    (images_path, _), (labels_path, _) = readers
    if len(images) != len(labels):
        raise UsageError(_say("count_mismatch", lang, images_path=images_path,
                              images=len(images), labels_path=labels_path, labels=len(labels)))
    if tuple(images.shape[1:]) != (28, 28):
        height, width = images.shape[1:]
        raise UsageError(_say("image_size", lang, path=images_path, height=height, width=width))
    outside = ((labels < 0) | (labels >= len(FASHION_MNIST_CLASSES["en"]))).nonzero()
    if len(outside):
        first = int(outside[0])
        raise UsageError(_say("label", lang, path=labels_path, label=int(labels[first]),
                              example=first))
    return images, labels


def find_fashion_mnist(root: str | os.PathLike | None = None, *, lang: str = "en") -> Path:
    """The data folder holding FashionMNIST/raw/ with its four files (see resolve_data_root),
    downloaded first where that is allowed; FileNotFoundError, saying in `lang` ("en" or
    "zh") how to fix it, if not."""
    _check_lang(lang)  # before any work
    folder, may_download = resolve_data_root(root)
    raw = folder / "FashionMNIST" / "raw"
    missing = _missing_files(raw)
    if missing and may_download:
        new_folders = _missing_folders(raw)
        try:
            FashionMNIST(str(folder), train=True, download=True)  # fetches both splits
        except Exception as err:  # no network, a mirror down, a full disk ...
            for new_folder in new_folders:  # leave no empty cache behind
                with contextlib.suppress(OSError):  # not empty: a partial download stays
                    new_folder.rmdir()
            raise FileNotFoundError(_not_found_message(raw, missing, lang)
                                    + _say("download_failed", lang, error=err)) from err
        missing = _missing_files(raw)
    if missing:
        raise FileNotFoundError(_not_found_message(raw, missing, lang))
    return folder


def read_fashion_mnist(
    root: str | os.PathLike | None = None, train: bool = True, *, lang: str = "en"
) -> tuple[torch.Tensor, torch.Tensor]:
    """The whole split as (images uint8 [N, 28, 28], labels int64 [N]), read with torchvision;
    what is missing or damaged is reported in `lang` ("en" or "zh")."""
    folder = find_fashion_mnist(root, lang=lang)
    return _read_split(folder / "FashionMNIST" / "raw", train, lang)


class FashionMNISTBatches:
    """An iterable over (X, y) batches that keeps the whole split on `device` as uint8.

    X is float32 [B, 1, H, W] in [0, 1], y int64 [B]. Shuffling draws a new order every
    epoch from the iterator's own generator, so a checkpoint can restore it exactly.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        shuffle: bool,
        resize: int | None = None,
        augment: Augment | None = None,
        device: torch.device,
    ) -> None:
        self.images = images.unsqueeze(1).to(device)  # [N, 1, 28, 28] uint8
        self.labels = labels.to(device)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.resize = resize
        self.augment = augment
        self.device = device
        self.generator = torch.Generator()
        self.generator.manual_seed(int(torch.randint(0, 2**62, (1,))))
        self.rank, self.world_size = 0, 1

    def shard(self, rank: int, world_size: int) -> FashionMNISTBatches:
        """Serve only process `rank`'s share of every batch (data-parallel training).

        Every process draws the same order; process r takes every world_size-th example of
        each batch, so together they see exactly the batches a single process would.
        """
        if not 0 <= rank < world_size:
            raise UsageError(f"rank must be in [0, {world_size}), got {rank}.")
        self.rank, self.world_size = rank, world_size
        return self

    def subset(self, index: slice | torch.Tensor, *, shuffle: bool,
               augment: bool) -> FashionMNISTBatches:
        """The examples at `index`, as a loader of the same size and device (and augmentation,
        if `augment`)."""
        return FashionMNISTBatches(
            self.images[index].squeeze(1), self.labels[index], self.batch_size,
            shuffle=shuffle, resize=self.resize, augment=self.augment if augment else None,
            device=self.device,
        )

    @property
    def image_shape(self) -> tuple[int, int, int]:
        side = self.resize or self.images.shape[-1]
        return (1, side, side)

    @property
    def num_examples(self) -> int:
        return len(self.labels)

    def __len__(self) -> int:
        return -(-self.num_examples // self.batch_size)

    def epoch_order(self) -> torch.Tensor:
        """The example order for one epoch (a fresh permutation when shuffling)."""
        if self.shuffle:
            order = torch.randperm(self.num_examples, generator=self.generator)
        else:
            order = torch.arange(self.num_examples)
        return order.to(self.device)

    def batches(self, order: torch.Tensor, start: int = 0) -> Iterator[tuple[torch.Tensor, ...]]:
        """Yield the batches of `order`, beginning with batch number `start`."""
        for first in range(start * self.batch_size, len(order), self.batch_size):
            index = order[first : first + self.batch_size][self.rank :: self.world_size]
            yield self.make_batch(self.images[index]), self.labels[index]

    def make_batch(self, images_uint8: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 1, 28, 28] -> float [B, 1, H, W]: scale to [0, 1], resize, augment."""
        X = images_uint8.float().div_(255)
        if self.resize is not None:
            X = resize_batch(X, self.resize)
        if self.augment is not None:
            X = self.augment(X)
        return X

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        return self.batches(self.epoch_order())


def resize_batch(X: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear resize of a whole batch to size x size (antialiased when shrinking)."""
    shrinking = size < X.shape[-1] or size < X.shape[-2]
    return F.interpolate(
        X, size=(size, size), mode="bilinear", align_corners=False, antialias=shrinking
    )


def _check_positive(name: str, value: int | None, lang: str = "en") -> None:
    if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
        raise UsageError(_say("positive", lang, name=name, value=repr(value)))


def load_fashion_mnist(
    batch_size: int,
    resize: int | None = None,
    *,
    root: str | os.PathLike | None = None,
    augment: Augment | None = None,
    limit: int | None = None,
    device: str | torch.device | None = None,
    lang: str = "en",
) -> tuple[FashionMNISTBatches, FashionMNISTBatches]:
    """Fashion-MNIST as (train_iter, test_iter) yielding (X, y) batches on `device`.

    batch_size: images per batch. resize: side in pixels (e.g. 224 for AlexNet), None keeps 28.
    root: data folder (default: $ALEXNET_DATA, else a per-user cache where it downloads).
    augment: a function applied to every training batch (float [B, 1, H, W]) on the device.
    limit: keep only the first `limit` examples of each split. device: default, the best
    available (see `try_gpu`). lang: the language ("en" or "zh") of what it says about a
    wrong argument or missing data. With ALEXNET_QUICK=1 both splits are capped further.

    The training order comes from a generator seeded, when the loader is made, from
    PyTorch's global one: call `set_seed` before `load_fashion_mnist` for a repeatable run.
    """
    _check_lang(lang)
    _check_positive("batch_size", batch_size, lang)
    _check_positive("resize", resize, lang)
    _check_positive("limit", limit, lang)
    device = resolve_device(device)
    splits = []
    for train, cap, name in (
        (True, QUICK_TRAIN_EXAMPLES, "training"),
        (False, QUICK_TEST_EXAMPLES, "test"),
    ):
        images, labels = read_fashion_mnist(root, train=train, lang=lang)
        split_limit = cap_examples(limit, cap, name)
        if split_limit is not None:
            images, labels = images[:split_limit], labels[:split_limit]
        splits.append(
            FashionMNISTBatches(
                images,
                labels,
                batch_size,
                shuffle=train,
                resize=resize,
                augment=augment if train else None,
                device=device,
            )
        )
    return splits[0], splits[1]


def split_validation(
    train_iter: FashionMNISTBatches, num_examples: int, seed: int = 0, *, lang: str = "en"
) -> tuple[FashionMNISTBatches, FashionMNISTBatches]:
    """Hold out `num_examples` training images as a validation set: (train_iter, val_iter).

    The held-out images are a random choice fixed by `seed`, the same in every run, so that
    runs with different training seeds are measured on the same validation images. The
    validation batches are neither shuffled nor augmented.
    """
    _check_positive("num_examples", num_examples, lang)
    num_examples = cap_examples(num_examples, QUICK_VALIDATION_EXAMPLES, "validation")
    if num_examples >= train_iter.num_examples:
        raise UsageError(_say("validation", lang, wanted=num_examples,
                              available=train_iter.num_examples))
    order = torch.randperm(train_iter.num_examples, generator=torch.Generator().manual_seed(seed))
    held_out, kept = order[:num_examples].to(train_iter.device), order[num_examples:].to(
        train_iter.device
    )
    return (train_iter.subset(kept, shuffle=True, augment=True),
            train_iter.subset(held_out, shuffle=False, augment=False))
