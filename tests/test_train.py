import sys

import pytest
import torch
import torch.nn.functional as F
from toy_models import FixedLogits, ToyNet, make_nan, raise_out_of_memory

from alexnet_lib import (
    AlexNet,
    History,
    NonFiniteLossError,
    OutOfMemoryError,
    evaluate_accuracy,
    load_fashion_mnist,
    set_seed,
    train,
)
from alexnet_lib.quick import QUICK_EPOCHS, QUICK_TEST_EXAMPLES, QUICK_TRAIN_EXAMPLES
from alexnet_lib.training import precision as devices


def test_epoch_loss_is_the_mean_over_examples_not_over_batches(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(10, root=root, limit=25, device="cpu")
    logits = torch.tensor([[4.0, 0, 0, 0, 0, 0, 0, 0, 0, -3.0]])
    net = FixedLogits(logits)
    history = train(net, train_iter, test_iter, 2, device="cpu", progress=False,
                    precision="fp32")
    y = train_iter.labels
    per_example = F.cross_entropy(logits.expand(len(y), -1), y, reduction="none")
    assert history.train_loss == pytest.approx([per_example.mean().item()] * 2, abs=1e-6)
    # batches of 10, 10 and 5: the mean of batch means would weigh the last 5 double
    batch_means = [per_example[i : i + 10].mean() for i in (0, 10, 20)]
    assert abs(torch.stack(batch_means).mean() - per_example.mean()) > 1e-3
    assert history.train_acc[0] == pytest.approx((y == 0).float().mean().item())


def test_short_cpu_run_on_real_images_learns(real_data_root, capsys):
    set_seed(0)
    net = AlexNet(image_size=67)
    train_iter, test_iter = load_fashion_mnist(64, resize=67, root=real_data_root, limit=2500,
                                               device="cpu")
    history = train(net, train_iter, test_iter, 3, device="cpu", progress=False,
                    lr_schedule="warmup-linear", precision="fp32")
    assert len(history) == 3 and not history.interrupted
    assert history.test_acc[-1] >= 0.75  # chance is 0.10
    assert history.train_loss[-1] < history.train_loss[0]
    out = capsys.readouterr().out
    assert "Training AlexNet on cpu" in out and "2,500 training" in out
    assert out.strip().splitlines()[-1].startswith("Done: 3 epoch(s)")
    record = history[-1]
    assert record.seconds > 0 and record.images_per_sec > 0


def test_evaluate_accuracy_uses_eval_mode_and_restores_the_mode(tiny_root):
    root, _ = tiny_root
    _, test_iter = load_fashion_mnist(8, root=root, device="cpu")
    modes = []
    net = ToyNet()
    net.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    for mode in (True, False):
        net.train(mode)
        acc = evaluate_accuracy(net, test_iter)
        assert 0.0 <= acc <= 1.0
        assert net.training is mode
    assert modes and not any(modes)


def test_history_roundtrip_and_plot(tmp_path, tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    history = train(ToyNet(), train_iter, test_iter, 2, device="cpu", progress=False)
    history.save(tmp_path / "h.json")
    loaded = History.load(tmp_path / "h.json")
    assert loaded.to_dict() == history.to_dict()
    assert loaded.settings["batch_size"] == 16 and loaded.settings["device"] == "cpu"
    import matplotlib

    matplotlib.use("Agg")
    ax = history.plot(lang="zh")
    assert ax.get_title() == "训练过程" and len(ax.get_lines()) == 3
    ax.figure.canvas.draw()
    ticks = [tick for tick in ax.get_xticks() if 1 <= tick <= 2]
    assert ticks and all(float(tick).is_integer() for tick in ticks)  # no epoch 1.25


def test_quick_mode_caps_data_and_epochs_and_says_so(tiny_root, monkeypatch, capsys):
    root, _ = tiny_root
    monkeypatch.setenv("ALEXNET_QUICK", "1")
    monkeypatch.setattr("alexnet_lib.data.QUICK_TRAIN_EXAMPLES", 20)
    monkeypatch.setattr("alexnet_lib.data.QUICK_TEST_EXAMPLES", 10)
    train_iter, test_iter = load_fashion_mnist(8, root=root, device="cpu")
    assert (train_iter.num_examples, test_iter.num_examples) == (20, 10)
    history = train(ToyNet(), train_iter, test_iter, QUICK_EPOCHS + 3, device="cpu",
                    progress=False)
    assert len(history) == QUICK_EPOCHS
    out = capsys.readouterr().out
    assert out.count("ALEXNET_QUICK=1") == 3
    assert QUICK_TRAIN_EXAMPLES > 0 and QUICK_TEST_EXAMPLES > 0


def test_same_seed_same_run_on_cpu(tiny_root):
    root, _ = tiny_root
    results = []
    for _ in range(2):
        set_seed(7)
        net = ToyNet()
        train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
        history = train(net, train_iter, test_iter, 2, device="cpu", progress=False,
                        precision="fp32")
        results.append((history.train_loss, [p.detach().clone() for p in net.parameters()]))
    assert results[0][0] == results[1][0]
    assert all(torch.equal(a, b) for a, b in zip(results[0][1], results[1][1], strict=True))


def test_out_of_memory_is_also_torchs_out_of_memory_error(tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    with pytest.raises(torch.OutOfMemoryError) as info:  # what code written for torch catches
        train(ToyNet(fail_at=2, failure=raise_out_of_memory), train_iter, test_iter, 1,
              device="cpu", progress=False, precision="fp32")
    assert isinstance(info.value, OutOfMemoryError) and "batch size" in str(info.value)


@pytest.mark.parametrize("autotuning_before", [True, False])
def test_train_leaves_cudnn_benchmark_as_it_found_it(tiny_root, monkeypatch, autotuning_before):
    root, _ = tiny_root
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", autotuning_before)
    train_module = sys.modules["alexnet_lib.training.loop"]  # the module, not the function
    seen = []

    def as_on_a_gpu(device):  # turn autotuning on as train does on a CUDA device
        seen.append(device)
        return devices.cudnn_autotuning(torch.device("cuda", 0))

    monkeypatch.setattr(train_module, "cudnn_autotuning", as_on_a_gpu)
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    net = ToyNet(fail_at=2, failure=make_nan)
    net.register_forward_pre_hook(lambda *args: seen.append(torch.backends.cudnn.benchmark))
    with pytest.raises(NonFiniteLossError):
        train(net, train_iter, test_iter, 1, device="cpu", progress=False, precision="fp32")
    assert seen[0] == torch.device("cpu") and seen[1] is True  # on during training
    assert torch.backends.cudnn.benchmark is autotuning_before  # as before, even after an error


def test_quick_mode_keeps_its_checkpoint_apart_from_a_real_runs(tiny_root, tmp_path,
                                                                 monkeypatch, capsys):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    monkeypatch.chdir(tmp_path)
    real = tmp_path / "runs" / "net.pt"
    train(ToyNet(), train_iter, test_iter, 1, device="cpu", progress=False, precision="fp32",
          checkpoint="runs/net.pt")
    assert real.is_file()
    before = real.read_bytes()
    monkeypatch.setenv("ALEXNET_QUICK", "1")
    monkeypatch.setenv("ALEXNET_QUICK_DIR", str(tmp_path / "quick"))
    history = train(ToyNet(), train_iter, test_iter, 1, device="cpu", progress=False,
                    precision="fp32", checkpoint="runs/net.pt")  # no resume, no overwrite
    assert not history.interrupted and real.read_bytes() == before  # the real run untouched
    moved = tmp_path / "quick" / real.relative_to(real.anchor)
    assert moved.is_file() and str(moved) in capsys.readouterr().out
