"""Chapter 3 (ReLU vs sigmoid): the sigmoid's derivative and the fraction of dead ReLUs."""

from __future__ import annotations

import math
from collections.abc import Callable
from numbers import Real

import torch

from ._common import _MESSAGES, _report, _text

# --- Chapter 3: ReLU vs sigmoid ----------------------------------------------------------------

_MESSAGES["en"].update({
    # check_sigmoid_grad
    "sgrad_right": "Your derivative agrees with autograd at all {n} points, from x = {low:g} "
                   "to x = {high:g}; its largest value is {peak:.4f}, at x = 0.",
    "sgrad_raised": "Your function raised {error} when called with a tensor of {n} values.",
    "sgrad_raised_hint": "It is called as fn(x) with a float tensor x and should return a "
                         "tensor of the same shape, computed with torch operations "
                         "(torch.sigmoid, torch.exp), not math.exp.",
    "sgrad_shape": "Your function returned {got} for an input of shape {shape}.",
    "sgrad_case": "At x = {x:g} the sigmoid's derivative is {expected:.6g}, but your "
                  "function returned {got:.6g}.",
    "sgrad_overflow": "It is right for moderate x but returns nan or inf for large |x|: "
                      "exp(-x) overflows to inf in float32 once x < -88, and inf / inf is nan. "
                      "Write the derivative in terms of s = torch.sigmoid(x), which never "
                      "overflows: s * (1 - s).",
    "sgrad_itself": "You returned the sigmoid itself, not its slope. Differentiate "
                    "1 / (1 + exp(-x)) with the chain rule, then write the result in terms of "
                    "sigma(x).",
    "sgrad_on_x": "You applied the pattern s * (1 - s) to x itself. The derivative is "
                  "sigma(x) * (1 - sigma(x)): compute s = torch.sigmoid(x) first.",
    "sgrad_one_factor": "You returned 1 - sigma(x) = exp(-x) / (1 + exp(-x)). The derivative "
                        "is exp(-x) / (1 + exp(-x))**2: the denominator is squared, which "
                        "contributes the other factor, sigma(x).",
    "sgrad_tanh": "1 - s**2 is the pattern of tanh's derivative (1 - tanh(x)**2). For the "
                  "sigmoid it is s * (1 - s).",
    "sgrad_relu": "That is ReLU's derivative (1 for x > 0, else 0). The question asks for the "
                  "sigmoid's.",
    "sgrad_generic": "Differentiate sigma(x) = 1 / (1 + exp(-x)) with the chain rule and "
                     "write the result in terms of sigma(x). Test it at x = 0, where the "
                     "slope is 0.25, its largest value.",
    # check_dead_fraction
    "dead_right": "Your function agrees on all {n} batches: ReLU outputs shaped [batch, units] "
                  "and [batch, channels, height, width].",
    "dead_raised": "Your function raised {error} for a batch of shape {shape}.",
    "dead_raised_hint": "It is called as fn(A) with one layer's ReLU outputs for a batch, a "
                        "tensor shaped [batch, units] or [batch, channels, height, width], and "
                        "should return one number between 0 and 1.",
    "dead_raised_4d": "It runs on [batch, units] but fails for a convolution's output, "
                      "[batch, channels, height, width]. Reduce over every dimension except "
                      "dimension 1 (the channels): A.transpose(0, 1).flatten(1) puts one "
                      "channel per row.",
    "dead_case": "For a batch of shape {shape} with {dead} dead unit(s) out of {units} the "
                 "fraction is {expected:.4g}, but your function returned {got}.",
    "dead_tensor": "a tensor of shape {shape}",
    "dead_not_number": "Return one number, e.g. with .item() or float(...), not a tensor "
                       "holding many values.",
    "dead_zeros": "You counted the zero entries. A unit is dead only if it is zero for every "
                  "example of the batch; count units (columns), not entries.",
    "dead_any": "You counted units that are zero for at least one example. That happens to "
                "every healthy ReLU unit; a dead unit is zero for every example.",
    "dead_batch_axis": "You reduced over the wrong dimension: dimension 0 is the batch, so "
                       "the units are dimension 1. Look for units that are zero in every row.",
    "dead_count": "You returned the number of dead units; divide by the number of units to "
                  "get a fraction.",
    "dead_percent": "Return a fraction between 0 and 1, not a percentage.",
    "dead_negative": "ReLU outputs are never negative: a dead unit outputs exactly 0 for "
                     "every example. Test A > 0 (active), not A < 0.",
    "dead_positions": "It works for [batch, units], but in a convolution you counted every "
                      "position (channel, row, column) as a unit. A channel shares its "
                      "weights over all positions, so it still learns if any position is "
                      "active: count channels that are zero for every example and position.",
    "dead_conv": "It is right for [batch, units] but not for a convolution's output, "
                 "[batch, channels, height, width]. There a unit is a channel, dead when it "
                 "is 0 for every example at every position: reduce over every dimension "
                 "except dimension 1, e.g. A.transpose(0, 1).flatten(1) puts one channel per "
                 "row.",
    "dead_generic": "A unit is dead when its output is 0 for every example (and, in a "
                    "convolution, at every position). Compute, for each unit, whether any "
                    "output is > 0, then take the fraction of units for which none is.",
})  # fmt: skip

