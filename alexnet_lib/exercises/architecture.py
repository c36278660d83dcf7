"""Chapter 2 (the AlexNet architecture): parameters, FLOPs and training memory."""

from __future__ import annotations

import math
from functools import cache
from numbers import Real

import torch
from torch import nn

from ..models import AlexNet
from ..summary import layer_summary
from ._common import _MESSAGES, _is_whole, _report, _text
from .lenet import _layer_params

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


def _report_malformed(answer: object, names: list[str], total: int, text: dict[str, str],
                      kind: str) -> bool | None:
    """Report (False) an answer that is the total, or not one whole number per layer; else None."""
    format_hint = text[f"{kind}_format_hint"].format(n=len(names), names=", ".join(names))
    if _is_whole(answer) and answer == total:
        return _report(False, text, text[f"{kind}_total_only"].format(answer=answer), format_hint)
    if not _is_list_of_whole(answer, len(names)):
        return _report(False, text, text["params_format"].format(answer=answer), format_hint)
    return None


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
    answer = _as_list(answer, names)
    malformed = _report_malformed(answer, names, total, text, "params")
    if malformed is not None:
        return malformed
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
    answer = _as_list(answer, names)
    malformed = _report_malformed(answer, names, total, text, "flops")
    if malformed is not None:
        return malformed
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
