"""Chapter 6 (training AlexNet): a learner's confusion matrix, and the source run's hours."""

from __future__ import annotations

from collections.abc import Callable
from numbers import Real

import torch

from ..evaluation import confusion_matrix
from ._common import _MESSAGES, _report, _text

# --- Chapter 6: training AlexNet on Fashion-MNIST ---------------------------------------------

_MESSAGES["en"].update({
    # check_confusion_matrix
    "cm_right": "Your matrix agrees with the reference on all {n} test cases, including "
                "classes that never occur.",
    "cm_case": "For {n} examples and num_classes={k}: {what}",
    "cm_raised": "your function raised {error}.",
    "cm_raised_hint": "It is called as fn(predicted, labels, num_classes): two 1-D int64 "
                      "tensors of the same length and a whole number. It should return a "
                      "[num_classes, num_classes] tensor of counts.",
    "cm_not_tensor": "your function returned {got}, which is not a table of numbers.",
    "cm_not_tensor_hint": "Return a tensor, e.g. torch.zeros(num_classes, num_classes, "
                          "dtype=torch.int64) filled with the counts.",
    "cm_shape": "your matrix has the shape {got}, not {expected}.",
    "cm_shape_hint": "One row per true class and one column per predicted class. Take the "
                     "size from num_classes, not from the largest label you see: a class "
                     "that never occurs still gets its (empty) row and column; with "
                     "torch.bincount that is minlength=num_classes ** 2.",
    "cm_transposed": "your matrix is the transpose of the right one.",
    "cm_transposed_hint": "Rows are the true classes and columns the predictions: "
                          "counts[labels[n], predicted[n]] += 1, so that row i tells where the "
                          "examples of class i went.",
    "cm_shares": "your matrix holds shares, not counts.",
    "cm_shares_hint": "Count the examples: every entry is a whole number and all of them add "
                      "up to the number of examples. Dividing each row by its sum is a step "
                      "for plotting, not part of the matrix.",
    "cm_empty": "your matrix is all zeros: nothing has been counted yet.",
    "cm_empty_hint": "For every example n, add 1 at row labels[n], column predicted[n]. "
                     "Without a Python loop: give each pair the number labels * num_classes "
                     "+ predicted and count them with torch.bincount.",
    "cm_diagonal": "only the diagonal (the correct predictions) is filled in.",
    "cm_diagonal_hint": "Count every example, right or wrong, in row labels[n] and column "
                        "predicted[n]: the mistakes are what the matrix is for.",
    "cm_total": "your counts add up to {got}, not to the {n} examples.",
    "cm_total_hint": "Each example must be counted exactly once. With indexing, "
                     "counts[labels, predicted] += 1 counts a repeated (label, prediction) "
                     "pair only once; use index_put_(..., accumulate=True) or torch.bincount "
                     "on labels * num_classes + predicted.",
    "cm_wrong": "some counts differ from the reference (first at row {i}, column {j}: "
                "{got} instead of {expected}).",
    "cm_wrong_hint": "Entry [i, j] counts the examples whose true class is i and whose "
                     "predicted class is j.",
    # check_run_hours
    "hours_right": "At {speed:.2f} images/s, {epochs} epochs of {n:,} images take "
                   "{hours:.1f} hours ({record}).",
    "hours_case": "Your answer is {answer!r} hours.",
    "hours_not_number": "Give one number, the hours.",
    "hours_seconds": "That is the time in seconds: divide by 3,600 for hours.",
    "hours_minutes": "That is the time in minutes: divide by 60 for hours.",
    "hours_batch": "That uses the source loop's speed at batch {batch}; the notebook trained "
                   "with batch_size=1.",
    "hours_library": "That uses the library's speed; the question asks about the source "
                     "notebook's loop at batch 1.",
    "hours_test": "Count the 60,000 training images only; the question leaves out the test "
                  "pass.",
    "hours_one_epoch": "That is one epoch; the source notebook asked for num_epochs={epochs}.",
    "hours_generic": "Multiply the number of training images by the number of epochs, divide "
                     "by the images per second of the source loop at batch 1 "
                     "(train_source_batch1 in the record), then by 3,600.",
})  # fmt: skip
_MESSAGES["zh"].update({
    "cm_right": "你的矩阵在全部 {n} 个测试用例上都与参考实现一致，包括从未出现的类别。",
    "cm_case": "{n} 个样本、num_classes={k} 时：{what}",
    "cm_raised": "你的函数抛出了 {error}。",
    "cm_raised_hint": "调用方式是 fn(predicted, labels, num_classes)：两个长度相同的一维 int64 "
                      "张量和一个整数。应返回形状为 [num_classes, num_classes] 的计数张量。",
    "cm_not_tensor": "你的函数返回了 {got}，这不是一张数表。",
    "cm_not_tensor_hint": "请返回张量，例如先建 torch.zeros(num_classes, num_classes, "
                          "dtype=torch.int64)，再填入计数。",
    "cm_shape": "你的矩阵形状是 {got}，而不是 {expected}。",
    "cm_shape_hint": "每个真实类别一行，每个预测类别一列。大小要取自 num_classes，而不是看到的"
                     "最大标签：从未出现的类别也要有它的（空）行和列；用 torch.bincount 时就是 "
                     "minlength=num_classes ** 2。",
    "cm_transposed": "你的矩阵是正确答案的转置。",
    "cm_transposed_hint": "行是真实类别，列是预测类别：counts[labels[n], predicted[n]] += 1，"
                          "这样第 i 行才能看出第 i 类的样本都被分到了哪里。",
    "cm_shares": "你的矩阵里是比例，而不是计数。",
    "cm_shares_hint": "要数样本个数：每一项都是整数，全部加起来等于样本数。把每一行除以行和，"
                      "是画图时才做的事，不属于矩阵本身。",
    "cm_empty": "你的矩阵全是零：还什么都没有统计。",
    "cm_empty_hint": "对每个样本 n，在第 labels[n] 行、第 predicted[n] 列加 1。不写 Python 循环"
                     "的做法是：给每一对编号 labels * num_classes + predicted，再用 "
                     "torch.bincount 计数。",
    "cm_diagonal": "只填了对角线（预测正确的样本）。",
    "cm_diagonal_hint": "每个样本，无论对错，都要记在第 labels[n] 行、第 predicted[n] 列："
                        "混淆矩阵要看的恰恰是错误。",
    "cm_total": "你的计数加起来是 {got}，而不是 {n} 个样本。",
    "cm_total_hint": "每个样本必须恰好数一次。用索引写 counts[labels, predicted] += 1 时，"
                     "重复出现的（标签，预测）对只会被加一次；请改用 "
                     "index_put_(..., accumulate=True)，或对 labels * num_classes + predicted "
                     "用 torch.bincount。",
    "cm_wrong": "有些计数与参考实现不同（第一个在第 {i} 行、第 {j} 列：是 {got}，应为 "
                "{expected}）。",
    "cm_wrong_hint": "第 [i, j] 项统计的是真实类别为 i、预测类别为 j 的样本数。",
    "hours_right": "以每秒 {speed:.2f} 张图像的速度，{n:,} 张图像训练 {epochs} 个迭代周期需要 "
                   "{hours:.1f} 小时（{record}）。",
    "hours_case": "你的答案是 {answer!r} 小时。",
    "hours_not_number": "请给出一个数：小时数。",
    "hours_seconds": "这是以秒为单位的时间：除以 3,600 才是小时。",
    "hours_minutes": "这是以分钟为单位的时间：除以 60 才是小时。",
    "hours_batch": "这用的是原 notebook 训练循环在批量 {batch} 时的速度；原 notebook 用的是 "
                   "batch_size=1。",
    "hours_library": "这用的是本库的速度；题目问的是原 notebook 在批量 1 时的训练循环。",
    "hours_test": "只算 60,000 张训练图像；题目不包括在测试集上的评估。",
    "hours_one_epoch": "这只是一个迭代周期；原 notebook 设的是 num_epochs={epochs}。",
    "hours_generic": "用训练图像数乘以迭代周期数，除以原训练循环在批量 1 时每秒处理的图像数"
                     "（记录中的 train_source_batch1），再除以 3,600。",
})  # fmt: skip