_MESSAGES["zh"].update({
    "sgrad_right": "你的导数在 x = {low:g} 到 x = {high:g} 之间的全部 {n} 个点上都与自动求导的"
                   "结果一致；最大值为 {peak:.4f}，在 x = 0 处取得。",
    "sgrad_raised": "用含 {n} 个值的张量调用你的函数时，它抛出了 {error}。",
    "sgrad_raised_hint": "调用方式是 fn(x)，x 是浮点张量；应返回形状相同的张量，并用 torch 的"
                         "运算（torch.sigmoid、torch.exp）来算，不要用 math.exp。",
    "sgrad_shape": "输入形状为 {shape}，你的函数却返回了 {got}。",
    "sgrad_case": "在 x = {x:g} 处 sigmoid 的导数是 {expected:.6g}，你的函数返回的是 {got:.6g}。",
    "sgrad_overflow": "x 不大时结果正确，但 |x| 很大时返回 nan 或 inf：在 float32 中，x < -88 时 "
                      "exp(-x) 会溢出成 inf，而 inf / inf 是 nan。改用 s = torch.sigmoid(x) 来"
                      "表示导数，它不会溢出：s * (1 - s)。",
    "sgrad_itself": "你返回的是 sigmoid 函数本身，而不是它的斜率。用链式法则对 "
                    "1 / (1 + exp(-x)) 求导，再把结果写成 sigma(x) 的形式。",
    "sgrad_on_x": "你把 s * (1 - s) 这个式子直接用在了 x 上。导数是 sigma(x) * (1 - sigma(x))："
                  "先算 s = torch.sigmoid(x)。",
    "sgrad_one_factor": "你返回的是 1 - sigma(x) = exp(-x) / (1 + exp(-x))。导数是 "
                        "exp(-x) / (1 + exp(-x))**2：分母要平方，多出来的正是另一个因子 "
                        "sigma(x)。",
    "sgrad_tanh": "1 - s**2 是 tanh 导数的形式（1 - tanh(x)**2）；sigmoid 的导数是 s * (1 - s)。",
    "sgrad_relu": "这是 ReLU 的导数（x > 0 时为 1，否则为 0）；题目要的是 sigmoid 的导数。",
    "sgrad_generic": "用链式法则对 sigma(x) = 1 / (1 + exp(-x)) 求导，并把结果写成 sigma(x) "
                     "的形式。可以在 x = 0 处验证：那里的斜率是 0.25，也是最大值。",
    "dead_right": "你的函数在全部 {n} 个小批量上都正确，包括形状为 [batch, units] 和 "
                  "[batch, channels, height, width] 的 ReLU 输出。",
    "dead_raised": "对形状为 {shape} 的小批量，你的函数抛出了 {error}。",
    "dead_raised_hint": "调用方式是 fn(A)，A 是某一层在一个小批量上的 ReLU 输出，形状为 "
                        "[batch, units] 或 [batch, channels, height, width]；应返回一个 0 到 1 "
                        "之间的数。",
    "dead_raised_4d": "对 [batch, units] 能运行，但对卷积层的输出 [batch, channels, height, width] "
                      "出错了。应对除第 1 维（通道）以外的所有维度做归约："
                      "A.transpose(0, 1).flatten(1) 可以让每个通道占一行。",
    "dead_case": "形状为 {shape} 的小批量在 {units} 个单元中有 {dead} 个死亡单元，比例应为 "
                 "{expected:.4g}，你的函数返回的是 {got}。",
    "dead_tensor": "形状为 {shape} 的张量",
    "dead_not_number": "请返回一个数（例如用 .item() 或 float(...)），而不是包含多个值的张量。",
    "dead_zeros": "你数的是值为零的元素。一个单元只有在小批量的每个样本上都输出零，才算死亡；"
                  "要数的是单元（列），不是元素。",
    "dead_any": "你数的是至少在一个样本上输出零的单元。健康的 ReLU 单元也会这样；死亡单元是在"
                "每个样本上都输出零。",
    "dead_batch_axis": "归约的维度弄错了：第 0 维是小批量，单元在第 1 维。要找的是每一行都为零"
                       "的单元。",
    "dead_count": "你返回的是死亡单元的个数；除以单元总数才是比例。",
    "dead_percent": "请返回 0 到 1 之间的比例，而不是百分数。",
    "dead_negative": "ReLU 的输出永远不会是负数：死亡单元在每个样本上都恰好输出 0。应检验 "
                     "A > 0（激活），而不是 A < 0。",
    "dead_positions": "对 [batch, units] 正确，但在卷积层中你把每个位置（通道、行、列）都当成了"
                      "一个单元。同一通道在所有位置共享权重，只要有一个位置被激活，它就还能学习："
                      "要数的是在每个样本、每个位置上都为零的通道。",
    "dead_conv": "对 [batch, units] 正确，但对卷积层的输出 [batch, channels, height, width] "
                 "不对。卷积层的单元是通道：一个通道在每个样本、每个位置上都输出 0，才算死亡。"
                 "应对除第 1 维以外的所有维度做归约，例如 A.transpose(0, 1).flatten(1) 可以让"
                 "每个通道占一行。",
    "dead_generic": "一个单元在每个样本上（卷积层还要加上每个位置）都输出 0，才算死亡。先对每个"
                    "单元判断是否有输出 > 0，再算出一个都没有的单元所占的比例。",
})  # fmt: skip


