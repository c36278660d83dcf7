"""Chapter 1 (from LeNet to AlexNet): output sizes, LeNet-5's (1998) trainable parameters,
AlexNet's FC share."""

import math
import operator
from collections.abc import Callable
from functools import cache

from ...models import AlexNet, LeNet, conv_output_size
from ..summary import layer_summary
from ._common import Verdict, as_number, bilingual, check_calls, check_number, self_check

MESSAGES = bilingual(
    conv_right=("Your formula agrees with PyTorch on all {n} cases.",
                "你的公式在全部 {n} 个用例上都与 PyTorch 一致。"),
    conv_call=("It is called as fn(size, kernel, stride, padding) and returns one whole number.",
               "调用方式是 fn(size, kernel, stride, padding)，应返回一个整数。"),
    conv_not_int=("You didn't round: a window that doesn't fit is dropped, so round down.",
                  "你没有取整：放不下的窗口会被舍弃，所以要向下取整。"),
    conv_ceil=("You rounded up, but a window that would run past the edge is dropped.",
               "你向上取整了，可是越过边界的窗口会被舍弃。"),
    conv_no_plus_one=("You counted the steps, not the positions: add 1 for the first.",
                      "你数的是步数而不是位置：第一个位置还要加 1。"),
    conv_padding_once=("You padded one side only: use 2 * padding.",
                       "你只在一侧加了填充：应写成 2 * padding。"),
    conv_no_padding=("You left out the padding, which widens the input: use n + 2p.",
                     "你漏掉了把输入加宽的填充：应写成 n + 2p。"),
    conv_no_stride=("You left out the stride: divide the distance the window travels by s.",
                    "你漏掉了步幅：窗口移动的距离要除以 s。"),
    conv_unchanged=("That is the size unchanged, but the window and the stride shrink it.",
                    "这是原来的边长，可是窗口和步幅都会让它变小。"),
    conv_generic=("How far can the window travel, in how many whole steps of s?",
                  "窗口能移动多远？这段距离合多少个完整的步幅 s？"),
    lenet_right=("LeNet-5 has {total:,} trainable parameters: {layers}.",
                 "LeNet-5 共有 {total:,} 个可训练参数：{layers}。"),
    lenet_not_int=("Give a whole number: parameters are counted.", "请给出整数：参数是数出来的。"),
    lenet_biases=("You counted the weights only: every map and every unit has a bias too, the "
                  "subsampling maps included.",
                  "你只数了权重：每张特征图、每个单元都还有一个偏置，下采样层的特征图也不例外。"),
    lenet_layer_missing=("You left out the layer {name}.", "你漏掉了 {name} 层。"),
    lenet_c3_full=("You wired C3 to all six S2 maps: count only those each of its 16 maps reads.",
                   "你让 C3 连接了 S2 的全部 6 张特征图：只数 C3 的 16 张特征图各自读取的那几张。"),
    lenet_pool_free=("S2 and S4 are not plain average pooling: each of their maps has a trainable "
                     "coefficient and a bias.",
                     "S2 和 S4 不是普通的平均池化：每张特征图都有一个可训练的系数和一个偏置。"),
    lenet_pool_kernel=("A subsampling map has one coefficient for the whole 2 x 2 block, not one "
                       "per pixel, plus its bias.",
                       "下采样特征图对整个 2 x 2 区块只用一个系数，不是每像素一个，再加一个偏置。"),
    lenet_rbf=("The RBF output layer's parameters were set by hand and kept fixed: count the "
               "trainable ones only.",
               "RBF 输出层的参数是人工设定、固定不变的：只数可训练的参数。"),
    lenet_modern=("That is the book's modernised LeNet, not LeNet-5 of 1998.",
                  "这是本书的现代版 LeNet，不是 1998 年的 LeNet-5。"),
    lenet_generic=("Go through C1 to F6 one by one: the connection table of C3, two parameters "
                   "per subsampling map, weights and biases.",
                   "从 C1 到 F6 逐层数：注意 C3 的连接表、每张下采样特征图的两个参数，"
                   "权重和偏置都要数。"),
    share_right=("{fc:,} of AlexNet's {total:,} parameters ({share:.1%}) are in its three fully "
                 "connected layers.",
                 "AlexNet 的 {total:,} 个参数中有 {fc:,} 个（{share:.1%}）在三个全连接层里。"),
    share_range=("Give a fraction between 0 and 1.", "请给出 0 到 1 之间的比例。"),
    share_conv=("That is the convolutional layers' share, not the Linear layers'.",
                "这是卷积层所占的比例，不是全连接层（Linear）的。"),
    share_flops=("That is the Linear layers' share of the FLOPs, not of the parameters.",
                 "这是全连接层在浮点运算次数中的占比，不是在参数量中的。"),
    share_generic=("Only the 'Linear' layers count; right within {tolerance}, or rounded to one "
                   "decimal.",
                   "只算 'Linear' 层；相差不超过 {tolerance} 或四舍五入到一位小数都算对。"),
)  # fmt: skip


