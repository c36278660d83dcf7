"""Benchmark: the source notebook's input pipeline and training loop against the library's.

Everything runs in one process, on one device, on the same data and image size, so the
ratios compare like with like. `python -m alexnet_lib bench` prints a table and writes JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torchvision.datasets import FashionMNIST
from torchvision.transforms import Compose, Resize, ToTensor

from .data import load_fashion_mnist, resolve_data_root
from .devices import resolve_device
from .models import AlexNet
from .summary import layer_summary
from .train import train


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def source_data_loader(batch_size: int, resize: int, root: Path) -> torch.utils.data.DataLoader:
    """The source notebook's pipeline: PIL Resize + ToTensor per image, no worker processes."""
    transform = Compose([Resize(size=resize), ToTensor()])
    dataset = FashionMNIST(str(root), train=True, download=False, transform=transform)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                       num_workers=0)


def source_train_steps(net: nn.Module, data_iter, optimizer, device, num_steps: int) -> float:
    """The source notebook's inner loop, step for step (`.cpu().item()` after every batch).

    Returns training images per second over `num_steps` batches (after one warm-up batch).
    """
    loss = nn.CrossEntropyLoss()
    net.train()
    train_l_sum, train_acc_sum, n = 0.0, 0.0, 0
    batches = iter(data_iter)
    start = None
    for step in range(num_steps + 1):
        if step == 1:  # the first batch pays for one-off setup
            _sync(device)
            start, n = time.perf_counter(), 0
        X, y = next(batches)
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 (the source notebook's name)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        train_l_sum += l.cpu().item()
        train_acc_sum += (y_hat.argmax(dim=1) == y).sum().cpu().item()
        n += y.shape[0]
    return n / (time.perf_counter() - start)


def pipeline_images_per_sec(data_iter, device: torch.device, num_batches: int) -> float:
    """Images per second an input pipeline delivers onto `device` (one warm-up batch)."""
    batches = iter(data_iter)
    next(batches)
    _sync(device)
    start, n = time.perf_counter(), 0
    for _ in range(num_batches):
        X, _ = next(batches)
        X = X.to(device)
        n += len(X)
    _sync(device)
    return n / (time.perf_counter() - start)


def matmul_peak_flops(device: torch.device, dtype: torch.dtype, size: int,
                      seconds: float = 1.0) -> float:
    """Achieved FLOP/s of a large square matrix product: a practical peak for the device.

    Products are repeated until `seconds` have passed, so slow formats (bf16 on a CPU
    without native support) cost no more time than fast ones.
    """
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    a @ b
    _sync(device)
    start, repeats = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        for _ in range(10 if device.type == "cuda" else 1):
            a @ b
            repeats += 1
        _sync(device)
    return 2 * size**3 * repeats / (time.perf_counter() - start)


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def run_benchmark(
    device: str | None = None,
    image_size: int = 224,
    batch_size: int = 128,
    steps: int | None = None,
    full_run_epochs: int | None = None,
    root: str | None = None,
) -> dict[str, Any]:
    """Measure everything the table shows; return it as a JSON-ready dict."""
    device = resolve_device(device)
    on_gpu = device.type == "cuda"
    steps = steps or (50 if on_gpu else 3)
    data_root, _ = resolve_data_root(root)
    flops_per_image = 3 * layer_summary(AlexNet(image_size=image_size), (1, image_size,
                                                                        image_size)).total_flops
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "device": torch.cuda.get_device_name(device) if on_gpu else f"CPU ({_cpu_name()})",
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
        "image_size": image_size,
        "batch_size": batch_size,
        "train_flops_per_image": flops_per_image,
    }

    # 1. input pipeline
    source_loader = source_data_loader(batch_size, image_size, data_root)
    train_iter, test_iter = load_fashion_mnist(batch_size, resize=image_size, root=root,
                                               device=device)
    results["pipeline_source"] = pipeline_images_per_sec(source_loader, device, steps * 2)
    results["pipeline_library"] = pipeline_images_per_sec(train_iter, device, steps * 2)

    # 2. training: the source loop at batch 1 and at batch_size, the library at batch_size
    torch.manual_seed(0)
    for source_batch in (1, batch_size):
        net = AlexNet(image_size=image_size).to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
        loader = source_data_loader(source_batch, image_size, data_root)
        source_steps = steps * 10 if source_batch == 1 else steps
        results[f"train_source_batch{source_batch}"] = source_train_steps(
            net, loader, optimizer, device, source_steps)
    net = AlexNet(image_size=image_size)
    small_train, small_test = load_fashion_mnist(batch_size, resize=image_size, root=root,
                                                 limit=batch_size * (steps + 1), device=device)
    history = train(net, small_train, small_test, 1, device=device, progress=False)
    results["train_library"] = history[-1].images_per_sec
    results["train_library_precision"] = history.settings["precision"]

    # 3. achieved FLOP/s against a measured matmul peak
    size = 8192 if on_gpu else 1024
    results["peak_fp32_flops"] = matmul_peak_flops(device, torch.float32, size)
    results["peak_bf16_flops"] = matmul_peak_flops(device, torch.bfloat16, size)
    results["achieved_flops"] = results["train_library"] * flops_per_image

    # 4. on a GPU: a full run, wall time and accuracy
    if full_run_epochs:
        torch.manual_seed(0)
        net = AlexNet(image_size=image_size)
        _sync(device)
        start = time.perf_counter()
        history = train(net, train_iter, test_iter, full_run_epochs, device=device,
                        progress=False)
        _sync(device)
        results["full_run"] = {
            "epochs": full_run_epochs,
            "wall_seconds": time.perf_counter() - start,
            "test_acc": history.test_acc[-1],
            "history": history.to_dict(),
        }
    return results


