"""Chapter 5 (image augmentation): a learner's batched random flip."""

import sys
from collections.abc import Callable
from functools import partial

import torch

from ._common import Unreadable, Verdict, bilingual, call, first_hint, on_cpu, self_check

MESSAGES = bilingual(
    flip_right=("Over {calls} calls on {batch} images, each came back as it was or mirrored "
                "({share:.0%}), by a fresh choice, in batched operations.",
                "在一批 {batch} 张图像上调用 {calls} 次，每张都原样返回或左右镜像，{share:.0%} "
                "被镜像，每张各自重新选择，而且用的是批量运算。"),
    flip_case=("Over {calls} calls on a batch of {batch} images shaped {shape}.",
               "在一批 {batch} 张、形状为 {shape} 的图像上调用了 {calls} 次。"),
    flip_raised=("Your function raised {error}. It is called as fn(X), X shaped [B, C, H, W]: "
                 "shape the random numbers [B, 1, 1, 1], one per image.",
                 "你的函数抛出了 {error}。调用方式是 fn(X)，X 的形状为 [B, C, H, W]："
                 "随机数的形状应为 [B, 1, 1, 1]，每张图像一个。"),
    flip_not_tensor=("It returned {got}: return one tensor (torch.stack makes one).",
                     "它返回了 {got}：请返回一个张量（torch.stack 可以拼成一个）。"),
    flip_shape=("It returned shape {got}: keep the shape [B, C, H, W].",
                "它返回的形状是 {got}：形状要保持 [B, C, H, W]。"),
    flip_vertical=("Image {index} came back upside down: a mirror is X.flip(-1).",
                   "第 {index} 张图像被上下颠倒了：左右镜像是 X.flip(-1)。"),
    flip_changed=("Image {index} must equal X[i] or X[i].flip(-1), same values and dtype, rather "
                  "than mixing or scaling them.",
                  "第 {index} 张图像必须等于 X[i] 或 X[i].flip(-1)，数值和数据类型都不变，"
                  "不能混合或缩放。"),
    flip_never=("No image was mirrored: mirror each with probability 0.5, by its own random "
                "choice.",
                "没有一张图像被镜像：每张图像以 0.5 的概率被镜像，各自随机选择。"),
    flip_always=("Every image was mirrored: mirror each only with probability 0.5.",
                 "所有图像都被镜像了：每张图像只应以 0.5 的概率被镜像。"),
    flip_whole_batch=("All images got the same choice: one random number for the whole batch "
                      "flips all or none, like a transforms.v2 transform.",
                      "所有图像得到的都是同一个选择：整批只抽一个随机数，就会全部翻转或全不翻转，"
                      "就像 transforms.v2 的变换那样。"),
    flip_repeats=("The same images were mirrored in every call: the choice must be new in every "
                  "call, without seeding a generator inside.",
                  "每次调用被镜像的都是同一批图像：每次调用都要重新选择，也不要在函数里设种子。"),
    flip_rate=("{share:.0%} were mirrored, not about half: torch.rand is uniform on [0, 1), "
               "unlike torch.randn.",
               "有 {share:.0%} 被镜像，而不是大约一半：torch.rand 在 [0, 1) "
               "上均匀分布，torch.randn 则不然。"),
    flip_loop=("Its Python work grows with the batch ({few:,} lines for {small} images, {many:,} "
               "for {large}): a loop over the images, which the exercise rules out. Choose for "
               "all images at once, in tensor operations.",
               "它执行的 Python 代码随批量增长（{small} 张图像 {few:,} 行，{large} 张 {many:,} "
               "行）：这是对图像逐张进行的循环，练习不允许。要用张量运算一次为所有图像作出选择。"),
)  # fmt: skip


def python_lines(fn: Callable, *args: object) -> int:
    """How many lines of Python `fn(*args)` runs, in every function it calls (sys.settrace)."""
    events = []

    def trace(frame, event, arg):
        events.append(event)
        return trace

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        call(fn, *args)
    finally:
        sys.settrace(previous)
    return events.count("line")


FLIP_MISTAKES = [  # (predicate on flips [calls, images]: was image i mirrored in call c?, key)
    (lambda flips: not flips.any(), "flip_never"),
    (lambda flips: flips.all(), "flip_always"),
    (lambda flips: (flips.all(1) | ~flips.any(1)).all(), "flip_whole_batch"),
    (lambda flips: (flips == flips[0]).all(), "flip_repeats"),
    (lambda flips: not 0.4 <= flips.float().mean() <= 0.6, "flip_rate"),
]


@self_check
def check_batched_flip(fn: Callable, lang: str = "en", batch: int = 256, calls: int = 8) -> bool:
    """Test `fn(X)`, a random horizontal flip choosing for each image of a batch, over `calls`
    calls on `batch` random images [B, 1, 6, 10]: each comes back as it was or mirrored, by
    choices that differ between images and calls, 40% to 60% mirrored, without a Python loop."""
    verdict = Verdict(MESSAGES, lang)
    X = torch.rand(batch, 1, 6, 10, generator=torch.Generator().manual_seed(0))
    fail = partial(verdict.fail, "flip_case", calls=calls, batch=batch, shape=list(X.shape))
    flips = []
    for _ in range(calls):
        out, error = call(fn, X.clone())
        if error:
            return fail("flip_raised", error=error)
        if not isinstance(out, torch.Tensor):
            return fail("flip_not_tensor", got=type(out).__name__)
        if out.shape != X.shape:
            return fail("flip_shape", got=list(out.shape))
        try:
            out = on_cpu(out)
        except Unreadable:
            return fail("cpu")
        same = (out == X).flatten(1).all(1)
        mirrored = (out == X.flip(-1)).flatten(1).all(1)
        if out.dtype != X.dtype or not bool((same | mirrored).all()):
            i = int((~(same | mirrored)).nonzero()[0]) if out.dtype == X.dtype else 0
            upside_down = out.dtype == X.dtype and torch.equal(out[i], X[i].flip(-2))
            return fail("flip_vertical" if upside_down else "flip_changed", index=i)
        flips.append(mirrored)
    flips = torch.stack(flips)
    share = flips.float().mean().item()
    found = first_hint(FLIP_MISTAKES, lambda mistake: bool(mistake(flips)), None)
    if found:
        return fail(found, share=share)
    small = min(8, batch // 4)  # a loop runs its body once per image
    few, many = python_lines(fn, X[:small].clone()), python_lines(fn, X.clone())
    if many - few > (batch - small) / 4:
        return fail("flip_loop", few=few, many=many, small=small, large=batch)
    return verdict.ok("flip_right", calls=calls, batch=batch, share=share)
