"""Data-parallel training on 2 CPU processes (gloo) matches one process on the same batches,
also when a batch splits unevenly; a signal to one process stops both at the same batch; the
backend and each process's device follow the device's type (CUDA mocked)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from toy_models import ToyNet

from alexnet_lib import LeNet, load_checkpoint, load_fashion_mnist, set_seed, train
from alexnet_lib.training.distributed import start_process_group
from conftest import make_tiny_fashion_mnist

GLOBAL_BATCH = 16

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="no torch.distributed")


def one_epoch(root, **kwargs):
    set_seed(0)
    net = LeNet("relu")  # no dropout: both runs compute exactly the same function
    train_iter, test_iter = load_fashion_mnist(GLOBAL_BATCH, root=root, device="cpu")
    history = train(net, train_iter, test_iter, 1, device="cpu", progress=False,
                    precision="fp32", **kwargs)
    return net, history


def join_process_group(rank, world_size, init_file):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world_size)


def worker(rank, world_size, root, init_file, out, kwargs):
    join_process_group(rank, world_size, init_file)
    try:
        net, history = one_epoch(root, **kwargs)
        if rank == 0:
            torch.save({"weights": net.state_dict(), "history": history.to_dict()}, out)
    finally:
        dist.destroy_process_group()


def run_processes(function, args, nprocs=2, timeout=240):
    """Start `function(rank, *args)` in `nprocs` processes; fail, never hang, past `timeout`."""
    context = mp.start_processes(function, args=args, nprocs=nprocs, join=False)
    deadline = time.monotonic() + timeout
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail(f"the processes still ran after {timeout} s: a hang in a collective?")


def compare_with_one_process(root, tmp_path, **kwargs):
    out = tmp_path / "ddp.pt"
    run_processes(worker, (2, str(root), str(tmp_path / "init"), str(out), kwargs))
    ddp = torch.load(out, weights_only=True)
    net, history = one_epoch(root, **kwargs)
    for name, tensor in net.state_dict().items():
        # the same sums added in another order: equal up to float rounding
        assert torch.allclose(ddp["weights"][name], tensor, rtol=1e-4, atol=1e-5), name
    ddp_epoch, epoch = ddp["history"]["epochs"][0], history.to_dict()["epochs"][0]
    assert ddp["history"]["settings"]["processes"] == 2
    assert ddp_epoch["train_loss"] == pytest.approx(epoch["train_loss"], rel=1e-5)
    assert ddp_epoch["train_acc"] == epoch["train_acc"]
    assert ddp_epoch["test_acc"] == epoch["test_acc"]


def test_two_gloo_processes_match_one_process(tiny_root, tmp_path):
    root, _ = tiny_root
    compare_with_one_process(root, tmp_path)


@pytest.mark.parametrize("n_train", [67, 65])
def test_uneven_and_empty_shares_weigh_every_example_the_same(tmp_path, n_train):
    root = tmp_path / "data"
    # The last batch holds 3 images (2 for process 0, 1 for process 1) or 1 (process 1's share
    # is empty). Averaging each share's mean over the processes would weigh those images
    # unequally, and an empty share's mean is NaN. SGD with a large rate shows any difference.
    make_tiny_fashion_mnist(root, n_train=n_train, n_test=16)
    compare_with_one_process(root, tmp_path, optimizer="sgd", lr=0.1)


def test_torchrun_cli_trains_and_only_rank_0_writes(tiny_root, tmp_path):
    root, _ = tiny_root
    out = tmp_path / "run"
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "-m", "alexnet_lib", "train", "--epochs", "1", "--batch-size", "16",
         "--image-size", "67", "--limit", "32", "--device", "cpu", "--data", str(root),
         "--out", str(out), "--no-progress"],
        capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("Training AlexNet") == 1  # only rank 0 speaks
    assert "[2 processes]" in result.stdout
    assert (out / "history.json").is_file() and (out / "weights.pt").is_file()


def stop_worker(rank, world_size, root, init_file, out):
    """Process 1 alone gets SIGTERM, then two Ctrl-Cs, in its 7th batch."""
    join_process_group(rank, world_size, init_file)
    saves = []
    checkpoint_module = sys.modules["alexnet_lib.training.checkpoint"]
    real_save = checkpoint_module.save_checkpoint
    checkpoint_module.save_checkpoint = lambda *args: (saves.append(args), real_save(*args))

    def signals(out):
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGINT):
            signal.raise_signal(signum)
        return out

    try:
        set_seed(0)
        net = ToyNet(fail_at=7 if rank == 1 else None, failure=signals)
        train_iter, test_iter = load_fashion_mnist(4, root=root, device="cpu")
        history = train(net, train_iter, test_iter, 1, device="cpu", progress=False,
                        precision="fp32", checkpoint=f"{out}.pt")
        torch.save({"interrupted": history.interrupted, "stopped_by": history.stopped_by,
                    "batches": net.train_calls, "saves": len(saves)}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_a_signal_to_one_process_stops_all_at_the_same_batch_and_saves_once(tmp_path):
    root = tmp_path / "data"
    make_tiny_fashion_mnist(root, n_train=400, n_test=8)  # 100 batches: a sync every 5
    out = tmp_path / "run"
    run_processes(stop_worker, (2, str(root), str(tmp_path / "init"), str(out)))
    results = [torch.load(f"{out}.{rank}", weights_only=True) for rank in (0, 1)]
    for result in results:  # both stopped at the first sync after the signal, after batch 10
        assert result["interrupted"] and result["stopped_by"] == "SIGTERM"
        assert result["batches"] == 10
    assert [result["saves"] for result in results] == [1, 0]
    assert load_checkpoint(f"{out}.pt")["position"]["batch"] == 10


@pytest.fixture
def torchrun(monkeypatch):
    """A torchrun process with LOCAL_RANK 1 on a machine with `gpus` GPUs (mocked); returns
    what was started: the backend and the GPU set."""
    started = {}
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(dist, "init_process_group",
                        lambda backend: started.setdefault("backend", backend))
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: started.setdefault("gpu", device))

    def machine(gpus):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
        return started

    return machine


@pytest.mark.parametrize("device", [None, "cuda", "cuda:0"])
def test_on_gpus_each_process_takes_its_local_rank_with_nccl(torchrun, device):
    started = torchrun(gpus=2)
    assert start_process_group(device) == torch.device("cuda", 1)
    assert started == {"backend": "nccl", "gpu": torch.device("cuda", 1)}


@pytest.mark.parametrize("gpus, device", [(0, None), (2, "cpu")])
def test_on_the_cpu_the_processes_use_gloo(torchrun, gpus, device):
    started = torchrun(gpus)
    assert start_process_group(device) == torch.device("cpu")
    assert started == {"backend": "gloo"}


def test_more_processes_than_gpus_or_mps_are_refused(torchrun, monkeypatch):
    torchrun(gpus=1)
    with pytest.raises(ValueError, match="--nproc_per_node=1"):
        start_process_group("cuda")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    with pytest.raises(ValueError, match="not on mps"):
        start_process_group("mps")


class DrawRecorder(torch.nn.Module):
    """A linear model that keeps, for every training batch, one number drawn from the random
    stream that dropout and augmentation use, and the labels of its share."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(784, 10)
        self.draws: list[float] = []

    def forward(self, X):
        if self.training:
            self.draws.append(float(torch.rand(())))
        return self.linear(X.flatten(1))


