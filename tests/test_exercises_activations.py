"""The self-checks of chapter 3 (ReLU vs sigmoid): right answers pass, typical mistakes get
the hint written for them."""

import math

import pytest
import torch

from alexnet_lib.book.exercises import check_dead_fraction, check_sigmoid_grad

# --- check_sigmoid_grad ---------------------------------------------------------------------


def sigmoid_grad(x):
    s = torch.sigmoid(x)
    return s * (1 - s)


def autograd_sigmoid_grad(x):
    x = x.clone().requires_grad_(True)
    torch.sigmoid(x).sum().backward()
    return x.grad


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_sigmoid_check_accepts_the_derivative(capsys, lang):
    assert check_sigmoid_grad(sigmoid_grad, lang=lang) is True
    out = capsys.readouterr().out
    assert ("Correct" in out) if lang == "en" else ("正确" in out)
    assert "0.2500" in out
    assert "Hint" not in out and "提示" not in out


@pytest.mark.parametrize(
    "right",
    [
        lambda x: torch.sigmoid(x) * torch.sigmoid(-x),
        autograd_sigmoid_grad,
        lambda x: sigmoid_grad(x.double()),  # float64 is fine
        lambda x: sigmoid_grad(x).requires_grad_(),  # so is a tensor that needs grad
    ],
)
def test_sigmoid_check_accepts_other_correct_forms(right):
    assert check_sigmoid_grad(right) is True


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda x: torch.exp(-x) / (1 + torch.exp(-x)) ** 2, "large negative x"),
        (lambda x: torch.exp(x) / (1 + torch.exp(x)) ** 2, "large positive x"),
        (torch.sigmoid, "sigmoid itself"),
        (lambda x: x * (1 - x), "in terms of sigma(x)"),
        (lambda x: 1 - torch.sigmoid(x), "denominator is squared"),
        (lambda x: torch.exp(-x) / (1 + torch.exp(-x)), "denominator is squared"),
        (lambda x: 1 - torch.sigmoid(x) ** 2, "tanh"),
        (lambda x: (x > 0).float(), "ReLU's derivative"),
        (lambda x: 0.5 * sigmoid_grad(x), "chain rule"),
        (lambda x: torch.zeros_like(x), "returns 0 everywhere"),  # the exercise's start
        (lambda x: math.exp(-x), "not math.exp"),
        (lambda x: sigmoid_grad(x)[:5], "same shape"),
        (lambda x: sigmoid_grad(x).tolist(), "same shape"),
        (lambda: 0.25, "fn(x)"),
    ],
)
def test_sigmoid_check_rejects_mistakes_with_a_hint(capsys, wrong, hint):
    assert check_sigmoid_grad(wrong) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint: " in out and hint in out, out


def test_sigmoid_check_shows_x_zero_when_wrong_there(capsys):
    check_sigmoid_grad(torch.sigmoid)
    out = capsys.readouterr().out
    assert "For x = 0 your function returned 0.5" in out and "0.25" not in out


def test_sigmoid_check_names_the_overflowing_point(capsys):
    check_sigmoid_grad(lambda x: torch.exp(-x) / (1 + torch.exp(-x)) ** 2)
    assert "For x = -100 your function returned nan" in capsys.readouterr().out


def test_sigmoid_check_does_not_let_fn_change_the_reference():
    def in_place(x):
        s = torch.sigmoid(x)
        x.zero_()  # a learner's function that clobbers its input
        return s * (1 - s)

    assert check_sigmoid_grad(in_place) is True


def test_sigmoid_check_hint_in_chinese(capsys):
    assert check_sigmoid_grad(torch.sigmoid, lang="zh") is False
    out = capsys.readouterr().out
    assert "还不对" in out and "提示" in out and "sigmoid 函数本身" in out


# --- check_dead_fraction --------------------------------------------------------------------


def dead_fraction(A):
    units = A.transpose(0, 1).flatten(1)  # one row per unit: a feature or a channel
    return (units.amax(dim=1) == 0).float().mean().item()