def format_table(r: dict[str, Any]) -> str:
    """The results as a table a reader can check against the targets."""
    batch, precision = r["batch_size"], r["train_library_precision"]
    peak_key = "peak_bf16_flops" if precision == "bf16" else "peak_fp32_flops"
    source_same_batch = r[f"train_source_batch{batch}"]
    library = r["train_library"]
    measures = [
        ("input: source (PIL Resize + ToTensor, 0 workers)", r["pipeline_source"], None),
        ("input: library (batched, on the device)", r["pipeline_library"],
         r["pipeline_library"] / r["pipeline_source"]),
        ("train: source loop, batch 1", r["train_source_batch1"], None),
        (f"train: source loop, batch {batch}", source_same_batch, None),
        (f"train: alexnet_lib.train, batch {batch} ({precision})", library, None),
        (f"  ... vs the source loop at batch {batch}", None, library / source_same_batch),
        ("  ... vs the source loop at batch 1", None, library / r["train_source_batch1"]),
    ]
    rows = [
        f"device: {r['device']}, torch {r['torch']}, {r['date']}, image {r['image_size']} px, "
        f"{r['train_flops_per_image'] / 1e9:.2f} GFLOP per training image",
        f"{'measure':<52}{'images/s':>12}{'ratio':>9}",
    ]
    for label, value, ratio in measures:
        value_text = f"{value:,.1f}" if value is not None else ""
        ratio_text = f"{ratio:.1f}x" if ratio is not None else ""
        rows.append(f"{label:<52}{value_text:>12}{ratio_text:>9}")
    rows.append(
        f"achieved {r['achieved_flops'] / 1e9:,.1f} GFLOP/s = "
        f"{r['achieved_flops'] / r[peak_key]:.0%} of the measured {peak_key.split('_')[1]} "
        f"matmul peak ({r[peak_key] / 1e9:,.1f} GFLOP/s)"
    )
    if "full_run" in r:
        full = r["full_run"]
        rows.append(f"full run: {full['epochs']} epochs + evaluation in "
                    f"{full['wall_seconds']:.1f} s wall, test accuracy {full['test_acc']:.3f}")
    return "\n".join(rows)


RECORDS = Path(__file__).parent / "results"
"""The book's recorded benchmark runs, shipped with the library so that chapters can quote them."""


def recorded_results(kind: str = "bench") -> list[dict[str, Any]]:
    """The recorded runs in `alexnet_lib/results/`, oldest first, each with its `file` name.

    kind: "bench" (`python -m alexnet_lib bench`) or "fast_track" (the CPU fast track's
    training runs).
    """
    records = []
    for path in sorted(RECORDS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("kind", "bench") == kind:
            record["file"] = path.name
            records.append(record)
    return records


def save_results(results: dict[str, Any], folder: str | Path) -> Path:
    """Append-only record: one JSON file per run, named by date and device."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tag = "gpu" if "CPU" not in results["device"] else "cpu"
    path = folder / f"{results['date']}_{tag}_{results['image_size']}px.json"
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return path
