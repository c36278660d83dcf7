"""Self-checks for the book's exercises.

Each `check_*` function prints whether a learner's answer is right and, when it is not, a
hint aimed at the most likely mistake; it also returns True or False. Messages are in
English (lang="en") or Chinese (lang="zh"), like the rest of the library's notebook output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from numbers import Integral, Real

import torch
from torch import nn

from .models import AlexNet, LeNet, _conv_out
from .summary import layer_summary

_MESSAGES = {
    "en": {
        "right": "Correct! {detail}",
        "wrong": "Not yet. {detail}\nHint: {hint}",
        # check_conv_output_size
        "conv_right": "Your formula agrees with PyTorch on all {n} cases.",
        "conv_raised": "Your function raised {error} for size={size}, kernel={kernel}, "
                       "stride={stride}, padding={padding}.",
        "conv_raised_hint": "It is called as fn(size, kernel, stride, padding) with four whole "
                            "numbers and should return one whole number.",
        "conv_case": "For size={size}, kernel={kernel}, stride={stride}, padding={padding} "
                     "the output side is {expected}, but your function returned {got!r}.",
        "conv_not_int": "Return a whole number: a feature map cannot be 54.25 pixels wide. "
                        "When the window doesn't fit exactly, the last partial step is dropped, "
                        "so round down with floor division (//).",
        "conv_ceil": "You rounded up. PyTorch drops a window that would run past the edge, "
                     "so round down: floor((n + 2p - k) / s) + 1, i.e. use //.",
        "conv_no_plus_one": "Count the window positions: the first one starts at pixel 0 before "
                            "any step is taken, so add 1 to the number of steps.",
        "conv_padding_once": "Padding is added on both sides of the image: use 2 * padding.",
        "conv_no_padding": "Padding widens the input before the window slides: use n + 2p.",
        "conv_no_stride": "With stride s the window jumps s pixels at a time: divide the "
                          "distance it can travel, n + 2p - k, by s before adding 1.",
        "conv_generic": "The window can travel n + 2p - k pixels; with steps of s that is "
                        "floor((n + 2p - k) / s) steps, plus the starting position.",
        # check_lenet_param_count
        "lenet_right": "LeNet has {total:,} parameters: {layers}.",
        "lenet_case": "Your answer is {answer}, which is not LeNet's parameter count.",
        "lenet_not_int": "Give a whole number: a parameter count is a count.",
        "lenet_biases": "You counted the weights only. Every output channel of a convolution "
                        "and every output of a linear layer also has one bias.",
        "lenet_layer_missing": "You left out the layer {name} ({params:,} parameters).",
        "lenet_no_padding": "The first convolution has padding 2, so it keeps the 28x28 size and "
                            "the last feature map is 16 x 5 x 5 = 400 values, not 16 x 4 x 4.",
        "lenet_alexnet": "That is AlexNet's count; the question asks about LeNet.",
        "lenet_generic": "Add the layers one by one. A convolution has out_channels x "
                         "in_channels x k x k weights plus out_channels biases; a linear layer "
                         "has in_features x out_features weights plus out_features biases. "
                         "Pooling and activations have none. Check your total against "
                         "layer_summary(LeNet(), (1, 28, 28)).",
        # check_alexnet_fc_share
        "share_right": "{fc:,} of AlexNet's {total:,} parameters ({share:.1%}) are in its "
                       "three fully connected layers.",
        "share_case": "Your answer is {answer!r}; the share is not that.",
        "share_not_number": "Give a number between 0 and 1, e.g. 0.5 for a half.",
        "share_percent": "Give a fraction between 0 and 1, not a percentage: divide by 100.",
        "share_conv": "That is the share of the convolutional layers. The question asks "
                      "about the fully connected (Linear) layers.",
        "share_flops": "That is the fully connected layers' share of the FLOPs; the question "
                       "asks about the parameters (the params column).",
        "share_generic": "Sum the params of the layers whose kind is 'Linear' in "
                         "layer_summary(AlexNet(), (1, 224, 224)).layers and divide by "
                         "total_params.",
    },
    "zh": {
        "right": "正确！{detail}",
        "wrong": "还不对。{detail}\n提示：{hint}",
        "conv_right": "你的公式在全部 {n} 个用例上都与 PyTorch 一致。",
        "conv_raised": "当 size={size}, kernel={kernel}, stride={stride}, padding={padding} 时，"
                       "你的函数抛出了 {error}。",
        "conv_raised_hint": "调用方式是 fn(size, kernel, stride, padding)，四个参数都是整数，"
                            "返回值应是一个整数。",
        "conv_case": "size={size}, kernel={kernel}, stride={stride}, padding={padding} 时，"
                     "输出边长应为 {expected}，你的函数返回了 {got!r}。",
        "conv_not_int": "请返回整数：特征图不可能有 54.25 个像素宽。窗口最后放不下的那一步会被"
                        "舍弃，所以要向下取整，用整除 //。",
        "conv_ceil": "你向上取整了。越过边界的窗口会被 PyTorch 丢掉，应当向下取整："
                     "floor((n + 2p - k) / s) + 1，也就是用 //。",
        "conv_no_plus_one": "数一数窗口的位置：还没移动时，窗口已经在第 0 个像素处占了一个位置，"
                            "所以步数之外还要加 1。",
        "conv_padding_once": "填充加在图像的两侧，应写成 2 * padding。",
        "conv_no_padding": "窗口滑动之前，填充已经把输入加宽了：应写成 n + 2p。",
        "conv_no_stride": "步幅为 s 时窗口每次跳 s 个像素：先把可移动的距离 n + 2p - k 除以 s，"
                          "再加 1。",
        "conv_generic": "窗口能移动的距离是 n + 2p - k 个像素，每步 s 个像素，共 "
                        "floor((n + 2p - k) / s) 步，再加上起始位置。",
        "lenet_right": "LeNet 共有 {total:,} 个参数：{layers}。",
        "lenet_case": "你的答案是 {answer}，这不是 LeNet 的参数量。",
        "lenet_not_int": "请给出整数：参数量是数出来的。",
        "lenet_biases": "你只数了权重。卷积层的每个输出通道、全连接层的每个输出还各有一个偏置。",
        "lenet_layer_missing": "你漏掉了 {name} 层（{params:,} 个参数）。",
        "lenet_no_padding": "第一个卷积层的填充为 2，输出仍是 28x28，所以最后的特征图是 "
                            "16 x 5 x 5 = 400 个值，而不是 16 x 4 x 4。",
        "lenet_alexnet": "这是 AlexNet 的参数量，题目问的是 LeNet。",
        "lenet_generic": "逐层相加。卷积层有 输出通道数 x 输入通道数 x k x k 个权重，外加 "
                         "输出通道数 个偏置；全连接层有 输入数 x 输出数 个权重，外加 输出数 "
                         "个偏置。池化层和激活函数没有参数。可以用 "
                         "layer_summary(LeNet(), (1, 28, 28)) 核对总数。",
        "share_right": "AlexNet 的 {total:,} 个参数中有 {fc:,} 个（{share:.1%}）在三个全连接层里。",
        "share_case": "你的答案是 {answer!r}，占比不是这个数。",
        "share_not_number": "请给出 0 到 1 之间的数，例如一半就写 0.5。",
        "share_percent": "请给出 0 到 1 之间的比例，而不是百分数：除以 100。",
        "share_conv": "这是卷积层所占的比例。题目问的是全连接层（Linear）。",
        "share_flops": "这是全连接层在浮点运算量（FLOPs）中的占比；题目问的是参数量（params 列）。",
        "share_generic": "在 layer_summary(AlexNet(), (1, 224, 224)).layers 中，把 kind 为 "
                         "'Linear' 的层的 params 相加，再除以 total_params。",
    },
}  # fmt: skip


def _text(lang: str) -> dict[str, str]:
    if lang not in _MESSAGES:
        raise ValueError(f"lang must be one of {sorted(_MESSAGES)}, got {lang!r}.")
    return _MESSAGES[lang]


def _report(ok: bool, text: dict[str, str], detail: str, hint: str = "") -> bool:
    if ok:
        print(text["right"].format(detail=detail))
    else:
        print(text["wrong"].format(detail=detail, hint=hint))
    return ok


def _is_whole(value: object) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


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


# --- Chapter 5: image augmentation ------------------------------------------------------------

_MESSAGES["en"].update({
    # check_batched_flip
    "flip_right": "Over {calls} calls on a batch of {batch} images, every image came back "
                  "either unchanged or mirrored left-right; {share:.0%} of them were mirrored, "
                  "with a fresh choice for every image.",
    "flip_case": "Over {calls} calls on a batch of {batch} images shaped {shape}: {what}",
    "flip_raised": "your function raised {error}.",
    "flip_raised_hint": "It is called as fn(X) with one float tensor X shaped [B, C, H, W] and "
                        "should return a tensor of the same shape. If the error is about sizes "
                        "that don't match, shape the random numbers [B, 1, 1, 1], one per "
                        "image, so that they broadcast over the channels and pixels.",
    "flip_not_tensor": "your function returned {got}, not a tensor.",
    "flip_not_tensor_hint": "Return the batch as one tensor, e.g. torch.where(flip, X.flip(-1), "
                            "X); torch.stack turns a list of images back into a batch.",
    "flip_shape": "your function returned a tensor shaped {got}.",
    "flip_shape_hint": "Keep the shape [B, C, H, W]. The random choice needs one number per "
                       "image, shaped [B, 1, 1, 1] so that it broadcasts over the channels and "
                       "pixels; don't index the batch with it or squeeze dimensions away.",
    "flip_vertical": "image {index} came back upside down.",
    "flip_vertical_hint": "X.flip(-2) turns an image upside down: dimension -2 is the height. "
                          "A left-right mirror reverses the width, the last dimension: "
                          "X.flip(-1).",
    "flip_changed": "image {index} came back neither unchanged nor mirrored left-right.",
    "flip_changed_hint": "A flip only moves pixels: each output image must equal X[i] or "
                         "X[i].flip(-1) exactly, with the same values and dtype. Pick between "
                         "the two whole images, e.g. with torch.where, rather than mixing or "
                         "scaling them.",
    "flip_never": "no image was ever mirrored.",
    "flip_never_hint": "Draw one random number per image, e.g. torch.rand(len(X), 1, 1, 1), "
                       "and mirror the images whose number is below 0.5. Check that the "
                       "comparison chooses the flipped version, X.flip(-1), where it is True.",
    "flip_always": "every image was mirrored every time.",
    "flip_always_hint": "Mirror each image only with probability 0.5: draw one random number "
                        "per image and keep the image unchanged where it is 0.5 or more.",
    "flip_whole_batch": "within each call all images got the same choice (all mirrored or "
                        "none), so the batch was treated as one image.",
    "flip_whole_batch_hint": "One random number for the whole batch (torch.rand(1), "
                             "random.random()) flips all images or none, like a "
                             "torchvision.transforms.v2 transform applied to a batch. Draw one "
                             "number per image: torch.rand(len(X), 1, 1, 1) < 0.5.",
    "flip_repeats": "the same images were mirrored in every call.",
    "flip_repeats_hint": "The choice must be new in every call: draw fresh random numbers inside "
                         "the function, without a fixed pattern (such as every other image) "
                         "and without seeding a generator there.",
    "flip_rate": "{share:.0%} of the images were mirrored.",
    "flip_rate_hint": "Each image should be mirrored with probability 0.5, so about half of "
                      "them. torch.rand draws uniformly from [0, 1): compare it with 0.5, and "
                      "use torch.rand, not torch.randn (normal) or torch.randint.",
})  # fmt: skip
_MESSAGES["zh"].update({
    "flip_right": "在一批 {batch} 张图像上调用 {calls} 次，每张图像返回时要么原样不动，要么左右"
                  "镜像；其中 {share:.0%} 被镜像，而且每张图像都各自重新抽取。",
    "flip_case": "在一批 {batch} 张、形状为 {shape} 的图像上调用 {calls} 次：{what}",
    "flip_raised": "你的函数抛出了 {error}。",
    "flip_raised_hint": "调用方式是 fn(X)，X 是形状为 [B, C, H, W] 的浮点张量，函数应返回形状"
                        "相同的张量。如果报错说尺寸不匹配，就把随机数的形状设为 [B, 1, 1, 1]，"
                        "每张图像一个，这样才能广播到各个通道和像素上。",
    "flip_not_tensor": "你的函数返回了 {got}，而不是张量。",
    "flip_not_tensor_hint": "请把整批图像作为一个张量返回，例如 torch.where(flip, X.flip(-1), X)；"
                            "图像列表可以用 torch.stack 重新拼成一批。",
    "flip_shape": "你的函数返回的张量形状是 {got}。",
    "flip_shape_hint": "形状要保持 [B, C, H, W]。随机选择需要每张图像一个数，形状为 "
                       "[B, 1, 1, 1]，这样才能广播到各个通道和像素上；不要用它去索引这批图像，"
                       "也不要把维度压缩掉。",
    "flip_vertical": "第 {index} 张图像被上下颠倒了。",
    "flip_vertical_hint": "X.flip(-2) 是上下翻转：倒数第 2 维是高度。左右镜像要反转的是宽度，"
                          "也就是最后一维：X.flip(-1)。",
    "flip_changed": "第 {index} 张图像返回时既不是原样，也不是左右镜像。",
    "flip_changed_hint": "翻转只移动像素：每张输出图像都必须与 X[i] 或 X[i].flip(-1) 完全相等，"
                         "数值和数据类型都不变。要在这两张完整图像中二选一（例如用 "
                         "torch.where），而不是把它们混合或缩放。",
    "flip_never": "没有一张图像被镜像过。",
    "flip_never_hint": "为每张图像抽一个随机数，例如 torch.rand(len(X), 1, 1, 1)，把随机数小于 "
                       "0.5 的图像镜像。检查一下：比较结果为 True 的地方，选的应是翻转后的 "
                       "X.flip(-1)。",
    "flip_always": "每次调用，所有图像都被镜像了。",
    "flip_always_hint": "每张图像只应以 0.5 的概率被镜像：为每张图像抽一个随机数，随机数不小于 "
                        "0.5 的图像保持原样。",
    "flip_whole_batch": "每次调用中，所有图像得到的都是同一个选择（要么全部镜像，要么全不镜像），"
                        "整批图像被当成了一张图像。",
    "flip_whole_batch_hint": "整批只抽一个随机数（torch.rand(1)、random.random()），就会要么全部"
                             "翻转、要么全不翻转，就像把 torchvision.transforms.v2 的变换直接"
                             "用在一批图像上那样。应当每张图像抽一个数："
                             "torch.rand(len(X), 1, 1, 1) < 0.5。",
    "flip_repeats": "每次调用被镜像的都是同一批图像。",
    "flip_repeats_hint": "每次调用都要重新选择：在函数里抽取新的随机数，不要用固定的模式（比如"
                         "隔一张翻一张），也不要在函数里给生成器设种子。",
    "flip_rate": "有 {share:.0%} 的图像被镜像。",
    "flip_rate_hint": "每张图像应以 0.5 的概率被镜像，也就是大约一半。torch.rand 在 [0, 1) 上"
                      "均匀抽样：把它和 0.5 比较；要用 torch.rand，而不是 torch.randn（正态分布）"
                      "或 torch.randint。",
})  # fmt: skip


def check_batched_flip(fn: Callable, lang: str = "en", batch: int = 256, calls: int = 8) -> bool:
    """Test `fn(X)`, a random horizontal flip with its own choice for every image of a batch.

    `fn` is called `calls` times on a batch of `batch` random images (float [B, 1, 6, 10], so
    that a mirror, an upside-down flip and a transpose all differ). It passes when every image
    comes back unchanged or mirrored left-right, the shape is kept, the choices differ within
    a call and between calls, and between 40% and 60% of the images are mirrored.
    """
    import torch

    text = _text(lang)
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(batch, 1, 6, 10, generator=generator)
    shape = list(X.shape)

    def wrong(what: str, hint: str) -> bool:
        detail = text["flip_case"].format(calls=calls, batch=batch, shape=shape, what=what)
        return _report(False, text, detail, hint)

    flips = []
    for _ in range(calls):
        try:
            out = fn(X.clone())
        except Exception as err:  # a learner's function may fail in any way
            what = text["flip_raised"].format(error=f"{type(err).__name__}: {err}")
            return wrong(what, text["flip_raised_hint"])
        if not isinstance(out, torch.Tensor):
            what = text["flip_not_tensor"].format(got=type(out).__name__)
            return wrong(what, text["flip_not_tensor_hint"])
        if list(out.shape) != shape:
            return wrong(text["flip_shape"].format(got=list(out.shape)), text["flip_shape_hint"])
        out = out.detach().cpu()
        same = (out == X).flatten(1).all(1)
        mirrored = (out == X.flip(-1)).flatten(1).all(1)
        if out.dtype != X.dtype or not bool((same | mirrored).all()):
            index = int((~(same | mirrored)).nonzero()[0]) if out.dtype == X.dtype else 0
            if out.dtype == X.dtype and torch.equal(out[index], X[index].flip(-2)):
                return wrong(text["flip_vertical"].format(index=index),
                             text["flip_vertical_hint"])  # fmt: skip
            return wrong(text["flip_changed"].format(index=index), text["flip_changed_hint"])
        flips.append(mirrored)
    flips = torch.stack(flips)  # [calls, batch]: was image i mirrored in call c?
    share = flips.float().mean().item()
    if not bool(flips.any()):
        return wrong(text["flip_never"], text["flip_never_hint"])
    if bool(flips.all()):
        return wrong(text["flip_always"], text["flip_always_hint"])
    if bool((flips.all(1) | ~flips.any(1)).all()):
        return wrong(text["flip_whole_batch"], text["flip_whole_batch_hint"])
    if bool((flips == flips[0]).all()):
        return wrong(text["flip_repeats"], text["flip_repeats_hint"])
    if not 0.4 <= share <= 0.6:
        return wrong(text["flip_rate"].format(share=share), text["flip_rate_hint"])
    detail = text["flip_right"].format(calls=calls, batch=batch, share=share)
    return _report(True, text, detail)


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


# --- Chapter 2: the AlexNet architecture ------------------------------------------------------

_MESSAGES["en"].update({
    # check_alexnet_params
    "params_right": "All eight layers are right: {layers}; {total:,} parameters in all.",
    "params_case": "Your count for {name}, {got!r}, is not right.",
    "params_format": "Your answer is {answer!r}.",
    "params_format_hint": "Give a list of {n} whole numbers, one per layer with parameters, "
                          "in this order: {names}.",
    "params_total_only": "{answer!r} is the total; the exercise asks for one number per layer.",
    "params_biases": "That is the weights only: add one bias per output "
                     "({out:,} for this layer).",
    "params_rgb": "AlexNet() reads grayscale images: conv.0 has 1 input channel, not 3.",
    "params_classes": "AlexNet() has 10 outputs, one per Fashion-MNIST class, not ImageNet's "
                      "1000.",
    "params_kernel": "A k x k window has k * k weights per input channel, not k.",
    "params_in_channels": "Each filter spans every input channel: multiply by the number of "
                          "input channels ({c_in}).",
    "params_6x6": "For a 224x224 input the last feature map is 5x5, not 6x6 (that is the "
                  "227x227 input of the paper): fc.0 has 256 x 5 x 5 inputs.",
    "params_generic_conv": "A convolution has out_channels x in_channels x k x k weights plus "
                           "out_channels biases. Here: {c_out} x {c_in} x {k} x {k} + {c_out}.",
    "params_generic_fc": "A linear layer has in_features x out_features weights plus "
                         "out_features biases. Here: {n_in:,} x {n_out:,} + {n_out:,}.",
    # check_conv_flops
    "flops_right": "All five convolutions are right: {layers}; {total:,} FLOPs in all, "
                   "{share:.1%} of the network's.",
    "flops_case": "Your count for {name}, {got!r}, is not right.",
    "flops_format_hint": "Give a list of {n} whole numbers, one per convolution, in this "
                         "order: {names}.",
    "flops_total_only": "{answer!r} is the total; the exercise asks for one number per "
                        "convolution.",
    "flops_macs": "That is the number of multiply-adds. Each is a multiplication and an "
                  "addition, which count as 2 FLOPs.",
    "flops_bias": "You added the biases too. layer_summary, like most FLOP counts, leaves "
                  "them out: count 2 FLOPs per multiply-add only.",
    "flops_input_side": "You used the input side ({n_in}) where the output side ({n_out}) "
                        "belongs: the window is applied once per output position.",
    "flops_per_position": "That is the work for one output position. The window is applied "
                          "at every one of the {n_out} x {n_out} output positions.",
    "flops_kernel": "A k x k window has k * k weights per input channel, not k.",
    "flops_in_channels": "Every output value sums over all {c_in} input channels: multiply "
                         "by the number of input channels.",
    "flops_generic": "Each output value (c_out x h x w of them, with the output side h = w) "
                     "needs c_in x k x k multiply-adds, and a multiply-add is 2 FLOPs. Here: "
                     "2 x {c_out} x {n_out} x {n_out} x {c_in} x {k} x {k}.",
    # check_memory_mb
    "mem_right": "{params:,} parameters x 4 bytes x {copies} copies ({what}) = {mb:,.1f} MB "
                 "({mib:,.1f} MiB).",
    "mem_case": "Your answer is {answer!r} MB; training AlexNet(image_size={size}) with "
                "{optimizer} needs something else.",
    "mem_not_number": "Give one number: the memory in megabytes (1 MB = 10^6 bytes).",
    "mem_copies": "That is {counted} x 4 bytes per parameter, but training with {optimizer} "
                  "keeps {copies} numbers per parameter: {what}.",
    "mem_weights_or_numbers": "That is the weights alone, or the {copies} copies counted as "
                              "numbers rather than bytes. Training with {optimizer} keeps "
                              "{copies} numbers per parameter ({what}), and every float32 "
                              "takes 4 bytes.",
    "mem_no_bytes": "That is a count of numbers (in millions), not of bytes: every float32 "
                    "takes 4 bytes.",
    "mem_bits": "A float32 is 32 bits, which is 4 bytes, not 32 bytes.",
    "mem_gb": "That looks like gigabytes; give megabytes (1 GB = 1000 MB).",
    "mem_bytes": "That looks like bytes; give megabytes (divide by 10^6).",
    "mem_image_size": "That is the memory for 224x224 inputs. The image size changes the "
                      "last feature map, and with it the weights of fc.0 (256 x s x s x 4096): "
                      "count the parameters of AlexNet(image_size={size}).",
    "mem_generic": "Count the parameters (sum(p.numel() for p in net.parameters())), multiply "
                   "by 4 bytes and by the number of copies training keeps, then divide by "
                   "10^6.",
    "opt_sgd": "plain SGD",
    "opt_momentum": "SGD with momentum",
    "opt_adam": "Adam",
    "copies_sgd": "weights and gradients",
    "copies_momentum": "weights, gradients and the momentum buffer",
    "copies_adam": "weights, gradients, and Adam's first and second moments",
})  # fmt: skip

_MESSAGES["zh"].update({
    "flops_right": "五个卷积层全对：{layers}；共 {total:,} 次浮点运算，占整个网络的 {share:.1%}。",
    "flops_case": "你给 {name} 的浮点运算次数 {got!r} 不对。",
    "flops_format_hint": "请给出由 {n} 个整数组成的列表，每个卷积层一个，顺序为：{names}。",
    "flops_total_only": "{answer!r} 是总数；练习要的是每个卷积层各自的浮点运算次数。",
    "flops_macs": "这是乘加的次数。每次乘加包括一次乘法和一次加法，算作 2 次浮点运算。",
    "flops_bias": "你把偏置的加法也算进去了。layer_summary 和大多数统计一样不算这部分："
                  "只按每次乘加 2 次浮点运算来算。",
    "flops_input_side": "你用了输入边长（{n_in}），应当用输出边长（{n_out}）：窗口在每个输出"
                        "位置上计算一次。",
    "flops_per_position": "这只是一个输出位置上的计算量。窗口要在全部 {n_out} x {n_out} 个输出"
                          "位置上各算一次。",
    "flops_kernel": "k x k 的窗口在每个输入通道上有 k * k 个权重，而不是 k 个。",
    "flops_in_channels": "每个输出值都要对全部 {c_in} 个输入通道求和：还要乘以输入通道数。",
    "flops_generic": "每个输出值（共 c_out x h x w 个，h = w 为输出边长）需要 c_in x k x k 次"
                     "乘加，每次乘加算 2 次浮点运算。这里是 "
                     "2 x {c_out} x {n_out} x {n_out} x {c_in} x {k} x {k}。",
    "params_right": "八层全对：{layers}；共 {total:,} 个参数。",
    "params_case": "你给 {name} 的参数量 {got!r} 不对。",
    "params_format": "你的答案是 {answer!r}。",
    "params_format_hint": "请给出由 {n} 个整数组成的列表，每个带参数的层一个，顺序为：{names}。",
    "params_total_only": "{answer!r} 是总数；练习要的是每一层各自的参数量。",
    "params_biases": "这只是权重：每个输出还有一个偏置（这一层是 {out:,} 个）。",
    "params_rgb": "AlexNet() 读入的是灰度图：conv.0 的输入通道数是 1，不是 3。",
    "params_classes": "AlexNet() 有 10 个输出，对应 Fashion-MNIST 的 10 个类别，"
                      "而不是 ImageNet 的 1000 个。",
    "params_kernel": "k x k 的窗口在每个输入通道上有 k * k 个权重，而不是 k 个。",
    "params_in_channels": "每个卷积核覆盖全部输入通道：还要乘以输入通道数（{c_in}）。",
    "params_6x6": "输入为 224x224 时，最后的特征图是 5x5，而不是 6x6（那是论文中 227x227 的"
                  "输入）：fc.0 有 256 x 5 x 5 个输入。",
    "params_generic_conv": "卷积层有 输出通道数 x 输入通道数 x k x k 个权重，外加 输出通道数 个"
                           "偏置。这里是 {c_out} x {c_in} x {k} x {k} + {c_out}。",
    "params_generic_fc": "全连接层有 输入数 x 输出数 个权重，外加 输出数 个偏置。这里是 "
                         "{n_in:,} x {n_out:,} + {n_out:,}。",
    "mem_right": "{params:,} 个参数 x 4 字节 x {copies} 份（{what}）= {mb:,.1f} MB"
                 "（{mib:,.1f} MiB）。",
    "mem_case": "你的答案是 {answer!r} MB；用{optimizer}训练 AlexNet(image_size={size}) "
                "需要的内存不是这个数。",
    "mem_not_number": "请给出一个数：以兆字节（MB，1 MB = 10^6 字节）为单位的内存。",
    "mem_copies": "这相当于每个参数 {counted} x 4 字节，但用{optimizer}训练时每个参数要保存 "
                  "{copies} 个数：{what}。",
    "mem_weights_or_numbers": "这是单单权重所占的内存，或者把 {copies} 份数据按个数而不是按字节"
                              "来算了。用{optimizer}训练时每个参数要保存 {copies} 个数（{what}），"
                              "每个 float32 占 4 个字节。",
    "mem_no_bytes": "这是数值的个数（以百万计），不是字节数：每个 float32 占 4 个字节。",
    "mem_bits": "float32 是 32 位，也就是 4 个字节，而不是 32 个字节。",
    "mem_gb": "这看起来是以 GB 为单位；请换算成 MB（1 GB = 1000 MB）。",
    "mem_bytes": "这看起来是字节数；请换算成 MB（除以 10^6）。",
    "mem_image_size": "这是 224x224 输入时的内存。图像大小决定最后特征图的大小，从而决定 fc.0 的"
                      "权重数（256 x s x s x 4096）：请数一数 AlexNet(image_size={size}) 的参数。",
    "mem_generic": "先数出参数量（sum(p.numel() for p in net.parameters())），乘以 4 字节，"
                   "再乘以训练时保存的份数，最后除以 10^6。",
    "opt_sgd": "普通 SGD ",
    "opt_momentum": "带动量的 SGD ",
    "opt_adam": " Adam ",
    "copies_sgd": "权重和梯度",
    "copies_momentum": "权重、梯度和动量",
    "copies_adam": "权重、梯度，以及 Adam 的一阶矩和二阶矩",
})  # fmt: skip


def _shape_only_alexnet(image_size: int = 224) -> nn.Module:
    """AlexNet(image_size=...) with weights on the "meta" device: shapes and counts, no memory."""
    import torch

    with torch.device("meta"):
        return AlexNet(image_size=image_size)


@cache
def _alexnet_param_count(image_size: int = 224) -> int:
    return sum(p.numel() for p in _shape_only_alexnet(image_size).parameters())


def _as_list(answer: object, names: list[str]) -> object:
    """A per-layer answer as a plain list: from a dict keyed by layer name, an array or a
    tensor; anything else is returned unchanged."""
    if isinstance(answer, dict):
        return [answer.get(name) for name in names]
    if hasattr(answer, "tolist"):  # a NumPy array or a tensor
        return answer.tolist()
    if isinstance(answer, (list, tuple)):
        return list(answer)
    return answer


def _is_list_of_whole(answer: object, length: int) -> bool:
    def whole(a: object) -> bool:
        return _is_whole(a) or (
            isinstance(a, Real) and not isinstance(a, bool) and math.isfinite(a) and a == int(a)
        )

    return isinstance(answer, list) and len(answer) == length and all(map(whole, answer))


# --- AlexNet's parameters, layer by layer -------------------------------------------------


def _layer_shapes(net: nn.Module) -> dict[str, dict[str, int]]:
    """The sizes that decide each parameterised layer's count, by layer name."""
    shapes = {}
    for name, module in net.named_modules():
        if isinstance(module, nn.Conv2d):
            shapes[name] = {"c_in": module.in_channels, "c_out": module.out_channels,
                            "k": module.kernel_size[0]}  # fmt: skip
        elif isinstance(module, nn.Linear):
            shapes[name] = {"n_in": module.in_features, "n_out": module.out_features}
    return shapes


