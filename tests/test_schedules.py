"""Learning-rate schedules: the factor's shape, and train() following it step by step."""

import pytest
import torch
from toy_models import ToyNet

from alexnet_lib import load_fashion_mnist, train
from alexnet_lib.schedules import WARMUP_FRACTION, lr_factor


def test_constant_is_always_one():
    assert {lr_factor("constant", step, 50) for step in range(50)} == {1.0}


def test_one_cycle_warms_up_then_decays_to_zero():
    total = 200
    factors = [lr_factor("one-cycle", step, total) for step in range(total)]
    warmup = round(WARMUP_FRACTION * total)
    peak = factors.index(max(factors))
    assert peak == warmup - 1 and factors[peak] == 1.0
    assert factors[0] < 0.1
    rising, falling = factors[: peak + 1], factors[peak:]
    assert all(a < b for a, b in zip(rising, rising[1:], strict=False))
    assert all(a > b for a, b in zip(falling, falling[1:], strict=False))
    assert 0 < factors[-1] < 0.01


def test_one_cycle_survives_a_single_step():
    assert lr_factor("one-cycle", 0, 1) == 1.0


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="one-cycle"):
        lr_factor("cosine", 0, 10)


def test_train_follows_the_schedule_and_gives_the_optimizer_back(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(8, root=root, device="cpu")  # 8 batches
    net = ToyNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    used = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: used.append(
        opt.param_groups[0]["lr"]))
    history = train(net, train_iter, test_iter, 2, optimizer=optimizer, device="cpu",
                    lr_schedule="one-cycle", progress=False)
    total = 2 * len(train_iter)
    assert used == pytest.approx([0.5 * lr_factor("one-cycle", s, total) for s in range(total)])
    assert optimizer.param_groups[0]["lr"] == 0.5
    assert history.settings["lr"] == 0.5 and history.settings["lr_schedule"] == "one-cycle"