_CM_CASES = ((200, 10, 10), (57, 10, 7), (300, 3, 3))  # (examples, num_classes, labels drawn)


def check_confusion_matrix(fn: Callable, lang: str = "en") -> bool:
    """Test `fn(predicted, labels, num_classes)`, a learner's confusion matrix.

    It is compared with `alexnet_lib.confusion_matrix` on random predictions, including a case
    where the last classes never occur. Rows must be the true classes, columns the predicted.
    """
    text = _text(lang)
    generator = torch.Generator().manual_seed(0)
    for n, k, drawn in _CM_CASES:
        labels = torch.randint(0, drawn, (n,), generator=generator)
        predicted = torch.randint(0, drawn, (n,), generator=generator)
        expected = confusion_matrix(predicted, labels, k)

        def wrong(what: str, hint: str, n=n, k=k) -> bool:
            return _report(False, text, text["cm_case"].format(n=n, k=k, what=what), hint)

        try:
            got = fn(predicted.clone(), labels.clone(), k)
        except Exception as err:  # a learner's function may fail in any way
            what = text["cm_raised"].format(error=f"{type(err).__name__}: {err}")
            return wrong(what, text["cm_raised_hint"])
        try:
            got = torch.as_tensor(got).detach().cpu()
        except (TypeError, ValueError, RuntimeError):
            what = text["cm_not_tensor"].format(got=type(got).__name__)
            return wrong(what, text["cm_not_tensor_hint"])
        if got.shape != expected.shape:
            what = text["cm_shape"].format(got=list(got.shape), expected=list(expected.shape))
            return wrong(what, text["cm_shape_hint"])
        got_float, expected_float = got.double(), expected.double()
        if torch.equal(got_float, expected_float):
            continue
        if not got_float.any():
            return wrong(text["cm_empty"], text["cm_empty_hint"])
        if torch.equal(got_float, expected_float.T):
            return wrong(text["cm_transposed"], text["cm_transposed_hint"])
        shares = expected_float / expected_float.sum(dim=1, keepdim=True).clamp(min=1)
        if torch.allclose(got_float, shares) or torch.allclose(got_float, expected_float / n):
            return wrong(text["cm_shares"], text["cm_shares_hint"])
        if torch.equal(got_float, torch.diag(expected_float.diagonal())):
            return wrong(text["cm_diagonal"], text["cm_diagonal_hint"])
        total = got_float.sum().item()
        if total != n:
            what = text["cm_total"].format(got=f"{total:g}", n=n)
            return wrong(what, text["cm_total_hint"])
        i, j = (got_float != expected_float).nonzero()[0].tolist()
        what = text["cm_wrong"].format(i=i, j=j, got=f"{got_float[i, j].item():g}",
                                       expected=int(expected[i, j]))
        return wrong(what, text["cm_wrong_hint"])
    return _report(True, text, text["cm_right"].format(n=len(_CM_CASES)))