def _layer_mistakes(name: str, shape: dict[str, int]) -> dict[str, int]:
    """{hint key: the count a typical mistake gives} for one layer of AlexNet()."""
    if "k" in shape:
        c_in, c_out, k = shape["c_in"], shape["c_out"], shape["k"]
        mistakes = {
            "params_biases": c_out * c_in * k * k,
            "params_kernel": c_out * c_in * k + c_out,
            "params_in_channels": c_out * k * k + c_out,
        }
        if name == "conv.0":
            mistakes["params_rgb"] = c_out * 3 * k * k + c_out
        return mistakes
    n_in, n_out = shape["n_in"], shape["n_out"]
    mistakes = {"params_biases": n_in * n_out}
    if name == "fc.0":
        mistakes["params_6x6"] = 256 * 6 * 6 * n_out + n_out
    if name == "fc.6":
        mistakes["params_classes"] = n_in * 1000 + 1000
    return mistakes


def check_alexnet_params(answer: object, lang: str = "en") -> bool:
    """Check a hand count of each layer's parameters in `AlexNet()` (1 channel, 224, 10 classes).

    `answer` lists one whole number per layer with parameters, in the order the network runs
    them: conv.0, conv.3, conv.6, conv.8, conv.10, fc.0, fc.3, fc.6 (a dict keyed by those
    names works too). The first wrong layer is named, with a hint.
    """
    text = _text(lang)
    net = _shape_only_alexnet()
    layers = _layer_params(net)
    names = list(layers)
    counts = [w + b for w, b in layers.values()]
    total = sum(counts)
    format_hint = text["params_format_hint"].format(n=len(names), names=", ".join(names))
    answer = _as_list(answer, names)
    if _is_whole(answer) and answer == total:
        return _report(False, text, text["params_total_only"].format(answer=answer), format_hint)
    if not _is_list_of_whole(answer, len(names)):
        return _report(False, text, text["params_format"].format(answer=answer), format_hint)
    if answer == counts:
        breakdown = ", ".join(f"{name} {n:,}" for name, n in zip(names, counts, strict=True))
        return _report(True, text, text["params_right"].format(layers=breakdown, total=total))
    shapes = _layer_shapes(net)
    name, got = next((n, a) for n, a, e in zip(names, answer, counts, strict=True) if a != e)
    detail = text["params_case"].format(name=name, got=got)
    shape = shapes[name]
    for key, value in _layer_mistakes(name, shape).items():
        if got == value:
            out = shape.get("c_out", shape.get("n_out"))
            return _report(False, text, detail, text[key].format(out=out, **shape))
    generic = "params_generic_conv" if "k" in shape else "params_generic_fc"
    return _report(False, text, detail, text[generic].format(**shape))


