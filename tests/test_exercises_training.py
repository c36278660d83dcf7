"""The self-checks of chapter 6 (training AlexNet): check_confusion_matrix, check_run_hours."""

import pytest
import torch

from alexnet_lib import confusion_matrix
from alexnet_lib.book.exercises import check_confusion_matrix, check_run_hours
from alexnet_lib.experiments.records import recorded_results


def with_a_loop(predicted, labels, num_classes):
    counts = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    for t, p in zip(labels.tolist(), predicted.tolist(), strict=True):
        counts[t, p] += 1
    return counts


def as_nested_lists(predicted, labels, num_classes):
    return with_a_loop(predicted, labels, num_classes).tolist()


@pytest.mark.parametrize("fn", [confusion_matrix, with_a_loop, as_nested_lists])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_confusion_check_accepts_right_answers(capsys, fn, lang):
    assert check_confusion_matrix(fn, lang=lang) is True
    out = capsys.readouterr().out
    assert ("Correct" in out) if lang == "en" else ("正确" in out)


def transposed(predicted, labels, num_classes):
    return with_a_loop(predicted, labels, num_classes).T


def row_shares(predicted, labels, num_classes):
    counts = with_a_loop(predicted, labels, num_classes).float()
    return counts / counts.sum(dim=1, keepdim=True).clamp(min=1)


def diagonal_only(predicted, labels, num_classes):
    counts = with_a_loop(predicted, labels, num_classes)
    return torch.diag(counts.diagonal())


def fancy_index_without_accumulate(predicted, labels, num_classes):
    counts = torch.zeros(num_classes, num_classes, dtype=torch.int64)
    counts[labels, predicted] += 1  # repeated pairs are counted once
    return counts


def size_from_the_data(predicted, labels, num_classes):
    k = int(max(labels.max(), predicted.max())) + 1
    return torch.bincount(labels * k + predicted, minlength=k * k).reshape(k, k)


def raises(predicted, labels, num_classes):
    raise NotImplementedError("todo")


def off_by_one(predicted, labels, num_classes):
    counts = with_a_loop(predicted, labels, num_classes)
    counts[0, 1] += 1
    counts[0, 0] -= 1
    return counts


@pytest.mark.parametrize(
    "fn, hint",
    [
        (transposed, "rows are the true classes"),
        (row_shares, "count the examples"),
        (diagonal_only, "count every example, right or wrong"),
        (fancy_index_without_accumulate, "accumulate=True"),
        (size_from_the_data, "take the size from num_classes"),
        (raises, "fn(predicted, labels, num_classes)"),
        (lambda p, t, k: torch.zeros(k, k, dtype=torch.int64), "all zeros"),  # the start
        (lambda p, t, k: "matrix", "return a tensor"),
        (off_by_one, "Entry [0, 0]"),
    ],
)
def test_confusion_check_explains_each_mistake(capsys, fn, hint):
    assert check_confusion_matrix(fn) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and hint in out


def test_confusion_check_speaks_chinese(capsys):
    assert check_confusion_matrix(transposed, lang="zh") is False
    assert "转置" in capsys.readouterr().out


@pytest.fixture
def record():
    return recorded_results()[0]


def source_seconds(record, epochs=5):
    return epochs * 60_000 / record["train_source_batch1"]


def test_run_hours_accepts_the_hours(capsys, record):
    hours = source_seconds(record) / 3600
    assert check_run_hours(round(hours, 1), record) is True
    assert f"{hours:.1f} hours" in capsys.readouterr().out


@pytest.mark.parametrize(
    "mistake, hint",
    [
        (lambda s: s, "seconds"),
        (lambda s: s / 60, "minutes"),
        (lambda s: s / 3600 / 5, "num_epochs=5"),
        (lambda s: 70_000 / 60_000 * s / 3600, "training images only"),
        (lambda s: "eight", "one number"),
    ],
)
def test_run_hours_names_the_mistake(capsys, record, mistake, hint):
    assert check_run_hours(mistake(source_seconds(record)), record) is False
    assert hint in capsys.readouterr().out


def test_run_hours_knows_the_batch_128_speed(capsys, record):
    batch = record["batch_size"]
    assert not check_run_hours(5 * 60_000 / record[f"train_source_batch{batch}"] / 3600, record)
    assert "batch_size=1" in capsys.readouterr().out


def test_run_hours_speaks_chinese(capsys, record):
    assert check_run_hours(source_seconds(record), record, lang="zh") is False
    assert "除以 3,600" in capsys.readouterr().out
