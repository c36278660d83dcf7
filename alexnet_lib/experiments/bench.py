"""Benchmark: the naive version's input pipeline and training loop against the library's.

The naive version is chapter 6's first attempt: batch size 1, a per-image PIL `Resize` and
`ToTensor` in a torchvision `DataLoader`, and a loop that reads the loss back after every
batch. Everything runs in one process, on one device, on the same data and image size, so
the ratios compare like with like. `python -m alexnet_lib bench` prints a table and writes
JSON. The JSON keys and the functions that measure the naive version keep their older names
(`pipeline_source`, `train_source_batch1`, `source_data_loader` ...): the recorded files and
the chapter's self-checks read them.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any

import torch
from torch import nn
from torchvision.datasets import FashionMNIST
from torchvision.transforms import Compose, Resize, ToTensor

from ..book.columns import left, right
from ..book.summary import layer_summary
from ..data import find_fashion_mnist, load_fashion_mnist
from ..devices import resolve_device, set_seed
from ..errors import UsageError
from ..models import AlexNet
from ..training.loop import train, train_step
from ..training.messages import COMMAND_LINE, check_lang
from ..training.optim import make_optimizer
from ..training.precision import choose_precision
from .records import cpu_name


def _sync(device: torch.device) -> None:
    """Wait for the work queued on the device: GPUs (CUDA, MPS) run behind the host."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _option(name: str) -> str:
    """How an error names a setting: --batch-size on the command line, batch_size in Python."""
    return "--" + name.replace("_", "-") if COMMAND_LINE.get() else name


def pipeline_batches(steps: int) -> int:
    """Batches each input-pipeline row times: twice the training rows' steps."""
    return 2 * steps


def smallest_limit(batch_size: int, steps: int) -> int:
    """The smallest `limit` whose training split fills the input-pipeline rows: one warm-up
    batch and pipeline_batches(steps) timed ones, the last of which may be partial."""
    return batch_size * pipeline_batches(steps) + 1


def check_limit(limit: int | None, batch_size: int, steps: int) -> None:
    """Refuse, before any work, a `limit` too small for the input-pipeline rows' batches."""
    smallest = smallest_limit(batch_size, steps)
    if isinstance(limit, int) and limit < smallest:
        name = _option("limit")
        raise UsageError(
            f"{name} {limit} is too small for the benchmark: its input-pipeline rows read "
            f"{pipeline_batches(steps) + 1} batches of {batch_size} images (one to warm up), so "
            f"{name} must be at least {smallest:,} (or use a smaller {_option('batch_size')} "
            f"or {_option('steps')})."
        )


def _batches(data_iter: Iterable, count: int) -> Iterator:
    """The first `count` batches of `data_iter`; a ValueError, not a StopIteration, where it
    holds fewer (a small data set, quick mode's cap)."""
    batches = iter(data_iter)
    for taken in range(count):
        batch = next(batches, None)
        if batch is None:
            raise UsageError(
                f"The data ran out after {taken} batches; this measurement reads {count}: use "
                f"more images (a larger {_option('limit')}, or none) or a smaller "
                f"{_option('steps')}."
            )
        yield batch


def source_data_loader(batch_size: int, resize: int,
                       root: str | os.PathLike | None = None) -> torch.utils.data.DataLoader:
    """The naive version's pipeline: PIL Resize + ToTensor per image, no worker processes.
    The data is found as the library's loader finds it (`root`, else $ALEXNET_DATA, ...)."""
    transform = Compose([Resize(size=resize), ToTensor()])
    dataset = FashionMNIST(str(find_fashion_mnist(root)), train=True, download=False,
                           transform=transform)
    return torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=True,
                                       num_workers=0)


def source_train_steps(net: nn.Module, data_iter, optimizer, device, num_steps: int) -> float:
    """The naive version's inner loop, step for step (`.cpu().item()` after every batch).

    Returns training images per second over `num_steps` batches (after one warm-up batch).
    """
    loss = nn.CrossEntropyLoss()
    net.train()
    train_l_sum, train_acc_sum, n = 0.0, 0.0, 0
    start = None
    for step, (X, y) in enumerate(_batches(data_iter, num_steps + 1)):
        if step == 1:  # the first batch pays for one-off setup
            _sync(device)
            start, n = time.perf_counter(), 0
        X, y = X.to(device), y.to(device)
        y_hat = net(X)
        l = loss(y_hat, y)  # noqa: E741 (d2l's name for it)
        optimizer.zero_grad()
        l.backward()
        optimizer.step()
        train_l_sum += l.cpu().item()
        train_acc_sum += (y_hat.argmax(dim=1) == y).sum().cpu().item()
        n += y.shape[0]
    return n / (time.perf_counter() - start)


