"""Chapter 3 (ReLU vs sigmoid): the sigmoid's derivative and the fraction of dead ReLUs."""

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
    sgrad_right=("It agrees with autograd at all {n} points; its peak, {peak:.4f}, is at 0.",
                 "你的导数在全部 {n} 个点上都与自动求导一致；最大值 {peak:.4f} 在 x = 0。"),
    sgrad_call=("It is called as fn(x), x a float tensor, and returns a tensor of the same shape, "
                "computed with torch operations (not math.exp).",
                "调用方式是 fn(x)，x 是浮点张量；应返回形状相同的张量，用 torch "
                "的运算来算（不要用 math.exp）。"),
    sgrad_overflow_neg=("For large negative x, exp(-x) overflows to inf in float32 and inf / inf "
                        "is nan: use torch.sigmoid(x), which can't overflow.",
                        "x 为很大的负数时，exp(-x) 在 float32 中溢出成 inf，inf / inf 是 nan："
                        "改用不会溢出的 torch.sigmoid(x)。"),
    sgrad_overflow_pos=("For large positive x, exp(x) overflows to inf in float32 and inf / inf "
                        "is nan: use torch.sigmoid(x), which can't overflow.",
                        "x 为很大的正数时，exp(x) 在 float32 中溢出成 inf，inf / inf 是 nan："
                        "改用不会溢出的 torch.sigmoid(x)。"),
    sgrad_itself=("You returned the sigmoid itself, not its slope.",
                  "你返回的是 sigmoid 函数本身，而不是它的斜率。"),
    sgrad_on_x=("You applied the pattern to x; it is written in terms of sigma(x).",
                "你把式子用在了 x 上；导数要用 sigma(x) 来表示。"),
    sgrad_one_factor=("That is 1 - sigma(x): the derivative's denominator is squared.",
                      "这是 1 - sigma(x)：导数的分母是平方。"),
    sgrad_tanh=("1 - s**2 is the pattern of tanh's derivative, not the sigmoid's.",
                "1 - s**2 是 tanh 导数的形式，不是 sigmoid 的。"),
    sgrad_relu=("That is ReLU's derivative, not the sigmoid's.",
                "这是 ReLU 的导数，不是 sigmoid 的。"),
    sgrad_zero=("Your function returns 0 everywhere, but the sigmoid rises everywhere.",
                "你的函数处处返回 0，可是 sigmoid 处处都在上升。"),
    sgrad_generic=("Use the chain rule on 1 / (1 + exp(-x)); write it in terms of sigma(x).",
                   "用链式法则对 1 / (1 + exp(-x)) 求导，写成 sigma(x) 的形式。"),
    dead_right=("Your function agrees on all {n} batches, convolutions' outputs too.",
                "你的函数在全部 {n} 个批量上都正确，包括卷积层的输出。"),
    dead_call=("It is called as fn(A), A shaped [batch, units] or [batch, channels, height, "
               "width], and returns one number.",
               "调用方式是 fn(A)，A 的形状为 [batch, units] 或 [batch, channels, height, "
               "width]；应返回一个数。"),
    dead_positions=("You counted positions as units: a channel is dead only if zero at every "
                    "position.",
                    "你把每个位置都当成了单元：通道要在每个位置上都为零才算死亡。"),
    dead_zeros=("You counted zero entries, not units zero for every example.",
                "你数的是为零的元素，而不是在每个样本上都为零的单元。"),
    dead_any=("You counted units zero for some example, as every healthy ReLU is.",
              "你数的是在某个样本上为零的单元，健康的 ReLU 也都如此。"),
    dead_batch_axis=("Dimension 0 is the batch: the units are dimension 1.",
                     "第 0 维是批量：单元在第 1 维。"),
    dead_count=("That is the number of dead units: divide by the number of units.",
                "这是死亡单元的个数：还要除以单元总数。"),
    dead_negative=("ReLU outputs are never negative: a dead unit outputs exactly 0.",
                   "ReLU 的输出永远不会是负数：死亡单元恰好输出 0。"),
    dead_conv=("Right for [batch, units]; in a convolution the units are the channels.",
               "对 [batch, units] 正确；卷积层的单元是通道。"),
    dead_generic=("A unit is dead when its output is 0 for every example (and position).",
                  "一个单元在每个样本（和每个位置）上都输出 0，才算死亡。"),
)  # fmt: skip

SIGMOID_MISTAKES = [
    (torch.sigmoid, "sgrad_itself"), (lambda x: x * (1 - x), "sgrad_on_x"),
    (lambda x: 1 - torch.sigmoid(x), "sgrad_one_factor"),
    (lambda x: 1 - torch.sigmoid(x) ** 2, "sgrad_tanh"),
    (lambda x: (x > 0).float(), "sgrad_relu"), (torch.zeros_like, "sgrad_zero"),
]


