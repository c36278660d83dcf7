"""Chapter 5 (image augmentation): a learner's batched random flip."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ._common import _MESSAGES, _report, _text

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
