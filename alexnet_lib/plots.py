"""Plotting helpers for the notebooks: image grids and training curves, in English or Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

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
           "test_acc": "test acc", "title": "Training progress", "value": "loss / accuracy"},
    "zh": {"epoch": "迭代周期 (epoch)", "train_loss": "训练损失", "train_acc": "训练准确率",
           "test_acc": "测试准确率", "title": "训练过程", "value": "损失 / 准确率"},
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
        raise ValueError(f"lang must be one of {sorted(_LABELS)}, got {lang!r}.")
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

    use_language(lang)
    text = _LABELS[lang]
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    epochs = [record.epoch for record in history.epochs]
    for column, style in (("train_loss", "-"), ("train_acc", "--"), ("test_acc", "-.")):
        ax.plot(epochs, history.column(column), style, marker="o", label=text[column])
    ax.set_xlabel(text["epoch"])
    ax.set_ylabel(text["value"])
    ax.set_title(text["title"])
    ax.grid(alpha=0.3)
    ax.legend()
    return ax
