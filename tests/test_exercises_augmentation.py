"""The self-check of chapter 5 (image augmentation): check_batched_flip."""

import random

import pytest
import torch

from alexnet_lib.augment import RandomHorizontalFlip
from alexnet_lib.book.exercises import check_batched_flip


@pytest.fixture(autouse=True)
def _seeded():
    """The learner functions below draw from the global generators: make each test repeatable."""
    random.seed(0)
    torch.manual_seed(0)


def flip_per_image(X):
    flip = torch.rand(len(X), 1, 1, 1, device=X.device) < 0.5
    return torch.where(flip, X.flip(-1), X)


def flip_in_a_loop(X):
    return torch.stack([image.flip(-1) if random.random() < 0.5 else image for image in X])


@pytest.mark.parametrize("fn", [flip_per_image, RandomHorizontalFlip()])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_flip_check_accepts_per_image_flips(capsys, fn, lang):
    assert check_batched_flip(fn, lang=lang) is True
    out = capsys.readouterr().out
    assert ("Correct" in out) if lang == "en" else ("正确" in out)
    assert "Hint" not in out and "提示" not in out


def whole_batch(X):
    return X.flip(-1) if torch.rand(()) < 0.5 else X


def fixed_pattern(X):
    flip = (torch.arange(len(X)) % 2 == 0).view(-1, 1, 1, 1)
    return torch.where(flip, X.flip(-1), X)


def seeded_inside(X):
    generator = torch.Generator().manual_seed(0)
    flip = torch.rand(len(X), 1, 1, 1, generator=generator) < 0.5
    return torch.where(flip, X.flip(-1), X)


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [
        (lambda X: X, "mirror each with probability 0.5"),  # the exercise's starting point
        (lambda X: X.flip(-1), "only with probability 0.5"),
        (whole_batch, "one random number for the whole batch"),
        (flip_in_a_loop, "loop over the images"),
        (fixed_pattern, "new in every call"),
        (seeded_inside, "without seeding"),
        (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.9, X.flip(-1), X), "about half"),
        (lambda X: torch.where(torch.randn(len(X), 1, 1, 1) < 0.5, X.flip(-1), X), "torch.randn"),
        (lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.5, X.flip(-2), X), "X.flip(-1)"),
        (
            lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.5, X.flip(-1), X) * 0.5,
            "equal X[i] or X[i].flip(-1)",
        ),
        (lambda X: (X + X.flip(-1)) / 2, "rather than mixing"),
        (lambda X: X[torch.rand(len(X)) < 0.5].flip(-1), "shape [B, C, H, W]"),
        (lambda X: torch.where(torch.rand(len(X)) < 0.5, X.flip(-1), X), "[B, 1, 1, 1], one per"),
        (lambda X: [image.flip(-1) for image in X], "torch.stack"),
        (lambda X, p: X, "fn(X)"),
        (lambda X: X.half(), "same values and dtype"),
    ],
)
def test_flip_check_rejects_mistakes_with_a_hint(capsys, wrong, hint):
    assert check_batched_flip(wrong) is False
    out = capsys.readouterr().out
    assert "Not yet" in out
    assert "Hint: " in out and hint in out


def test_flip_check_reports_the_share_flipped(capsys):
    rare = lambda X: torch.where(torch.rand(len(X), 1, 1, 1) < 0.2, X.flip(-1), X)  # noqa: E731
    assert check_batched_flip(rare) is False
    out = capsys.readouterr().out
    share = float(out.split("% were mirrored")[0].rsplit(" ", 1)[-1])
    assert 10 <= share <= 30


def test_flip_check_hint_in_chinese(capsys):
    assert check_batched_flip(whole_batch, lang="zh") is False
    out = capsys.readouterr().out
    assert "还不对" in out and "提示" in out and "整批只抽一个随机数" in out


def test_flip_check_leaves_the_global_random_state_usable():
    torch.manual_seed(1)
    check_batched_flip(flip_per_image)
    a = torch.rand(3)
    torch.manual_seed(1)
    check_batched_flip(flip_per_image)
    assert torch.equal(a, torch.rand(3))  # the check draws its images from its own generator
