"""Chapter 4 (dropout): a learner's inverted dropout and its variance."""

import math
from collections.abc import Callable

import torch

from ._common import (
    Unreadable,
    Verdict,
    bilingual,
    call,
    check_calls,
    first_hint,
    on_cpu,
    self_check,
    shown,
)

MESSAGES = bilingual(
    dropout_right=("Your dropout zeroes a fraction p of the entries, afresh for every example, "
                   "and scales the rest by 1/(1-p), so the mean stays 1.\n{cases}",
                   "你的丢弃法把比例为 p 的元素置零，每个样本各自抽取，其余元素乘以 1/(1-p)，"
                   "因此均值保持为 1。\n{cases}"),
    dropout_stats=("p={p}: {zeroed:.3f} zeroed, survivors {survivors}, mean {mean:.3f}",
                   "p={p}：置零 {zeroed:.3f}，保留的元素 {survivors}，均值 {mean:.3f}"),
    dropout_case=("On a batch of ones shaped {shape}, p={p}: {zeroed:.3f} of the entries zeroed "
                  "(expected about {p}), survivors {survivors}, mean {mean:.3f} (expected 1).",
                  "在形状为 {shape} 的全 1 批量上，p={p}：置零的比例为 {zeroed:.3f}（应约为 "
                  "{p}），保留的元素 {survivors}，均值为 {mean:.3f}（应为 1）。"),
    dropout_call=("It is called as fn(X, p) and returns a tensor shaped like X.",
                  "调用方式是 fn(X, p)，应返回与 X 形状相同的张量。"),
    dropout_shape=("Dropout keeps the shape: one random draw per entry.",
                   "丢弃法不改变形状：每个元素各抽一次随机数。"),
    dropout_dtype=("Keep X's dtype: a mask made by a *_like function has it.",
                   "请保持 X 的数据类型：用 *_like 函数生成的掩码会沿用它。"),
    dropout_inplace=("Your function changed its input X.", "你的函数修改了输入 X。"),
    dropout_inplace_hint=("Leave X as it is and return a new tensor: autograd needs X.",
                          "不要改动 X，而是返回一个新张量：自动求导还要用到 X。"),
    dropout_p0_got=("With p = 0 your function changed {changed:,} of the {total:,} entries of X.",
                    "p = 0 时，你的函数改动了 X 的 {total:,} 个元素中的 {changed:,} 个。"),
    dropout_p1_got=("With p = 1, {changed:,} of the {total:,} entries your function returned "
                    "are not 0.",
                    "p = 1 时，你的函数返回的 {total:,} 个元素中有 {changed:,} 个不是 0。"),
    dropout_p0=("But with p=0 nothing is dropped or scaled: the output is X itself.",
                "可是 p=0 时什么也不丢弃，也不放大：输出就是 X 本身。"),
    dropout_p1=("With p=1 all entries drop and 1/(1-p) divides by zero: treat p == 1 on its own.",
                "p=1 时所有元素都被丢弃，而 1/(1-p) 是除以零：要单独处理 p == 1。"),
    dropout_none_dropped=("Nothing was dropped: random numbers choose the entries, not X.",
                          "一个元素也没有丢弃：要由随机数决定丢弃哪些元素，而不是由 X 决定。"),
    dropout_shared_mask=("Every example lost the same entries: one mask for the whole batch (e.g. "
                         "X.shape[1:]). Each example needs its own.",
                         "每个样本丢弃的都是同样的元素：整批只用了一个掩码（例如 X.shape[1:]）"
                         "。每个样本都要各自抽取。"),
    dropout_whole_examples=("Whole examples were dropped: draw for every entry.",
                            "整个样本被丢弃了：要为每个元素抽取。"),
    dropout_swapped=("You keep each entry with probability p, the dropping probability.",
                     "你以概率 p 保留元素，可 p 是丢弃的概率。"),
    dropout_fraction=("Zero each entry with probability p, independently of the others.",
                      "每个元素都应独立地以概率 p 被置零。"),
    dropout_no_scale=("The survivors keep their value, so the mean shrinks to 1 - p.",
                      "保留下来的元素没有放大，于是均值缩小为 1 - p。"),
    dropout_scale_p=("You scaled with p; the scale comes from the probability of *keeping*.",
                     "你用 p 去缩放；缩放的因子取决于*保留*的概率。"),
    dropout_scale_keep=("You multiplied the survivors by 1 - p; divide by it instead.",
                        "你把保留下来的元素乘以了 1 - p，应当除以它。"),
    dropout_scale_mixed=("Every survivor must be scaled by the same factor.",
                         "每个保留下来的元素都应乘以同一个因子。"),
    dropout_scale_generic=("Scale the survivors so that every entry keeps its mean.",
                           "放大保留下来的元素，使每个元素的均值不变。"),
    dropout_fixed=("Two calls with the same X and p returned the same output.",
                   "用同样的 X 和 p 调用两次，得到的输出完全相同。"),
    dropout_fixed_hint=("Draw a fresh random mask every call.", "每次调用都要重新抽取随机掩码。"),
    var_right=("Var[dropout(h, p)] = p/(1-p) * h^2; e.g. {example}.",
               "Var[dropout(h, p)] = p/(1-p) * h^2，例如 {example}。"),
    var_call=("It is called as fn(h, p) with two numbers and returns a number.",
              "调用方式是 fn(h, p)，两个参数都是数，返回一个数。"),
    var_second_moment=("That is E[h'^2]: the variance subtracts (E[h'])^2 = h^2.",
                       "这是 E[h'^2]：方差还要减去 (E[h'])^2 = h^2。"),
    var_no_scale=("That is the variance of mask * h, without the 1/(1-p) scaling.",
                  "这是 mask * h 的方差，少了 1/(1-p) 的放大。"),
    var_not_squared=("Scaling a value by a scales its variance by a^2: h enters squared.",
                     "一个量乘以 a，方差就乘以 a^2：h 应以平方的形式出现。"),
    var_std=("That is the standard deviation, not the variance.", "这是标准差，而不是方差。"),
    var_zero=("Your function returns 0, but h' takes two different values.",
              "你的函数返回 0，可是 h' 有两个不同的取值。"),
    var_generic=("h' is h/(1-p) with probability 1 - p, else 0: E[h'^2] - (E[h'])^2.",
                 "h' 以 1 - p 的概率等于 h/(1-p)，否则为 0：E[h'^2] - (E[h'])^2。"),
)  # fmt: skip