def draws_worker(rank, world_size, root, init_file, out):
    join_process_group(rank, world_size, init_file)
    try:
        set_seed(0)
        net = DrawRecorder()
        train_iter, test_iter = load_fashion_mnist(GLOBAL_BATCH, root=root, device="cpu")
        train(net, train_iter, test_iter, 1, device="cpu", progress=False, precision="fp32")
        torch.save({"draws": net.draws}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_each_process_draws_its_own_dropout_and_augmentation_numbers(tiny_root, tmp_path):
    root, _ = tiny_root
    out = tmp_path / "draws"
    run_processes(draws_worker, (2, str(root), str(tmp_path / "init"), str(out)))
    first, second = (torch.load(f"{out}.{rank}", weights_only=True)["draws"] for rank in (0, 1))
    assert len(first) == len(second) == 4  # 64 images, global batches of 16
    assert all(a != b for a, b in zip(first, second, strict=True))  # masks and flips differ


def window_worker(rank, world_size, init_file, out):
    from alexnet_lib.training.state import RunningSums

    join_process_group(rank, world_size, init_file)
    try:
        sums = RunningSums(4, torch.device("cpu"), first=0)
        logits, labels = torch.zeros(2, 10), torch.zeros(2, dtype=torch.int64)
        for i in range(4):
            sums.add(i, torch.tensor(1.0), logits, labels, examples=1)
            if i % 2 == 1:  # read after batches 2 and 4
                sums.sum_across_processes(i + 1)
                sums.restart(i + 1)
        torch.save({"losses": sums.losses}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_each_sync_adds_up_only_the_batches_since_the_last(tmp_path):
    out = tmp_path / "window"
    run_processes(window_worker, (2, str(tmp_path / "init"), str(out)))
    losses = torch.load(f"{out}.0", weights_only=True)["losses"]
    assert losses.tolist() == [2.0, 2.0, 2.0, 2.0]  # each batch's loss summed over 2 processes


def data_loader_worker(rank, world_size, root, init_file, out):
    from torch.utils.data import DataLoader, TensorDataset

    join_process_group(rank, world_size, init_file)
    try:
        data = TensorDataset(torch.rand(32, 1, 28, 28), torch.randint(0, 10, (32,)))
        try:
            train(ToyNet(), DataLoader(data, batch_size=8), None, 1, device="cpu",
                  progress=False, precision="fp32")
            message = None
        except ValueError as err:
            message = str(err)
        torch.save({"message": message}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_under_torchrun_a_loader_that_cannot_shard_is_refused(tmp_path):
    out = tmp_path / "loader"
    run_processes(data_loader_worker, (2, "", str(tmp_path / "init"), str(out)))
    for rank in (0, 1):
        message = torch.load(f"{out}.{rank}", weights_only=True)["message"]
        assert message and "load_fashion_mnist" in message and "DataLoader" in message


def precision_worker(rank, world_size, init_file, out):
    from alexnet_lib import choose_precision

    join_process_group(rank, world_size, init_file)
    try:
        for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
            setattr(torch.cpu, probe, lambda: rank == 0)  # the processes' CPUs disagree
        torch.save({"name": choose_precision(torch.device("cpu")).name}, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_every_process_trains_in_the_first_ones_format(tmp_path):
    out = tmp_path / "precision"
    run_processes(precision_worker, (2, str(tmp_path / "init"), str(out)))
    names = [torch.load(f"{out}.{rank}", weights_only=True)["name"] for rank in (0, 1)]
    assert names == ["bf16", "bf16"]
