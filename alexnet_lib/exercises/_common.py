"""What every self-check shares: messages in two languages and the verdict line."""

from __future__ import annotations

from numbers import Integral

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
