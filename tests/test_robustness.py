"""Training never loses work: Ctrl-C, checkpoints and resume, NaN, out of memory, bad input."""

import copy
import errno
import math
import signal
import tempfile

import pytest
import torch
from other_process import lock_held_elsewhere
from toy_models import (
    ToyNet,
    allocate_too_much,
    make_nan,
    nan_gradient,
    raise_keyboard_interrupt,
    raise_out_of_memory,
    same_weights,
    send,
    weights,
)

from alexnet_lib import (
    AlexNet,
    History,
    NonFiniteLossError,
    OutOfMemoryError,
    load_checkpoint,
    load_fashion_mnist,
    save_checkpoint,
    set_seed,
    train,
)
from alexnet_lib.augment import RandomHorizontalFlip
from alexnet_lib.errors import CheckpointError, UsageError
from alexnet_lib.training.checkpoint import load_parts

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

    monkeypatch.setattr("alexnet_lib.training.checkpoint.torch.save", killed_mid_write)
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


# --- Exact resume at every position -------------------------------------------------------


class FlipAugment:
    """A random flip per image (it draws from the global random state), which can press
    Ctrl-C twice while the `signal_at`-th batch is being made."""

    def __init__(self, signal_at: int | None = None) -> None:
        self.flip = RandomHorizontalFlip()
        self.calls, self.signal_at = 0, signal_at

    def __call__(self, X):
        self.calls += 1
        if self.calls == self.signal_at:
            send(signal.SIGINT, times=2)(X)
        return self.flip(X)


class SignallingAdam(torch.optim.Adam):
    """Adam that can press Ctrl-C twice at the very end of its `signal_at`-th step."""

    def __init__(self, params, signal_at: int | None = None) -> None:
        super().__init__(params, lr=0.01)
        self.calls, self.signal_at = 0, signal_at

    def step(self, closure=None):
        loss = super().step(closure)
        self.calls += 1
        if self.calls == self.signal_at:
            send(signal.SIGINT, times=2)(None)
        return loss


EPOCHS, BATCHES = 3, 4  # batches of 16 from 64 images


def train_one_link(root, ckpt, seed, mode=None, resume=True):
    """Build everything from `seed`, resume from `ckpt`, and stop as `mode` says."""
    set_seed(seed)
    train_iter, test_iter = load_fashion_mnist(
        16, root=root, device="cpu", augment=FlipAugment(signal_at=1 if mode == "2x in augment"
                                                         else None))
    failures = {
        "Ctrl-C": (1, send(signal.SIGINT)),
        "SIGTERM": (1, send(signal.SIGTERM)),
        "SIGHUP": (1, send(signal.SIGHUP)),
        "2x Ctrl-C in forward": (2, send(signal.SIGINT, times=2)),  # stops before batch 2
        "Ctrl-C, 2x in save": (1, send(signal.SIGINT)),
    }
    net = ToyNet(*failures.get(mode, (None, None)))
    optimizer = SignallingAdam(net.parameters(), signal_at=1 if mode == "2x in step" else None)
    return net, train(net, train_iter, test_iter, EPOCHS, optimizer=optimizer, device="cpu",
                      progress=False, precision="fp32", lr_schedule="warmup-linear",
                      checkpoint=ckpt, resume=resume)


