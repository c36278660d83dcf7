"""Plotting helpers for the notebooks: image grids and training curves, in English or Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from ..errors import UsageError

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
)

_LABELS = {
    "en": {"epoch": "epoch", "train_loss": "train loss", "train_acc": "train acc",
           "test_acc": "test acc", "val_acc": "validation acc", "title": "Training progress",
           "value": "loss / accuracy", "true": "true class", "predicted": "predicted class",
           "accuracy": "accuracy"},
    "zh": {"epoch": "迭代周期（epoch）", "train_loss": "训练损失", "train_acc": "训练准确率",
           "test_acc": "测试准确率", "val_acc": "验证准确率", "title": "训练过程",
           "value": "损失 / 准确率", "true": "真实类别", "predicted": "预测类别",
           "accuracy": "准确率"},
}  # fmt: skip


# File names of the fonts above, to find them when matplotlib's font cache predates them.
_CJK_FONT_FILES = ("cjk", "sourcehansans", "wqy", "simhei", "msyh", "pingfang", "stheiti")


def _known_cjk_font(font_manager) -> str | None:
    installed = {font.name for font in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def find_cjk_font() -> str | None:
    """The name of an installed font that has Chinese characters, or None.

    matplotlib caches its font list the first time it runs and does not notice fonts
    installed after that (e.g. `apt-get install fonts-noto-cjk` on Colab), so when the
    cached list has no Chinese font, the system's font files are looked through once more.
    """
    from matplotlib import font_manager

    font = _known_cjk_font(font_manager)
    if font is not None:
        return font
    for path in font_manager.findSystemFonts():
        if any(key in Path(path).name.lower() for key in _CJK_FONT_FILES):
            try:
                font_manager.fontManager.addfont(path)
            except (OSError, RuntimeError, ValueError):
                continue
    return _known_cjk_font(font_manager)


def use_language(lang: str = "en") -> str | None:
    """Make matplotlib able to draw the chapter's language; returns the CJK font used, if any.

    For "zh" a Chinese font is put first in the sans-serif list; where none is installed
    (e.g. on Colab) figures still render, with missing glyphs shown as boxes.
    """
    import matplotlib as mpl

    if lang not in _LABELS:
        raise UsageError(f"lang must be one of {sorted(_LABELS)}, got {lang!r}.")
    if lang != "zh":
        return None
    font = find_cjk_font()
    if font is not None:
        families = [f for f in mpl.rcParams["font.sans-serif"] if f != font]
        mpl.rcParams["font.sans-serif"] = [font, *families]
        mpl.rcParams["font.family"] = "sans-serif"
        mpl.rcParams["axes.unicode_minus"] = False
    return font


def show_images(
    images: torch.Tensor | Sequence,
    num_rows: int,
    num_cols: int,
    titles: Sequence[str] | None = None,
    scale: float = 1.5,
    cmap: str = "gray",
):
    """Show up to num_rows x num_cols images ([N, 1, H, W], [N, H, W] or a list) in a grid."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(num_rows, num_cols, figsize=(num_cols * scale, num_rows * scale),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= len(images):
            continue
        img = images[i]
        if isinstance(img, torch.Tensor):
            img = img.detach().float().cpu()
            img = img.squeeze(0) if img.dim() == 3 and img.shape[0] == 1 else img
            img = img.permute(1, 2, 0) if img.dim() == 3 else img
            img = img.numpy()
        ax.imshow(img, cmap=cmap)
        if titles is not None and i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    fig.tight_layout()
    return axes


def plot_history(history, ax=None, lang: str = "en"):
    """Training loss and train/test accuracy against epochs, on one axes."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    use_language(lang)
    text = _LABELS[lang]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [record.epoch for record in history.epochs]
    for column, style in (("train_loss", "-"), ("train_acc", "--"), ("val_acc", ":"),
                          ("test_acc", "-.")):
        values = history.column(column)
        if any(value is not None for value in values):  # a run may have no val or test set
            ax.plot(epochs, values, style, marker="o", label=text[column])
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
    ax.set_xlabel(text["epoch"])
    ax.set_ylabel(text["value"])
    ax.set_title(text["title"])
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_experiment_curves(result, labels: Sequence[str], names: dict[str, str] | None = None,
                           metric: str = "val_acc", ax=None, lang: str = "en"):
    """One line per variant of an experiment: the mean over seeds of a per-epoch metric, with a
    band of plus and minus one standard deviation."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    use_language(lang)
    text = _LABELS[lang]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.8))
    for label in labels:
        epochs, means, sds = result.curve(label, metric)
        line, = ax.plot(epochs, means, label=(names or {}).get(label, label))
        ax.fill_between(epochs, [m - s for m, s in zip(means, sds, strict=True)],
                        [m + s for m, s in zip(means, sds, strict=True)],
                        color=line.get_color(), alpha=0.2)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(text["epoch"])
    ax.set_ylabel(text.get(metric, metric))
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def plot_confusion_matrix(counts: torch.Tensor, names: Sequence[str], ax=None,
                          lang: str = "en"):
    """Draw a confusion matrix (rows: true class, columns: predicted) with its counts."""
    import matplotlib.pyplot as plt

    use_language(lang)
    text = _LABELS[lang]
    counts = torch.as_tensor(counts).cpu()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    # Colour by the share of each true class, so that every row reads on the same scale.
    shares = counts.float() / counts.sum(dim=1, keepdim=True).clamp(min=1)
    ax.imshow(shares.numpy(), cmap="Blues", vmin=0, vmax=1)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j]:
                ax.text(j, i, str(int(counts[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if shares[i, j] > 0.5 else "black")
    ticks = range(len(names))
    ax.set_xticks(ticks, names, rotation=45, ha="right")
    ax.set_yticks(ticks, names)
    ax.set_xlabel(text["predicted"])
    ax.set_ylabel(text["true"])
    return ax


def show_filters(weight: torch.Tensor, num_cols: int = 16, scale: float = 0.6):
    """Show convolution filters [out, in, k, k] as a grid of small images, one per filter.

    Each filter is stretched to the full grey range on its own, as in Fig. 3 of the AlexNet
    paper; with several input channels, the first one is shown.
    """
    weight = weight.detach().float().cpu()[:, 0]
    low = weight.amin(dim=(1, 2), keepdim=True)
    high = weight.amax(dim=(1, 2), keepdim=True)
    images = (weight - low) / (high - low).clamp(min=1e-12)
    num_rows = -(-len(images) // num_cols)
    return show_images(images, num_rows, num_cols, scale=scale)
