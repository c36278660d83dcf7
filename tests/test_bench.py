import json
import re

import pytest
import torch
from torch import nn

from alexnet_lib import cli
from alexnet_lib.book.columns import display_width
from alexnet_lib.experiments import bench, records
from alexnet_lib.experiments.records import save_results
from conftest import make_tiny_fashion_mnist


def test_bench_command_measures_every_row_and_writes_json(tiny_root, tmp_path, capsys):
    root, _ = tiny_root
    code = cli.main(["bench", "--device", "cpu", "--image-size", "67", "--batch-size", "8",
                     "--steps", "1", "--data", str(root), "--precision", "fp32",
                     "--out", str(tmp_path)])
    assert code == 0
    [path] = tmp_path.glob("*_cpu_67px.json")
    results = json.loads(path.read_text())
    for key in ("pipeline_source", "pipeline_library", "train_source_batch1",
                "train_source_batch8", "train_library", "peak_fp32_flops", "peak_bf16_flops",
                "achieved_flops", "train_flops_per_image", "train_bare_step"):
        assert results[key] > 0, key
    assert results["train_library_precision"] == "fp32"
    assert results["train_library_compiled"] == {} and results["fastest_compile"] == "off"
    assert "full_run" not in results and "precision_check" not in results
    assert results["command"].endswith("--out " + str(tmp_path))
    table = capsys.readouterr().out
    assert "naive version, batch 1" in table and "of the measured fp32 matmul peak" in table
    assert "source" not in table  # the naive version, by the name the book gives it
    share = f"{results['train_library'] / results['train_bare_step']:.0%}"
    assert "train_step alone, one batch, channels-last (fp32)" in table and share in table


def test_compiled_rows_full_run_and_precision_check_on_request(tmp_path, monkeypatch, capsys):
    root = tmp_path / "data"
    make_tiny_fashion_mnist(root, n_train=32, n_test=8)
    # Dynamo's "eager" backend traces the model as torch.compile does, without Inductor's
    # minute of code generation: enough to test what the benchmark does with the modes.
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile",
                        lambda model, mode=None: real_compile(model, backend="eager"))
    args = ["bench", "--device", "cpu", "--image-size", "67", "--batch-size", "8", "--steps",
            "1", "--data", str(root), "--out", str(tmp_path / "out"), "--compile-modes",
            "default", "reduce-overhead", "--full-run-epochs", "1",
            "--precision-check-epochs", "1", "--limit", "24"]
    assert cli.main(args) == 0
    results = json.loads((tmp_path / "out" / next(iter(
        p.name for p in (tmp_path / "out").glob("*.json")))).read_text())
    compiled = results["train_library_compiled"]
    assert set(compiled) == {"default", "reduce-overhead"} and min(compiled.values()) > 0
    speeds = {"off": results["train_library"], **compiled}
    assert results["fastest_compile"] == max(speeds, key=speeds.get)
    full = results["full_run"]
    assert full["compile"] == results["fastest_compile"] and full["lr_schedule"] == "warmup-linear"
    assert full["epochs"] == 1 and 0 <= full["test_acc"] <= 1 and full["wall_seconds"] > 0
    assert results["limit"] == 24 and full["history"]["settings"]["train_examples"] == 24
    check = results["precision_check"]
    assert check["epochs"] == 1
    assert len(check["fp32"]) == len(check["bf16"]) == 2
    table = capsys.readouterr().out
    assert "compiled, mode reduce-overhead" in table and "full run: 1 epochs" in table
    assert "precision check, 1 epoch(s)" in table


def test_a_second_record_on_the_same_day_keeps_the_first(tmp_path):
    record = {"date": "2026-01-02", "device": "CPU (test)", "image_size": 67}
    first = save_results({**record, "run": 1}, tmp_path)
    second = save_results({**record, "run": 2}, tmp_path)
    assert first.name == "2026-01-02_cpu_67px.json" and second.name == "2026-01-02_cpu_67px_2.json"
    assert json.loads(first.read_text())["run"] == 1
    assert json.loads(second.read_text())["run"] == 2


def test_timing_waits_for_cuda_and_mps(monkeypatch):
    waited = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: waited.append("cuda"))
    monkeypatch.setattr(torch.mps, "synchronize", lambda: waited.append("mps"))
    for device in ("cuda", "mps", "cpu"):
        bench._sync(torch.device(device))
    assert waited == ["cuda", "mps"]


def test_the_timed_epoch_ends_with_a_partial_batch(tiny_root, monkeypatch):
    root, _ = tiny_root
    epochs = []

    def recording_train(net, train_iter, test_iter, num_epochs, **kwargs):
        epochs.append((train_iter.num_examples, len(train_iter)))
        return real_train(net, train_iter, test_iter, num_epochs, **kwargs)

    real_train = bench.train
    monkeypatch.setattr(bench, "train", recording_train)
    speed, precision = bench.library_images_per_sec(torch.device("cpu"), 67, 8, 2, str(root),
                                                    precision="fp32")
    assert speed > 0 and precision == "fp32"
    assert epochs == [(2 * 8 + 6, 3)]  # two full batches and one of 6, as 468 x 128 + 96


def test_the_table_speaks_chinese_with_the_same_numbers():
    record = records.recorded_results()[0]
    en, zh = bench.format_table(record), bench.format_table(record, lang="zh")
    assert "训练：朴素版本，批量 1" in zh and "朴素版本" in zh and "source" not in zh
    numbers = re.compile(r"\d[\d,.]*\d|\d")
    assert sorted(numbers.findall(en)) == sorted(numbers.findall(zh))
    # Columns line up in both: a Chinese character takes two columns in a terminal.
    widths = {display_width(row) for row in zh.splitlines()[1:-1]}
    assert widths == {81}, widths


@pytest.mark.parametrize("capability, formats", [((7, 5), ("fp32", "fp16")),
                                                 ((9, 0), ("fp32", "bf16"))])
def test_the_precision_check_compares_fp32_with_the_format_auto_trains_in(
        monkeypatch, capability, formats):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda index=None: capability)
    assert bench.precision_check_formats(torch.device("cuda", 0)) == formats
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert bench.precision_check_formats(torch.device("mps")) == ("fp32", "bf16")


def naive_loop(batches, steps):
    net = nn.Sequential(nn.Flatten(), nn.Linear(4, 10))
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    return bench.source_train_steps(net, batches, optimizer, torch.device("cpu"), steps)


@pytest.mark.parametrize("measure", [
    lambda batches: bench.pipeline_images_per_sec(batches, torch.device("cpu"), 4),
    lambda batches: naive_loop(batches, 4),
], ids=["pipeline", "naive training loop"])  # fmt: skip
def test_data_that_runs_out_is_a_clear_error_not_a_stop_iteration(measure):
    batches = [(torch.zeros(2, 1, 2, 2), torch.zeros(2, dtype=torch.int64))] * 3
    with pytest.raises(ValueError, match="ran out after 3 batches; this measurement reads 5"):
        measure(batches)


def test_the_smallest_limit_fills_the_pipeline_rows():
    assert bench.smallest_limit(128, 3) == 769
    bench.check_limit(769, 128, 3)
    bench.check_limit(None, 128, 3)
    with pytest.raises(ValueError, match="limit 768 is too small.*at least 769"):
        bench.check_limit(768, 128, 3)
