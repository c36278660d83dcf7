"""What the first cell of every chapter calls: find the chapter's language, report the device.

The English and Chinese notebooks share their code cell for cell, so the language cannot be
written into the code. `setup()` works it out from where the notebook is instead:

1. the environment variable ALEXNET_LANG ("en" or "zh"), if set;
2. the notebook's path, which Jupyter servers put in JPY_SESSION_NAME (.../book/zh/...),
   or, failing that, the book language stored in that notebook's metadata;
3. the current working directory (Jupyter, VS Code, nbval and nbclient start a kernel in
   the notebook's folder);
4. on Google Colab, the book language stored in the open notebook's metadata;
5. otherwise English.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path, PurePath

from ..devices import try_gpu
from ..errors import UsageError
from ..quick import QUICK_EPOCHS, QUICK_TRAIN_EXAMPLES, quick_mode
from .plots import use_language

LANGUAGES = ("en", "zh")
# Where a notebook records its language: metadata["alexnet"]["lang"] (set by the book's
# scripts/notebook_first_cell.py).
METADATA_KEY = "alexnet"

# Kept under 80 columns (a Chinese character takes two), the width of a code cell's output.
_MESSAGES = {
    "en": {
        "gpu": "Device: {device} ({name}).",
        "cpu": "Device: CPU. Small nets train in minutes; a 224-px AlexNet takes hours.",
        "colab_gpu": "  For a GPU on Colab: Runtime ▸ Change runtime type ▸ T4 GPU, then rerun.",
        "fast_track": "  Without a GPU, chapter 6 trains at 67 px: the CPU fast track.",
        "quick": "[quick mode] ALEXNET_QUICK=1: at most {examples} training images and "
                 "{epochs} epochs.",
    },
    "zh": {
        "gpu": "设备：{device}（{name}）。",
        "cpu": "设备：CPU。小网络几分钟就能训练完；224 像素的 AlexNet 要几个小时。",
        "colab_gpu": "  在 Colab 上换用 GPU：代码执行程序 ▸ 更改运行时类型 ▸ T4 GPU，再重新运行。",
        "fast_track": "  没有 GPU 时，第 6 章以 67 像素训练：CPU 快速通道。",
        "quick": "[快速模式] ALEXNET_QUICK=1：最多 {examples} 张训练图像、{epochs} 个迭代周期。",
        "no_font": "没有找到中文字体，图中的汉字会显示成方框。\n"
                   "  在 Colab 上可运行 `!apt-get -qq install fonts-noto-cjk`，"
                   "再重新运行本单元格。",
    },
}  # fmt: skip


def _normalise(lang: str) -> str | None:
    """The code "en" or "zh" from spellings such as "zh", "zh_CN", "zh-CN" or "EN"; else None."""
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def language_from_path(path: str | os.PathLike) -> str | None:
    """The language of a path inside book/zh/ ("zh") or book/en/ ("en"), else None."""
    parts = PurePath(path).parts
    for folder, lang in zip(parts, parts[1:], strict=False):
        if folder == "book" and lang in LANGUAGES:
            return lang
    return None


def language_from_metadata(metadata: dict) -> str | None:
    """The language a notebook's metadata records, if any."""
    recorded = metadata.get(METADATA_KEY, {})
    lang = recorded.get("lang") if isinstance(recorded, dict) else None
    return _normalise(lang) if isinstance(lang, str) else None


def _language_from_notebook_file(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8") as f:
            return language_from_metadata(json.load(f).get("metadata", {}))
    except (OSError, ValueError, AttributeError):
        return None


def _language_from_colab() -> str | None:
    """Ask Colab's front end for the open notebook and read its metadata."""
    if "google.colab" not in sys.modules:
        return None
    try:
        from google.colab import _message  # type: ignore[import-not-found]

        notebook = _message.blocking_request("get_ipynb", timeout_sec=5)["ipynb"]
        return language_from_metadata(notebook.get("metadata", {}))
    except Exception:  # a private Colab API: any failure just means "unknown"
        return None


def detect_language() -> str:
    """The chapter's language, "en" or "zh" (see the module docstring for the order)."""
    requested = os.environ.get("ALEXNET_LANG", "").strip()
    if requested:
        lang = _normalise(requested)
        if lang is None:
            raise UsageError(f"ALEXNET_LANG must be one of {LANGUAGES}, got {requested!r}.")
        return lang
    session = os.environ.get("JPY_SESSION_NAME", "").strip()
    if session:
        lang = language_from_path(session) or _language_from_notebook_file(Path(session))
        if lang is not None:
            return lang
    return language_from_path(Path.cwd()) or _language_from_colab() or "en"


def device_report(
    lang: str, device_type: str, device_name: str = "", *, quick: bool = False
) -> str:
    """What setup() prints: one line for a GPU; without one, how to get one and the fast track."""
    text = _MESSAGES[lang]
    if device_type != "cpu":
        lines = [text["gpu"].format(device=device_type, name=device_name or device_type)]
    elif quick:
        lines = [text["cpu"]]
    else:
        lines = [text["cpu"], text["colab_gpu"], text["fast_track"]]
    if quick:
        lines.append(text["quick"].format(examples=QUICK_TRAIN_EXAMPLES, epochs=QUICK_EPOCHS))
    return "\n".join(lines)


def _device_name(device) -> str:
    import torch

    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU"
    return "CPU"


def install_cjk_font_on_colab() -> bool:
    """On Colab, which has no Chinese font, install Noto CJK (a few seconds, once per
    session) so that Chinese figures show characters, not boxes. False elsewhere, or if the
    install fails."""
    if "google.colab" not in sys.modules:
        return False
    command = "apt-get -qq update && apt-get -qq install -y fonts-noto-cjk"
    done = subprocess.run(command, shell=True, capture_output=True, check=False)
    return done.returncode == 0


def setup() -> str:
    """Set a chapter up: detect its language, prepare figures for it, report the device.

    Returns the language ("en" or "zh"), which the chapter passes on where text is drawn
    (e.g. `plot_history(history, lang=LANG)`).
    """
    lang = detect_language()
    font_needed = lang == "zh"
    font = use_language(lang)
    if font_needed and font is None and install_cjk_font_on_colab():
        font = use_language(lang)
    device = try_gpu()
    print(device_report(lang, device.type, _device_name(device), quick=quick_mode()))
    if font_needed and font is None:
        print(_MESSAGES[lang]["no_font"])
    return lang
