"""`train(compile=...)`: torch.compile behind one switch, with a fallback to eager mode."""

import shutil
import sys

import pytest
import torch
from torch import nn

from alexnet_lib import load_fashion_mnist, set_seed, train
from alexnet_lib.training.compiling import COMPILE_MODES
from conftest import make_tiny_fashion_mnist


def small_net() -> nn.Module:
    # No dropout: compiled code draws its own random numbers, so only then can runs agree.
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))


def run(root, **kwargs):
    set_seed(3)
    net = small_net()
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    history = train(net, train_iter, test_iter, 2, device="cpu", progress=False,
                    precision="fp32", **kwargs)
    return history, [p.detach().clone() for p in net.parameters()]


def broken_backend(graph_module, example_inputs):
    raise RuntimeError("no working C++ compiler (injected)")


@pytest.mark.skipif(not (shutil.which("c++") or shutil.which("g++")),
                    reason="torch.compile's Inductor backend needs a C++ compiler on a CPU")
def test_compiled_training_matches_eager(tiny_root):
    root, _ = tiny_root
    eager, eager_weights = run(root)
    compiled, compiled_weights = run(root, compile="default")
    assert eager.settings["compile"] == "off"
    assert compiled.settings["compile"] == "default"
    assert compiled.train_loss == pytest.approx(eager.train_loss, rel=1e-4)
    for a, b in zip(eager_weights, compiled_weights, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_a_failed_compile_warns_and_trains_eagerly(tiny_root, monkeypatch, capsys):
    root, _ = tiny_root
    eager, eager_weights = run(root)
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile",
                        lambda model, mode=None: real_compile(model, backend=broken_backend))
    with pytest.warns(RuntimeWarning, match="torch.compile failed.*eager mode"):
        history, weights = run(root, compile="max-autotune")
    assert "compiled (max-autotune)" in capsys.readouterr().out
    assert history.settings["compile"] == "off"
    assert history.train_loss == eager.train_loss
    assert all(torch.equal(a, b) for a, b in zip(eager_weights, weights, strict=True))


def test_after_a_failed_compile_the_run_is_the_eager_run_partial_batch_and_schedule_too(
        tmp_path, monkeypatch):
    root = tmp_path / "data"
    make_tiny_fashion_mnist(root, n_train=70, n_test=16)  # batches of 16: the last holds 6
    eager, eager_weights = run(root, lr_schedule="warmup-linear")
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile",
                        lambda model, mode=None: real_compile(model, backend=broken_backend))
    with pytest.warns(RuntimeWarning, match="torch.compile failed"):
        history, weights = run(root, compile="default", lr_schedule="warmup-linear")
    assert history.settings["compile"] == "off" and history.settings["drop_last"] is False
    assert [r.lr for r in history.epochs] == [r.lr for r in eager.epochs]
    assert history.train_loss == eager.train_loss
    assert all(torch.equal(a, b) for a, b in zip(eager_weights, weights, strict=True))


def test_torch_compile_unavailable_falls_back_before_training(tiny_root, monkeypatch, capsys):
    root, _ = tiny_root

    def unsupported(model, mode=None):
        raise RuntimeError("torch.compile is not supported on this Python version (injected)")

    monkeypatch.setattr(torch, "compile", unsupported)
    with pytest.warns(RuntimeWarning, match="not supported on this Python"):
        history, _ = run(root, compile="reduce-overhead")
    assert history.settings["compile"] == "off"
    assert "compiled" not in capsys.readouterr().out


def test_a_real_error_in_the_model_is_not_hidden_by_the_fallback(tiny_root):
    root, _ = tiny_root
    set_seed(0)
    wrong_input_size = nn.Sequential(nn.Flatten(), nn.Linear(100, 10))
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    with pytest.warns(RuntimeWarning, match="torch.compile failed"), \
            pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        train(wrong_input_size, train_iter, test_iter, 1, device="cpu", progress=False,
              compile="default")


def test_unknown_compile_mode_is_refused_with_the_choices(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    with pytest.raises(ValueError, match="compile must be one of") as err:
        train(small_net(), train_iter, test_iter, 1, device="cpu", compile=True)
    assert all(mode in str(err.value) for mode in COMPILE_MODES)


@pytest.mark.parametrize("drop_last", [True, False])
def test_compiled_runs_leave_out_the_partial_batch_and_compile_once(tmp_path, monkeypatch,
                                                                     drop_last):
    root = tmp_path / "data"
    make_tiny_fashion_mnist(root, n_train=60, n_test=16)  # 60 = 3 x 16 + 12, like 468 x 128 + 96
    graphs = []

    def counting_backend(graph_module, example_inputs):
        graphs.append(graph_module)
        return graph_module.forward

    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile",
                        lambda model, mode=None: real_compile(model, backend=counting_backend))
    if not drop_last:  # what happened before: the last batch's new shape compiles again
        train_module = sys.modules["alexnet_lib.training.loop"]  # the module, not the function
        monkeypatch.setattr(train_module, "has_partial_last_batch", lambda data: False)
    torch._dynamo.reset()  # nothing compiled by an earlier test
    history, _ = run(root, compile="reduce-overhead")
    assert history.settings["drop_last"] is drop_last
    assert len(graphs) == (1 if drop_last else 2)
    eager, _ = run(root)
    assert eager.settings["drop_last"] is False  # eager runs train on every image