# --- the FLOPs of AlexNet's convolutions ---------------------------------------------------


@cache
def _conv_flop_facts() -> tuple[dict[str, int], dict[str, dict[str, int]], float]:
    """FLOPs of each convolution of AlexNet() for one 224x224 image, the sizes behind them,
    and the convolutions' share of all FLOPs (layer_summary's counting)."""
    net = _shape_only_alexnet()
    summary = layer_summary(net, (1, 224, 224))
    modules = dict(net.named_modules())
    flops, sizes, side = {}, {}, 224
    for layer in summary.layers:
        module = modules[layer.name]
        if isinstance(module, nn.Conv2d):
            flops[layer.name] = layer.flops
            sizes[layer.name] = {
                "c_in": module.in_channels, "c_out": module.out_channels,
                "k": module.kernel_size[0], "n_in": side, "n_out": layer.output_shape[-1],
            }  # fmt: skip
        if len(layer.output_shape) == 3:
            side = layer.output_shape[-1]
    return flops, sizes, sum(flops.values()) / summary.total_flops


def _conv_flop_mistakes(size: dict[str, int]) -> dict[str, int]:
    """{hint key: the count a typical mistake gives} for one convolution."""
    c_in, c_out, k, n_in, n_out = (size[key] for key in ("c_in", "c_out", "k", "n_in", "n_out"))
    positions = c_out * n_out * n_out
    return {
        "flops_macs": positions * c_in * k * k,
        "flops_bias": 2 * positions * c_in * k * k + positions,
        "flops_input_side": 2 * c_out * n_in * n_in * c_in * k * k,
        "flops_per_position": 2 * c_out * c_in * k * k,
        "flops_kernel": 2 * positions * c_in * k,
        "flops_in_channels": 2 * positions * k * k,
    }


