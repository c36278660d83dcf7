"""Chapter 1 (from LeNet to AlexNet): output sizes, LeNet's parameters, AlexNet's FC share."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from numbers import Real

from torch import nn

from ..models import AlexNet, LeNet, _conv_out
from ..summary import layer_summary
from ._common import _is_whole, _report, _text

# --- the output side of a convolution or pooling window -----------------------------------


def _conv_cases() -> list[tuple[int, int, int, int]]:
    """(size, kernel, stride, padding) cases: the book's layers plus a grid of others."""
    book = [
        (28, 5, 1, 2), (28, 2, 2, 0), (10, 5, 1, 0),  # LeNet
        (224, 11, 4, 0), (227, 11, 4, 0), (54, 3, 2, 0), (26, 5, 1, 2),  # AlexNet
        (26, 3, 2, 0), (12, 3, 1, 1), (12, 3, 2, 0), (67, 11, 4, 0),
    ]  # fmt: skip
    grid = [
        (size, kernel, stride, padding)
        for size in (1, 5, 7, 8, 13, 32, 100)
        for kernel in (1, 2, 3, 5, 7)
        for stride in (1, 2, 3, 4)
        for padding in (0, 1, 2, 3)
        if padding < kernel and size + 2 * padding >= kernel
    ]
    return book + grid


_CONV_MISTAKES = {
    "conv_ceil": lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1,
    "conv_no_plus_one": lambda n, k, s, p: (n + 2 * p - k) // s,
    "conv_padding_once": lambda n, k, s, p: (n + p - k) // s + 1,
    "conv_no_padding": lambda n, k, s, p: (n - k) // s + 1,
    "conv_no_stride": lambda n, k, s, p: n + 2 * p - k + 1,
}


def check_conv_output_size(fn: Callable[[int, int, int, int], int], lang: str = "en") -> bool:
    """Test `fn(size, kernel, stride, padding)`, the output side of a conv or pooling layer.

    `fn` is compared with floor((n + 2p - k) / s) + 1, PyTorch's rule, on a few hundred cases,
    among them every layer of LeNet and AlexNet. Prints the verdict; returns True if all agree.
    """
    text = _text(lang)
    cases = _conv_cases()
    answers = []
    for n, k, s, p in cases:
        try:
            answers.append(fn(n, k, s, p))
        except Exception as err:  # a learner's function may fail in any way
            detail = text["conv_raised"].format(
                error=f"{type(err).__name__}: {err}", size=n, kernel=k, stride=s, padding=p
            )
            return _report(False, text, detail, text["conv_raised_hint"])
    expected = [_conv_out(n, k, s, p) for n, k, s, p in cases]
    if all(_is_whole(a) and a == e for a, e in zip(answers, expected, strict=True)):
        return _report(True, text, text["conv_right"].format(n=len(cases)))
    # Show a case whose value is wrong if there is one, else one that isn't a whole number.
    wrong = [i for i, (a, e) in enumerate(zip(answers, expected, strict=True)) if a != e]
    first = wrong[0] if wrong else next(i for i, a in enumerate(answers) if not _is_whole(a))
    n, k, s, p = cases[first]
    detail = text["conv_case"].format(
        size=n, kernel=k, stride=s, padding=p, expected=expected[first], got=answers[first]
    )
    if not all(isinstance(a, Real) and math.isfinite(a) for a in answers):
        return _report(False, text, detail, text["conv_raised_hint"])
    if any(not _is_whole(a) and a != int(a) for a in answers):
        return _report(False, text, detail, text["conv_not_int"])
    for key, mistake in _CONV_MISTAKES.items():
        if all(a == mistake(*case) for a, case in zip(answers, cases, strict=True)):
            return _report(False, text, detail, text[key])
    if all(a == e for a, e in zip(answers, expected, strict=True)):
        return _report(False, text, detail, text["conv_not_int"])  # right values, as floats
    return _report(False, text, detail, text["conv_generic"])


# --- LeNet's parameter count --------------------------------------------------------------


def _layer_params(net: nn.Module) -> dict[str, tuple[int, int]]:
    """{layer name: (weights, biases)} for every layer that has parameters."""
    return {
        name: (module.weight.numel(), module.bias.numel())
        for name, module in net.named_modules()
        if isinstance(module, (nn.Conv2d, nn.Linear))
    }


def check_lenet_param_count(answer: object, lang: str = "en") -> bool:
    """Check a hand count of the parameters of `LeNet()` (28x28 input, 10 classes)."""
    text = _text(lang)
    layers = _layer_params(LeNet())
    total = sum(w + b for w, b in layers.values())
    breakdown = " + ".join(f"{w + b:,} ({name})" for name, (w, b) in layers.items())
    if isinstance(answer, Real) and not isinstance(answer, bool) and answer == total:
        return _report(True, text, text["lenet_right"].format(total=total, layers=breakdown))
    detail = text["lenet_case"].format(answer=answer)
    if not _is_whole(answer):
        return _report(False, text, detail, text["lenet_not_int"])
    if answer == sum(w for w, _ in layers.values()):
        return _report(False, text, detail, text["lenet_biases"])
    for name, (w, b) in layers.items():
        if answer == total - w - b:
            return _report(
                False, text, detail, text["lenet_layer_missing"].format(name=name, params=w + b)
            )
    fc1_without_padding = 16 * 4 * 4 * 120 + 120
    w_fc1, b_fc1 = layers["fc.0"]
    if answer == total - (w_fc1 + b_fc1) + fc1_without_padding:
        return _report(False, text, detail, text["lenet_no_padding"])
    if answer == _alexnet_shares()["total"]:
        return _report(False, text, detail, text["lenet_alexnet"])
    return _report(False, text, detail, text["lenet_generic"])


# --- where AlexNet's parameters are -------------------------------------------------------


@cache
def _alexnet_shares() -> dict[str, float | int]:
    """Where AlexNet's parameters and FLOPs are: built once, then remembered."""
    summary = layer_summary(AlexNet(), (1, 224, 224))
    fc = sum(layer.params for layer in summary.layers if layer.kind == "Linear")
    fc_flops = sum(layer.flops for layer in summary.layers if layer.kind == "Linear")
    return {
        "fc": fc,
        "total": summary.total_params,
        "share": fc / summary.total_params,
        "flops_share": fc_flops / summary.total_flops,
    }


def check_alexnet_fc_share(answer: object, lang: str = "en", tolerance: float = 0.005) -> bool:
    """Check the fraction (0 to 1) of `AlexNet()`'s parameters in its fully connected layers.

    `AlexNet()` is the library's model: 1 input channel, 224x224 images, 10 classes.
    Answers within `tolerance` of the exact fraction count as right.
    """
    text = _text(lang)
    facts = _alexnet_shares()
    share = facts["share"]
    right = text["share_right"].format(**facts)
    if not isinstance(answer, Real) or isinstance(answer, bool) or not math.isfinite(answer):
        return _report(
            False, text, text["share_case"].format(answer=answer), text["share_not_number"]
        )
    if abs(answer - share) <= tolerance:
        return _report(True, text, right)
    detail = text["share_case"].format(answer=answer)
    if abs(answer / 100 - share) <= tolerance:
        return _report(False, text, detail, text["share_percent"])
    if abs((1 - answer) - share) <= tolerance:
        return _report(False, text, detail, text["share_conv"])
    if abs(answer - facts["flops_share"]) <= tolerance:
        return _report(False, text, detail, text["share_flops"])
    if not 0 <= answer <= 1:
        return _report(False, text, detail, text["share_not_number"])
    return _report(False, text, detail, text["share_generic"])
