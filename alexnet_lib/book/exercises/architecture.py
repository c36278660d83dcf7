"""Chapter 2 (the AlexNet architecture): parameters, FLOPs and training memory."""

from functools import cache

import torch
from torch import nn

from ...models import AlexNet
from ..summary import layer_summary
from ._common import (
    SetupError,
    Unreadable,
    Verdict,
    bilingual,
    check_number,
    first_hint,
    read_number,
    self_check,
    to_python,
)

MESSAGES = bilingual(
    layers_case=("Your count for {name}, {got:,}, is wrong.", "你给 {name} 的数 {got:,} 不对。"),
    layers_total=("That is the total: give {n} whole numbers, one per layer: {names}.",
                  "这是总数：请给出 {n} 个整数，每层一个：{names}。"),
    layers_order=("Give a list of {n} whole numbers, one per layer: {names}.",
                  "请给出由 {n} 个整数组成的列表，每层一个：{names}。"),
    kernel=("A k x k window has k * k weights per input channel, not k.",
            "k x k 的窗口在每个输入通道上有 k * k 个权重，而不是 k 个。"),
    in_channels=("Each filter spans all the input channels ({c_in}).",
                 "每个卷积核覆盖全部输入通道（{c_in} 个）。"),
    params_right=("All eight layers are right: {layers}; {total:,} parameters in all.",
                  "八层全对：{layers}；共 {total:,} 个参数。"),
    params_biases=("That is the weights only: every output has a bias too.",
                   "这只是权重：每个输出还有一个偏置。"),
    params_rgb=("AlexNet() reads grayscale images: conv.0 has 1 input channel, not 3.",
                "AlexNet() 读入的是灰度图：conv.0 的输入通道数是 1，不是 3。"),
    params_classes=("AlexNet() has 10 outputs, one per class, not ImageNet's 1000.",
                    "AlexNet() 有 10 个输出，每个类别一个，而不是 ImageNet 的 1000 个。"),
    params_6x6=("A 224x224 input ends in a map of 5x5, not 6x6 (the paper's 227x227 does).",
                "224x224 的输入最后得到 5x5 的特征图，而不是 6x6（论文的 227x227 才是）。"),
    params_generic=("Count the weights of {name} for every input-output pair (and window pixel), "
                    "then the biases.",
                    "{name} 的每一对输入和输出（以及窗口的每个像素）各有一个权重，再数偏置。"),
    flops_right=("All five convolutions are right: {layers}; {total:,} FLOPs in all, {share:.1%} "
                 "of the network's.",
                 "五个卷积层全对：{layers}；共 {total:,} 次浮点运算，占整个网络的 {share:.1%}。"),
    flops_macs=("That counts multiply-adds; each is 2 FLOPs.",
                "这是乘加的次数；每次乘加算 2 次浮点运算。"),
    flops_bias=("You added the biases; layer_summary leaves them out.",
                "你把偏置也算进去了；layer_summary 不算这部分。"),
    flops_input_side=("You used the input side ({n_in}) instead of the output side.",
                      "你用了输入边长（{n_in}），而不是输出边长。"),
    flops_per_position=("That is the work for one output value: count them all.",
                        "这只是一个输出值的计算量：要算上所有输出值。"),
    flops_generic=("Count the output values of {name}, the multiply-adds each needs, and 2 FLOPs "
                   "per multiply-add.",
                   "数一数 {name} 的输出值个数、每个输出值需要的乘加次数，每次乘加算 2 "
                   "次浮点运算。"),
    mem_right=("{params:,} parameters x 4 bytes x {copies} copies = {mb:,.1f} MB ({mib:,.1f} MiB).",
               "{params:,} 个参数 x 4 字节 x {copies} 份 = {mb:,.1f} MB（{mib:,.1f} MiB）。"),
    mem_copies=("That's {counted} numbers per parameter; training with {optimizer} keeps {copies}.",
                "这相当于每个参数 {counted} 个数；用 {optimizer} 训练时要保存 {copies} 个。"),
    mem_weights_or_numbers=("That is the weights alone, or {copies} numbers per parameter without "
                            "their 4 bytes.",
                            "这是仅权重所占的内存，或者每个参数 {copies} 个数却没有乘以 4 字节。"),
    mem_no_bytes=("That counts numbers, not bytes: a float32 takes 4 bytes.",
                  "这是数值的个数，不是字节数：每个 float32 占 4 个字节。"),
    mem_bits=("A float32 is 32 bits, which is 4 bytes, not 32.",
              "float32 是 32 位，也就是 4 个字节，而不是 32 个。"),
    mem_gb=("That looks like gigabytes; give megabytes.", "这看起来是以 GB 为单位；请给出 MB。"),
    mem_bytes=("That looks like bytes; give megabytes (10^6 bytes).",
               "这看起来是字节数；请给出 MB（10^6 字节）。"),
    mem_image_size=("That is for 224x224 inputs, but the image size changes fc.0: count "
                    "AlexNet(image_size={size}).",
                    "这是 224x224 输入时的内存，可是图像大小会改变 fc.0："
                    "请数 AlexNet(image_size={size}) 的参数。"),
    mem_generic=("Count the parameters of AlexNet(image_size={size}), then the bytes that "
                 "training with {optimizer} keeps for each.",
                 "先数出 AlexNet(image_size={size}) 的参数量，再算用 {optimizer} "
                 "训练时每个参数要保存多少字节。"),
)  # fmt: skip