def pipeline_images_per_sec(data_iter, device: torch.device, num_batches: int) -> float:
    """Images per second an input pipeline delivers onto `device` (one warm-up batch)."""
    batches = _batches(data_iter, num_batches + 1)
    next(batches)
    _sync(device)
    start, n = time.perf_counter(), 0
    for X, _ in batches:
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


def library_images_per_sec(
    device: torch.device, image_size: int, batch_size: int, steps: int, root: str | None,
    compile: str = "off", precision: str = "auto",
) -> tuple[float, str]:
    """Steady-state training images/s of `alexnet_lib.train`, and the precision it chose.

    Two epochs of `steps` full batches and a partial one, as the whole training set ends
    (60,000 = 468 x 128 + 96): the first epoch warms up (compiling, cuDNN's kernel search),
    the second is the one timed, so a recompile for the last batch would show in it.
    """
    net = AlexNet(image_size=image_size)
    partial = batch_size * 3 // 4  # 96 at batch 128
    train_iter, test_iter = load_fashion_mnist(batch_size, resize=image_size, root=root,
                                               limit=batch_size * steps + partial,
                                               device=device)
    history = train(net, train_iter, test_iter, 2, device=device, compile=compile,
                    precision=precision, progress=False)
    return history[-1].images_per_sec, history.settings["precision"]


def bare_step_images_per_sec(device: torch.device, image_size: int, batch_size: int,
                             steps: int, precision: str) -> float:
    """Training images/s of `train_step` alone, on one fixed batch already on the device,
    with AlexNet and the batch in the channels-last layout and Adam's fused update: the
    ceiling for `alexnet_lib.train` on the same model, batch and number format."""
    torch.manual_seed(0)
    net = AlexNet(image_size=image_size).to(device, memory_format=torch.channels_last)
    optimizer = make_optimizer("adam", net.parameters(), 0.001, 0.0, device)
    X = torch.rand(batch_size, 1, image_size, image_size, device=device)
    X = X.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 10, (batch_size,), device=device)
    number_format = choose_precision(device, precision)
    for step in range(steps + 1):
        if step == 1:  # the first step pays for one-off setup
            _sync(device)
            start = time.perf_counter()
        train_step(net, X, y, optimizer, number_format)
    _sync(device)
    return steps * batch_size / (time.perf_counter() - start)


FULL_RUN_RECIPE = {"lr": 0.001, "lr_schedule": "warmup-linear", "seed": 0}
"""The full run's settings besides image size, batch size and epochs: Adam, warm-up and decay."""


def full_run(device: torch.device, train_iter, test_iter, image_size: int, epochs: int,
             precision: str = "auto", compile: str = "off",
             seed: int = FULL_RUN_RECIPE["seed"]) -> dict[str, Any]:
    """Train a fresh AlexNet for `epochs` over the whole training set; wall time and accuracy."""
    set_seed(seed)
    net = AlexNet(image_size=image_size)
    _sync(device)
    start = time.perf_counter()
    history = train(net, train_iter, test_iter, epochs, lr=FULL_RUN_RECIPE["lr"],
                    lr_schedule=FULL_RUN_RECIPE["lr_schedule"], device=device,
                    precision=precision, compile=compile, progress=False)
    _sync(device)
    return {
        "epochs": epochs,
        "wall_seconds": time.perf_counter() - start,
        "test_acc": history.test_acc[-1],
        "precision": history.settings["precision"],
        "compile": history.settings["compile"],
        **FULL_RUN_RECIPE,
        "seed": seed,
        "history": history.to_dict(),
    }


def precision_check_formats(device: torch.device) -> tuple[str, str]:
    """fp32 and the low-precision format "auto" trains in on `device`: fp16 on GPUs that
    emulate bf16 (compute capability below 8.0), bf16 elsewhere."""
    low = choose_precision(device).name
    return "fp32", low if low != "fp32" else "bf16"


