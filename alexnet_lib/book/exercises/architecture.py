"""Chapter 2 (the AlexNet architecture): the network built layer by layer, its parameters,
FLOPs and training memory."""

from difflib import SequenceMatcher
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
    error_text,
    first_hint,
    read_number,
    self_check,
    shown,
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
                        "这只是一个输出值的浮点运算次数：要算上所有输出值。"),
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
    # check_alexnet_layers: what was found (the verdict's first line) ...
    net_right=("All {n} layers match the book's AlexNet, one by one, and a 1 x 1 x 224 x 224 "
               "batch comes out with the shape {shape}.",
               "全部 {n} 层都与书中的 AlexNet 逐层一致，形状为 1 x 1 x 224 x 224 的批量"
               "输出的形状是 {shape}。"),
    net_got=("That is an object of type {kind}, not a network (an nn.Module).",
             "这是 {kind} 类型的对象，不是网络（nn.Module）。"),
    net_got_class=("That is the class {kind}, not a network built with it.",
                   "这是类 {kind} 本身，不是用它构造出来的网络。"),
    net_kind=("{layer} is a {kind}.", "{layer} 是 {kind}。"),
    net_at=("{layer}, a {kind}, differs from the book's layer.",
            "{layer}（{kind}）与书中的这一层不同。"),
    net_count_conv=("Your network has {n} convolutional layers (Conv2d).",
                    "你的网络有 {n} 个卷积层（Conv2d）。"),
    net_count_linear=("Your network has {n} fully connected layers (Linear).",
                      "你的网络有 {n} 个全连接层（Linear）。"),
    net_missing=("Something is missing after {layer}, a {kind}.",
                 "{layer}（{kind}）之后少了一层。"),
    net_extra=("{layer}, a {kind}, is one layer too many.", "{layer}（{kind}）是多出来的一层。"),
    net_moved=("{layer}, a {kind}, is not where the book's network has it.",
               "{layer}（{kind}）的位置与书中的网络不同。"),
    net_raised=("{layer}, a {kind}, raised {error} on a 1 x 1 x 224 x 224 batch.",
                "{layer}（{kind}）在形状为 1 x 1 x 224 x 224 的批量上抛出了 {error}。"),
    net_returned=("{layer}, a {kind}, returned {got}, not a tensor.",
                  "{layer}（{kind}）返回了 {got}，不是张量。"),
    net_shape=("{layer}, a {kind}, gives an output of another shape than the book's layer.",
               "{layer}（{kind}）输出的形状与书中的这一层不同。"),
    # ... and the hint that names the mistake, never the value the book's layer has.
    net_start=("Write the layers inside nn.Sequential(...), in order, from the first "
               "convolution to the last Linear.",
               "把各层按顺序写进 nn.Sequential(...)，从第一个卷积层写到最后一个 Linear。"),
    net_not_module=("Build the network as nn.Sequential(layer, layer, ...) and give the check "
                    "the network itself.",
                    "用 nn.Sequential(层, 层, ...) 构造网络，再把网络本身交给检查函数。"),
    net_list=("Put the layers in a network: nn.Sequential(*layers).",
              "把这些层放进一个网络：nn.Sequential(*layers)。"),
    net_class=("Call it, with the layers as its arguments, to build the network: "
               "nn.Sequential(layer, layer, ...).",
               "调用它，把各层作为参数传进去，才能构造出网络：nn.Sequential(层, 层, ...)。"),
    net_unknown=("The book's network is built from Conv2d, ReLU, MaxPool2d, Flatten, Linear and "
                 "Dropout layers alone.",
                 "书中的网络只由 Conv2d、ReLU、MaxPool2d、Flatten、Linear 和 Dropout "
                 "这几种层构成。"),
    layers_too_many=("That is too many: count them again in the printout of AlexNet().",
                     "多了：对照 AlexNet() 的打印结果再数一数。"),
    layers_too_few=("That is too few: count them again in the printout of AlexNet().",
                    "少了：对照 AlexNet() 的打印结果再数一数。"),
    missing_relu=("A ReLU is missing there: in the book's network every convolution and every "
                  "hidden fully connected layer is followed by one.",
                  "那里少了一个 ReLU：书中的网络在每个卷积层和每个隐藏的全连接层之后都有一个。"),
    missing_pool=("A max-pooling layer is missing there: the table of output sizes shows after "
                  "which layers the map shrinks.",
                  "那里少了一个最大池化层：输出大小的那张表显示了特征图在哪些层之后变小。"),
    missing_dropout=("A Dropout layer is missing there: the book's network drops units out "
                     "after the ReLU of each hidden fully connected layer.",
                     "那里少了一个 Dropout 层：书中的网络在每个隐藏的全连接层的 ReLU 之后"
                     "都有丢弃层。"),
    missing_flatten=("Put nn.Flatten() between the last pooling layer and the first Linear: a "
                     "Linear takes one vector per image, not a feature map.",
                     "在最后一个池化层和第一个 Linear 之间加上 nn.Flatten()：Linear "
                     "的输入是每张图像一个向量，而不是特征图。"),
    extra_layer=("The book's network has no {kind} there: remove it, or move it where it "
                 "belongs.",
                 "书中的网络在那里没有 {kind}：删掉它，或者把它挪到该在的位置。"),
    extra_after_last=("Nothing comes after the last Linear: its outputs are the class scores, "
                      "which the loss function takes as they are.",
                      "最后一个 Linear 之后什么都不接：它的输出就是各类别的得分，"
                      "损失函数直接使用它们。"),
    net_order=("Compare the order of your layers with the printout of AlexNet(): which "
               "layer follows which?",
               "对照 AlexNet() 的打印结果检查各层的顺序：哪一层跟在哪一层后面？"),
    wrong_activation=("The book's network uses another activation function.",
                      "书中的网络用的是另一种激活函数。"),
    wrong_pooling=("The book's network uses another kind of pooling.",
                   "书中的网络用的是另一种池化。"),
    layer_kind=("The book's network has another kind of layer there.",
                "书中的网络在那里是另一种层。"),
    input_channels=("The first convolution's in_channels must match the channels of the "
                    "images: look at the shape of a batch, X.shape.",
                    "第一个卷积层的 in_channels 必须与图像的通道数一致：看看一个批量的形状 "
                    "X.shape。"),
    in_channels_chain=("A convolution's in_channels must equal the out_channels of the "
                       "convolution before it.",
                       "卷积层的 in_channels 必须等于前一个卷积层的 out_channels。"),
    conv_width=("Its out_channels, the number of filters it learns, is not the book's.",
                "它的 out_channels，即它要学习的卷积核个数，与书中的不同。"),
    conv_kernel=("Its window, kernel_size, is not the book's.",
                 "它的窗口大小 kernel_size 与书中的不同。"),
    conv_stride=("Its stride, how far the window moves at each step, is not the book's: the "
                 "output-size formula tells which stride gives the side in the table.",
                 "它的步幅（窗口每次移动的距离）与书中的不同：用输出大小的公式算一算，"
                 "什么样的步幅才能得到表中的边长。"),
    conv_padding=("Its padding is not the book's: the padding decides whether a convolution "
                  "keeps the side of its input, and the table of output sizes shows which do.",
                  "它的填充与书中的不同：填充决定卷积层是否保持输入的边长，"
                  "输出大小的那张表显示了哪些层保持不变。"),
    pool_window=("Its window, kernel_size, is not the book's: read the section on "
                 "overlapping pooling again.",
                 "它的窗口大小 kernel_size 与书中的不同：再读一读讲重叠池化的那一节。"),
    pool_stride=("Its stride is not the book's: read the section on overlapping pooling again.",
                 "它的步幅与书中的不同：再读一读讲重叠池化的那一节。"),
    layer_other=("It sets {setting} differently from the book's network, which leaves it at "
                 "its default.",
                 "它的 {setting} 与书中的网络不同，书中的网络用的是默认值。"),
    flatten_size=("The first Linear's in_features must equal the number of values in the "
                  "flattened map: channels x height x width of the last pooling layer's "
                  "output for a 224 x 224 image.",
                  "第一个 Linear 的 in_features 必须等于展平后的值的个数：即输入为 224 x 224 "
                  "时，最后一个池化层输出的通道数 x 高 x 宽。"),
    in_features_chain=("A Linear's in_features must equal the out_features of the Linear "
                       "before it.",
                       "Linear 的 in_features 必须等于前一个 Linear 的 out_features。"),
    fc_width=("Its out_features, the width of this hidden layer, is not the book's.",
              "它的 out_features，即这个隐藏层的宽度，与书中的不同。"),
    num_classes=("The last Linear gives one score per class: how many classes does "
                 "Fashion-MNIST have?",
                 "最后一个 Linear 为每个类别给出一个得分：Fashion-MNIST 有多少个类别？"),
    dropout_p=("Its dropout probability p is not the book's.",
               "它的丢弃概率 p 与书中的不同。"),
    net_forward=("Use torch.nn's layers as they are: this one computes something else.",
                 "请直接使用 torch.nn 中的层：这一层算的是别的东西。"),
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


