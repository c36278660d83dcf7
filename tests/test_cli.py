import errno
import json
import os
import signal
import subprocess
import sys
import threading

import pytest
import torch
from other_process import lock_held_elsewhere
from toy_models import ToyNet, allocate_too_much, make_nan, send

from alexnet_lib import History, cli, load_checkpoint, save_checkpoint


def test_help_documents_every_command_and_option():
    out = subprocess.run([sys.executable, "-m", "alexnet_lib", "--help"], capture_output=True,
                         text=True, check=True).stdout
    assert "train" in out
    out = subprocess.run([sys.executable, "-m", "alexnet_lib", "train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    for option in ("--epochs", "--batch-size", "--lr", "--image-size", "--device", "--limit",
                   "--out", "--resume", "--data", "--lr-schedule", "--compile"):
        assert option in out


def test_train_writes_history_and_weights(tiny_root, tmp_path, monkeypatch, capsys):
    root, _ = tiny_root
    out = tmp_path / "run"
    real_compile = torch.compile  # Dynamo's "eager" backend: traced, without code generation
    monkeypatch.setattr(torch, "compile",
                        lambda model, mode=None: real_compile(model, backend="eager"))
    code = cli.main(["train", "--epochs", "1", "--batch-size", "16", "--image-size", "67",
                     "--limit", "32", "--device", "cpu", "--data", str(root), "--out", str(out),
                     "--no-progress", "--seed", "0", "--lr-schedule", "warmup-linear",
                     "--compile", "default"])
    assert code == 0
    history = json.loads((out / "history.json").read_text())
    assert len(history["epochs"]) == 1 and history["settings"]["image_shape"] == "1x67x67"
    assert history["settings"]["lr_schedule"] == "warmup-linear"
    assert history["settings"]["compile"] == "default"
    state = torch.load(out / "weights.pt", weights_only=True)
    assert state["fc.6.weight"].shape == (10, 4096)
    assert "Done: 1 epoch(s)" in capsys.readouterr().out


def test_interrupted_run_saves_and_exits_130(tiny_root, tmp_path, monkeypatch):
    root, _ = tiny_root
    monkeypatch.setattr(cli, "train", lambda *args, **kwargs: History(interrupted=True))
    code = cli.main(["train", "--data", str(root), "--out", str(tmp_path), "--device", "cpu"])
    assert code == 130 and (tmp_path / "weights.pt").is_file()


def test_bad_arguments_exit_2_with_a_message(tiny_root, tmp_path, capsys):
    root, _ = tiny_root
    code = cli.main(["train", "--epochs", "0", "--data", str(root), "--out", str(tmp_path),
                     "--device", "cpu", "--image-size", "67"])
    assert code == 2 and "--epochs must be positive" in capsys.readouterr().err
    code = cli.main(["train", "--image-size", "32", "--data", str(root), "--out", str(tmp_path)])
    assert code == 2 and "at least 67" in capsys.readouterr().err


# --- Stopping, writing and refusing, on the command line --------------------------------
# A ToyNet stands in for AlexNet (the same code path in a blink); the real AlexNet runs in
# the subprocess test and above.


def use_toy_model(monkeypatch, **toy_kwargs):
    monkeypatch.setattr(cli, "AlexNet",
                        lambda image_size: ToyNet(image_size=image_size, **toy_kwargs))


def train_args(root, out, *extra):
    return ["train", "--epochs", "3", "--batch-size", "8", "--image-size", "67", "--device",
            "cpu", "--precision", "fp32", "--data", str(root), "--out", str(out),
            "--no-progress", *extra]


def no_data_loading(monkeypatch):
    def load(*args, **kwargs):
        raise AssertionError("the data was loaded")

    monkeypatch.setattr(cli, "load_fashion_mnist", load)


def stray_files(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".lock"))]


def test_sigterm_to_the_command_saves_and_exits_143(tiny_root, tmp_path):
    root, _ = tiny_root
    out = tmp_path / "run"
    command = [sys.executable, "-m", "alexnet_lib", *train_args(root, out)[:-1]]
    command[command.index("--epochs") + 1] = "1000"
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    watchdog = threading.Timer(300, process.kill)  # never hang the test suite
    watchdog.start()
    try:
        for line in process.stdout:  # handlers are in place once an epoch has ended
            if line.startswith("epoch 1/1000"):
                break
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        watchdog.cancel()
        process.kill()
    assert process.returncode == 143, stderr[-2000:]
    assert "SIGTERM: stopping after this batch" in stdout and "Traceback" not in stderr
    assert load_checkpoint(out / "checkpoint.pt")["history"]["epochs"]
    assert History.load(out / "history.json").stopped_by == "SIGTERM"
    assert (out / "weights.pt").is_file() and not stray_files(out)


@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGHUP, 129),
                                            (signal.SIGINT, 130)])
