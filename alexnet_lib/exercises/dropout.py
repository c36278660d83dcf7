"""Chapter 4 (dropout): a learner's inverted dropout and its variance."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._common import _MESSAGES, _report, _text

# --- Chapter 4: dropout ---------------------------------------------------------------------

_MESSAGES["en"].update({
    # check_dropout
    "dropout_right": "Your dropout zeroes a fraction p of the entries and scales the rest by "
                     "1/(1-p), so the mean stays 1.\n{cases}.",
    "dropout_case": "p={p}: {zeroed:.3f} of the entries zeroed (expected about {p}), "
                    "survivors {survivors}, mean {mean:.3f} (expected 1)",
    "dropout_ok_case": "p={p}: {zeroed:.3f} zeroed, survivors {survivors}, mean {mean:.3f}",
    "dropout_join": ";\n",
    "dropout_end": ".",
    "dropout_raised": "Your function raised {error} for a tensor of shape {shape} and p={p}.",
    "dropout_raised_hint": "It is called as fn(X, p), with X a float tensor of any shape and p a "
                           "number from 0 to 1, and should return a tensor shaped like X.",
    "dropout_not_tensor": "For p={p} your function returned {got}, not a tensor.",
    "dropout_not_tensor_hint": "Return a tensor shaped like X: the input with some entries "
                               "zeroed and the others scaled.",
    "dropout_shape": "For X of shape {shape} and p={p} your function returned shape {got}.",
    "dropout_shape_hint": "Dropout keeps the shape: draw one random number per entry, e.g. "
                          "torch.rand_like(X), and multiply elementwise.",
    "dropout_dtype": "For X of dtype {dtype} your function returned dtype {got}.",
    "dropout_dtype_hint": "Keep X's dtype: make the mask with torch.rand_like(X), or convert "
                          "it with .to(X.dtype) rather than .float().",
    "dropout_inplace": "Your function changed its input X (p={p}).",
    "dropout_inplace_hint": "Leave X as it is and return a new tensor, e.g. X * mask / (1 - p): "
                            "the caller may still need X, and autograd needs it for the "
                            "backward pass.",
    "dropout_p0": "With p=0 the output differs from X.",
    "dropout_p0_hint": "p is the probability of dropping an entry: with p=0 nothing is dropped "
                       "and 1/(1-0) = 1 scales nothing, so the output is X itself.",
    "dropout_p1": "With p=1 the output is not all zeros: {got}.",
    "dropout_p1_hint": "With p=1 every entry is dropped. 1/(1-p) is a division by zero there, "
                       "so treat p == 1 on its own: return torch.zeros_like(X).",
    "dropout_none_dropped": "Nothing was dropped: choose which entries to zero with random "
                            "numbers, (torch.rand_like(X) >= p) keeps an entry with "
                            "probability 1 - p, not by comparing the values of X with p.",
    "dropout_swapped": "You keep each entry with probability p. p is the probability of "
                       "dropping one: keep where torch.rand_like(X) >= p, i.e. with "
                       "probability 1 - p.",
    "dropout_fraction": "Each entry must be zeroed with probability p, independently of the "
                        "others: draw u = torch.rand_like(X) and zero the entries where u < p.",
    "dropout_no_scale": "The survivors keep their value, so the mean shrinks to 1 - p. Divide "
                        "them by 1 - p, the probability of keeping an entry, so that the "
                        "expected value stays X.",
    "dropout_scale_p": "You scaled the survivors with p. Divide by the probability of *keeping* "
                       "an entry, 1 - p, not by (or with) the probability of dropping it.",
    "dropout_scale_keep": "You multiplied the survivors by 1 - p; divide by it instead, so that "
                          "(1 - p) * X / (1 - p) = X on average.",
    "dropout_scale_mixed": "Every survivor must be scaled by the same factor, 1/(1-p), whatever "
                           "its value.",
    "dropout_scale_generic": "Scale every survivor by 1/(1-p): an entry survives with "
                             "probability 1 - p, so its expected value is then "
                             "(1 - p) * X / (1 - p) = X.",
    "dropout_fixed": "Two calls with the same X and p returned the same output.",
    "dropout_fixed_hint": "Draw a fresh random mask on every call (torch.rand_like(X)); a fixed "
                          "pattern would drop the same units in every training step.",
    # check_dropout_variance
    "var_right": "Var[dropout(h, p)] = p/(1-p) * h^2; e.g. {example}.",
    "var_raised": "Your function raised {error} for h={h:g}, p={p:g}.",
    "var_raised_hint": "It is called as fn(h, p) with two numbers and should return a number.",
    "var_case": "For h={h:g}, p={p:g} the variance is {expected:.4g}, but your function "
                "returned {got!r}.",
    "var_second_moment": "That is E[X'^2] = h^2/(1-p). The variance subtracts the squared mean: "
                         "Var = E[X'^2] - (E[X'])^2, and E[X'] = h.",
    "var_no_scale": "That is the variance of mask * h, without the 1/(1-p) scaling: the "
                    "survivors are h/(1-p), not h.",
    "var_not_squared": "Scaling a value by a scales its variance by a^2: h enters squared.",
    "var_std": "That is the standard deviation. The variance is its square.",
    "var_generic": "X' is h/(1-p) with probability 1 - p and 0 otherwise. Compute "
                   "E[X'^2] = (1-p) * (h/(1-p))^2, then subtract (E[X'])^2 = h^2.",
})  # fmt: skip

_MESSAGES["zh"].update({
    "dropout_right": "你的丢弃法把比例为 p 的元素置零，其余元素乘以 1/(1-p)，因此均值保持为 1。"
                     "\n{cases}。",
    "dropout_case": "p={p}：置零的比例为 {zeroed:.3f}（应约为 {p}），保留下来的元素 "
                    "{survivors}，均值为 {mean:.3f}（应为 1）",
    "dropout_ok_case": "p={p}：置零 {zeroed:.3f}，保留的元素 {survivors}，均值 {mean:.3f}",
    "dropout_join": "；\n",
    "dropout_end": "。",
    "dropout_raised": "输入形状为 {shape}、p={p} 时，你的函数抛出了 {error}。",
    "dropout_raised_hint": "调用方式是 fn(X, p)：X 是任意形状的浮点张量，p 是 0 到 1 之间的数；"
                           "返回值应是与 X 形状相同的张量。",
    "dropout_not_tensor": "p={p} 时你的函数返回了 {got}，而不是张量。",
    "dropout_not_tensor_hint": "请返回与 X 形状相同的张量：一部分元素置零，其余元素放大。",
    "dropout_shape": "X 的形状为 {shape}、p={p} 时，你的函数返回的形状是 {got}。",
    "dropout_shape_hint": "丢弃法不改变形状：为每个元素各抽一个随机数（例如 "
                          "torch.rand_like(X)），再逐元素相乘。",
    "dropout_dtype": "X 的数据类型为 {dtype}，你的函数返回的却是 {got}。",
    "dropout_dtype_hint": "请保持 X 的数据类型：用 torch.rand_like(X) 生成掩码，或者用 "
                          ".to(X.dtype) 而不是 .float() 转换。",
    "dropout_inplace": "你的函数修改了输入 X（p={p}）。",
    "dropout_inplace_hint": "不要改动 X，而是返回一个新张量，例如 X * mask / (1 - p)："
                            "调用者可能还要用到 X，自动求导在反向传播时也需要它。",
    "dropout_p0": "p=0 时输出与 X 不同。",
    "dropout_p0_hint": "p 是丢弃一个元素的概率：p=0 时什么也不丢，1/(1-0) = 1 也不放大任何值，"
                       "所以输出就是 X 本身。",
    "dropout_p1": "p=1 时输出并非全为零：{got}。",
    "dropout_p1_hint": "p=1 时所有元素都被丢弃，而 1/(1-p) 在这里是除以零，所以要单独处理 "
                       "p == 1：返回 torch.zeros_like(X)。",
    "dropout_none_dropped": "一个元素也没有丢弃：要用随机数决定把哪些元素置零，"
                            "(torch.rand_like(X) >= p) 以 1 - p 的概率保留一个元素；"
                            "不要拿 X 的值去和 p 比较。",
    "dropout_swapped": "你以概率 p 保留元素，可 p 是丢弃的概率：应在 torch.rand_like(X) >= p "
                       "处保留，即保留概率为 1 - p。",
    "dropout_fraction": "每个元素都应独立地以概率 p 被置零：抽取 u = torch.rand_like(X)，"
                        "把 u < p 处的元素置零。",
    "dropout_no_scale": "保留下来的元素没有放大，于是均值缩小为 1 - p。应把它们除以保留概率 "
                        "1 - p，这样期望值才仍是 X。",
    "dropout_scale_p": "你用 p 去缩放保留下来的元素。应除以*保留*的概率 1 - p，而不是除以（或乘以）"
                       "丢弃的概率 p。",
    "dropout_scale_keep": "你把保留下来的元素乘以了 1 - p，应当除以它，这样平均起来才有 "
                          "(1 - p) * X / (1 - p) = X。",
    "dropout_scale_mixed": "每个保留下来的元素都应乘以同一个因子 1/(1-p)，与它本身的值无关。",
    "dropout_scale_generic": "把每个保留下来的元素乘以 1/(1-p)：一个元素以 1 - p 的概率保留，"
                             "于是它的期望值是 (1 - p) * X / (1 - p) = X。",
    "dropout_fixed": "用同样的 X 和 p 调用两次，得到的输出完全相同。",
    "dropout_fixed_hint": "每次调用都要重新抽取随机掩码（torch.rand_like(X)）；固定的模式会让"
                          "每一步训练都丢弃同一批单元。",
    "var_right": "Var[dropout(h, p)] = p/(1-p) * h^2，例如 {example}。",
    "var_raised": "h={h:g}, p={p:g} 时，你的函数抛出了 {error}。",
    "var_raised_hint": "调用方式是 fn(h, p)，两个参数都是数，返回值应是一个数。",
    "var_case": "h={h:g}, p={p:g} 时方差为 {expected:.4g}，你的函数返回了 {got!r}。",
    "var_second_moment": "这是 E[X'^2] = h^2/(1-p)。方差还要减去均值的平方："
                         "Var = E[X'^2] - (E[X'])^2，而 E[X'] = h。",
    "var_no_scale": "这是 mask * h 的方差，少了 1/(1-p) 的放大：保留下来的值是 h/(1-p)，"
                    "而不是 h。",
    "var_not_squared": "一个量乘以 a，方差就乘以 a^2：h 应以平方的形式出现。",
    "var_std": "这是标准差，方差是它的平方。",
    "var_generic": "X' 以 1 - p 的概率等于 h/(1-p)，否则为 0。先算 "
                   "E[X'^2] = (1-p) * (h/(1-p))^2，再减去 (E[X'])^2 = h^2。",
})  # fmt: skip

# --- a learner's inverted dropout ----------------------------------------------------------

_DROPOUT_PS = (0.2, 0.5, 0.8)
_DROPOUT_SIZE = 100_000  # entries per draw: the zeroed fraction is then within about 0.004
_DROPOUT_TOLERANCE = {"zeroed": 0.01, "mean": 0.05}


def _call_dropout(fn, X: torch.Tensor, p: float, text: dict[str, str]):
    """fn(X, p), or the verdict (False, printed) when it raises or returns no tensor."""
    try:
        out = fn(X, p)
    except Exception as err:  # a learner's function may fail in any way
        detail = text["dropout_raised"].format(
            error=f"{type(err).__name__}: {err}", shape=list(X.shape), p=p
        )
        return None, _report(False, text, detail, text["dropout_raised_hint"])
    if not isinstance(out, torch.Tensor):
        detail = text["dropout_not_tensor"].format(p=p, got=type(out).__name__)
        return None, _report(False, text, detail, text["dropout_not_tensor_hint"])
    if out.shape != X.shape:
        detail = text["dropout_shape"].format(shape=list(X.shape), p=p, got=list(out.shape))
        return None, _report(False, text, detail, text["dropout_shape_hint"])
    if out.dtype != X.dtype:
        detail = text["dropout_dtype"].format(dtype=X.dtype, got=out.dtype)
        return None, _report(False, text, detail, text["dropout_dtype_hint"])
    return out, None


def _survivor_hint(survivors: torch.Tensor, p: float) -> str:
    """The key of the hint that explains the survivors' values (all ones -> no scaling ...)."""
    spread = (survivors.max() - survivors.min()).item()
    value = survivors.mean().item()
    if spread > 1e-3 * max(abs(value), 1.0):
        return "dropout_scale_mixed"
    for key, factor in (("dropout_no_scale", 1.0), ("dropout_scale_p", 1 / p),
                        ("dropout_scale_p", p), ("dropout_scale_keep", 1 - p)):  # fmt: skip
        if math.isclose(value, factor, rel_tol=1e-3):
            return key
    return "dropout_scale_generic"