# --- Building AlexNet layer by layer --------------------------------------------------------

CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
PROBE_SHAPE = (1, 1, 224, 224)  # one image, the book's input


def _role(layer: nn.Module) -> str:
    """What a layer does in the network: "conv", "linear", "pool", "act", "dropout",
    "flatten", or "other" for any layer the book's network doesn't have."""
    if isinstance(layer, nn.Conv2d):
        return "conv"
    if isinstance(layer, nn.Linear):
        return "linear"
    if isinstance(layer, nn.Flatten):
        return "flatten"
    modules = {cls.__module__ for cls in type(layer).__mro__}  # torch's class, if subclassed
    if "torch.nn.modules.pooling" in modules:
        return "pool"
    if "torch.nn.modules.dropout" in modules:
        return "dropout"
    if "torch.nn.modules.activation" in modules and not isinstance(layer, nn.MultiheadAttention):
        return "act"
    return "other"


def network_layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, layer) for every layer of `net` in the order they run, nested containers opened;
    for the library's AlexNet, whose forward flattens between `conv` and `fc`, with that
    flattening as an nn.Flatten()."""
    layers = [(name, m) for name, m in net.named_modules()
              if not isinstance(m, CONTAINERS) and not list(m.children())]  # fmt: skip
    if isinstance(net, AlexNet):
        first_fc = next(i for i, (name, _) in enumerate(layers) if name.startswith("fc."))
        layers.insert(first_fc, ("flatten", nn.Flatten()))
    return layers


def _where(name: str) -> str:
    """A layer's name as the code that reaches it: "3" is net[3], "conv.0" net.conv[0]."""
    parts = name.split(".") if name else []
    return "net" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in parts)


