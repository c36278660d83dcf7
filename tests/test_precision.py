"""The number format "auto" picks, with the hardware mocked (GPUs by compute capability, MPS,
CPUs with and without bf16 instructions), and bf16 training on a CPU that has them."""

import pytest
import torch
from torch import nn

from alexnet_lib import (
    choose_precision,
    evaluate_accuracy,
    load_fashion_mnist,
    set_seed,
    train,
)
from alexnet_lib.devices import resolve_device
from alexnet_lib.training import precision as devices
from alexnet_lib.training.precision import cudnn_autotuning

CAPABILITY = {"T4": (7, 5), "V100": (7, 0), "A100": (8, 0), "H100": (9, 0)}


@pytest.fixture
def gpus(monkeypatch):
    """`gpus("A100", "T4", current=1)` makes PyTorch see those GPUs (nothing else of CUDA)."""

    def install(*names, current=0):
        capabilities = [CAPABILITY[name] for name in names]
        monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: len(capabilities))
        monkeypatch.setattr(torch.cuda, "current_device", lambda: current)
        monkeypatch.setattr(torch.cuda, "get_device_capability",
                            lambda index=None: capabilities[current if index is None else index])
        # What misled the old rule: by default this counts emulated bf16 as supported.
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda including_emulation=True: True)

    return install


@pytest.fixture
def cpu(monkeypatch):
    """`cpu(bf16_instructions=..., capability=...)`: a CPU whose bf16 probes say so."""

    def install(bf16_instructions, capability="AVX512"):
        for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
            monkeypatch.setattr(torch.cpu, probe, lambda: bf16_instructions)
        monkeypatch.setattr(torch.backends.cpu, "get_cpu_capability", lambda: capability)

    return install


@pytest.mark.parametrize("gpu, name, scaled", [
    ("T4", "fp16", True), ("V100", "fp16", True), ("A100", "bf16", False), ("H100", "bf16", False),
])
def test_gpus_get_bf16_from_compute_capability_8_and_fp16_with_a_scaler_below(
        gpus, gpu, name, scaled):
    gpus(gpu)
    precision = choose_precision(torch.device("cuda"))
    major, minor = CAPABILITY[gpu]
    assert (precision.name, precision.needs_grad_scaler) == (name, scaled)
    assert f"compute capability {major}.{minor}" in precision.reason


def test_the_capability_is_the_chosen_gpus(gpus):
    gpus("A100", "T4")
    assert choose_precision(torch.device("cuda:0")).name == "bf16"
    assert choose_precision(torch.device("cuda:1")).name == "fp16"
    gpus("A100", "T4", current=1)  # "cuda" without an index: the current device
    assert choose_precision(torch.device("cuda")).name == "fp16"


def test_asking_for_a_format_overrides_the_choice(gpus):
    gpus("T4")
    precision = choose_precision(torch.device("cuda"), "bf16")
    assert precision.name == "bf16" and precision.reason == "asked for"
    with pytest.raises(ValueError, match="fp16 training needs a CUDA GPU"):
        choose_precision(torch.device("cpu"), "fp16")


def test_mps_trains_in_fp32(monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    precision = choose_precision(resolve_device("mps"))
    assert precision.name == "fp32" and "mps" in precision.reason


def test_a_cpu_without_bf16_instructions_gets_fp32(cpu):
    cpu(bf16_instructions=False, capability="AVX2")
    precision = choose_precision(torch.device("cpu"))
    assert precision.name == "fp32"
    assert "AVX2" in precision.reason and "no bf16 instructions" in precision.reason


def test_a_cpu_with_bf16_instructions_gets_bf16_every_time_without_measuring(cpu, monkeypatch):
    cpu(bf16_instructions=True)
    monkeypatch.setattr(torch, "autocast", lambda *a, **k: pytest.fail("measured"))
    random_state = torch.get_rng_state()
    choices = {choose_precision(torch.device("cpu")) for _ in range(5)}
    assert len(choices) == 1  # the same decision every time: no timing involved
    (precision,) = choices
    assert precision.name == "bf16" and "bf16 instructions" in precision.reason
    assert torch.equal(torch.get_rng_state(), random_state)


def tiny_net() -> nn.Module:
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))


