"""Data-parallel training on 2 CPU processes (gloo) matches one process on the same batches."""

import os
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from alexnet_lib import LeNet, load_fashion_mnist, set_seed, train

GLOBAL_BATCH = 16

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="no torch.distributed")


def one_epoch(root):
    set_seed(0)
    net = LeNet("relu")  # no dropout: both runs compute exactly the same function
    train_iter, test_iter = load_fashion_mnist(GLOBAL_BATCH, root=root, device="cpu")
    history = train(net, train_iter, test_iter, 1, device="cpu", progress=False,
                    precision="fp32")
    return net, history


def worker(rank, world_size, root, init_file, out):
    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank,
                            world_size=world_size)
    try:
        net, history = one_epoch(root)
        if rank == 0:
            torch.save({"weights": net.state_dict(), "history": history.to_dict()}, out)
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_match_one_process(tiny_root, tmp_path):
    root, _ = tiny_root
    out = tmp_path / "ddp.pt"
    mp.spawn(worker, args=(2, str(root), str(tmp_path / "init"), str(out)), nprocs=2)
    ddp = torch.load(out, weights_only=True)
    net, history = one_epoch(root)
    for name, tensor in net.state_dict().items():
        # the same sums added in another order: equal up to float rounding
        assert torch.allclose(ddp["weights"][name], tensor, rtol=1e-4, atol=1e-5), name
    ddp_epoch, epoch = ddp["history"]["epochs"][0], history.to_dict()["epochs"][0]
    assert ddp["history"]["settings"]["processes"] == 2
    assert ddp_epoch["train_loss"] == pytest.approx(epoch["train_loss"], rel=1e-5)
    assert ddp_epoch["train_acc"] == epoch["train_acc"]
    assert ddp_epoch["test_acc"] == epoch["test_acc"]


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