@cache
def book_layers() -> tuple[tuple[nn.Module, ...], tuple[tuple[int, ...], ...]]:
    """The book's AlexNet() as layers (weights on the "meta" device: no memory) and the shape
    of a 1 x 1 x 224 x 224 batch after each."""
    layers = tuple(layer for _, layer in network_layers(_meta_alexnet()))
    x, shapes = torch.empty(PROBE_SHAPE, device="meta"), []
    for layer in layers:
        x = layer(x)
        shapes.append(tuple(x.shape))
    return layers, tuple(shapes)


def _pair(value: object) -> tuple:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _padding(conv: nn.Conv2d) -> tuple:
    """A convolution's padding as numbers, "same" and "valid" included."""
    if conv.padding == "valid":
        return (0, 0)
    if conv.padding == "same":
        return tuple(d * (k - 1) // 2 for d, k in zip(conv.dilation, conv.kernel_size,
                                                     strict=True))
    return _pair(conv.padding)


def _conv_mistake(mine: nn.Conv2d, book: nn.Conv2d, first: bool) -> tuple[str, dict]:
    if mine.in_channels != book.in_channels:
        return ("input_channels" if first else "in_channels_chain"), {}
    settings = [(mine.out_channels, book.out_channels, "conv_width"),
                (_pair(mine.kernel_size), _pair(book.kernel_size), "conv_kernel"),
                (_pair(mine.stride), _pair(book.stride), "conv_stride"),
                (_padding(mine), _padding(book), "conv_padding")]
    hint = next((key for got, want, key in settings if got != want), None)
    if hint:
        return hint, {}
    return _other_settings(mine, book, ["dilation", "groups", "padding_mode", "bias"])


