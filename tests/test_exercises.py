import math

import pytest

from alexnet_lib import AlexNet, LeNet, layer_summary
from alexnet_lib.exercises import (
    check_alexnet_fc_share,
    check_conv_output_size,
    check_lenet_param_count,
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


# --- check_lenet_param_count --------------------------------------------------------------

LENET_PARAMS = sum(p.numel() for p in LeNet().parameters())


def test_lenet_count_is_the_known_value():
    assert LENET_PARAMS == 61_706  # 156 + 2,416 + 48,120 + 10,164 + 850


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lenet_check_accepts_the_count(capsys, lang):
    assert check_lenet_param_count(LENET_PARAMS, lang=lang) is True
    out = capsys.readouterr().out
    assert "61,706" in out and "48,120" in out


def test_lenet_check_accepts_the_count_as_a_float():
    assert check_lenet_param_count(float(LENET_PARAMS)) is True


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (61_470, "weights only"),  # no biases
        (61_706 - 156, "conv.0"),  # first convolution forgotten
        (61_706 - 48_120, "fc.0"),
        (61_706 - 48_120 + 16 * 4 * 4 * 120 + 120, "padding 2"),
        (sum(p.numel() for p in AlexNet().parameters()), "AlexNet"),
        (61_707, "Add the layers one by one"),
        (0, "Add the layers one by one"),
        (61_706.5, "whole number"),
        ("61706", "one number"),
    ],
)
def test_lenet_check_rejects_wrong_counts_with_a_hint(capsys, answer, hint):
    assert check_lenet_param_count(answer) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint: " in out and hint in out


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
        check_lenet_param_count(LENET_PARAMS, lang="fr")
