"""Chapter 6 (training AlexNet): a learner's confusion matrix, and the naive version's hours."""

from collections.abc import Callable
from functools import partial

import torch

from ...evaluation import confusion_matrix
from ...experiments.records import recorded_results
from ._common import (
    Unreadable,
    Verdict,
    bilingual,
    call,
    check_number,
    first_hint,
    on_cpu,
    self_check,
)

MESSAGES = bilingual(
    cm_right=("Your matrix agrees with the reference in all {n} cases, unseen classes too.",
              "你的矩阵在全部 {n} 个用例上都与参考实现一致，包括从未出现的类别。"),
    cm_case=("For {n} examples and num_classes={k}.", "用例：{n} 个样本，num_classes={k}。"),
    cm_raised=("Your function raised {error}. It is called as fn(predicted, labels, num_classes) "
               "and returns a [num_classes, num_classes] tensor of counts.",
               "你的函数抛出了 {error}。调用方式是 fn(predicted, labels, num_classes)，"
               "应返回 [num_classes, num_classes] 的计数张量。"),
    cm_not_tensor=("It returned {got}: return a tensor of counts, a row and a column per class.",
                   "它返回了 {got}：请返回计数张量，每个类别占一行一列。"),
    cm_shape=("Your matrix is shaped {got}, not {expected}: take the size from num_classes "
              "(bincount's minlength), since a class may never occur.",
              "你的矩阵形状是 {got}，而不是 {expected}：大小要取自 num_classes（bincount "
              "的 minlength），因为有的类别可能从未出现。"),
    cm_transposed=("Your matrix is transposed: rows are the true classes, columns the predictions.",
                   "你的矩阵转置了：行是真实类别，列是预测类别。"),
    cm_shares=("Your matrix holds shares: count the examples (shares are for plotting).",
               "你的矩阵里是比例：要数样本个数（比例是画图时才用的）。"),
    cm_empty=("Your matrix is all zeros: every example adds 1 at its true class's row and its "
              "prediction's column.",
              "你的矩阵全是零：每个样本都要在它的真实类别那一行、预测类别那一列加 1。"),
    cm_diagonal=("Only the diagonal is filled in: count every example, right or wrong.",
                 "只填了对角线：每个样本无论对错都要计数。"),
    cm_total=("Your counts add up to {got}, not {n}: counts[labels, predicted] += 1 counts a "
              "repeated pair once (index_put_ has accumulate=True).",
              "你的计数加起来是 {got}，而不是 {n}：counts[labels, predicted] += 1 "
              "对重复的一对只加一次（index_put_ 有 accumulate=True）。"),
    cm_wrong=("Entry [{i}, {j}] is {got}: [i, j] counts examples of true class i predicted as j.",
              "第 [{i}, {j}] 项是 {got}：第 [i, j] 项统计真实类别为 i、被预测为 j 的样本数。"),
    hours_right=("At {speed:.2f} images/s, {epochs} epochs of {n:,} images take {hours:.1f} hours "
                 "({record}).",
                 "以每秒 {speed:.2f} 张图像的速度，{n:,} 张图像训练 {epochs} "
                 "个迭代周期需要 {hours:.1f} 小时（{record}）。"),
    hours_seconds=("That is the time in seconds: divide by 3,600 for hours.",
                   "这是以秒为单位的时间：除以 3,600 才是小时。"),
    hours_minutes=("That is the time in minutes: divide by 60 for hours.",
                   "这是以分钟为单位的时间：除以 60 才是小时。"),
    hours_batch=("That uses the speed at a larger batch; the naive version used batch_size=1.",
                 "这用的是更大批量时的速度；朴素版本用的是 batch_size=1。"),
    hours_library=("That uses the library's speed, not the naive version's at batch 1.",
                   "这用的是本库的速度，而不是朴素版本在批量 1 时的速度。"),
    hours_test=("Count the {n:,} training images only, without the test pass.",
                "只算 {n:,} 张训练图像，不包括测试。"),
    hours_one_epoch=("That is one epoch; the naive version asked for num_epochs={epochs}.",
                     "这只是一个迭代周期；朴素版本设的是 num_epochs={epochs}。"),
    hours_size=("That uses the speed at another image size; the naive version used {size} px.",
                "这用的是另一种图像尺寸下的速度；朴素版本用的是 {size} 像素。"),
    hours_generic=("Start from the speed of the naive version at batch 1 in the record; within 5% "
                   "counts as right.",
                   "从记录中朴素版本在批量 1 时的速度出发；相差不超过 5% 都算对。"),
)  # fmt: skip