def test_history_records_the_choice_and_its_reason(cpu, tiny_root):
    root, _ = tiny_root
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    cpu(bf16_instructions=False, capability="AVX2")
    history = train(tiny_net(), train_iter, test_iter, 1, device="cpu", progress=False)
    assert history.settings["precision"] == "fp32"
    assert "no bf16 instructions" in history.settings["precision_reason"]
    cpu(bf16_instructions=True)
    history = train(tiny_net(), train_iter, test_iter, 1, device="cpu", progress=False)
    assert history.settings["precision"] == "bf16"
    assert "bf16 instructions" in history.settings["precision_reason"]


def two_epochs(root, checkpoint=None, num_epochs=2, **kwargs):
    set_seed(0)
    net = tiny_net()
    train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
    history = train(net, train_iter, test_iter, num_epochs, device="cpu", progress=False,
                    checkpoint=checkpoint, **kwargs)
    return net, history


def test_a_resumed_run_keeps_the_checkpoints_format_under_auto(cpu, tiny_root, tmp_path):
    root, _ = tiny_root
    straight, _ = two_epochs(root, precision="fp32")
    checkpoint = tmp_path / "run.pt"
    two_epochs(root, checkpoint, num_epochs=1, precision="fp32")
    cpu(bf16_instructions=True)  # where auto would now choose bf16
    net, history = two_epochs(root, checkpoint, resume=True)
    assert history.settings["precision"] == "fp32"
    assert history.settings["precision_reason"] == "kept from the checkpoint"
    assert all(torch.equal(a, b) for a, b in
               zip(straight.state_dict().values(), net.state_dict().values(), strict=True))


@pytest.mark.parametrize("saved, asked", [("fp32", "bf16"), ("bf16", "fp32")])
def test_a_resumed_run_refuses_another_format_naming_the_file(tiny_root, tmp_path, saved,
                                                               asked):
    root, _ = tiny_root
    checkpoint = tmp_path / "run.pt"
    two_epochs(root, checkpoint, num_epochs=1, precision=saved)
    with pytest.raises(ValueError, match=f"run.pt was trained in {saved}.*precision='{saved}'"):
        two_epochs(root, checkpoint, resume=True, precision=asked)


@pytest.mark.skipif(not devices._cpu_reports_bf16(),
                    reason="the CPU has no bf16 instructions (AVX-512 BF16 or AMX)")
def test_bf16_training_on_a_cpu_with_bf16_instructions(tiny_root):
    assert choose_precision(torch.device("cpu")).name == "bf16"  # what auto picks here
    root, _ = tiny_root
    runs = {}
    for name in ("fp32", "bf16"):
        set_seed(0)
        net = tiny_net()
        train_iter, test_iter = load_fashion_mnist(16, root=root, device="cpu")
        history = train(net, train_iter, test_iter, 2, device="cpu", progress=False,
                        precision=name)
        assert history.settings["precision"] == name
        # the epoch's test accuracy comes from the one fp32 evaluation
        assert history.test_acc[-1] == evaluate_accuracy(net, test_iter)
        runs[name] = history.train_loss
    assert runs["bf16"] != runs["fp32"]  # bf16 really ran
    assert runs["bf16"] == pytest.approx(runs["fp32"], rel=0.05)


@pytest.mark.parametrize("before", [True, False])
def test_cudnn_autotuning_is_on_for_cuda_only_and_restored(before, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", before)
    with pytest.raises(RuntimeError), cudnn_autotuning(torch.device("cuda", 0)):
        assert torch.backends.cudnn.benchmark is True
        raise RuntimeError("a failed step")
    assert torch.backends.cudnn.benchmark is before
    with cudnn_autotuning(torch.device("cpu")):
        assert torch.backends.cudnn.benchmark is before
    assert torch.backends.cudnn.benchmark is before
