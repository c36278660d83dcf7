"""The self-checks of chapter 4 (dropout): right answers pass, common mistakes get their hint."""

import pytest
import torch
import torch.nn.functional as F

from alexnet_lib.book.exercises import check_dropout, check_dropout_variance


def dropout(X, p):
    """The chapter's inverted dropout."""
    assert 0 <= p <= 1
    if p == 1:
        return torch.zeros_like(X)
    keep = torch.rand_like(X) >= p
    return X * keep / (1 - p)


def dropout_bernoulli(X, p):
    """Exercise 1's solution."""
    if p == 1:
        return torch.zeros_like(X)
    return X * torch.bernoulli(torch.full_like(X, 1 - p)) / (1 - p)


def _keep(X, p):
    return torch.rand_like(X) >= p


# --- check_dropout: right answers ----------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize(
    "fn",
    [dropout, dropout_bernoulli, F.dropout, lambda X, p: torch.nn.Dropout(p)(X)],
    ids=["chapter", "bernoulli", "F.dropout", "nn.Dropout"],
)
def test_dropout_check_accepts_inverted_dropout(capsys, fn, lang):
    assert check_dropout(fn, lang=lang) is True
    out = capsys.readouterr().out
    assert ("Correct" in out) if lang == "en" else ("正确" in out)
    assert "Hint" not in out and "提示" not in out
    # The measured statistics are part of the message.
    assert "p=0.8" in out and ("survivors = 5" in out or "保留的元素 = 5" in out)


def test_dropout_check_is_repeatable_and_leaves_the_random_state_alone(capsys):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    first = check_dropout(dropout)
    after = torch.rand(3)
    second = check_dropout(dropout)
    assert first is second is True
    assert torch.equal(after, expected), "the check used the caller's random numbers"
    outputs = capsys.readouterr().out.split("Correct!")
    assert outputs[1] == outputs[2], "two runs of the check measured different statistics"


# --- check_dropout: mistakes and their hints --------------------------------------------------

MISTAKES = {
    # no 1/(1-p): survivors keep their value and the mean shrinks to 1 - p
    "no scaling": (lambda X, p: X * _keep(X, p), "mean shrinks to 1 - p"),
    # the two ways of scaling "by p"
    "divided by p": (
        lambda X, p: X * _keep(X, p) / p if p > 0 else X, "probability of *keeping*"
    ),
    "multiplied by p": (lambda X, p: X * _keep(X, p) * p if p > 0 else X, "with p"),
    "multiplied by 1-p": (lambda X, p: X * _keep(X, p) * (1 - p), "divide by it instead"),
    # wrong fraction zeroed
    "keep probability p": (
        lambda X, p: X * (torch.rand_like(X) < p) / (1 - p) if p < 1 else torch.zeros_like(X),
        "keep each entry with probability p",
    ),
    "fraction p/2": (
        lambda X, p: X * (torch.rand_like(X) >= p / 2) / (1 - p / 2)
        if p < 1 else torch.zeros_like(X),
        "independently of the others",
    ),
    "thresholds X, not random numbers": (
        lambda X, p: X * X.gt(p) / (1 - p) if p < 1 else torch.zeros_like(X),
        "Nothing was dropped",
    ),
    "drops nothing": (lambda X, p: X, "Nothing was dropped"),
    # p = 0 and p = 1
    "p = 1 divides by zero": (lambda X, p: X * _keep(X, p) / (1 - p), "p == 1"),
    "p = 0 drops anyway": (
        lambda X, p: X * (torch.rand_like(X) >= max(p, 0.01)) / (1 - max(p, 0.01))
        if p < 1 else torch.zeros_like(X),
        "with p=0 nothing is dropped",
    ),
    # shape, dtype, input
    "in place": (
        lambda X, p: X.mul_(_keep(X, p) / (1 - p)) if p < 1 else X.zero_(),
        "Leave X as it is",
    ),
    "flattens": (
        lambda X, p: (X * _keep(X, p) / (1 - p)).flatten() if p < 1 else torch.zeros_like(X),
        "keeps the shape",
    ),
    "float32 mask": (
        lambda X, p: (torch.rand(X.shape) >= p).float() * X / (1 - p)
        if p < 1 else torch.zeros_like(X),
        "Keep X's dtype",
    ),
    "returns numpy": (lambda X, p: (X * _keep(X, p) / (1 - p)).numpy(), "returns a tensor"),
    # one mask for the whole batch, the mistake chapter 4 warns about
    "shared mask": (
        lambda X, p: X * (torch.rand(X.shape[1:]) >= p) / (1 - p) if p < 1 else torch.zeros_like(X),
        "Each example needs its own",
    ),
    "wrong signature": (lambda X: X, "fn(X, p)"),
    # the same mask every call
    "fixed pattern": (
        lambda X, p: X * (torch.arange(X.numel()).reshape(X.shape) % 100 >= 100 * p) / (1 - p)
        if p < 1 else torch.zeros_like(X),
        "fresh random mask",
    ),
    # noise instead of one factor
    "random scale": (
        lambda X, p: X * _keep(X, p) * (1 + torch.rand_like(X)) / (1 - p)
        if p < 1 else torch.zeros_like(X),
        "same factor",
    ),
}