def test_a_stop_signal_finishes_the_batch_saves_and_exits_128_plus_its_number(
        tiny_root, tmp_path, monkeypatch, capsys, signum, status):
    root, _ = tiny_root
    use_toy_model(monkeypatch, fail_at=8 + 3, failure=send(signum))  # epoch 2, batch 3
    assert cli.main(train_args(root, tmp_path)) == status
    position = load_checkpoint(tmp_path / "checkpoint.pt")["position"]
    assert (position["epoch"], position["batch"]) == (1, 3)
    out = capsys.readouterr().out
    assert "run the same command with --resume" in out and "train(..." not in out
    assert not stray_files(tmp_path)


def test_a_second_ctrl_c_while_saving_waits_for_the_checkpoint(tiny_root, tmp_path,
                                                               monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch, fail_at=8 + 3, failure=send(signal.SIGINT))
    real_save = torch.save
    saves = []

    def second_ctrl_c_mid_write(obj, f):
        saves.append(1)
        if len(saves) == 2:  # the first was at the end of epoch 1
            f.write(b"PK\x03\x04 the first bytes")
            signal.raise_signal(signal.SIGINT)
            f.seek(0)
        real_save(obj, f)

    monkeypatch.setattr("alexnet_lib.training.checkpoint.torch.save", second_ctrl_c_mid_write)
    assert cli.main(train_args(root, tmp_path)) == 130
    assert load_checkpoint(tmp_path / "checkpoint.pt")["position"]["batch"] == 3
    assert "stopping as soon as it is written" in capsys.readouterr().out
    assert not stray_files(tmp_path)


def test_nan_loss_exits_1_in_one_line_and_keeps_the_checkpoint(tiny_root, tmp_path,
                                                               monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch, fail_at=8 + 3, failure=make_nan)
    assert cli.main(train_args(root, tmp_path, "--lr", "0.01")) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "The loss became nan at epoch 2, batch 3" in err
    assert "--lr 0.001" in err and "checkpoint.pt keeps the last saved state" in err
    assert load_checkpoint(tmp_path / "checkpoint.pt")["position"]["epoch"] == 1