def check_run_hours(answer: object, record: dict, lang: str = "en", epochs: int = 5,
                    train_images: int = 60_000) -> bool:
    """Check the hours the source notebook's run (batch 1, `epochs` epochs) needs.

    `record` is a benchmark record from `alexnet_lib.bench.recorded_results()`; the answer
    counts training only, and passes within 5%.
    """
    text = _text(lang)
    speed = record["train_source_batch1"]
    seconds = epochs * train_images / speed
    hours = seconds / 3600
    detail = text["hours_case"].format(answer=answer)

    def close(value: float, target: float) -> bool:
        return abs(value - target) <= 0.05 * abs(target)

    if not isinstance(answer, Real) or isinstance(answer, bool):
        return _report(False, text, detail, text["hours_not_number"])
    if close(answer, hours):
        return _report(True, text, text["hours_right"].format(
            speed=speed, epochs=epochs, n=train_images, hours=hours,
            record=f"{record['device']}, {record['date']}"))
    batch = record["batch_size"]
    others = [
        (seconds, text["hours_seconds"]),
        (seconds / 60, text["hours_minutes"]),
        (hours / epochs, text["hours_one_epoch"].format(epochs=epochs)),
        (hours * speed / record[f"train_source_batch{batch}"],
         text["hours_batch"].format(batch=batch)),
        (hours * speed / record["train_library"], text["hours_library"]),
        (hours * (train_images + 10_000) / train_images, text["hours_test"]),
    ]
    hint = next((h for value, h in others if close(answer, value)), text["hours_generic"])
    return _report(False, text, detail, hint)