MASK_MISTAKES = [  # (predicate on the kept entries [examples, entries], zeroed share, p; key)
    (lambda kept, zeroed, p: bool(kept.all()), "dropout_none_dropped"),
    (lambda kept, zeroed, p: bool((kept == kept[0]).all()), "dropout_shared_mask"),
    (lambda kept, zeroed, p: bool((kept.all(1) | ~kept.any(1)).all()), "dropout_whole_examples"),
    (lambda kept, zeroed, p: abs(zeroed + p - 1) <= 0.01 < abs(zeroed - p), "dropout_swapped"),
    (lambda kept, zeroed, p: abs(zeroed - p) > 0.01, "dropout_fraction"),
]
SCALE_MISTAKES = [  # (the survivors' factor, given p; hint key)
    (lambda p: 1.0, "dropout_no_scale"), (lambda p: 1 / p, "dropout_scale_p"),
    (lambda p: p, "dropout_scale_p"), (lambda p: 1 - p, "dropout_scale_keep"),
]  # fmt: skip


def _call_dropout(verdict: Verdict, fn: Callable, X: torch.Tensor, p: float) -> torch.Tensor | None:
    """fn(X, p) on the CPU, or None once the verdict on what it raised or returned is printed."""
    out, error = call(fn, X, p)
    case = f"X.shape = {list(X.shape)}, X.dtype = {X.dtype}, p = {p}"
    if error:
        verdict.fail("raised", "dropout_call", case=case, error=error)
    elif not isinstance(out, torch.Tensor):
        verdict.fail("returned", "dropout_call", case=case, got=type(out).__name__)
    elif (out.shape, out.dtype) != (X.shape, X.dtype):
        hint = "dropout_shape" if out.shape != X.shape else "dropout_dtype"
        got = f"shape {list(out.shape)}, dtype {out.dtype}"
        verdict.fail("returned", hint, case=case, got=got)
    else:
        try:
            return on_cpu(out)
        except Unreadable:
            verdict.fail("returned", "cpu", case=case, got=shown(out))
    return None