def test_resume_at_every_batch_gives_the_uninterrupted_weights(tiny_root, tmp_path,
                                                                monkeypatch):
    """A chain of runs, each stopped one batch further on, in every way a run can stop:
    every position of a 3-epoch run is saved and resumed, epoch ends and the last batch
    included, and each checkpoint holds exactly the weights of the run never stopped."""
    root, _ = tiny_root
    snapshots = []  # the uninterrupted run's weights before each batch, and at the end
    set_seed(0)  # as train_one_link does: the loader first, then the model
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu",
                                               augment=FlipAugment())
    straight = ToyNet()
    straight.register_forward_pre_hook(
        lambda module, args: snapshots.append(weights(module)) if module.training else None)
    straight_history = train(straight, train_iter, test_iter, EPOCHS,
                             optimizer=SignallingAdam(straight.parameters()), device="cpu",
                             progress=False, precision="fp32", lr_schedule="warmup-linear")
    snapshots.append(weights(straight))
    # A first run from the same seed (set in train_one_link), stopped after its first batch;
    # then each run resumes from a different seed and stops one batch further on.
    modes = ["Ctrl-C", "SIGTERM", "2x Ctrl-C in forward", "2x in step", "2x in augment",
             "Ctrl-C, 2x in save", "SIGHUP"]  # 7 ways, against 4 batches an epoch
    ckpt = tmp_path / "run.pt"
    real_save = torch.save
    for done in range(1, EPOCHS * BATCHES + 1):
        mode = modes[(done - 1) % len(modes)]
        with monkeypatch.context() as patch:
            if mode == "Ctrl-C, 2x in save":
                patch.setattr("alexnet_lib.training.checkpoint.torch.save",
                              lambda obj, f: (send(signal.SIGINT)(None), real_save(obj, f)))
            seed = 0 if done == 1 else 100 + done
            net, history = train_one_link(root, ckpt, seed, mode, resume=done > 1)
        position = load_checkpoint(ckpt)["position"]
        if done < EPOCHS * BATCHES:
            assert history.interrupted, mode
            assert (position["epoch"], position["batch"]) == divmod(done, BATCHES), mode
        assert same_weights(weights(net), snapshots[done]), f"{mode}, after batch {done}"
        assert not list(tmp_path.glob("*.tmp")) and not list(tmp_path.glob(".*.tmp"))
    assert not history.interrupted
    for a, b in zip(history.epochs, straight_history.epochs, strict=True):
        assert (a.train_loss, a.train_acc, a.test_acc) == (b.train_loss, b.train_acc, b.test_acc)


# --- NaN, out of memory ------------------------------------------------------------------


def test_nan_restores_the_weights_from_before_the_step_that_broke_them(tiny_root):
    root, _ = tiny_root
    snapshots = []
    # Batch 3's loss is finite, but its step writes NaN into the weights: batch 4's is NaN.
    net = ToyNet(fail_at=3, failure=nan_gradient)
    net.register_forward_pre_hook(
        lambda module, args: snapshots.append(weights(module)) if module.training else None)
    with pytest.raises(NonFiniteLossError, match="epoch 1, batch 4"):
        run(root, net)
    assert same_weights(weights(net), snapshots[2])  # as before batch 3's step
    train_iter, _ = load_fashion_mnist(BATCH, root=root, device="cpu")
    X, y = next(iter(train_iter))
    assert torch.isfinite(torch.nn.functional.cross_entropy(net.eval()(X), y))


def test_cpu_out_of_memory_gets_the_same_advice_as_a_gpu(tiny_root):
    root, _ = tiny_root
    snapshots = []
    net = ToyNet(fail_at=3, failure=allocate_too_much)  # a real allocation failure
    net.register_forward_pre_hook(lambda module, args: snapshots.append(weights(module)))
    with pytest.raises(OutOfMemoryError) as info:
        run(root, net)
    assert f"cpu ran out of memory at batch size {BATCH}" in str(info.value)
    assert f"load_fashion_mnist({BATCH // 2}" in str(info.value)
    assert same_weights(weights(net), snapshots[-1])


# --- Writes ------------------------------------------------------------------------------


def test_every_write_has_its_own_temporary_name_and_leaves_none_behind(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    real_save = torch.save
    names = []
    monkeypatch.setattr("alexnet_lib.training.checkpoint.torch.save",
                        lambda obj, f: (names.append(f.name), real_save(obj, f)))
    for value in (1.0, 2.0):
        save_checkpoint({"model": {"w": torch.full((3,), value)}}, path)
    assert len(set(names)) == 2 and all(str(tmp_path) in name for name in names)
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.full((3,), 2.0))


