"""torchvision's AlexNet with the weights it learned on ImageNet, where they can be had."""

from __future__ import annotations

import contextlib
import io
import pickle
import socket
from pathlib import Path

import torch
import torchvision
from torch import nn

from .errors import check_choice

MESSAGES = {
    "en": {"fetching": "Downloading torchvision's ImageNet weights for AlexNet ({mb:.0f} MB) ...",
           "loaded": "Loaded torchvision's ImageNet weights for AlexNet ({top1}% top-1 on "
                     "ImageNet's validation images).",
           "missing": "The ImageNet weights could not be loaded here ({error}): the network "
                      "has random weights, and the code that follows runs the same."},
    "zh": {"fetching": "正在下载 torchvision 为 AlexNet 提供的 ImageNet 权重（{mb:.0f} MB）……",
           "loaded": "已加载 torchvision 为 AlexNet 提供的 ImageNet 权重（在 ImageNet "
                     "验证图像上的 top-1 准确率为 {top1}%）。",
           "missing": "这里无法加载 ImageNet 权重（{error}）：网络的权重是随机的，"
                      "后面的代码照样能运行。"},
}


def pretrained_alexnet(lang: str = "en", timeout: float = 30.0) -> tuple[nn.Module, bool]:
    """torchvision's `alexnet` (3 input channels, 1,000 classes) with its ImageNet weights, from
    the cache or downloaded, and True; where they can't be had (offline, a blocked or damaged
    download), the same network with random weights and False, after one line saying so."""
    check_choice("lang", lang, MESSAGES, sort=True)
    weights = torchvision.models.AlexNet_Weights.IMAGENET1K_V1
    cached = Path(torch.hub.get_dir()) / "checkpoints" / Path(weights.url).name
    if not cached.exists():
        print(MESSAGES[lang]["fetching"].format(mb=weights.meta.get("_file_size", 233)))
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)  # a network that never answers must not hang the cell
    try:
        # torch.hub writes where it caches the file, a path on this machine: not for the page
        with contextlib.redirect_stdout(io.StringIO()):
            net = torchvision.models.alexnet(weights=weights, progress=False)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as err:
        reason = f"{type(err).__name__}: {str(err).splitlines()[0][:80]}" if str(err) else \
            type(err).__name__
        print(MESSAGES[lang]["missing"].format(error=reason))
        return torchvision.models.alexnet(weights=None), False
    finally:
        socket.setdefaulttimeout(previous)
    top1 = weights.meta.get("_metrics", {}).get("ImageNet-1K", {}).get("acc@1", "?")
    print(MESSAGES[lang]["loaded"].format(top1=top1))
    return net, True