CM_CASES = ((200, 10, 10), (57, 10, 7), (300, 3, 3))  # (examples, num_classes, labels drawn)
CM_MISTAKES = [  # (predicate on (got, right counts, examples), hint key)
    (lambda got, right, n: not got.any(), "cm_empty"),
    (lambda got, right, n: torch.equal(got, right.T), "cm_transposed"),
    (lambda got, right, n: torch.allclose(got, right / n) or torch.allclose(
        got, right / right.sum(dim=1, keepdim=True).clamp(min=1)), "cm_shares"),
    (lambda got, right, n: torch.equal(got, torch.diag(right.diagonal())), "cm_diagonal"),
    (lambda got, right, n: got.sum().item() != n, "cm_total"),
]


@self_check
def check_confusion_matrix(fn: Callable, lang: str = "en") -> bool:
    """Test `fn(predicted, labels, num_classes)`, a learner's confusion matrix (rows: true
    classes, columns: predicted), against `alexnet_lib.confusion_matrix` on random
    predictions, one case with classes that never occur among them."""
    verdict, generator = Verdict(MESSAGES, lang), torch.Generator().manual_seed(0)
    for n, k, drawn in CM_CASES:
        labels, predicted = torch.randint(0, drawn, (2, n), generator=generator)
        expected = confusion_matrix(predicted, labels, k).double()
        fail = partial(verdict.fail, "cm_case", n=n, k=k)
        got, error = call(fn, predicted.clone(), labels.clone(), k)
        if error:
            return fail("cm_raised", error=error)
        try:
            got = on_cpu(torch.as_tensor(got))
        except Unreadable:
            return fail("cpu")
        except Exception:  # text, None, lists of mixed or outsized things ...
            return fail("cm_not_tensor", got=type(got).__name__)
        if got.is_complex():
            return fail("cm_not_tensor", got=got.dtype)
        got = got.double()
        if got.shape != expected.shape:
            return fail("cm_shape", got=list(got.shape), expected=list(expected.shape))
        if not torch.equal(got, expected):
            found = first_hint(CM_MISTAKES, lambda m: m(got, expected, n), "cm_wrong")  # noqa: B023
            i, j = (got != expected).nonzero()[0].tolist()
            shown = got.sum() if found == "cm_total" else got[i, j]
            return fail(found, got=f"{shown.item():g}", i=i, j=j)
    return verdict.ok("cm_right", n=len(CM_CASES))


@self_check
def check_run_hours(answer: object, record: dict, lang: str = "en", epochs: int = 5,
                    train_images: int = 60_000) -> bool:
    """Check the hours the naive version's run (batch 1, `epochs` epochs, training only) needs at
    its batch-1 speed in `record`, from `alexnet_lib.experiments.records.recorded_results()`,
    or in another record of that device and image size, exact or as printed (one decimal).
    Within 5% passes."""
    targets, mistakes = [], []
    same = [r for r in recorded_results() if r.get("file") != record.get("file")
            and (r.get("device"), r.get("image_size")) == (record["device"], record["image_size"])]
    for r in [record, *same]:
        speed = r["train_source_batch1"]
        for shown in (speed, round(speed, 1)):
            hours = epochs * train_images / shown / 3600
            targets.append((hours, {"speed": shown, "hours": hours,
                                    "record": f"{r['device']}, {r['date']}"}))  # fmt: skip
        mistakes += [(hours * 3600, "hours_seconds"), (hours * 60, "hours_minutes"),
                     (hours / epochs, "hours_one_epoch"),
                     (hours * speed / r[f"train_source_batch{r['batch_size']}"], "hours_batch"),
                     (hours * speed / r["train_library"], "hours_library"),
                     (hours * (train_images + 10_000) / train_images, "hours_test")]  # fmt: skip
    mistakes += [(epochs * train_images / r["train_source_batch1"] / 3600, "hours_size")
                 for r in recorded_results() if "train_source_batch1" in r
                 and r["image_size"] != record["image_size"]]  # fmt: skip
    return check_number(Verdict(MESSAGES, lang), answer, targets, mistakes,
                        lambda a, value: abs(a - value) <= 0.05 * value, "hours", epochs=epochs,
                        n=train_images, size=record["image_size"])
