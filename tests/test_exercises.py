import math

import pytest

from alexnet_lib import AlexNet, LeNet, layer_summary
from alexnet_lib.book.exercises import (
    check_alexnet_fc_share,
    check_conv_output_size,
    check_lenet5_param_count,
)


def conv_output_size(n, k, s, p):
    return (n + 2 * p - k) // s + 1


# --- check_conv_output_size ---------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_conv_check_accepts_the_formula(capsys, lang):
    assert check_conv_output_size(conv_output_size, lang=lang) is True
    out = capsys.readouterr().out
    assert ("Correct" in out) if lang == "en" else ("正确" in out)
    assert "Hint" not in out and "提示" not in out


def test_conv_check_accepts_floor_written_with_math():
    assert check_conv_output_size(lambda n, k, s, p: math.floor((n + 2 * p - k) / s) + 1)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda n, k, s, p: (n + 2 * p - k) / s + 1, "round down"),
        (lambda n, k, s, p: math.ceil((n + 2 * p - k) / s) + 1, "rounded up"),
        (lambda n, k, s, p: (n + 2 * p - k) // s, "add 1"),
        (lambda n, k, s, p: (n + p - k) // s + 1, "2 * padding"),
        (lambda n, k, s, p: (n - k) // s + 1, "n + 2p"),
        (lambda n, k, s, p: n + 2 * p - k + 1, "divide"),
        (lambda n, k, s, p: n // s, "how many whole steps of s"),
        (lambda n, k, s, p: n, "size unchanged"),  # the exercise's starting point
        (lambda n, k, s: n, "fn(size, kernel, stride, padding)"),
        (lambda n, k, s, p: None, "whole number"),
    ],
)
def test_conv_check_rejects_mistakes_with_a_hint(capsys, wrong, hint):
    assert check_conv_output_size(wrong) is False
    out = capsys.readouterr().out
    assert "Not yet" in out
    assert "Hint: " in out and hint in out


def test_conv_check_names_a_failing_case_without_the_answer(capsys):
    check_conv_output_size(lambda n, k, s, p: (n + 2 * p - k) // s)  # no + 1
    out = capsys.readouterr().out
    # LeNet's first convolution comes first: 28 + 4 - 5 = 27 steps of 1, i.e. 28 positions.
    assert "size=28, kernel=5, stride=1, padding=2" in out and "returned 27" in out
    assert "28." not in out and "is 28" not in out


def test_conv_check_accepts_right_values_returned_as_floats():
    assert check_conv_output_size(lambda n, k, s, p: float((n + 2 * p - k) // s + 1)) is True


def test_conv_check_hint_in_chinese(capsys):
    assert check_conv_output_size(lambda n, k, s, p: (n + p - k) // s + 1, lang="zh") is False
    out = capsys.readouterr().out
    assert "还不对" in out and "提示" in out and "2 * padding" in out


# --- check_lenet5_param_count -------------------------------------------------------------

LENET5_PARAMS = 60_000  # C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164


def test_lenet5_count_differs_from_the_modernised_lenet_by_its_three_changes():
    # C3's sparse table saves 900 weights, trainable subsampling adds 2 x (6 + 16), and the
    # modern linear output layer adds 850 trainable parameters where LeNet-5's RBF had none.
    modern = sum(p.numel() for p in LeNet().parameters())
    assert modern - LENET5_PARAMS == 900 - 2 * (6 + 16) + 850


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lenet5_check_accepts_the_count(capsys, lang):
    assert check_lenet5_param_count(LENET5_PARAMS, lang=lang) is True
    out = capsys.readouterr().out
    assert "60,000" in out and "C3 1,516" in out


def test_lenet5_check_accepts_the_count_as_a_float():
    assert check_lenet5_param_count(float(LENET5_PARAMS)) is True


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (60_000 - 248, "weights only"),  # no biases
        (60_000 - 1_516, "C3"),  # a layer forgotten
        (60_000 - 48_120, "C5"),
        (60_000 + 900, "all six S2 maps"),  # C3 fully connected
        (60_000 - 44, "trainable coefficient"),  # subsampling as plain average pooling
        (60_000 - 44 + 22 * 5, "one coefficient for the whole 2 x 2 block"),
        (60_000 + 840, "kept fixed"),  # the RBF layer counted
        (sum(p.numel() for p in LeNet().parameters()), "modernised LeNet"),
        (60_001, "Go through C1 to F6"),
        (0, "Go through C1 to F6"),
        (60_000.5, "whole number"),
        ("60000", "one number"),
    ],
)
def test_lenet5_check_rejects_wrong_counts_with_a_hint(capsys, answer, hint):
    assert check_lenet5_param_count(answer) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint: " in out and hint in out
    assert "60,000" not in out and "1,516" not in out


# --- check_alexnet_fc_share ---------------------------------------------------------------


@pytest.fixture(scope="module")
def alexnet_summary():
    return layer_summary(AlexNet(), (1, 224, 224))


def fc_share(summary, column="params"):
    fc = sum(getattr(layer, column) for layer in summary.layers if layer.kind == "Linear")
    total = summary.total_params if column == "params" else summary.total_flops
    return fc / total


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_share_check_accepts_the_exact_and_a_rounded_share(capsys, alexnet_summary, lang):
    share = fc_share(alexnet_summary)
    assert 0.90 < share < 0.95
    assert check_alexnet_fc_share(share, lang=lang) is True
    assert check_alexnet_fc_share(round(share, 2), lang=lang) is True
    assert check_alexnet_fc_share(round(share, 1), lang=lang) is True  # "nine in ten"
    out = capsys.readouterr().out
    assert f"{alexnet_summary.total_params:,}" in out


def test_share_check_rejects_wrong_shares_with_a_hint(capsys, alexnet_summary):
    share = fc_share(alexnet_summary)
    cases = [
        (100 * share, "percentage"),
        (1 - share, "convolutional"),
        (fc_share(alexnet_summary, "flops"), "FLOPs"),
        (share + 0.02, "Linear"),
        (0.5, "Linear"),
        (-1.0, "between 0 and 1"),
        ("92%", "one number"),
        (float("nan"), "one number"),
    ]
    for answer, hint in cases:
        assert check_alexnet_fc_share(answer) is False, answer
        out = capsys.readouterr().out
        assert "Not yet" in out and "Hint: " in out and hint in out, (answer, out)


def test_checks_refuse_unknown_languages():
    with pytest.raises(ValueError, match="lang"):
        check_lenet5_param_count(LENET5_PARAMS, lang="fr")
