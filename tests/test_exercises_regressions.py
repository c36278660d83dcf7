"""Self-checks that once judged wrongly: each test failed on the code it was written against."""

import random

import torch

from alexnet_lib.book.exercises import (
    check_alexnet_fc_share,
    check_batched_flip,
    check_conv_output_size,
    check_dropout,
    check_run_hours,
    check_sigmoid_grad,
)
from alexnet_lib.experiments.records import recorded_results


def test_a_float_equal_to_the_right_size_passes():
    assert check_conv_output_size(lambda n, k, s, p: float((n + 2 * p - k) // s + 1)) is True


def test_dropout_with_one_mask_for_the_whole_batch_is_named(capsys):
    """Chapter 4 warns against it: every example would lose the same units."""
    for shape in (lambda X: X.shape[1:], lambda X: X.shape[-1:]):

        def shared(X, p, shape=shape):
            return torch.zeros_like(X) if p == 1 else X * (torch.rand(shape(X)) >= p) / (1 - p)

        assert check_dropout(shared) is False
        out = capsys.readouterr().out
        assert "Every example lost the same entries" in out, out


def test_an_overflow_at_large_positive_x_is_blamed_on_that_side(capsys):
    assert check_sigmoid_grad(lambda x: torch.exp(x) / (1 + torch.exp(x)) ** 2) is False
    out = capsys.readouterr().out
    assert "large positive x" in out and "exp(x) overflows" in out, out
    assert "-88" not in out and "exp(-x)" not in out, out


def test_the_fc_share_rounded_as_the_text_rounds_it_passes(capsys):
    assert check_alexnet_fc_share(0.9) is True  # "about nine parameters in ten"
    assert check_alexnet_fc_share(0.92) is True
    assert check_alexnet_fc_share(0.8) is False
    assert "within 0.005" in capsys.readouterr().out  # the hint states the tolerance


def test_a_flip_written_as_a_python_loop_is_caught(capsys):
    random.seed(0)

    def loop(X):
        return torch.stack([image.flip(-1) if random.random() < 0.5 else image for image in X])

    assert check_batched_flip(loop) is False
    assert "loop over the images" in capsys.readouterr().out


def test_run_hours_from_a_speed_the_chapter_prints_pass():
    first, second = recorded_results()[:2]  # both 224 px records, listed in chapter 6
    assert round(5 * 60_000 / round(second["train_source_batch1"], 1) / 3600, 1) == 46.3
    assert check_run_hours(46.3, first) is True
