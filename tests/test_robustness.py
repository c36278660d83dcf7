"""Training never loses work: Ctrl-C, checkpoints and resume, NaN, out of memory, bad input."""

import math
import signal

import pytest
import torch
from toy_models import (
    ToyNet,
    make_nan,
    raise_keyboard_interrupt,
    raise_out_of_memory,
    same_weights,
    weights,
)

from alexnet_lib import (
    AlexNet,
    NonFiniteLossError,
    OutOfMemoryError,
    load_checkpoint,
    load_fashion_mnist,
    save_checkpoint,
    set_seed,
    train,
)

BATCH = 8  # 64 training images: 8 batches an epoch


def run(root, net=None, epochs=3, **kwargs):
    train_iter, test_iter = load_fashion_mnist(BATCH, root=root, device="cpu")
    net = net if net is not None else ToyNet()
    kwargs.setdefault("precision", "fp32")  # weights are compared bit for bit
    return net, train(net, train_iter, test_iter, epochs, device="cpu", progress=False, **kwargs)


def test_keyboard_interrupt_in_forward_returns_the_finished_epochs(tiny_root, capsys):
    root, _ = tiny_root
    snapshots = []
    net = ToyNet(fail_at=8 + 3, failure=raise_keyboard_interrupt)  # epoch 2, batch 3
    net.register_forward_pre_hook(lambda module, args: snapshots.append(weights(module)))
    net, history = run(root, net)
    assert history.interrupted and len(history) == 1
    assert same_weights(weights(net), snapshots[-1])  # as before the interrupted batch
    assert "Interrupted at epoch 2, batch 2" in capsys.readouterr().out


def test_sigint_stops_after_the_current_batch(tiny_root):
    root, _ = tiny_root

    def press_ctrl_c(out):
        signal.raise_signal(signal.SIGINT)
        return out

    net, history = run(root, ToyNet(fail_at=5, failure=press_ctrl_c))
    assert history.interrupted and len(history) == 0
    assert net.train_calls == 5  # the batch in progress finished, the next never started
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize("lr_schedule", ["constant", "warmup-linear"])
def test_interrupted_then_resumed_equals_uninterrupted(tiny_root, tmp_path, lr_schedule):
    root, _ = tiny_root
    set_seed(0)
    straight, straight_history = run(root, ToyNet(), checkpoint=tmp_path / "a.pt",
                                     lr_schedule=lr_schedule)

    set_seed(0)
    ckpt = tmp_path / "b.pt"
    net, partial = run(root, ToyNet(fail_at=8 + 5, failure=raise_keyboard_interrupt),
                       checkpoint=ckpt, lr_schedule=lr_schedule)
    assert partial.interrupted and load_checkpoint(ckpt)["position"]["batch"] == 4

    set_seed(123)  # a different state everywhere: resume must restore all of it
    resumed, history = run(root, ToyNet(), checkpoint=ckpt, resume=True,
                           lr_schedule=lr_schedule)
    assert not history.interrupted and len(history) == 3
    assert same_weights(weights(resumed), weights(straight))
    for a, b in zip(history.epochs, straight_history.epochs, strict=True):
        assert (a.train_loss, a.train_acc, a.test_acc) == (b.train_loss, b.train_acc, b.test_acc)


def test_resume_without_a_checkpoint_starts_fresh(tiny_root, tmp_path, capsys):
    root, _ = tiny_root
    _, history = run(root, epochs=1, checkpoint=tmp_path / "new.pt", resume=True)
    assert len(history) == 1 and (tmp_path / "new.pt").is_file()
    assert "starting from scratch" in capsys.readouterr().out


def test_resume_refuses_a_checkpoint_from_different_settings(tiny_root, tmp_path):
    root, _ = tiny_root
    ckpt = tmp_path / "run.pt"
    run(root, epochs=1, checkpoint=ckpt, lr_schedule="warmup-linear")
    train_iter, test_iter = load_fashion_mnist(BATCH * 2, root=root, device="cpu")
    net = ToyNet()
    with pytest.raises(ValueError, match=r"batch_size: 8 in the checkpoint, 16 now"):
        train(net, train_iter, test_iter, 1, device="cpu", progress=False, checkpoint=ckpt,
              resume=True, lr_schedule="warmup-linear")
    with pytest.raises(ValueError, match=r"num_epochs: 1 in the checkpoint, 2 now"):
        run(root, epochs=2, checkpoint=ckpt, resume=True, lr_schedule="warmup-linear")
    assert net.train_calls == 0