def check_conv_flops(answer: object, lang: str = "en") -> bool:
    """Check a hand count of the FLOPs of each convolution of `AlexNet()` for one 224x224 image.

    `answer` lists five whole numbers, for conv.0, conv.3, conv.6, conv.8 and conv.10 (a dict
    keyed by those names works too), counted as `layer_summary` does: a multiply-add is 2
    FLOPs, biases are not counted. The first wrong layer is named, with a hint.
    """
    text = _text(lang)
    flops, sizes, share = _conv_flop_facts()
    names = list(flops)
    counts = list(flops.values())
    total = sum(counts)
    format_hint = text["flops_format_hint"].format(n=len(names), names=", ".join(names))
    answer = _as_list(answer, names)
    if _is_whole(answer) and answer == total:
        return _report(False, text, text["flops_total_only"].format(answer=answer), format_hint)
    if not _is_list_of_whole(answer, len(names)):
        return _report(False, text, text["params_format"].format(answer=answer), format_hint)
    if answer == counts:
        breakdown = ", ".join(f"{name} {n:,}" for name, n in zip(names, counts, strict=True))
        detail = text["flops_right"].format(layers=breakdown, total=total, share=share)
        return _report(True, text, detail)
    name, got = next((n, a) for n, a, e in zip(names, answer, counts, strict=True) if a != e)
    detail = text["flops_case"].format(name=name, got=got)
    for key, value in _conv_flop_mistakes(sizes[name]).items():
        if got == value:
            return _report(False, text, detail, text[key].format(**sizes[name]))
    return _report(False, text, detail, text["flops_generic"].format(**sizes[name]))