def _other_settings(mine: nn.Module, book: nn.Module, names: list[str]) -> tuple[str, dict]:
    def value(layer: nn.Module, name: str) -> object:
        got = getattr(layer, name, None)
        return got is not None if name == "bias" else _pair(got)

    setting = next((n for n in names if value(mine, n) != value(book, n)), None)
    return ("layer_other", {"setting": setting}) if setting else ("", {})


def _linear_mistake(mine: nn.Linear, book: nn.Linear, first: bool, last: bool):
    if mine.in_features != book.in_features:
        return ("flatten_size" if first else "in_features_chain"), {}
    if mine.out_features != book.out_features:
        return ("num_classes" if last else "fc_width"), {}
    return _other_settings(mine, book, ["bias"])


def _layer_mistake(mine: nn.Module, book: nn.Module, seen: dict[str, int],
                   counts: dict[str, int]) -> tuple[str, dict]:
    """The hint key (and its facts) of what differs between two layers of the same role, or
    "" when nothing does. `seen` counts the layers of each role before these."""
    role = _role(book)
    if not isinstance(mine, type(book)):
        return {"act": "wrong_activation", "pool": "wrong_pooling"}.get(role, "layer_kind"), {}
    if role == "conv":
        return _conv_mistake(mine, book, first=seen["conv"] == 0)
    if role == "linear":
        return _linear_mistake(mine, book, first=seen["linear"] == 0,
                               last=seen["linear"] == counts["linear"] - 1)
    if role == "pool":
        for name, key in (("kernel_size", "pool_window"), ("stride", "pool_stride")):
            if _pair(getattr(mine, name)) != _pair(getattr(book, name)):
                return key, {}
        return _other_settings(mine, book, ["padding", "dilation", "ceil_mode"])
    if role == "dropout" and mine.p != book.p:
        return "dropout_p", {}
    if role == "flatten":
        return _other_settings(mine, book, ["start_dim", "end_dim"])
    return "", {}


def _structure_mistake(roles: list[str], book_roles: list[str],
                       layers: list[tuple[str, nn.Module]]) -> tuple[str, str, int]:
    """(detail key, hint key, index of the learner's layer it is about) for the first place
    where the kinds of layers stop lining up with the book's."""
    ops = [op for op in SequenceMatcher(a=book_roles, b=roles, autojunk=False).get_opcodes()
           if op[0] != "equal"]  # fmt: skip
    tag, i1, i2, j1, j2 = ops[0]
    if len(ops) > 1 and {tag, ops[1][0]} == {"insert", "delete"}:
        moved = ops[0] if tag == "insert" else ops[1]
        gone = ops[1] if tag == "insert" else ops[0]
        if roles[moved[3]:moved[4]] == book_roles[gone[1]:gone[2]]:
            return "net_moved", "net_order", moved[3]
    if tag == "insert":
        after_last = all(r != "linear" for r in roles[j1:])
        return "net_extra", ("extra_after_last" if after_last else "extra_layer"), j1
    if tag == "delete":
        missing = {"act": "missing_relu", "pool": "missing_pool", "dropout": "missing_dropout",
                   "flatten": "missing_flatten"}.get(book_roles[i1], "net_order")
        return ("net_missing" if missing != "net_order" else "net_moved"), missing, j1 - 1
    return "net_kind", "layer_kind", j1