def _meta_alexnet(image_size: int = 224) -> nn.Module:
    """AlexNet(image_size=...) with weights on the "meta" device: shapes and counts, no memory."""
    with torch.device("meta"):
        return AlexNet(image_size=image_size)


def check_layers(verdict: Verdict, answer: object, layers: dict[str, dict], kind: str,
                 **facts) -> bool:
    """The per-layer check: one whole number per layer (a list, an array, or a dict by layer
    name) against each layer's "count"; the first wrong layer is matched with its "mistakes",
    (wrong count, hint key) pairs, and the hint filled with its "sizes"."""
    names, counts = list(layers), [layer["count"] for layer in layers.values()]
    if isinstance(answer, dict):
        answer = [answer.get(name) for name in names]
    try:
        answer = to_python(answer)
    except Unreadable as lost:
        return verdict.fail("got_unreadable", "cpu", device=lost.device)
    order = {"n": len(names), "names": ", ".join(names)}
    if read_number(answer).number == sum(counts):
        return verdict.fail("off", "layers_total", **order)
    readings = [read_number(a) for a in answer] if isinstance(answer, (list, tuple)) else []
    lost = next((r for r in readings if r.what == "got_unreadable"), None)
    if lost:
        return verdict.fail("got_unreadable", "cpu", **lost.facts)
    if len(readings) != len(names) or any(r.number is None or r.number % 1 for r in readings):
        return verdict.fail("off", "layers_order", **order)
    answer = [int(r.number) for r in readings]
    if answer == counts:
        breakdown = ", ".join(f"{name} {n:,}" for name, n in zip(names, counts, strict=True))
        return verdict.ok(f"{kind}_right", layers=breakdown, total=sum(counts), **facts)
    if not any(answer):
        return verdict.fail("blank", f"{kind}_generic", name=names[0])
    name, got = next((n, a) for n, a, c in zip(names, answer, counts, strict=True) if a != c)
    hint = first_hint(layers[name]["mistakes"], lambda value: got == value, f"{kind}_generic")
    return verdict.fail("layers_case", hint, name=name, got=got, **layers[name]["sizes"])