def test_cpu_out_of_memory_exits_1_suggesting_a_smaller_batch(tiny_root, tmp_path,
                                                               monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch, fail_at=2, failure=allocate_too_much)
    assert cli.main(train_args(root, tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cpu ran out of memory at batch size 8" in err
    assert "--batch-size 4" in err


def test_a_folder_holding_a_run_is_not_overwritten_unless_asked(tiny_root, tmp_path,
                                                                 monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--epochs", "1")) == 0
    before = (tmp_path / "checkpoint.pt").read_bytes()
    with monkeypatch.context() as patch:
        no_data_loading(patch)
        assert cli.main(train_args(root, tmp_path)) == 2
    err = capsys.readouterr().err
    assert "already holds a run" in err and "--resume" in err and "--overwrite" in err
    assert (tmp_path / "checkpoint.pt").read_bytes() == before
    assert cli.main(train_args(root, tmp_path, "--epochs", "2", "--overwrite")) == 0
    assert len(History.load(tmp_path / "history.json")) == 2


def test_weights_and_history_replace_symlinks_instead_of_writing_through_them(
        tiny_root, tmp_path, monkeypatch):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    out = tmp_path / "run"
    out.mkdir()
    elsewhere = tmp_path / "someone_elses.txt"
    elsewhere.write_text("keep me")
    for name in ("weights.pt", "history.json"):
        (out / name).symlink_to(elsewhere)
    assert cli.main(train_args(root, out, "--epochs", "1")) == 0
    assert elsewhere.read_text() == "keep me"
    assert not (out / "weights.pt").is_symlink() and not (out / "history.json").is_symlink()
    assert len(History.load(out / "history.json")) == 1


@pytest.mark.parametrize("where", ["a file", "under a file", "too long", "not writable"])
def test_an_unusable_output_folder_is_refused_before_any_data_is_loaded(
        tiny_root, tmp_path, monkeypatch, capsys, where):
    root, _ = tiny_root
    no_data_loading(monkeypatch)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("")
    out = {"a file": a_file, "under a file": a_file / "run", "too long": tmp_path / ("x" * 300),
           "not writable": tmp_path / "read-only"}[where]
    if where == "not writable":  # chmod does not stop root: make the probe fail as it would
        def refuse(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied")

        monkeypatch.setattr("alexnet_lib.training.files.tempfile.TemporaryFile", refuse)
    assert cli.main(train_args(root, out)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert {"a file": "is a file, not a folder", "under a file": "Cannot write into",
            "too long": "File name too long", "not writable": "Permission denied"}[where] in err


def test_a_second_run_into_the_same_folder_gets_a_clear_error(tiny_root, tmp_path,
                                                              monkeypatch, capsys):
    root, _ = tiny_root
    no_data_loading(monkeypatch)
    with lock_held_elsewhere(tmp_path / "checkpoint.pt"):
        assert cli.main(train_args(root, tmp_path)) == 2
    assert "Another training run is writing into" in capsys.readouterr().err


@pytest.mark.parametrize("problem", ["empty", "missing keys"])
def test_resume_from_a_broken_checkpoint_is_refused_before_any_data_is_loaded(
        tiny_root, tmp_path, monkeypatch, capsys, problem):
    root, _ = tiny_root
    no_data_loading(monkeypatch)
    if problem == "empty":
        (tmp_path / "checkpoint.pt").write_bytes(b"")
    else:
        save_checkpoint({"model": {}}, tmp_path / "checkpoint.pt")
    assert cli.main(train_args(root, tmp_path, "--resume")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "checkpoint.pt" in err
    assert {"empty": "is empty (0 bytes)", "missing keys": "lacks optimizer"}[problem] in err


def test_an_image_size_too_large_for_memory_is_refused_before_any_data_is_loaded(
        tiny_root, tmp_path, monkeypatch, capsys):
    root, _ = tiny_root
    no_data_loading(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--image-size", "100000")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GB of memory" in err and "--image-size" in err


def test_a_full_disk_exits_1_in_one_line_keeping_the_last_checkpoint(tiny_root, tmp_path,
                                                                     monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    real_save = torch.save
    saves = []

    def disk_full_at_the_second_save(obj, f):
        saves.append(1)
        if len(saves) == 2:
            f.write(b"PK\x03\x04 part of a zip")
            raise OSError(errno.ENOSPC, "No space left on device")
        real_save(obj, f)

    monkeypatch.setattr("alexnet_lib.training.checkpoint.torch.save", disk_full_at_the_second_save)
    assert cli.main(train_args(root, tmp_path)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "No space left on the disk to write" in err
    assert load_checkpoint(tmp_path / "checkpoint.pt")["position"]["epoch"] == 1
    assert not stray_files(tmp_path)


@pytest.mark.parametrize("option, value, message", [
    ("--steps", "0", "--steps must be positive"),
    ("--batch-size", "-1", "--batch-size must be positive"),
    ("--full-run-epochs", "-1", "--full-run-epochs must be 0 or more"),
    ("--image-size", "32", "at least 67"),
])
def test_bench_with_bad_arguments_exits_2_in_one_line(tmp_path, monkeypatch, capsys, option,
                                                     value, message):
    def run_benchmark(*args, **kwargs):
        raise AssertionError("the benchmark ran")

    monkeypatch.setattr("alexnet_lib.experiments.bench.run_benchmark", run_benchmark)
    assert cli.main(["bench", "--device", "cpu", "--out", str(tmp_path), option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def no_benchmark_work(monkeypatch):
    def work(*args, **kwargs):
        raise AssertionError("the benchmark started working")

    for name in ("find_fashion_mnist", "layer_summary", "load_fashion_mnist",
                 "source_data_loader"):
        monkeypatch.setattr(f"alexnet_lib.experiments.bench.{name}", work)


@pytest.mark.parametrize("limit, extra, smallest", [
    ("1", [], "769"),  # the CPU's 3 steps: 2 x 3 timed batches of 128 and one to warm up
    ("3", [], "769"),
    ("127", [], "769"),  # less than one batch
    ("768", [], "769"),
    ("16", ["--batch-size", "8", "--steps", "1"], "17"),
    ("200", ["--batch-size", "32", "--steps", "4"], "257"),
])  # fmt: skip
def test_bench_with_a_limit_too_small_for_its_batches_exits_2_in_one_line(
        tmp_path, monkeypatch, capsys, limit, extra, smallest):
    no_benchmark_work(monkeypatch)
    args = ["bench", "--device", "cpu", "--out", str(tmp_path), "--limit", limit, *extra]
    assert cli.main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"--limit {limit} is too small" in err, err
    assert f"--limit must be at least {smallest}" in err, err


def test_bench_with_the_smallest_limit_runs(tiny_root, tmp_path):
    root, _ = tiny_root
    assert cli.main(["bench", "--device", "cpu", "--image-size", "67", "--batch-size", "8",
                     "--steps", "1", "--limit", "17", "--data", str(root), "--precision",
                     "fp32", "--out", str(tmp_path)]) == 0


def test_bench_with_a_tiny_limit_prints_no_traceback(tmp_path):
    command = [sys.executable, "-m", "alexnet_lib", "bench", "--device", "cpu", "--limit", "1",
               "--out", str(tmp_path)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "--limit must be at least" in result.stderr


@pytest.mark.parametrize("where", ["--data", "ALEXNET_DATA"])
def test_bench_without_data_says_what_train_says(tmp_path, monkeypatch, capsys, where):
    empty = tmp_path / "no data here"
    empty.mkdir()
    if where == "ALEXNET_DATA":
        monkeypatch.setenv("ALEXNET_DATA", str(empty))
    data = ["--data", str(empty)] if where == "--data" else []
    common = ["--device", "cpu", "--image-size", "67", *data]
    assert cli.main(["train", *common, "--out", str(tmp_path / "train")]) == 2
    said_by_train = capsys.readouterr().err
    assert cli.main(["bench", *common, "--out", str(tmp_path / "bench")]) == 2
    said_by_bench = capsys.readouterr().err
    assert said_by_bench == said_by_train
    assert said_by_bench.startswith("error: Fashion-MNIST not found")
    assert "download=True" not in said_by_bench and "Traceback" not in said_by_bench