def _on_ones(out: torch.Tensor, p: float) -> tuple[dict, str | None]:
    """Dropout's statistics on a batch of ones, and the hint they call for (None if right)."""
    kept = out != 0
    zeroed, survivors = 1 - kept.float().mean().item(), out[kept]
    low, high = (survivors.min().item(), survivors.max().item()) if survivors.numel() else (0, 0)
    same = math.isclose(low, high, rel_tol=1e-4)
    facts = {"p": p, "zeroed": zeroed, "mean": out.mean().item(), "shape": list(out.shape),
             "survivors": f"= {low:.4g}" if same else f"{low:.4g} .. {high:.4g}"}  # fmt: skip
    hint = first_hint(MASK_MISTAKES, lambda m: m(kept, zeroed, p), None)
    if hint or torch.allclose(survivors, torch.tensor(1 / (1 - p)), rtol=1e-4):
        return facts, hint
    near = lambda factor: same and math.isclose(low, factor(p), rel_tol=1e-3)  # noqa: E731
    return facts, first_hint(SCALE_MISTAKES, near,
                             "dropout_scale_generic" if same else "dropout_scale_mixed")


@self_check
def check_dropout(fn: Callable[[torch.Tensor, float], torch.Tensor], lang: str = "en") -> bool:
    """Test an inverted dropout `fn(X, p)`: X, its shape and dtype kept; for p = 0.2, 0.5 and
    0.8 on 250 examples, a mask per example, about p zeroed, survivors scaled by 1/(1-p); p=0
    gives X, p=1 zeros; a fresh mask per call. Seeded, and the caller's random state is kept."""
    verdict = Verdict(MESSAGES, lang)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        X = torch.randn(10, 4, 50, 50)
        for dtype in (torch.float32, torch.float64, torch.bfloat16):
            X_in = X.to(dtype, copy=True)
            if _call_dropout(verdict, fn, X_in, 0.5) is None:
                return False
            if not torch.equal(X_in, X.to(dtype)):
                return verdict.fail("dropout_inplace", "dropout_inplace_hint")
        # 250 examples of 401 entries: the zeroed fraction is within about 0.004 of p, and no
        # fixed pattern with a period of 100 entries repeats from one example to the next.
        ones, stats = torch.ones(250, 401), []
        for p in (0.2, 0.5, 0.8):
            if (out := _call_dropout(verdict, fn, ones, p)) is None:
                return False
            facts, hint = _on_ones(out.float(), p)
            stats.append(verdict.say("dropout_stats", **facts))
            if hint:
                return verdict.fail("dropout_case", hint, **facts)
        for p, expected in ((0.0, X), (1.0, torch.zeros_like(X))):
            if (out := _call_dropout(verdict, fn, X, p)) is None:
                return False
            if not torch.allclose(out, expected):
                return verdict.fail(f"dropout_p{p:.0f}_got", f"dropout_p{p:.0f}",
                                    changed=int((out != expected).sum()), total=out.numel())
        if (first := _call_dropout(verdict, fn, ones, 0.5)) is None:
            return False
        if (second := _call_dropout(verdict, fn, ones, 0.5)) is None:
            return False
        if torch.equal(first, second):
            return verdict.fail("dropout_fixed", "dropout_fixed_hint")
    return verdict.ok("dropout_right", cases="\n".join(stats))


def _variance(h: float, p: float) -> float:
    return p / (1 - p) * h**2


VARIANCE_CASES = [(1.0, 0.5), (2.0, 0.5), (1.0, 0.2), (3.0, 0.1), (0.5, 0.8), (-2.0, 0.3)]
VARIANCE_MISTAKES = [
    (lambda h, p: h**2 / (1 - p), "var_second_moment"),
    (lambda h, p: p * (1 - p) * h**2, "var_no_scale"),
    (lambda h, p: p / (1 - p) * h, "var_not_squared"),
    (lambda h, p: p / (1 - p) * abs(h), "var_not_squared"),
    (lambda h, p: math.sqrt(p / (1 - p)) * abs(h), "var_std"),
    (lambda h, p: 0.0, "var_zero"),
]


@self_check
def check_dropout_variance(fn: Callable[[float, float], float], lang: str = "en") -> bool:
    """Check `fn(h, p)`, the variance of inverted dropout applied to a fixed value h: h/(1-p)
    with probability 1 - p, else 0."""
    h, p = VARIANCE_CASES[0]
    example = f"h={h:g}, p={p:g}: {_variance(h, p):g}"
    return check_calls(Verdict(MESSAGES, lang), fn, VARIANCE_CASES, _variance, VARIANCE_MISTAKES,
                       "h = {:g}, p = {:g}".format, "var", rel_tol=1e-6, abs_tol=1e-12,
                       example=example)