# --- the sigmoid's derivative -------------------------------------------------------------


def _sigmoid_points() -> torch.Tensor:
    """Where a sigmoid derivative is tested: a fine grid on [-10, 10] and some large |x|."""
    far = torch.tensor([-100.0, -60.0, -30.0, -15.0, 15.0, 30.0, 60.0, 100.0])
    return torch.cat([torch.arange(-100, 101, dtype=torch.float32) / 10, far])


def _autograd_sigmoid_grad(x: torch.Tensor) -> torch.Tensor:
    x = x.clone().requires_grad_(True)
    torch.sigmoid(x).sum().backward()
    return x.grad


_SIGMOID_MISTAKES = {
    "sgrad_itself": torch.sigmoid,
    "sgrad_on_x": lambda x: x * (1 - x),
    "sgrad_one_factor": lambda x: 1 - torch.sigmoid(x),
    "sgrad_tanh": lambda x: 1 - torch.sigmoid(x) ** 2,
    "sgrad_relu": lambda x: (x > 0).float(),
}


def _close(got: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    """Elementwise: equal within float32 rounding (nan and inf never count as close)."""
    return torch.isclose(got.double(), expected.double(), rtol=1e-4, atol=1e-6)


def _telling_point(x, got, expected, close) -> int:
    """The wrong point to show: x = 0 if wrong there, else the first nan or inf, else the
    point of largest error."""
    zero = int(x.abs().argmin())
    if not bool(close[zero]):
        return zero
    bad = ~torch.isfinite(got)
    if bool(bad.any()):
        return int(bad.nonzero()[0])
    return int(((got - expected).abs() * ~close).argmax())


def _error_name(err: Exception) -> str:
    return f"{type(err).__name__}: {err}" if str(err) else type(err).__name__


def check_sigmoid_grad(fn: Callable[[torch.Tensor], torch.Tensor], lang: str = "en") -> bool:
    """Test `fn(x)`, the derivative of the sigmoid written out, against autograd.

    `x` is a float32 tensor of points from -100 to 100; `fn` must return a tensor of the same
    shape. Prints the verdict, with a hint aimed at the likely mistake; returns True if right.
    """
    text = _text(lang)
    x = _sigmoid_points()
    expected = _autograd_sigmoid_grad(x)
    try:
        got = fn(x.clone())
    except Exception as err:  # a learner's function may fail in any way
        detail = text["sgrad_raised"].format(error=_error_name(err), n=len(x))
        return _report(False, text, detail, text["sgrad_raised_hint"])
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        shape = list(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        detail = text["sgrad_shape"].format(got=shape, shape=list(x.shape))
        return _report(False, text, detail, text["sgrad_raised_hint"])
    got = got.detach().to(torch.float64)
    close = _close(got, expected)
    if bool(close.all()):
        detail = text["sgrad_right"].format(
            n=len(x), low=x.min().item(), high=x.max().item(), peak=got.max().item()
        )
        return _report(True, text, detail)
    first = _telling_point(x, got, expected, close)
    detail = text["sgrad_case"].format(
        x=x[first].item(), expected=expected[first].item(), got=got[first].item()
    )
    moderate = x.abs() <= 10
    if bool(close[moderate].all()):
        return _report(False, text, detail, text["sgrad_overflow"])
    for key, mistake in _SIGMOID_MISTAKES.items():
        if bool(_close(got[moderate], mistake(x[moderate])).all()):
            return _report(False, text, detail, text[key])
    return _report(False, text, detail, text["sgrad_generic"])


# --- the fraction of dead ReLU units ------------------------------------------------------


def _units_by_row(A: torch.Tensor) -> torch.Tensor:
    """One row per unit (a feature, or a convolution's channel), all its outputs along it."""
    return A.transpose(0, 1).reshape(A.shape[1], -1)


def _dead_cases() -> list[torch.Tensor]:
    """ReLU outputs with a known number of dead units, shaped [B, units] and [B, C, H, W].

    Besides dead units, each case has units that are zero for all but one example (or, in a
    convolution, all but one position), which are alive; no batch size equals a unit count.
    """
    generator = torch.Generator().manual_seed(3)
    cases = []
    for shape, dead, nearly_dead in (
        ((64, 50), [3, 7, 8, 20, 41], [0, 12]),
        ((32, 120), list(range(0, 120, 4)), [1, 2, 5]),
        ((16, 84), [], [10]),
        ((8, 6, 7, 7), [2], [4]),
        ((5, 16, 5, 5), [0, 3, 9, 10, 15], [1, 6]),
        ((12, 10), list(range(10)), []),
    ):
        A = torch.relu(torch.randn(shape, generator=generator))
        for unit in dead + nearly_dead:
            A[:, unit] = 0
        for unit in nearly_dead:
            A[(1, unit) + (2,) * (len(shape) - 2)] = 0.5  # one example, one position
        cases.append(A)
    return cases


def _dead_reference(A: torch.Tensor) -> float:
    return (~(_units_by_row(A) > 0).any(dim=1)).float().mean().item()


def _dead_count(A: torch.Tensor) -> float:
    return float((~(_units_by_row(A) > 0).any(dim=1)).sum().item())


_DEAD_MISTAKES = {
    "dead_zeros": lambda A: (A == 0).float().mean().item(),
    "dead_any": lambda A: (_units_by_row(A) == 0).any(dim=1).float().mean().item(),
    "dead_batch_axis": lambda A: (~(A.flatten(1) > 0).any(dim=1)).float().mean().item(),
    "dead_count": _dead_count,
    "dead_percent": lambda A: 100 * _dead_reference(A),
    "dead_negative": lambda A: 0.0,
}


def _as_number(value: object) -> float | None:
    """A learner's answer as a float: a real number or a one-element tensor; else None."""
    if isinstance(value, torch.Tensor):
        return float(value.item()) if value.numel() == 1 else None
    if isinstance(value, Real) and not isinstance(value, bool):
        return float(value)
    return None


def _show_answer(value: object, number: float | None, text: dict[str, str]) -> str:
    if number is not None:
        return f"{number:.4g}"
    if isinstance(value, torch.Tensor):
        return text["dead_tensor"].format(shape=list(value.shape))
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _matches(answers: list[float | None], expected: list[float]) -> bool:
    return all(
        a is not None and math.isclose(a, e, rel_tol=1e-6, abs_tol=1e-6)
        for a, e in zip(answers, expected, strict=True)
    )


def check_dead_fraction(fn: Callable[[torch.Tensor], float], lang: str = "en") -> bool:
    """Test `fn(A)`, the fraction of dead units in one layer's ReLU outputs `A` for a batch.

    `A` is shaped [batch, units] (a linear layer) or [batch, channels, height, width] (a
    convolution, whose units are its channels). A unit is dead when it outputs 0 for every
    example (and every position). Prints the verdict and a hint; returns True if right.
    """
    text = _text(lang)
    cases = _dead_cases()
    raw = []
    for A in cases:
        try:
            raw.append(fn(A.clone()))
        except Exception as err:  # a learner's function may fail in any way
            detail = text["dead_raised"].format(error=_error_name(err), shape=list(A.shape))
            hint = "dead_raised_4d" if A.dim() == 4 and raw else "dead_raised_hint"
            return _report(False, text, detail, text[hint])
    answers = [_as_number(value) for value in raw]
    expected = [_dead_reference(A) for A in cases]
    if _matches(answers, expected):
        return _report(True, text, text["dead_right"].format(n=len(cases)))
    wrong = next(
        i for i, (a, e) in enumerate(zip(answers, expected, strict=True))
        if not _matches([a], [e])
    )  # fmt: skip
    A = cases[wrong]
    detail = text["dead_case"].format(
        shape=list(A.shape), dead=int(_dead_count(A)), units=A.shape[1],
        expected=expected[wrong], got=_show_answer(raw[wrong], answers[wrong], text),
    )  # fmt: skip
    if any(a is None for a in answers):
        return _report(False, text, detail, text["dead_not_number"])
    flat = [i for i, A in enumerate(cases) if A.dim() == 2]
    conv = [i for i, A in enumerate(cases) if A.dim() == 4]
    if _matches([answers[i] for i in flat], [expected[i] for i in flat]):
        per_position = [(~(cases[i] > 0).any(dim=0)).float().mean().item() for i in conv]
        if _matches([answers[i] for i in conv], per_position):
            return _report(False, text, detail, text["dead_positions"])
        return _report(False, text, detail, text["dead_conv"])
    for key, mistake in _DEAD_MISTAKES.items():
        if _matches([answers[i] for i in flat], [mistake(cases[i]) for i in flat]):
            return _report(False, text, detail, text[key])
    return _report(False, text, detail, text["dead_generic"])