@pytest.mark.parametrize("name", list(MISTAKES))
def test_dropout_check_rejects_mistakes_with_a_hint(capsys, name):
    fn, hint = MISTAKES[name]
    assert check_dropout(fn) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint: " in out
    assert hint in out, out


def test_dropout_check_reports_the_measured_statistics(capsys):
    check_dropout(MISTAKES["no scaling"][0])
    out = capsys.readouterr().out
    # The first case is p = 0.2: about 0.2 zeroed, survivors left at 1, mean about 0.8.
    assert "p=0.2: 0.2" in out and "survivors = 1," in out and "mean 0.8" in out


def test_dropout_check_tells_divided_by_p_from_right_at_p_one_half(capsys):
    # 1/p and 1/(1-p) agree at p = 0.5; the check must still catch dividing by p.
    assert check_dropout(MISTAKES["divided by p"][0]) is False
    assert "survivors = 5" in capsys.readouterr().out  # p = 0.2: 1/p = 5, not 1.25


@pytest.mark.parametrize("lang, mistake, said", [
    ("en", "p = 0 drops anyway", "With p = 0 your function changed 100,000 of the 100,000 "
                                 "entries of X."),
    ("en", "p = 1 divides by zero", "With p = 1, 100,000 of the 100,000 entries your function "
                                    "returned are not 0."),
    ("zh", "p = 0 drops anyway", "p = 0 时，你的函数改动了 X 的 100,000 个元素中的 100,000 个。"),
    ("zh", "p = 1 divides by zero",
     "p = 1 时，你的函数返回的 100,000 个元素中有 100,000 个不是 0。"),
])
def test_dropout_check_says_in_words_what_went_wrong_at_p_0_and_1(capsys, lang, mistake, said):
    assert check_dropout(MISTAKES[mistake][0], lang=lang) is False
    out = capsys.readouterr().out
    assert said in out, out
    assert "!=" not in out and " / " not in out  # no expression to decode


def test_dropout_check_hint_in_chinese(capsys):
    assert check_dropout(MISTAKES["no scaling"][0], lang="zh") is False
    out = capsys.readouterr().out
    assert "还不对" in out and "提示" in out and "1 - p" in out


# --- check_dropout_variance -------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_variance_check_accepts_the_formula(capsys, lang):
    assert check_dropout_variance(lambda h, p: p / (1 - p) * h**2, lang=lang) is True
    assert check_dropout_variance(lambda h, p: h * h / (1 - p) - h * h, lang=lang) is True
    out = capsys.readouterr().out
    assert "p/(1-p) * h^2" in out


def test_variance_formula_matches_nn_dropout():
    torch.manual_seed(0)
    for h, p in ((1.0, 0.5), (2.0, 0.2), (0.5, 0.8)):
        out = torch.nn.Dropout(p)(torch.full((400_000,), h))
        assert out.var().item() == pytest.approx(p / (1 - p) * h**2, rel=0.03)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda h, p: h**2 / (1 - p), "That is E[h'^2]"),
        (lambda h, p: p * (1 - p) * h**2, "without the 1/(1-p) scaling"),
        (lambda h, p: p / (1 - p) * h, "h enters squared"),
        (lambda h, p: (p / (1 - p)) ** 0.5 * abs(h), "standard deviation"),
        (lambda h, p: p * h**2, "E[h'^2] - (E[h'])^2"),
        (lambda h, p: 0.0, "returns 0"),  # the exercise's starting point
        (lambda h: h, "fn(h, p)"),
        (lambda h, p: "one", "fn(h, p)"),
    ],
)
def test_variance_check_rejects_mistakes_with_a_hint(capsys, wrong, hint):
    assert check_dropout_variance(wrong) is False
    out = capsys.readouterr().out
    assert "Not yet" in out and "Hint: " in out and hint in out, out


def test_dropout_checks_refuse_unknown_languages():
    with pytest.raises(ValueError, match="lang"):
        check_dropout(dropout, lang="fr")
    with pytest.raises(ValueError, match="lang"):
        check_dropout_variance(lambda h, p: p / (1 - p) * h**2, lang="fr")