# --- memory for training ------------------------------------------------------------------

_COPIES = {"sgd": 2, "momentum": 3, "adam": 4}  # weights, gradients, optimiser state


def _training_megabytes(params: int, copies: int) -> float:
    return params * 4 * copies / 1e6


def check_memory_mb(
    answer: object, image_size: int = 224, optimizer: str = "adam", lang: str = "en",
    tolerance: float = 0.01,
) -> bool:  # fmt: skip
    """Check the memory, in MB (10^6 bytes), that training `AlexNet(image_size=...)` keeps.

    Counted: the fp32 weights, their gradients and the optimiser's state, which is nothing
    for `optimizer="sgd"`, one momentum buffer for "momentum" and two moments for "adam".
    Activations are left out (they depend on the batch size). An answer within `tolerance`
    (relative) of the exact value in MB, or in MiB (2^20 bytes), counts as right.
    """
    text = _text(lang)
    if optimizer not in _COPIES:
        raise ValueError(f"optimizer must be one of {sorted(_COPIES)}, got {optimizer!r}.")
    params = _alexnet_param_count(image_size)
    copies = _COPIES[optimizer]
    mb = _training_megabytes(params, copies)
    facts = {
        "params": params, "copies": copies, "mb": mb, "mib": mb * 1e6 / 2**20,
        "what": text[f"copies_{optimizer}"],
    }  # fmt: skip
    if not isinstance(answer, Real) or isinstance(answer, bool) or not math.isfinite(answer):
        detail = text["mem_case"].format(
            answer=answer, size=image_size, optimizer=text[f"opt_{optimizer}"]
        )
        return _report(False, text, detail, text["mem_not_number"])

    def near(value: float) -> bool:
        return abs(answer - value) <= tolerance * abs(value)

    if near(mb) or near(facts["mib"]):
        return _report(True, text, text["mem_right"].format(**facts))
    detail = text["mem_case"].format(
        answer=answer, size=image_size, optimizer=text[f"opt_{optimizer}"]
    )
    if copies == 4 and near(mb / 4):  # weights alone in bytes = four copies in numbers
        hint = text["mem_weights_or_numbers"].format(
            copies=copies, what=facts["what"], optimizer=text[f"opt_{optimizer}"]
        )
        return _report(False, text, detail, hint)
    for counted in range(1, 5):
        if counted != copies and near(_training_megabytes(params, counted)):
            hint = text["mem_copies"].format(
                counted=counted, copies=copies, what=facts["what"],
                optimizer=text[f"opt_{optimizer}"],
            )  # fmt: skip
            return _report(False, text, detail, hint)
    if near(mb / 4):
        return _report(False, text, detail, text["mem_no_bytes"])
    if near(mb * 8):
        return _report(False, text, detail, text["mem_bits"])
    if near(mb / 1000):
        return _report(False, text, detail, text["mem_gb"])
    if near(mb * 1e6):
        return _report(False, text, detail, text["mem_bytes"])
    if image_size != 224 and near(_training_megabytes(_alexnet_param_count(), copies)):
        return _report(False, text, detail, text["mem_image_size"].format(size=image_size))
    return _report(False, text, detail, text["mem_generic"])


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