def run_benchmark(
    device: str | None = None,
    image_size: int = 224,
    batch_size: int = 128,
    steps: int | None = None,
    full_run_epochs: int | None = None,
    root: str | None = None,
    compile_modes: tuple[str, ...] | None = None,
    precision_check_epochs: int = 0,
    precision: str = "auto",
    limit: int | None = None,
) -> dict[str, Any]:
    """Measure everything the table shows; return it as a JSON-ready dict.

    compile_modes: `torch.compile` modes to time besides eager (default: "default" and
    "reduce-overhead" on a GPU, none on a CPU); the fastest is used for the full run.
    precision_check_epochs: if > 0, train that long in fp32 and in the low-precision format
    "auto" picks (bf16, or fp16 on GPUs before compute capability 8.0), two seeds each.
    precision: the number format of the library's rows and the full run ("auto" chooses).
    limit: train the full run and the precision check on only the first `limit` images of each
    split (for a dry run of the benchmark; the record says so); at least
    `smallest_limit(batch_size, steps)`.
    """
    device = resolve_device(device)
    on_gpu = device.type == "cuda"
    steps = steps or (50 if on_gpu else 3)
    check_limit(limit, batch_size, steps)
    if compile_modes is None:
        compile_modes = ("default", "reduce-overhead") if on_gpu else ()
    find_fashion_mnist(root)  # missing data is reported as `train` reports it, before any work
    flops_per_image = 3 * layer_summary(AlexNet(image_size=image_size), (1, image_size,
                                                                        image_size)).total_flops
    results: dict[str, Any] = {
        "date": dt.date.today().isoformat(),
        "device": torch.cuda.get_device_name(device) if on_gpu else f"CPU ({cpu_name()})",
        "threads": torch.get_num_threads(),
        "torch": str(torch.__version__),
        "image_size": image_size,
        "batch_size": batch_size,
        "train_flops_per_image": flops_per_image,
    }
    if limit is not None:
        results["limit"] = limit

    # 1. input pipeline
    source_loader = source_data_loader(batch_size, image_size, root)
    train_iter, test_iter = load_fashion_mnist(batch_size, resize=image_size, root=root,
                                               limit=limit, device=device)
    results["pipeline_source"] = pipeline_images_per_sec(source_loader, device,
                                                         pipeline_batches(steps))
    results["pipeline_library"] = pipeline_images_per_sec(train_iter, device,
                                                          pipeline_batches(steps))

    # 2. training: the naive loop at batch 1 and at batch_size, the library at batch_size
    torch.manual_seed(0)
    for source_batch in (1, batch_size):
        net = AlexNet(image_size=image_size).to(device)
        optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
        loader = source_data_loader(source_batch, image_size, root)
        source_steps = steps * 10 if source_batch == 1 else steps
        results[f"train_source_batch{source_batch}"] = source_train_steps(
            net, loader, optimizer, device, source_steps)
    measure = {"device": device, "image_size": image_size, "batch_size": batch_size,
               "steps": steps, "root": root, "precision": precision}
    results["train_library"], results["train_library_precision"] = \
        library_images_per_sec(**measure)
    results["train_bare_step"] = bare_step_images_per_sec(
        device, image_size, batch_size, steps, results["train_library_precision"])
    results["train_library_compiled"] = {
        mode: library_images_per_sec(**measure, compile=mode)[0] for mode in compile_modes}
    speeds = {"off": results["train_library"], **results["train_library_compiled"]}
    results["fastest_compile"] = max(speeds, key=speeds.get)

    # 3. achieved FLOP/s against a measured matmul peak
    size = 8192 if on_gpu else 1024
    results["peak_fp32_flops"] = matmul_peak_flops(device, torch.float32, size)
    results["peak_bf16_flops"] = matmul_peak_flops(device, torch.bfloat16, size)
    results["achieved_flops"] = max(speeds.values()) * flops_per_image

    # 4. a full run, wall time and accuracy, compiled the fastest way measured
    if full_run_epochs:
        results["full_run"] = full_run(device, train_iter, test_iter, image_size,
                                       full_run_epochs, precision,
                                       compile=results["fastest_compile"])

    # 5. does the low-precision format cost accuracy? The same budget in both, two seeds each
    if precision_check_epochs:
        results["precision_check"] = {
            "epochs": precision_check_epochs,
            **{precision: [full_run(device, train_iter, test_iter, image_size,
                                    precision_check_epochs, precision, seed=seed)["test_acc"]
                           for seed in (0, 1)]
               for precision in precision_check_formats(device)},
        }
    return results