@self_check
def check_sigmoid_grad(fn: Callable[[torch.Tensor], torch.Tensor], lang: str = "en") -> bool:
    """Test `fn(x)`, the sigmoid's derivative written out, against autograd on a float32
    tensor of points from -100 to 100."""
    verdict = Verdict(MESSAGES, lang)
    far = torch.tensor([-100.0, -60.0, -30.0, -15.0, 15.0, 30.0, 60.0, 100.0])
    x = torch.cat([torch.arange(-100, 101) / 10, far]).requires_grad_(True)
    torch.sigmoid(x).sum().backward()
    x, expected = x.detach(), x.grad.double()
    got, error = call(fn, x.clone())
    case = f"x.shape = {list(x.shape)}"
    if error:
        return verdict.fail("raised", "sgrad_call", case=case, error=error)
    if not isinstance(got, torch.Tensor) or got.shape != x.shape or got.is_complex():
        shape = f"{list(got.shape)} {got.dtype}" if isinstance(got, torch.Tensor) else ""
        got = f"{type(got).__name__} {shape}"
        return verdict.fail("returned", "sgrad_call", case=case, got=got)
    try:
        got = on_cpu(got).double()
    except Unreadable:
        return verdict.fail("returned", "cpu", case=case, got=shown(got))

    def close(formula) -> torch.Tensor:  # nan and inf are never close
        return torch.isclose(got, formula(x).double(), rtol=1e-4, atol=1e-6)

    bad, moderate = ~close(lambda x: expected), x.abs() <= 10
    if not bool(bad.any()):
        return verdict.ok("sgrad_right", n=len(x), peak=got.max().item())
    zero, nonfinite = int(x.abs().argmin()), (~got.isfinite()).nonzero().flatten().tolist()
    worst = [zero] if bad[zero] else nonfinite or [int(((got - expected).abs() * bad).argmax())]
    facts = {"case": f"x = {x[worst[0]].item():g}", "got": f"{got[worst[0]].item():.6g}"}
    if not bool(bad[moderate].any()):  # wrong only far out: on which side did exp overflow?
        side = "pos" if bool((x[bad] > 0).all()) else "neg"
        return verdict.fail("returned", f"sgrad_overflow_{side}", **facts)
    hint = first_hint(SIGMOID_MISTAKES, lambda m: bool(close(m)[moderate].all()), "sgrad_generic")
    return verdict.fail("returned", hint, **facts)


def _dead_cases() -> list[tuple[torch.Tensor]]:
    """ReLU outputs shaped [B, units] and [B, C, H, W] with known dead units, and units zero
    for all but one example (or position), which are alive; no batch size equals a unit count."""
    generator, cases = torch.Generator().manual_seed(3), []
    for shape, dead, nearly_dead in (
        ((64, 50), [3, 7, 8, 20, 41], [0, 12]), ((32, 120), list(range(0, 120, 4)), [1, 2, 5]),
        ((16, 84), [], [10]), ((12, 10), list(range(10)), []), ((8, 6, 7, 7), [2], [4]),
        ((5, 16, 5, 5), [0, 3, 9, 10, 15], [1, 6]),
    ):  # fmt: skip
        A = torch.relu(torch.randn(shape, generator=generator))
        A[:, dead + nearly_dead] = 0
        for unit in nearly_dead:
            A[(1, unit) + (2,) * (len(shape) - 2)] = 0.5  # one example, one position
        cases.append((A,))
    return cases


def _dead_fraction(A: torch.Tensor) -> float:
    return (A.transpose(0, 1).flatten(1).amax(dim=1) == 0).float().mean().item()


DEAD_MISTAKES = [  # (a learner's wrong fraction, or None where any value fits; hint key)
    (lambda A: (~(A > 0).any(dim=0)).float().mean().item(), "dead_positions"),
    (lambda A: (A == 0).float().mean().item(), "dead_zeros"),
    (lambda A: (A == 0).any(dim=0).float().mean().item(), "dead_any"),
    (lambda A: (~(A > 0).any(dim=1)).float().mean().item(), "dead_batch_axis"),
    (lambda A: (~(A > 0).any(dim=0)).sum().item(), "dead_count"),
    (lambda A: 100 * _dead_fraction(A), "percent"), (lambda A: 0.0, "dead_negative"),
    (lambda A: _dead_fraction(A) if A.dim() == 2 else None, "dead_conv"),
]


@self_check
def check_dead_fraction(fn: Callable[[torch.Tensor], float], lang: str = "en") -> bool:
    """Test `fn(A)`, the fraction of dead units in one layer's ReLU outputs `A` for a batch,
    shaped [batch, units] or [batch, channels, height, width] (whose units are the channels):
    a unit is dead when it outputs 0 for every example and position."""
    cases = _dead_cases()
    return check_calls(Verdict(MESSAGES, lang), fn, cases, _dead_fraction, DEAD_MISTAKES,
                       lambda A: f"A.shape = {list(A.shape)}", "dead", rel_tol=1e-6, abs_tol=1e-6,
                       n=len(cases))