def _run_layers(layers: list[tuple[str, nn.Module]], shapes) -> tuple[str, int, dict] | None:
    """Run a 1 x 1 x 224 x 224 batch through the learner's layers one by one, on the device
    and in the precision of each; (detail key, layer index, facts) for the first layer that
    raises, returns no tensor or gives another shape than the book's layer, else None."""
    x = torch.zeros(PROBE_SHAPE)
    with torch.no_grad():
        for i, ((_, layer), shape) in enumerate(zip(layers, shapes, strict=True)):
            weight = next(iter(layer.parameters()), None)
            try:
                if weight is not None:
                    x = x.to(device=weight.device, dtype=weight.dtype)
                x = layer(x)
            except Exception as err:  # a learner's layer may fail in any way
                return "net_raised", i, {"error": error_text(err)}
            if not isinstance(x, torch.Tensor):
                return "net_returned", i, {"got": shown(x)}
            if tuple(x.shape) != shape:
                return "net_shape", i, {}
    return None


def _judge_network(verdict: Verdict, net: object) -> bool:
    if isinstance(net, type) and issubclass(net, nn.Module):
        return verdict.fail("net_got_class", "net_class", kind=net.__name__)
    if not isinstance(net, nn.Module):
        layers = isinstance(net, (list, tuple)) and any(isinstance(m, nn.Module) for m in net)
        return verdict.fail("net_got", "net_list" if layers else "net_not_module",
                            kind=type(net).__name__)
    layers, (book, shapes) = network_layers(net), book_layers()
    if not layers:
        return verdict.fail("blank", "net_start")

    def about(i: int) -> dict:
        name, layer = layers[i]
        return {"layer": _where(name), "kind": type(layer).__name__}

    roles, book_roles = [_role(m) for _, m in layers], [_role(m) for m in book]
    if "other" in roles:
        return verdict.fail("net_kind", "net_unknown", **about(roles.index("other")))
    for role in ("conv", "linear"):
        n, want = roles.count(role), book_roles.count(role)
        if n != want:
            hint = "layers_too_many" if n > want else "layers_too_few"
            return verdict.fail(f"net_count_{role}", hint, n=n)
    if roles != book_roles:
        detail, hint, i = _structure_mistake(roles, book_roles, layers)
        return verdict.fail(detail, hint, **about(i))
    seen, counts = dict.fromkeys(book_roles, 0), {r: book_roles.count(r) for r in book_roles}
    for i, ((_, mine), theirs) in enumerate(zip(layers, book, strict=True)):
        hint, facts = _layer_mistake(mine, theirs, seen, counts)
        if hint:
            return verdict.fail("net_kind" if "kind" in hint or hint.startswith("wrong")
                                else "net_at", hint, **about(i), **facts)
        seen[roles[i]] += 1
    failed = _run_layers(layers, shapes)
    if failed:
        detail, i, facts = failed
        return verdict.fail(detail, "net_forward", **about(i), **facts)
    shape = " x ".join(map(str, shapes[-1]))
    return verdict.ok("net_right", n=len(layers), shape=shape)


@self_check
def check_alexnet_layers(net: object, lang: str = "en") -> bool:
    """Check a learner's AlexNet, written as an nn.Sequential, against the book's `AlexNet()`
    (1 input channel, 224 x 224 images, 10 classes) layer by layer: the kinds of layers and
    their order, each layer's settings, and the shape after each layer of a 1 x 1 x 224 x 224
    batch. Names the first mistake (a missing ReLU, a wrong stride, ...), not the value."""
    return _judge_network(Verdict(MESSAGES, lang), net)
