"""Plotting helpers for the notebooks: image grids, training curves and a network's architecture
diagram, in English or Chinese."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from ..errors import check_choice

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

    check_choice("lang", lang, _LABELS, sort=True)
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


_ARCH_WORDS = {
    "en": {"input": "input", "conv": "conv {k}", "stride": "stride {s}", "padding": "padding {p}",
           "max": "max-pool {k}", "avg": "average pool {k}", "pool": "{kind} {k}",
           "flatten": "flatten", "fc": "fully connected", "dropout": "dropout p={p}",
           "sep": ", ", "title": "{name} for a {size} input: the output of each stage",
           "note": "Box width: side of the map, or length of the vector; height: channels "
                   "(square-root scales)."},
    "zh": {"input": "输入", "conv": "卷积 {k}", "stride": "步幅 {s}", "padding": "填充 {p}",
           "max": "最大池化 {k}", "avg": "平均池化 {k}", "pool": "{kind} {k}",
           "flatten": "展平", "fc": "全连接", "dropout": "丢弃法 p={p}", "sep": "，",
           "title": "{name}：{size} 的输入经过每一步后的输出",
           "note": "方框的宽度表示特征图的边长或向量的长度，高度表示通道数（均按平方根比例）。"},
}  # fmt: skip


@dataclass(frozen=True)
class Stage:
    """One step of a network in its architecture diagram: the layers it groups (a convolution
    or linear layer with the activation and dropout after it, a pooling layer, a flatten),
    their label and the shape of the output for one image."""

    names: tuple[str, ...]
    kind: str  # "input", "conv", "pool", "flatten", "fc" or "other"
    label: str
    shape: tuple[int, ...]


def _window(value) -> str:
    k = value if isinstance(value, (tuple, list)) else (value, value)
    return "×".join(str(n) for n in k)


def _first(value) -> int:
    return value[0] if isinstance(value, (tuple, list)) else value


def _stage_label(module, words: dict[str, str]) -> tuple[str, str]:
    """(kind, label) of the layer that starts a stage, read from its settings."""
    from torch import nn

    if isinstance(module, nn.Conv2d):
        parts = [words["conv"].format(k=_window(module.kernel_size))]
        if _first(module.stride) != 1:
            parts.append(words["stride"].format(s=_first(module.stride)))
        if not isinstance(module.padding, str) and _first(module.padding):
            parts.append(words["padding"].format(p=_first(module.padding)))
        return "conv", words["sep"].join(parts)
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        kind = "max" if isinstance(module, nn.MaxPool2d) else "avg"
        stride = _first(module.stride)
        parts = [words[kind].format(k=_window(module.kernel_size))]
        if stride != 1:
            parts.append(words["stride"].format(s=stride))
        return "pool", words["sep"].join(parts)
    if isinstance(module, nn.Linear):
        return "fc", words["fc"]
    if isinstance(module, nn.Flatten):
        return "flatten", words["flatten"]
    return "other", type(module).__name__


def architecture_stages(net, input_shape: Sequence[int] | None = None,
                        lang: str = "en") -> list[Stage]:
    """The stages of `net` for one image of `input_shape` ([C, H, W]; by default the model's
    `input_shape`), read from its layers and from `layer_summary`: every label and shape
    comes from the model. Layers that keep the shape (activations, dropout, normalisation)
    join the stage before them; a network that flattens in `forward`, as AlexNet does, gets a
    flatten stage where a vector first follows a map."""
    from torch import nn

    from .summary import layer_summary

    check_choice("lang", lang, _ARCH_WORDS, sort=True)
    words = _ARCH_WORDS[lang]
    shape = tuple(input_shape or net.input_shape)
    modules = dict(net.named_modules())
    stages = [Stage((), "input", words["input"], shape)]
    for layer in layer_summary(net, shape).layers:
        module = modules[layer.name]
        kind, label = _stage_label(module, words)
        joins = (kind == "other" and layer.output_shape == stages[-1].shape
                 and stages[-1].kind != "input")
        if joins:
            previous = stages[-1]
            extra = (words["dropout"].format(p=module.p) if isinstance(module, nn.Dropout)
                     else type(module).__name__)
            stages[-1] = Stage((*previous.names, layer.name), previous.kind,
                               f"{previous.label} + {extra}", layer.output_shape)
            continue
        if len(layer.output_shape) == 1 and len(stages[-1].shape) > 1 and kind != "flatten":
            flat = (math.prod(stages[-1].shape),)
            stages.append(Stage((), "flatten", words["flatten"], flat))
        stages.append(Stage((layer.name,), kind, label, layer.output_shape))
    return stages


_STAGE_COLOURS = {"input": "0.75", "conv": "tab:blue", "pool": "tab:orange",
                  "flatten": "0.6", "fc": "tab:green", "other": "tab:purple"}  # fmt: skip


def _box_size(shape: tuple[int, ...], largest: dict[str, int]) -> tuple[float, float]:
    """Width and height of a stage's box, on square-root scales: maps by side and channels,
    vectors by length, against the largest of each in the network."""
    if len(shape) == 1:
        return 3.0 * math.sqrt(shape[0] / largest["length"]), 0.12
    channels, side = shape[0], shape[-1]
    return (3.0 * math.sqrt(side / largest["side"]),
            0.15 + 0.55 * math.sqrt(channels / largest["channels"]))


def plot_architecture(net, input_shape: Sequence[int] | None = None, lang: str = "en",
                      name: str | None = None, ax=None):
    """Draw `net` stage by stage, top to bottom: each stage's layers, what they do (read from
    their settings) and the shape of their output for one image, with a box whose width and
    height grow with that shape. Returns the axes."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon, Rectangle

    use_language(lang)
    words = _ARCH_WORDS[lang]
    stages = architecture_stages(net, input_shape, lang)
    maps = [s.shape for s in stages if len(s.shape) > 1]
    largest = {"side": max(s[-1] for s in maps), "channels": max(s[0] for s in maps),
               "length": max([s[0] for s in (st.shape for st in stages) if len(s) == 1],
                             default=1)}  # fmt: skip
    if ax is None:
        _, ax = plt.subplots(figsize=(9, 0.42 * len(stages) + 0.9))
    centre, previous = 6.0, None
    for row, stage in enumerate(stages):
        width, height = _box_size(stage.shape, largest)
        y = -row
        box = Rectangle((centre - width / 2, y - height / 2), width, height,
                        facecolor=_STAGE_COLOURS[stage.kind], edgecolor="black", lw=0.8)
        ax.add_patch(box)
        if previous is not None:  # a funnel from the previous box to this one
            (pw, ph), py = previous
            ax.add_patch(Polygon([(centre - pw / 2, py - ph / 2), (centre + pw / 2, py - ph / 2),
                                  (centre + width / 2, y + height / 2),
                                  (centre - width / 2, y + height / 2)],
                                 facecolor="0.9", edgecolor="none", zorder=0))
        previous = ((width, height), y)
        ax.text(0.0, y, stage.names[0] if stage.names else "", va="center", ha="left",
                fontsize=8, color="0.4", family="monospace")
        ax.text(4.3, y, stage.label, va="center", ha="right", fontsize=9)
        ax.text(7.7, y, " × ".join(map(str, stage.shape)), va="center", ha="left", fontsize=9)
    size = " × ".join(map(str, stages[0].shape[-2:]))
    ax.set_title(words["title"].format(name=name or type(net).__name__ + "()", size=size),
                 fontsize=10)
    ax.text(centre, -len(stages) + 0.3, words["note"], ha="center", va="top", fontsize=7.5,
            color="0.4")
    ax.set_xlim(0, 9.6)
    ax.set_ylim(-len(stages) - 0.2, 0.7)
    ax.axis("off")
    return ax
