"""Chapter 7 (which of AlexNet's ideas matter): a paired standard error, the seeds an ablation
needs, and AlexNet pretrained on ImageNet adapted to Fashion-MNIST."""

import math

import torch
from torch import nn

from ...experiments.runner import mean_sd
from ._common import Verdict, bilingual, call, check_number, self_check

MESSAGES = bilingual(
    se_right=("The paired standard error of \"{label}\" minus the baseline is {se:.2f} "
              "percentage points ({n} seeds).",
              "“{label}”与基线之差的配对标准误是 {se:.2f} 个百分点（{n} 个种子）。"),
    se_fraction=("That is a fraction of 1: give it in percentage points (× 100).",
                 "这是以 1 为单位的比例：请换算成百分点（乘以 100）。"),
    se_sd=("That is the spread of one paired difference (the sd): the mean of n of them "
           "varies less.",
           "这是单个配对差值的离散程度（标准差）：n 个差值的平均值波动更小。"),
    se_over_n=("You divided the sd by n; the standard error of a mean divides it by the square "
               "root of n.",
               "你把标准差除以了 n；均值的标准误要除以 n 的平方根。"),
    se_unpaired=("That is the unpaired standard error, from the two variants' own sds: pair the "
                 "runs by seed first.",
                 "这是不配对的标准误，用的是两个变体各自的标准差：请先按种子把运行配成对。"),
    se_mean=("That is the mean difference itself, not its standard error.",
             "这是差值的平均值本身，不是它的标准误。"),
    se_generic=("Take the per-seed differences in percentage points, their sd (n - 1 in the "
                "denominator), and divide by the square root of their number.",
                "取每个种子的差值（以百分点计），求它们的标准差（分母为 n - 1），"
                "再除以差值个数的平方根。"),
    seeds_right=("{n} seeds per variant put a true difference of {delta} points exactly two "
                 "standard errors away.",
                 "每个变体 {n} 个种子时，{delta} 个百分点的真实差值恰好等于两个标准误。"),
    seeds_one_mean=("That treats the difference as one mean's: a difference of two means has "
                    "the variance of both.",
                    "这把差值当成了一个均值：两个均值之差的方差来自两边。"),
    seeds_one_se=("That asks for one standard error, not two.", "这只要求一个标准误，而不是两个。"),
    seeds_not_int=("Seeds are counted: give a whole number (round up).",
                   "种子是一个个数出来的：请给出整数（向上取整）。"),
    seeds_generic=("Write the standard error of a difference of two means of n runs each, set "
                   "two of them equal to the difference, and solve for n.",
                   "写出两个各含 n 次运行的均值之差的标准误，令两倍标准误等于差值，解出 n。"),
    tm_right=("Your network takes 1-channel images, gives {classes} scores, and trains only its "
              "new last layer ({trainable:,} parameters).",
              "你的网络接受单通道图像，输出 {classes} 个得分，并且只训练新的最后一层"
              "（{trainable:,} 个参数）。"),
    tm_not_module=("That is a {kind}, not a network (an nn.Module).",
                   "这是 {kind}，不是网络（nn.Module）。"),
    tm_raised=("Called on a batch of 1-channel 224×224 images, it raised {error}.",
               "输入一批单通道 224×224 图像时，它抛出了 {error}。"),
    tm_channels=("It still expects 3-channel (RGB) images: make the first convolution take 1 "
                 "channel (or repeat the grey channel).",
                 "它仍然要求三通道（RGB）图像：让第一个卷积层接受单通道输入（或者重复灰度通道）。"),
    tm_classes=("Replace the last layer by one with an output per Fashion-MNIST class.",
                "把最后一层换成每个 Fashion-MNIST 类别各有一个输出的层。"),
    tm_shape=("Its output is shaped {got}: a batch of images should give one row of scores each.",
              "它的输出形状是 {got}：一批图像应该每张输出一行得分。"),
    tm_trains=("It takes 1-channel images and gives the right number of scores; {count:,} of its "
               "parameters train.",
               "它接受单通道图像，输出的得分个数也对；它有 {count:,} 个参数在训练。"),
    tm_all_trainable=("Every parameter still trains: freeze the pretrained ones "
                      "(requires_grad_(False)).",
                      "所有参数都还在训练：请冻结预训练的参数（requires_grad_(False)）。"),
    tm_nothing_trains=("Nothing trains: the new last layer must keep requires_grad.",
                       "没有任何参数在训练：新的最后一层必须保留 requires_grad。"),
    tm_more=("Besides the last layer, {extra:,} more parameters train: freeze everything but "
             "the new last layer.",
             "除了最后一层，还有 {extra:,} 个参数在训练：除了新的最后一层，其余全部冻结。"),
    tm_generic=("Only the last layer's weight and bias may train.",
                "只有最后一层的权重和偏置可以训练。"),
)  # fmt: skip