CONV_MISTAKES = [
    (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "conv_not_int"),
    (lambda n, k, s, p: -(-(n + 2 * p - k) // s) + 1, "conv_ceil"),
    (lambda n, k, s, p: (n + 2 * p - k) // s, "conv_no_plus_one"),
    (lambda n, k, s, p: (n + p - k) // s + 1, "conv_padding_once"),
    (lambda n, k, s, p: (n - k) // s + 1, "conv_no_padding"),
    (lambda n, k, s, p: n + 2 * p - k + 1, "conv_no_stride"),
    (lambda n, k, s, p: n, "conv_unchanged"),
]
CONV_CASES = [  # (size, kernel, stride, padding): LeNet's and AlexNet's layers, then others
    (28, 5, 1, 2), (28, 2, 2, 0), (10, 5, 1, 0), (224, 11, 4, 0), (227, 11, 4, 0), (54, 3, 2, 0),
    (26, 5, 1, 2), (26, 3, 2, 0), (12, 3, 1, 1), (12, 3, 2, 0), (67, 11, 4, 0),
    *((n, k, s, p) for n in (1, 5, 7, 8, 13, 32, 100) for k in (1, 2, 3, 5, 7) for s in (1, 2, 3, 4)
      for p in (0, 1, 2, 3) if p < k and n + 2 * p >= k),
]  # fmt: skip


@self_check
def check_conv_output_size(fn: Callable[[int, int, int, int], int], lang: str = "en") -> bool:
    """Test `fn(size, kernel, stride, padding)`, the output side of a conv or pooling layer,
    against PyTorch's rule on every layer of LeNet and AlexNet and a few hundred other cases
    (a float equal to the right whole number counts)."""
    return check_calls(Verdict(MESSAGES, lang), fn, CONV_CASES, conv_output_size, CONV_MISTAKES,
                       "size={}, kernel={}, stride={}, padding={}".format, "conv",
                       n=len(CONV_CASES))


# LeNet-5 (LeCun et al., 1998) as {layer: (weights, biases)}: the paper's trainable parameters.
# S2 and S4 multiply each 2x2 sum by one coefficient and add a bias, per map; of C3's 16 maps,
# six read 3 of S2's 6 maps, nine read 4 and one reads all 6 (60 kernels in all); the RBF
# output layer's 84 x 10 parameters are fixed by hand, not trained.
LENET5 = {"C1": (6 * 5 * 5, 6), "S2": (6, 6), "C3": (60 * 5 * 5, 16), "S4": (16, 16),
          "C5": (120 * 16 * 5 * 5, 120), "F6": (84 * 120, 84)}  # fmt: skip


@self_check
def check_lenet5_param_count(answer: object, lang: str = "en") -> bool:
    """Check a hand count of the trainable parameters of LeNet-5 as published in 1998: sparse
    C3, trainable subsampling (a coefficient and a bias per map), fixed RBF output layer."""
    total = sum(w + b for w, b in LENET5.values())
    c3_full = (16 * 6 * 5 * 5 + 16) - sum(LENET5["C3"])
    pools = sum(sum(LENET5[name]) for name in ("S2", "S4"))
    modern = sum(p.numel() for p in LeNet().parameters())
    mistakes = [(lambda a: a != int(a), "lenet_not_int"),
                (sum(w for w, _ in LENET5.values()), "lenet_biases"),
                *[(total - w - b, "lenet_layer_missing") for w, b in LENET5.values()],
                (total + c3_full, "lenet_c3_full"), (total - pools, "lenet_pool_free"),
                (total - pools + (6 + 16) * (2 * 2 + 1), "lenet_pool_kernel"),
                (total + 84 * 10, "lenet_rbf"), (modern, "lenet_modern")]  # fmt: skip
    missing = {total - w - b: name for name, (w, b) in LENET5.items()}.get(as_number(answer))
    return check_number(Verdict(MESSAGES, lang), answer, [(total, {})], mistakes, operator.eq,
                        "lenet", total=total, name=missing,
                        layers=" + ".join(f"{n} {w + b:,}" for n, (w, b) in LENET5.items()))


@cache
def _alexnet_facts() -> dict[str, float]:
    """Where AlexNet's parameters and FLOPs are: built once, then remembered."""
    summary = layer_summary(AlexNet(), (1, 224, 224))
    fc = [layer for layer in summary.layers if layer.kind == "Linear"]
    share = sum(layer.params for layer in fc) / summary.total_params
    return {"fc": sum(layer.params for layer in fc), "total": summary.total_params,
            "share": share, "flops_share": sum(layer.flops for layer in fc) / summary.total_flops}


@self_check
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
                        "share", tolerance=tolerance, **facts)