TABLE_TEXT = {
    "en": {
        "device": "device: {device}, torch {torch}, {date}, image {size} px, {gflop:.2f} GFLOP "
                  "per training image",
        "measure": "measure", "speed": "images/s", "ratio": "ratio",
        "input_naive": "input: naive version (PIL Resize + ToTensor, 0 workers)",
        "input_library": "input: library (batched, on the device)",
        "train_naive": "train: naive version, batch {batch}",
        "train_library": "train: alexnet_lib.train, batch {batch} ({precision})",
        "compiled": "  ... compiled, mode {mode}",
        "bare": "train: train_step alone, one batch, channels-last ({precision})",
        "share_of_bare": "  alexnet_lib.train vs train_step alone",
        "fastest": "  fastest vs the naive version at batch {batch}",
        "achieved": "achieved {achieved:,.1f} GFLOP/s = {share:.0%} of the measured {format} "
                    "matmul peak ({peak:,.1f} GFLOP/s)",
        "full_run": "full run: {epochs} epochs + evaluation in {seconds:.1f} s wall, test "
                    "accuracy {acc:.3f} ({precision}, compile {compile})",
        "precision_check": "precision check, {epochs} epoch(s), seeds 0 and 1: test accuracy "
                           "{accuracies}",
    },
    "zh": {
        "device": "设备：{device}，torch {torch}，{date}，图像 {size} 像素，每张训练图像 "
                  "{gflop:.2f} GFLOP",
        "measure": "测量项", "speed": "图像/秒", "ratio": "倍数",
        "input_naive": "输入：朴素版本（逐张 PIL Resize + ToTensor，0 个工作进程）",
        "input_library": "输入：本库（整批处理，数据在计算设备上）",
        "train_naive": "训练：朴素版本，批量 {batch}",
        "train_library": "训练：alexnet_lib.train，批量 {batch}（{precision}）",
        "compiled": "  ……编译后，模式 {mode}",
        "bare": "训练：只有 train_step，同一个批量，channels-last（{precision}）",
        "share_of_bare": "  alexnet_lib.train 与只有 train_step 相比",
        "fastest": "  最快的一种与批量 {batch} 的朴素版本相比",
        "achieved": "实际达到 {achieved:,.1f} GFLOP/s，是实测 {format} 矩阵乘法峰值"
                    "（{peak:,.1f} GFLOP/s）的 {share:.0%}",
        "full_run": "完整训练：{epochs} 个迭代周期加评估，共 {seconds:.1f} 秒，测试准确率 "
                    "{acc:.3f}（{precision}，编译模式 {compile}）",
        "precision_check": "数值精度检查，{epochs} 个迭代周期，种子 0 和 1：测试准确率 "
                           "{accuracies}",
    },
}  # fmt: skip
"""The table's words in each language; the numbers and their layout are shared."""


def format_table(r: dict[str, Any], lang: str = "en") -> str:
    """The results as a table a reader can check against the targets, in English or Chinese."""
    check_lang(lang)
    text = TABLE_TEXT[lang]
    batch, precision = r["batch_size"], r["train_library_precision"]
    peak_key = "peak_bf16_flops" if precision == "bf16" else "peak_fp32_flops"
    naive_same_batch = r[f"train_source_batch{batch}"]
    compiled = r.get("train_library_compiled", {})
    library = max([r["train_library"], *compiled.values()])
    measures = [
        (text["input_naive"], r["pipeline_source"], None),
        (text["input_library"], r["pipeline_library"],
         r["pipeline_library"] / r["pipeline_source"]),
        (text["train_naive"].format(batch=1), r["train_source_batch1"], None),
        (text["train_naive"].format(batch=batch), naive_same_batch, None),
        (text["train_library"].format(batch=batch, precision=precision), r["train_library"],
         None),
        *[(text["compiled"].format(mode=mode), speed, None) for mode, speed in compiled.items()],
        *([(text["bare"].format(precision=precision), r["train_bare_step"], None),
           (text["share_of_bare"], None, r["train_library"] / r["train_bare_step"])]
          if "train_bare_step" in r else []),
        (text["fastest"].format(batch=batch), None, library / naive_same_batch),
        (text["fastest"].format(batch=1), None, library / r["train_source_batch1"]),
    ]
    rows = [
        text["device"].format(device=r["device"], torch=r["torch"], date=r["date"],
                              size=r["image_size"], gflop=r["train_flops_per_image"] / 1e9),
        left(text["measure"], 60) + right(text["speed"], 12) + right(text["ratio"], 9),
    ]
    for label, value, ratio in measures:
        value_text = f"{value:,.1f}" if value is not None else ""
        ratio_text = ("" if ratio is None else f"{ratio:.0%}" if ratio < 1 else f"{ratio:.1f}x")
        rows.append(left(label, 60) + right(value_text, 12) + right(ratio_text, 9))
    rows.append(text["achieved"].format(
        achieved=r["achieved_flops"] / 1e9, share=r["achieved_flops"] / r[peak_key],
        format=peak_key.split("_")[1], peak=r[peak_key] / 1e9))
    if "full_run" in r:
        full = r["full_run"]
        rows.append(text["full_run"].format(
            epochs=full["epochs"], seconds=full["wall_seconds"], acc=full["test_acc"],
            precision=full["precision"], compile=full.get("compile", "off")))
    if "precision_check" in r:
        check = r["precision_check"]
        accuracies = ", ".join(f"{name} {' / '.join(f'{acc:.3f}' for acc in check[name])}"
                               for name in check if name != "epochs")
        rows.append(text["precision_check"].format(epochs=check["epochs"],
                                                   accuracies=accuracies))
    return "\n".join(rows)