def dead_fraction_2d(A):
    """The chapter's version for linear layers: right for [batch, units] only."""
    return ((A > 0).sum(dim=0) == 0).float().mean().item()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_dead_check_accepts_a_correct_function(capsys, lang):
    assert check_dead_fraction(dead_fraction, lang=lang) is True
    out = capsys.readouterr().out
    assert ("Correct" in out) if lang == "en" else ("正确" in out)
    assert "Hint" not in out and "提示" not in out


@pytest.mark.parametrize(
    "right",
    [
        lambda A: (~(A.transpose(0, 1).reshape(A.shape[1], -1) > 0).any(dim=1)).float().mean(),
        lambda A: float((A.sum(dim=[d for d in range(A.dim()) if d != 1]) == 0).float().mean()),
        lambda A: sum(bool((A[:, u] == 0).all()) for u in range(A.shape[1])) / A.shape[1],
    ],
)
def test_dead_check_accepts_other_correct_forms(right):
    assert check_dead_fraction(right) is True


def test_dead_check_cases_are_not_trivial():
    """The reference answers differ from every mistake the check names, case by case."""
    from alexnet_lib.book.exercises import activations as exercises

    cases = [A for (A,) in exercises._dead_cases()]
    expected = [dead_fraction(A) for A in cases]
    assert len({round(e, 6) for e in expected}) >= 4
    assert {A.dim() for A in cases} == {2, 4}
    assert all(A.shape[0] != A.shape[1] for A in cases)
    assert all((A >= 0).all() for A in cases)
    for mistake, _ in exercises.DEAD_MISTAKES:
        assert [mistake(A) for A in cases] != pytest.approx(expected)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (dead_fraction_2d, "every position"),
        (lambda A: dead_fraction_2d(A) if A.dim() == 2 else 0.3, "units are the channels"),
        (lambda A: (A == 0).float().mean().item(), "zero entries"),
        (lambda A: (A == 0).any(dim=0).float().mean().item(), "zero for some example"),
        (lambda A: ((A > 0).sum(dim=1) == 0).float().mean().item(), "Dimension 0 is the batch"),
        (lambda A: int(((A > 0).sum(dim=0) == 0).sum()), "divide by the number of units"),
        (lambda A: 100 * dead_fraction(A), "not a percentage"),
        (lambda A: (A < 0).all(dim=0).float().mean().item(), "never negative"),
        (lambda A: (A > 0).sum(dim=0) == 0, "one number"),
        (lambda A: "10%", "one number"),
        (lambda A: 0.5, "0 for every example"),
        (lambda A, B: 0.0, "fn(A)"),
    ],
)
def test_dead_check_rejects_mistakes_with_a_hint(capsys, wrong, hint):
    assert check_dead_fraction(wrong) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint: " in out and hint in out, out


def test_dead_check_flags_a_function_that_fails_on_convolutions(capsys):
    def only_linear(A):
        if A.dim() != 2:
            raise ValueError("expected a 2-D tensor")
        return dead_fraction(A)

    assert check_dead_fraction(only_linear) is False
    out = capsys.readouterr().out
    assert "[8, 6, 7, 7]" in out and "ValueError: expected a 2-D tensor" in out
    assert "[batch, channels, height, width]" in out


def test_dead_check_names_a_failing_batch(capsys):
    check_dead_fraction(lambda A: (A == 0).float().mean().item())
    out = capsys.readouterr().out
    assert "For A.shape = [64, 50] your function returned" in out and "0.1" not in out


def test_dead_check_hint_in_chinese(capsys):
    assert check_dead_fraction(dead_fraction_2d, lang="zh") is False
    out = capsys.readouterr().out
    assert "还不对" in out and "提示" in out and "通道" in out


def test_checks_refuse_unknown_languages():
    with pytest.raises(ValueError, match="lang"):
        check_sigmoid_grad(sigmoid_grad, lang="fr")
    with pytest.raises(ValueError, match="lang"):
        check_dead_fraction(dead_fraction, lang="de")