def _describe_survivors(survivors: torch.Tensor) -> str:
    if survivors.numel() == 0:
        return "-"
    low, high = survivors.min().item(), survivors.max().item()
    return f"= {low:.4g}" if math.isclose(low, high, rel_tol=1e-4) else f"{low:.4g} .. {high:.4g}"


def check_dropout(fn: Callable[[torch.Tensor, float], torch.Tensor], lang: str = "en") -> bool:
    """Test a learner's inverted dropout `fn(X, p)`: zero each entry with probability p, scale
    the others by 1/(1-p).

    Checks, on tensors of 100,000 entries: the shape and dtype are kept and X is left
    unchanged; p=0 returns X and p=1 zeros; for p = 0.2, 0.5 and 0.8 the zeroed fraction is
    about p, every survivor is scaled by 1/(1-p) and the mean is kept; two calls draw
    different masks. The draws use a fixed seed (the caller's random state is left alone),
    so the verdict is the same on every run. Prints the verdict; returns True if all hold.
    """
    text = _text(lang)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        return _check_dropout(fn, text)


def _check_dropout(fn, text: dict[str, str]) -> bool:
    # Shape, dtype, input untouched: on a 4-d batch of normal values, and in bfloat16.
    X = torch.randn(10, 4, 50, 50)
    for dtype in (torch.float32, torch.float64, torch.bfloat16):
        X_in = X.to(dtype)
        original = X_in.clone()
        out, verdict = _call_dropout(fn, X_in, 0.5, text)
        if verdict is not None:
            return verdict
        if not torch.equal(X_in, original):
            return _report(False, text, text["dropout_inplace"].format(p=0.5),
                           text["dropout_inplace_hint"])  # fmt: skip
    # 0 < p < 1 on a tensor of ones: the zeroed fraction, the survivors, the mean.
    ones = torch.ones(_DROPOUT_SIZE)
    cases = []
    for p in _DROPOUT_PS:
        out, verdict = _call_dropout(fn, ones, p, text)
        if verdict is not None:
            return verdict
        out = out.float()
        zeroed = (out == 0).float().mean().item()
        survivors = out[out != 0]
        mean = out.mean().item()
        detail = text["dropout_case"].format(
            p=p, zeroed=zeroed, survivors=_describe_survivors(survivors), mean=mean
        )
        cases.append(
            text["dropout_ok_case"].format(
                p=p, zeroed=zeroed, survivors=_describe_survivors(survivors), mean=mean
            )
        )
        detail += text["dropout_end"]
        if abs(zeroed - p) > _DROPOUT_TOLERANCE["zeroed"]:
            if zeroed == 0:
                hint = "dropout_none_dropped"
            elif abs(zeroed - (1 - p)) <= _DROPOUT_TOLERANCE["zeroed"]:
                hint = "dropout_swapped"
            else:
                hint = "dropout_fraction"
            return _report(False, text, detail, text[hint])
        if not torch.allclose(survivors, torch.full_like(survivors, 1 / (1 - p)), rtol=1e-4):
            return _report(False, text, detail, text[_survivor_hint(survivors, p)])
        if abs(mean - 1) > _DROPOUT_TOLERANCE["mean"]:  # follows from the two above
            return _report(False, text, detail, text["dropout_scale_generic"])
    # p = 0: nothing dropped, nothing scaled.
    out, verdict = _call_dropout(fn, X, 0.0, text)
    if verdict is not None:
        return verdict
    if not torch.allclose(out, X):
        return _report(False, text, text["dropout_p0"], text["dropout_p0_hint"])
    # p = 1: everything dropped (and no NaN from dividing by 1 - p = 0).
    out, verdict = _call_dropout(fn, X, 1.0, text)
    if verdict is not None:
        return verdict
    if not bool((out == 0).all()):
        got = f"{int((out != 0).sum())} of {out.numel()} entries nonzero"
        if bool(out.isnan().any()):
            got += ", NaN"
        return _report(False, text, text["dropout_p1"].format(got=got), text["dropout_p1_hint"])
    # A fresh mask on every call.
    first, _ = _call_dropout(fn, ones, 0.5, text)
    second, _ = _call_dropout(fn, ones, 0.5, text)
    if torch.equal(first, second):
        return _report(False, text, text["dropout_fixed"], text["dropout_fixed_hint"])
    return _report(True, text, text["dropout_right"].format(cases=text["dropout_join"].join(cases)))


