"""Learning-rate schedules: the factor's shape, and train() following it step by step."""

import importlib

import pytest
import torch
from toy_models import ToyNet

from alexnet_lib import load_fashion_mnist, split_validation, train
from alexnet_lib.training.optim import LR_SCHEDULES, WARMUP_FRACTION, warmup_linear_factor


def test_warmup_linear_warms_up_then_decays_to_nearly_zero():
    total = 200
    factors = [warmup_linear_factor(step, total) for step in range(total)]
    warmup = round(WARMUP_FRACTION * total)
    peak = factors.index(max(factors))
    assert peak == warmup - 1 and factors[peak] == 1.0
    assert factors[0] < 0.1
    rising, falling = factors[: peak + 1], factors[peak:]
    assert all(a < b for a, b in zip(rising, rising[1:], strict=False))
    assert all(a > b for a, b in zip(falling, falling[1:], strict=False))
    assert 0 < factors[-1] < 0.01


def test_warmup_linear_survives_a_single_step():
    assert warmup_linear_factor(0, 1) == 1.0


def test_unknown_schedule_is_refused(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(8, root=root, device="cpu")
    with pytest.raises(ValueError, match="warmup-linear"):
        train(ToyNet(), train_iter, test_iter, 1, device="cpu", lr_schedule="one-cycle")
    assert "one-cycle" not in LR_SCHEDULES  # torch's OneCycleLR is a different schedule


def test_train_follows_the_schedule_and_gives_the_optimizer_back(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(8, root=root, device="cpu")  # 8 batches
    net = ToyNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    used = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: used.append(
        opt.param_groups[0]["lr"]))
    history = train(net, train_iter, test_iter, 2, optimizer=optimizer, device="cpu",
                    lr_schedule="warmup-linear", progress=False, precision="fp32")
    total = 2 * len(train_iter)
    assert used == pytest.approx([0.5 * warmup_linear_factor(s, total) for s in range(total)])
    assert optimizer.param_groups[0]["lr"] == 0.5
    assert history.settings["lr"] == 0.5 and history.settings["lr_schedule"] == "warmup-linear"
    assert [record.lr for record in history.epochs] == pytest.approx(
        [used[len(train_iter) - 1], used[-1]])


def test_plateau_divides_by_ten_when_validation_accuracy_stalls(tiny_root, monkeypatch):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(8, root=root, device="cpu")
    train_iter, val_iter = split_validation(train_iter, 16)
    accuracies = iter([0.5, 0.6, 0.6, 0.55, 0.7])  # epochs 3 and 4 do not beat 0.6

    def fake_accuracy_and_loss(net, data_iter, device=None):
        return (next(accuracies), 1.0) if data_iter is val_iter else (0.0, 1.0)

    training = importlib.import_module("alexnet_lib.training.loop")  # the module, not the function
    monkeypatch.setattr(training, "accuracy_and_loss", fake_accuracy_and_loss)
    history = train(ToyNet(), train_iter, test_iter, 5, lr=0.01, optimizer="sgd",
                    weight_decay=5e-4, lr_schedule="plateau", val_iter=val_iter,
                    device="cpu", progress=False, precision="fp32")
    assert history.val_acc == pytest.approx([0.5, 0.6, 0.6, 0.55, 0.7])
    assert [record.lr for record in history.epochs] == pytest.approx(
        [0.01, 0.01, 0.01, 0.001, 0.0001])
    assert history.settings["optimizer"] == "SGD" and history.settings["momentum"] == 0.9
    assert history.settings["weight_decay"] == 5e-4
    assert history.settings["val_examples"] == 16


def test_plateau_without_a_validation_set_is_refused(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(8, root=root, device="cpu")
    with pytest.raises(ValueError, match="val_iter"):
        train(ToyNet(), train_iter, test_iter, 1, device="cpu", lr_schedule="plateau")


def test_validation_split_is_fixed_and_disjoint(tiny_root):
    root, _ = tiny_root
    splits = []
    for _ in range(2):
        train_iter, _ = load_fashion_mnist(8, root=root, device="cpu")
        splits.append(split_validation(train_iter, 16))
    (train_a, val_a), (train_b, val_b) = splits
    assert torch.equal(val_a.images, val_b.images) and torch.equal(val_a.labels, val_b.labels)
    assert (train_a.num_examples, val_a.num_examples) == (48, 16)
    train_rows = {tuple(image.flatten().tolist()) for image in train_a.images}
    assert not any(tuple(image.flatten().tolist()) in train_rows for image in val_a.images)
    assert not val_a.shuffle and val_a.augment is None
    with pytest.raises(ValueError, match="Cannot hold out"):
        split_validation(train_a, 48)