def test_resume_with_more_epochs_continues_a_constant_schedule(tiny_root, tmp_path, capsys):
    root, _ = tiny_root
    ckpt = tmp_path / "run.pt"
    run(root, epochs=1, checkpoint=ckpt)
    net, history = run(root, ToyNet(), epochs=2, checkpoint=ckpt, resume=True)
    assert len(history) == 2 and net.train_calls == 8  # only the second epoch was trained
    assert "Resuming from" in capsys.readouterr().out


def test_checkpoint_is_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    save_checkpoint({"model": {"w": torch.ones(3)}}, path)

    def killed_mid_write(obj, f):
        f.write(b"PK\x03\x04 half a zip file")
        raise KeyboardInterrupt  # the process dies while writing

    monkeypatch.setattr("alexnet_lib.checkpoint.torch.save", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint({"model": {"w": torch.zeros(3)}}, path)
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(3))


@pytest.mark.parametrize("content", ["truncated", "garbage", "foreign", "code"])
def test_bad_checkpoint_files_get_a_clear_error_naming_the_file(tmp_path, content):
    path = tmp_path / f"{content}.pt"
    if content == "truncated":
        save_checkpoint({"model": {"w": torch.ones(1000)}}, path)
        path.write_bytes(path.read_bytes()[:300])
    elif content == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif content == "foreign":
        torch.save({"w": torch.ones(2)}, path)
    else:  # a pickle that would run code: weights_only loading refuses it
        torch.save({"format": "alexnet-hands-on checkpoint", "version": 1, "x": ToyNet()}, path)
    with pytest.raises(ValueError, match=path.name):
        load_checkpoint(path)


def test_nan_loss_stops_with_epoch_batch_and_keeps_good_weights(tiny_root):
    root, _ = tiny_root
    net = ToyNet(fail_at=8 + 6, failure=make_nan)  # epoch 2, batch 6
    with pytest.raises(NonFiniteLossError) as info:
        run(root, net)
    message = str(info.value)
    assert "epoch 2, batch 6" in message and "lower learning rate" in message
    assert len(info.value.history) == 1
    assert all(torch.isfinite(t).all() for t in weights(net))


def test_out_of_memory_suggests_a_smaller_batch_and_keeps_weights(tiny_root):
    root, _ = tiny_root
    snapshots = []
    net = ToyNet(fail_at=3, failure=raise_out_of_memory)
    net.register_forward_pre_hook(lambda module, args: snapshots.append(weights(module)))
    with pytest.raises(OutOfMemoryError) as info:
        run(root, net)
    message = str(info.value)
    assert f"batch size {BATCH}" in message and f"load_fashion_mnist({BATCH // 2}" in message
    assert same_weights(weights(net), snapshots[-1])
    assert all(p.grad is None for p in net.parameters())  # memory held by the step is freed


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_epochs": 0}, "num_epochs"),
        ({"num_epochs": -2}, "num_epochs"),
        ({"num_epochs": 1.5}, "num_epochs"),
        ({"lr": 0}, "lr"),
        ({"lr": -0.1}, "lr"),
        ({"lr": math.nan}, "lr"),
        ({"device": "gpu0"}, "device"),
        ({"device": "tpu"}, "device"),
        ({"precision": "fp8"}, "precision"),
        ({"lr_schedule": "cosine"}, "lr_schedule"),
        ({"resume": True}, "checkpoint"),
    ],
)
def test_bad_arguments_fail_before_any_work(tiny_root, kwargs, match):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(BATCH, root=root, device="cpu")
    net = ToyNet()
    args = {"num_epochs": 1, **kwargs}
    with pytest.raises(ValueError, match=match):
        train(net, train_iter, test_iter, device=args.pop("device", "cpu"), progress=False,
              **args)
    assert net.train_calls == 0


def test_model_and_data_shapes_must_match_before_training(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(BATCH, resize=96, root=root, device="cpu")
    for net, hint in ((AlexNet(in_channels=3, image_size=96), "[3, 96, 96]"),
                      (AlexNet(image_size=224), "resize=224")):
        with pytest.raises(ValueError, match=hint.replace("[", r"\[").replace("]", r"\]")):
            train(net, train_iter, test_iter, 1, device="cpu", progress=False)