# --- the variance of a dropped-out value --------------------------------------------------


def _dropout_variance(h: float, p: float) -> float:
    return p / (1 - p) * h**2


_VARIANCE_CASES = [(1.0, 0.5), (2.0, 0.5), (1.0, 0.2), (3.0, 0.1), (0.5, 0.8), (-2.0, 0.3)]

_VARIANCE_MISTAKES = [
    ("var_second_moment", lambda h, p: h**2 / (1 - p)),
    ("var_no_scale", lambda h, p: p * (1 - p) * h**2),
    ("var_not_squared", lambda h, p: p / (1 - p) * h),
    ("var_not_squared", lambda h, p: p / (1 - p) * abs(h)),
    ("var_std", lambda h, p: math.sqrt(p / (1 - p)) * abs(h)),
]


def check_dropout_variance(fn: Callable[[float, float], float], lang: str = "en") -> bool:
    """Check `fn(h, p)`, the variance of inverted dropout applied to a fixed value h.

    The right answer is p/(1-p) * h^2: h/(1-p) with probability 1 - p, else 0.
    """
    text = _text(lang)
    answers = []
    for h, p in _VARIANCE_CASES:
        try:
            answer = fn(h, p)
            answers.append(float(answer))
        except Exception as err:  # a learner's function may fail in any way
            detail = text["var_raised"].format(error=f"{type(err).__name__}: {err}", h=h, p=p)
            return _report(False, text, detail, text["var_raised_hint"])
    expected = [_dropout_variance(h, p) for h, p in _VARIANCE_CASES]
    if all(math.isclose(a, e, rel_tol=1e-6) for a, e in zip(answers, expected, strict=True)):
        h, p = _VARIANCE_CASES[0]
        example = f"h={h:g}, p={p:g}: {expected[0]:g}"
        return _report(True, text, text["var_right"].format(example=example))
    first = next(
        i for i, (a, e) in enumerate(zip(answers, expected, strict=True))
        if not math.isclose(a, e, rel_tol=1e-6)
    )  # fmt: skip
    h, p = _VARIANCE_CASES[first]
    detail = text["var_case"].format(h=h, p=p, expected=expected[first], got=answers[first])
    for key, mistake in _VARIANCE_MISTAKES:
        if all(math.isclose(a, mistake(*case), rel_tol=1e-6)
               for a, case in zip(answers, _VARIANCE_CASES, strict=True)):  # fmt: skip
            return _report(False, text, detail, text[key])
    return _report(False, text, detail, text["var_generic"])