@cache
def alexnet_layers() -> tuple[dict[str, dict], dict[str, dict], float]:
    """AlexNet()'s layers with parameters, and its convolutions' FLOPs for one 224x224 image
    (layer_summary's count), each with its sizes and catalogued (wrong count, hint key)
    mistakes; and the convolutions' share of all FLOPs."""
    net, params, flops, side = _meta_alexnet(), {}, {}, 224
    summary, modules = layer_summary(net, (1, 224, 224)), dict(net.named_modules())
    for layer in summary.layers:
        m = modules[layer.name]
        if isinstance(m, nn.Conv2d):
            c_in, c_out, k = m.in_channels, m.out_channels, m.kernel_size[0]
            values, macs = c_out * layer.output_shape[-1] ** 2, c_in * k * k  # per output value
            params[layer.name] = {"count": layer.params, "sizes": {"c_in": c_in}, "mistakes": [
                (layer.params - c_out, "params_biases"), (c_out * c_in * k + c_out, "kernel"),
                (c_out * k * k + c_out, "in_channels"), (c_out * 3 * k * k + c_out, "params_rgb")]}
            flops[layer.name] = {"count": layer.flops, "sizes": {"c_in": c_in, "n_in": side},
                                 "mistakes": [
                (values * macs, "flops_macs"), (2 * values * macs + values, "flops_bias"),
                (2 * c_out * side * side * macs, "flops_input_side"),
                (2 * c_out * macs, "flops_per_position"), (2 * values * c_in * k, "kernel"),
                (2 * values * k * k, "in_channels")]}  # fmt: skip
        elif isinstance(m, nn.Linear):
            n_in, n_out = m.in_features, m.out_features
            params[layer.name] = {"count": layer.params, "sizes": {}, "mistakes": [
                (n_in * n_out, "params_biases"), (256 * 6 * 6 * n_out + n_out, "params_6x6"),
                (n_in * 1000 + 1000, "params_classes")]}  # fmt: skip
        side = layer.output_shape[-1] if len(layer.output_shape) == 3 else side
    return params, flops, sum(f["count"] for f in flops.values()) / summary.total_flops


@self_check
def check_alexnet_params(answer: object, lang: str = "en") -> bool:
    """Check a hand count of each layer's parameters in `AlexNet()` (1 channel, 224, 10 classes):
    one whole number per layer with parameters, in the order conv.0, conv.3, conv.6, conv.8,
    conv.10, fc.0, fc.3, fc.6 (or a dict by those names). Names the first wrong layer."""
    return check_layers(Verdict(MESSAGES, lang), answer, alexnet_layers()[0], "params")


@self_check
def check_conv_flops(answer: object, lang: str = "en") -> bool:
    """Check a hand count of the FLOPs of each convolution of `AlexNet()` for one 224x224 image
    (conv.0, conv.3, conv.6, conv.8, conv.10), counted as `layer_summary` does: a multiply-add
    is 2 FLOPs, biases are not counted. Names the first wrong layer."""
    _, layers, share = alexnet_layers()
    return check_layers(Verdict(MESSAGES, lang), answer, layers, "flops", share=share)


COPIES = {"sgd": 2, "momentum": 3, "adam": 4}  # weights, gradients, optimiser state


@self_check
def check_memory_mb(answer: object, image_size: int = 224, optimizer: str = "adam",
                    lang: str = "en", tolerance: float = 0.01) -> bool:
    """Check the MB (10^6 bytes) that training `AlexNet(image_size=...)` keeps: fp32 weights,
    gradients and the optimiser's state (a momentum buffer for "momentum", two moments for
    "adam"), no activations. Right within `tolerance` (relative) of the MB or MiB (2^20 bytes)."""
    verdict = Verdict(MESSAGES, lang)
    if optimizer not in COPIES:
        raise SetupError(f"optimizer must be one of {sorted(COPIES)}, got {optimizer!r}.")
    params, params_224 = (sum(p.numel() for p in _meta_alexnet(size).parameters())
                          for size in (image_size, 224))
    copies, number = COPIES[optimizer], read_number(answer).number
    one = params * 4 / 1e6  # MB per copy
    mb, mib = one * copies, one * copies * 1e6 / 2**20
    mistakes = [*([(one, "mem_weights_or_numbers")] if copies == 4 else []),
                *[(one * n, "mem_copies") for n in range(1, 5) if n != copies],
                (mb / 4, "mem_no_bytes"), (mb * 8, "mem_bits"), (mb / 1000, "mem_gb"),
                (mb * 1e6, "mem_bytes"), (params_224 * 4e-6 * copies, "mem_image_size")]
    return check_number(verdict, answer, [(mb, {}), (mib, {})], mistakes,
                        lambda a, value: abs(a - value) <= tolerance * abs(value), "mem",
                        params=params, copies=copies, mb=mb, mib=mib, size=image_size,
                        counted=round((number or 0) / one), optimizer=f'optimizer="{optimizer}"')