def _paired_errors(result: object, label: str) -> tuple[float, float, float, float, int]:
    """Per-seed differences from the baseline in points: their mean, sd, standard error, the
    unpaired standard error, and their number."""
    diffs = [100 * d for d in result.differences(label, "baseline")]
    n = len(diffs)
    mean, sd = mean_sd(diffs)
    spreads = [mean_sd([100 * v for v in result.final(name)])[1] ** 2 / len(result.final(name))
               for name in (label, "baseline")]
    return mean, sd, sd / math.sqrt(n), math.sqrt(sum(spreads)), n


@self_check
def check_paired_error(answer: object, result: object, label: str = "no dropout",
                       lang: str = "en") -> bool:
    """Check the standard error, in percentage points, of the mean of `label`'s per-seed
    differences from the baseline in `result` (an ExperimentResult). Within 2% passes."""
    mean, sd, se, unpaired, n = _paired_errors(result, label)

    def close(answer: float, value: float) -> bool:
        return math.isclose(answer, value, rel_tol=0.02, abs_tol=0.005)

    mistakes = [(se / 100, "se_fraction"), (sd, "se_sd"), (sd / n, "se_over_n"),
                (unpaired, "se_unpaired"), (mean, "se_mean"), (abs(mean), "se_mean")]
    mistakes = [(value, key) for value, key in mistakes if not close(value, se)]
    return check_number(Verdict(MESSAGES, lang), answer, [(se, {})], mistakes, close, "se",
                        label=label, se=se, n=n)


@self_check
def check_seeds_needed(answer: object, sd: float = 0.3, delta: float = 0.3,
                       lang: str = "en") -> bool:
    """Check the smallest number of seeds per variant for which a true difference `delta`
    between two variants' means is two standard errors, each run's sd being `sd`."""
    needed = math.ceil(8 * sd**2 / delta**2)
    mistakes = [(lambda a: a != int(a), "seeds_not_int"),
                (math.ceil(4 * sd**2 / delta**2), "seeds_one_mean"),
                (math.ceil(2 * sd**2 / delta**2), "seeds_one_se")]
    mistakes = [(value, key) for value, key in mistakes if callable(value) or value != needed]
    return check_number(Verdict(MESSAGES, lang), answer, [(needed, {})], mistakes,
                        lambda a, value: a == value, "seeds", n=needed, delta=delta)


@self_check
def check_transfer_model(net: object, classes: int = 10, lang: str = "en") -> bool:
    """Check a pretrained AlexNet adapted to Fashion-MNIST: it takes [N, 1, 224, 224] images,
    gives `classes` scores each, and only its last layer (the last nn.Linear) trains."""
    verdict = Verdict(MESSAGES, lang)
    if not isinstance(net, nn.Module):
        return verdict.fail("tm_not_module", "tm_generic", kind=type(net).__name__)
    out, error = _forward(net, 1)
    if error:
        _, rgb_error = _forward(net, 3)
        if rgb_error is None:
            return verdict.fail("tm_raised", "tm_channels", error=error)
        return verdict.fail("tm_raised", "tm_generic", error=error)
    if not isinstance(out, torch.Tensor) or out.dim() != 2 or len(out) != 2:
        got = list(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return verdict.fail("tm_shape", "tm_generic", got=got)
    if out.shape[1] != classes:
        return verdict.fail("tm_shape", "tm_classes", got=list(out.shape))
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    last = {id(p) for p in linears[-1].parameters()} if linears else set()
    trainable = [p for p in net.parameters() if p.requires_grad]
    count = sum(p.numel() for p in trainable)
    extra = sum(p.numel() for p in trainable if id(p) not in last)
    if not trainable:
        return verdict.fail("tm_trains", "tm_nothing_trains", count=count)
    if extra and len(trainable) == len(list(net.parameters())):
        return verdict.fail("tm_trains", "tm_all_trainable", count=count)
    if extra:
        return verdict.fail("tm_trains", "tm_more", count=count, extra=extra)
    if len(trainable) != len(last):
        return verdict.fail("tm_trains", "tm_generic", count=count)
    return verdict.ok("tm_right", classes=classes, trainable=count)


def _forward(net: nn.Module, channels: int) -> tuple[object, str | None]:
    """net on two blank 224×224 images of `channels` channels, in eval mode, without grad."""
    device = next((p.device for p in net.parameters()), torch.device("cpu"))
    images = torch.zeros(2, channels, 224, 224, device=device)
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            return call(net, images)
    finally:
        net.train(was_training)
