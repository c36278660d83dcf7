"""Chapter 1 (from LeNet to AlexNet): output sizes, LeNet's parameters, AlexNet's FC share."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from functools import cache

from torch import nn

from ..models import AlexNet, LeNet, conv_output_size
from ..summary import layer_summary
from ._common import Verdict, as_number, check_calls, check_number

MESSAGES = {
    "en": {
        "conv_right": "Your formula agrees with PyTorch on all {n} cases.",
        "conv_call": "It is called as fn(size, kernel, stride, padding) and returns one "
                     "whole number.",
        "conv_not_int": "You didn't round: a window that doesn't fit is dropped, so round down.",
        "conv_ceil": "You rounded up, but a window that would run past the edge is dropped.",
        "conv_no_plus_one": "You counted the steps, not the positions: add 1 for the first.",
        "conv_padding_once": "You padded one side only: use 2 * padding.",
        "conv_no_padding": "You left out the padding, which widens the input: use n + 2p.",
        "conv_no_stride": "You left out the stride: divide the distance the window travels by s.",
        "conv_unchanged": "That is the size unchanged, but the window and the stride shrink it.",
        "conv_generic": "How far can the window travel, in how many whole steps of s?",
        "lenet_right": "LeNet has {total:,} parameters: {layers}.",
        "lenet_not_int": "Give a whole number: a parameter count is a count.",
        "lenet_biases": "You counted the weights only: every output has a bias too.",
        "lenet_layer_missing": "You left out the layer {name}.",
        "lenet_no_padding": "conv.0 has padding 2: the last feature map is 16 x 5 x 5, not 4 x 4.",
        "lenet_alexnet": "That is AlexNet's count, not LeNet's.",
        "lenet_generic": "Add the layers one by one, as print(net) lists them: weights and biases.",
        "share_right": "{fc:,} of AlexNet's {total:,} parameters ({share:.1%}) are in its three "
                       "fully connected layers.",
        "share_range": "Give a fraction between 0 and 1.",
        "share_conv": "That is the convolutional layers' share, not the Linear layers'.",
        "share_flops": "That is the Linear layers' share of the FLOPs, not of the parameters.",
        "share_generic": "Only the 'Linear' layers count; right within {tolerance}, or rounded "
                         "to one decimal.",
    },
    "zh": {
        "conv_right": "你的公式在全部 {n} 个用例上都与 PyTorch 一致。",
        "conv_call": "调用方式是 fn(size, kernel, stride, padding)，应返回一个整数。",
        "conv_not_int": "你没有取整：放不下的窗口会被舍弃，所以要向下取整。",
        "conv_ceil": "你向上取整了，可是越过边界的窗口会被舍弃。",
        "conv_no_plus_one": "你数的是步数而不是位置：第一个位置还要加 1。",
        "conv_padding_once": "你只在一侧加了填充：应写成 2 * padding。",
        "conv_no_padding": "你漏掉了把输入加宽的填充：应写成 n + 2p。",
        "conv_no_stride": "你漏掉了步幅：窗口移动的距离要除以 s。",
        "conv_unchanged": "这是原来的边长，可是窗口和步幅都会让它变小。",
        "conv_generic": "窗口能移动多远？这段距离合多少个完整的步长 s？",
        "lenet_right": "LeNet 共有 {total:,} 个参数：{layers}。",
        "lenet_not_int": "请给出整数：参数量是数出来的。",
        "lenet_biases": "你只数了权重：每个输出还有一个偏置。",
        "lenet_layer_missing": "你漏掉了 {name} 层。",
        "lenet_no_padding": "conv.0 的填充为 2：最后的特征图是 16 x 5 x 5，而不是 4 x 4。",
        "lenet_alexnet": "这是 AlexNet 的参数量，不是 LeNet 的。",
        "lenet_generic": "对照 print(net) 逐层相加：权重和偏置都要数。",
        "share_right": "AlexNet 的 {total:,} 个参数中有 {fc:,} 个（{share:.1%}）在三个全连接层里。",
        "share_range": "请给出 0 到 1 之间的比例。",
        "share_conv": "这是卷积层所占的比例，不是全连接层（Linear）的。",
        "share_flops": "这是全连接层在浮点运算量中的占比，不是在参数量中的。",
        "share_generic": "只算 'Linear' 层；相差不超过 {tolerance} 或四舍五入到一位小数都算对。",
    },
}  # fmt: skip


CONV_MISTAKES = [
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "conv_not_int"),
    (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1, "conv_ceil"),
    (lambda n, k, s, p: (n + 2 * p - k) // s, "conv_no_plus_one"),
    (lambda n, k, s, p: (n + p - k) // s + 1, "conv_padding_once"),
    (lambda n, k, s, p: (n - k) // s + 1, "conv_no_padding"),
    (lambda n, k, s, p: n + 2 * p - k + 1, "conv_no_stride"),
    (lambda n, k, s, p: n, "conv_unchanged"),
]


def check_conv_output_size(fn: Callable[[int, int, int, int], int], lang: str = "en") -> bool:
    """Test `fn(size, kernel, stride, padding)`, the output side of a conv or pooling layer,
    against PyTorch's rule on every layer of LeNet and AlexNet and a few hundred other cases
    (a float equal to the right whole number counts). Prints the verdict and a hint."""
    cases = [(28, 5, 1, 2), (28, 2, 2, 0), (10, 5, 1, 0), (224, 11, 4, 0), (227, 11, 4, 0),
             (54, 3, 2, 0), (26, 5, 1, 2), (26, 3, 2, 0), (12, 3, 1, 1), (12, 3, 2, 0),
             (67, 11, 4, 0)] + [(n, k, s, p) for n in (1, 5, 7, 8, 13, 32, 100)
                                for k in (1, 2, 3, 5, 7) for s in (1, 2, 3, 4) for p in (0, 1, 2, 3)
                                if p < k and n + 2 * p >= k]  # fmt: skip
    return check_calls(Verdict(MESSAGES, lang), fn, cases, conv_output_size, CONV_MISTAKES,
                       operator.eq, "size={}, kernel={}, stride={}, padding={}".format,
                       ("conv_right", "conv_call", "conv_generic"), n=len(cases))


def check_lenet_param_count(answer: object, lang: str = "en") -> bool:
    """Check a hand count of the parameters of `LeNet()` (28x28 input, 10 classes)."""
    layers = {name: (m.weight.numel(), m.bias.numel()) for name, m in LeNet().named_modules()
              if isinstance(m, (nn.Conv2d, nn.Linear))}  # {name: (weights, biases)}
    total = sum(w + b for w, b in layers.values())
    mistakes = [(lambda a: a != int(a), "lenet_not_int"),
                (sum(w for w, _ in layers.values()), "lenet_biases"),
                *[(total - w - b, "lenet_layer_missing") for w, b in layers.values()],
                (total - sum(layers["fc.0"]) + 16 * 4 * 4 * 120 + 120, "lenet_no_padding"),
                (_alexnet_facts()["total"], "lenet_alexnet")]  # fmt: skip
    missing = {total - w - b: name for name, (w, b) in layers.items()}.get(as_number(answer))
    return check_number(Verdict(MESSAGES, lang), answer, [(total, {})], mistakes, operator.eq,
                        ("lenet_right", "lenet_generic"), total=total, name=missing,
                        layers=" + ".join(f"{w + b:,} ({n})" for n, (w, b) in layers.items()))


@cache
def _alexnet_facts() -> dict[str, float]:
    """Where AlexNet's parameters and FLOPs are: built once, then remembered."""
    summary = layer_summary(AlexNet(), (1, 224, 224))
    fc = [layer for layer in summary.layers if layer.kind == "Linear"]
    share = sum(layer.params for layer in fc) / summary.total_params
    return {"fc": sum(layer.params for layer in fc), "total": summary.total_params,
            "share": share, "flops_share": sum(layer.flops for layer in fc) / summary.total_flops}


def check_alexnet_fc_share(answer: object, lang: str = "en", tolerance: float = 0.005) -> bool:
    """Check the fraction (0 to 1) of `AlexNet()`'s parameters in its fully connected layers
    (1 input channel, 224x224 images, 10 classes). An answer within `tolerance` of the share
    counts as right, and so does the share rounded to one decimal ("nine in ten")."""

    def close(answer: float, value: float) -> bool:
        return abs(answer - value) <= tolerance or math.isclose(answer, round(value, 1))

    facts = _alexnet_facts()
    mistakes = [(lambda a: close(a / 100, facts["share"]), "percent"),
                (1 - facts["share"], "share_conv"), (facts["flops_share"], "share_flops"),
                (lambda a: not 0 <= a <= 1, "share_range")]  # fmt: skip
    return check_number(Verdict(MESSAGES, lang), answer, [(facts["share"], {})], mistakes, close,
                        ("share_right", "share_generic"), tolerance=tolerance, **facts)