def test_a_full_disk_keeps_the_previous_checkpoint_and_says_so(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    save_checkpoint({"model": {"w": torch.ones(3)}}, path)
    real_temporary_file = tempfile.NamedTemporaryFile

    def filling_up(*args, **kwargs):  # the disk fills after 1000 bytes, inside torch.save
        f = real_temporary_file(*args, **kwargs)
        write, written = f.write, []

        def write_until_full(data):
            written.append(len(data))
            if sum(written) > 1000:
                raise OSError(errno.ENOSPC, "No space left on device")
            return write(data)

        f.write = write_until_full
        return f

    monkeypatch.setattr("alexnet_lib.training.files.tempfile.NamedTemporaryFile", filling_up)
    with pytest.raises(OSError, match="No space left on the disk to write .*run.pt") as info:
        save_checkpoint({"model": {"w": torch.zeros(100_000)}}, path)
    assert info.value.errno == errno.ENOSPC
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # the partial file is gone
    assert torch.equal(load_checkpoint(path)["model"]["w"], torch.ones(3))


def test_history_save_replaces_a_symlink_instead_of_writing_through_it(tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("keep me")
    (tmp_path / "history.json").symlink_to(elsewhere)
    History().save(tmp_path / "history.json")
    assert elsewhere.read_text() == "keep me"
    assert History.load(tmp_path / "history.json").epochs == []


def test_an_existing_checkpoint_is_replaced_only_when_asked(tiny_root, tmp_path):
    root, _ = tiny_root
    ckpt = tmp_path / "run.pt"
    run(root, epochs=1, checkpoint=ckpt)
    before = ckpt.read_bytes()
    net = ToyNet()
    with pytest.raises(ValueError, match="already holds a checkpoint.*resume=True.*overwrite"):
        run(root, net, epochs=1, checkpoint=ckpt)
    assert net.train_calls == 0 and ckpt.read_bytes() == before
    _, history = run(root, epochs=2, checkpoint=ckpt, overwrite=True)
    assert len(load_checkpoint(ckpt)["history"]["epochs"]) == 2


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_unusable_checkpoint_path_is_refused_before_training(tiny_root, tmp_path, where):
    root, _ = tiny_root
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    checkpoint = {"a folder": tmp_path, "under a file": a_file / "run.pt"}[where]
    net = ToyNet()
    with pytest.raises(ValueError, match={"a folder": "is a folder, not a file",
                                          "under a file": "notes.txt is a file"}[where]):
        run(root, net, checkpoint=checkpoint)
    assert net.train_calls == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "notes.txt"]


def test_a_second_run_on_the_same_checkpoint_fails_at_once(tiny_root, tmp_path):
    root, _ = tiny_root
    ckpt = tmp_path / "run.pt"
    with lock_held_elsewhere(ckpt):
        net = ToyNet()
        with pytest.raises(ValueError, match="Another training run is writing into"):
            run(root, net, checkpoint=ckpt)
        assert net.train_calls == 0
    run(root, epochs=1, checkpoint=ckpt, overwrite=True)  # free again, and no lock file left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "run.pt"]


# --- User errors -------------------------------------------------------------------------


def test_resume_refuses_a_different_learning_rate(tiny_root, tmp_path):
    root, _ = tiny_root
    ckpt = tmp_path / "run.pt"
    run(root, epochs=1, checkpoint=ckpt, lr=0.001)
    net = ToyNet()
    with pytest.raises(ValueError, match=r"lr: 0.001 in the checkpoint, 0.01 now"):
        run(root, net, epochs=2, checkpoint=ckpt, resume=True, lr=0.01)
    assert net.train_calls == 0


def test_resume_from_a_checkpoint_lacking_keys_names_the_file_and_the_keys(tiny_root, tmp_path):
    root, _ = tiny_root
    ckpt = tmp_path / "partial.pt"
    save_checkpoint({"model": ToyNet().state_dict(), "history": {"epochs": []}}, ckpt)
    with pytest.raises(ValueError, match=r"partial.pt lacks optimizer, position, rng"):
        run(root, checkpoint=ckpt, resume=True)


def test_a_checkpoint_that_would_run_code_is_refused_without_suggesting_to_run_it(tmp_path):
    path = tmp_path / "code.pt"
    torch.save({"format": "alexnet-hands-on checkpoint", "version": 1, "x": ToyNet()}, path)
    with pytest.raises(ValueError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "code.pt" in message and "run code" in message
    assert "weights_only" not in message and info.value.__suppress_context__


@pytest.mark.parametrize("name", ["train_iter", "test_iter"])
def test_a_generator_instead_of_a_loader_says_what_to_pass(tiny_root, name):
    root, _ = tiny_root
    loaders = dict(zip(("train_iter", "test_iter"),
                       load_fashion_mnist(BATCH, root=root, device="cpu"), strict=True))
    loaders[name] = (batch for batch in loaders[name])
    with pytest.raises(ValueError, match=f"{name} is a generator.*pass the loader itself"):
        train(ToyNet(), loaders["train_iter"], loaders["test_iter"], 1, device="cpu",
              progress=False)


@pytest.mark.parametrize("image_size", ["224", 224.0])
def test_alexnet_says_which_image_size_to_pass(image_size):
    with pytest.raises(ValueError, match="pass image_size=224"):
        AlexNet(image_size=image_size)


def test_alexnet_refuses_an_image_size_too_large_for_memory_without_trying():
    with pytest.raises(ValueError, match=r"image_size=100000.*GB of memory.*such as 224"):
        AlexNet(image_size=100_000)


def test_resuming_mid_epoch_with_a_loader_that_cannot_replay_its_order_is_refused(tiny_root,
                                                                                   tmp_path):
    from torch.utils.data import DataLoader, TensorDataset

    root, _ = tiny_root
    checkpoint = tmp_path / "run.pt"
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    history = train(ToyNet(fail_at=2, failure=send(signal.SIGINT)), train_iter, test_iter, 1,
                    device="cpu", progress=False, precision="fp32", checkpoint=checkpoint)
    assert history.interrupted and load_checkpoint(checkpoint)["position"]["batch"] == 2
    images = train_iter.images.float() / 255
    plain = DataLoader(TensorDataset(images, train_iter.labels), batch_size=16)
    with pytest.raises(ValueError, match="middle of an epoch.*load_fashion_mnist"):
        train(ToyNet(), plain, test_iter, 1, device="cpu", progress=False, precision="fp32",
              checkpoint=checkpoint, resume=True)


# --- A checkpoint checked at the door ----------------------------------------------------


def reshaped(state):
    state["model"]["layers.1.weight"] = state["model"]["layers.1.weight"].reshape(64, 392)


CORRUPTIONS = {
    "a reshaped tensor": (reshaped, r"layers.1.weight is \[64, 392\], the model's \[32, 784\]"),
    "renamed keys": (lambda s: s.update(model={k.replace("layers", "body"): v
                                               for k, v in s["model"].items()}),
                     "named differently.*missing: layers.1.weight"),
    "a history that is a list": (lambda s: s.update(history=[]), "history is a list"),
    "a position that is a string": (lambda s: s.update(position="epoch 2"),
                                    "position is not a training position"),
    "a huge batch index": (lambda s: s["position"].update(batch=10**12),
                           "batch 1000000000000, but an epoch has 8 batches"),
    "a negative epoch": (lambda s: s["position"].update(epoch=-1), "epoch is -1"),
    "an epoch its history lacks": (lambda s: s["position"].update(epoch=5),
                                   "epoch 6, but its history holds 1"),
    "optimizer groups cut short": (
        lambda s: s["optimizer"]["param_groups"][0].update(params=[0, 1]),
        "group 1 holds 2 parameters, this run's 4"),
    "a reshaped optimizer state": (
        lambda s: s["optimizer"]["state"][0].update(exp_avg=torch.zeros(3)),
        r"exp_avg of parameter 0 is \[3\]"),
    "a random state that is a string": (lambda s: s["rng"].update(cpu="seed 0"),
                                        "random-number state"),
    "an epoch record that is a number": (lambda s: s["history"]["epochs"].__setitem__(0, 7),
                                         "history's epochs are not epoch records"),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS)
def test_a_damaged_checkpoint_is_refused_by_name_before_anything_is_loaded(tiny_root, tmp_path,
                                                                           corruption):
    root, _ = tiny_root
    checkpoint = tmp_path / "run.pt"
    run(root, epochs=1, checkpoint=checkpoint)
    state = load_checkpoint(checkpoint)
    damage, says = CORRUPTIONS[corruption]
    damage(state)
    save_checkpoint(state, checkpoint)
    net = ToyNet()
    before = weights(net)
    with pytest.raises(CheckpointError, match=f"run.pt cannot be resumed: .*{says}"):
        run(root, net, epochs=2, checkpoint=checkpoint, resume=True)
    assert net.train_calls == 0 and same_weights(weights(net), before)


def test_a_checkpoint_of_another_architecture_leaves_the_model_untouched(tiny_root, tmp_path):
    # Like AlexNet(lrn=True) resumed into AlexNet(): the same parameters under other names.
    root, _ = tiny_root
    checkpoint = tmp_path / "run.pt"
    run(root, epochs=1, checkpoint=checkpoint)
    net = ToyNet()
    net.layers = torch.nn.Sequential(torch.nn.Identity(), *net.layers)
    before = weights(net)
    with pytest.raises(CheckpointError, match="run.pt cannot be resumed.*named differently"):
        run(root, net, epochs=2, checkpoint=checkpoint, resume=True)
    assert same_weights(weights(net), before)


def test_a_load_that_fails_midway_puts_the_model_and_optimizer_back(tmp_path):
    net = ToyNet()
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.rand(4, 1, 28, 28)).sum().backward()
    optimizer.step()
    other = ToyNet()
    state = {"model": {**other.state_dict(), "layers.4.bias": torch.zeros(3)},
             "optimizer": torch.optim.SGD(other.parameters(), lr=0.1).state_dict()}
    before, optimizer_before = weights(net), copy.deepcopy(optimizer.state_dict())
    with pytest.raises(CheckpointError, match="x.pt cannot be loaded into this run.*as they were"):
        load_parts({"model": net, "optimizer": optimizer}, state, tmp_path / "x.pt")
    assert same_weights(weights(net), before)
    after = optimizer.state_dict()
    assert after["param_groups"] == optimizer_before["param_groups"]
    assert all(torch.equal(after["state"][0][key], value)
               for key, value in optimizer_before["state"][0].items())


@pytest.mark.parametrize("lang, says", [("en", "holds a complete run: 2 epoch(s)"),
                                        ("zh", "中的训练已经完成：2 个迭代周期")])
def test_resuming_a_complete_run_says_so_and_trains_nothing(tiny_root, tmp_path, capsys, lang,
                                                            says):
    root, _ = tiny_root
    checkpoint = tmp_path / "run.pt"
    run(root, epochs=2, checkpoint=checkpoint)
    capsys.readouterr()
    for epochs in (2, 1):
        net = ToyNet()
        _, history = run(root, net, epochs=epochs, checkpoint=checkpoint, resume=True,
                         lang=lang)
        out = capsys.readouterr().out
        assert says in out and net.train_calls == 0 and len(history) == 2
        for untrue in ("epoch 3", "第 3 个", "Resuming", "接着训练", "1 epochs"):
            assert untrue not in out


# --- Every argument and loader checked before the first batch ----------------------------


@pytest.mark.parametrize("name", ["test_iter", "val_iter", "a DataLoader as test_iter"])
def test_evaluation_images_of_the_wrong_size_are_refused_before_training(tiny_root, name):
    from torch.utils.data import DataLoader, TensorDataset

    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(BATCH, root=root, device="cpu")
    _, wrong = load_fashion_mnist(BATCH, root=root, device="cpu", resize=32)
    if name.startswith("a DataLoader"):
        wrong = DataLoader(TensorDataset(torch.rand(16, 1, 32, 32), torch.zeros(16).long()),
                           batch_size=8)
    loaders = {"test_iter": test_iter, "val_iter": None, name.split()[-1]: wrong}
    net = ToyNet()
    with pytest.raises(UsageError, match=rf"{name.split()[-1]} yields \[1, 32, 32\]"):
        train(net, train_iter, loaders["test_iter"], 1, val_iter=loaders["val_iter"],
              device="cpu", progress=False, precision="fp32")
    assert net.train_calls == 0


@pytest.mark.parametrize("kwargs, says", [
    ({"precision": "fp16"}, "precision='fp16' needs a CUDA GPU"),
    ({"precision": "fp8"}, "precision must be one of"),
    ({"lr": math.inf}, "lr must be a positive number"),
    ({"weight_decay": math.inf}, "weight_decay must be a non-negative number"),
])
def test_settings_are_refused_in_the_apis_terms_before_training(tiny_root, kwargs, says):
    root, _ = tiny_root
    net = ToyNet()
    with pytest.raises(UsageError, match=says):
        run(root, net, **kwargs)
    assert net.train_calls == 0


# --- Writes that leave nothing behind ----------------------------------------------------


def test_stale_temporary_files_of_a_killed_write_are_removed_at_the_next_start(tiny_root,
                                                                              tmp_path):
    root, _ = tiny_root
    checkpoint = tmp_path / "run.pt"
    stale = [tmp_path / ".run.pt.k2x_9abc.tmp", tmp_path / ".run.pt.00000000.tmp"]
    kept = [tmp_path / ".other.pt.k2x_9abc.tmp", tmp_path / "run.pt.notes.tmp"]
    for path in stale + kept:
        path.write_bytes(b"PK\x03\x04 a partial zip")
    run(root, epochs=1, checkpoint=checkpoint)
    assert not any(path.exists() for path in stale)
    assert all(path.exists() for path in kept)
