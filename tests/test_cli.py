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
    # files named like a finished run's are replaced only when asked (see the test below)
    assert cli.main(train_args(root, out, "--epochs", "1", "--overwrite")) == 0
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


# --- Every user mistake in one line, every bug with its traceback ------------------------


@pytest.mark.parametrize("damage, says", [
    (lambda s: s["model"].update({"layers.1.weight": torch.zeros(2, 2)}),
     "layers.1.weight is [2, 2]"),
    (lambda s: s.update(history=[]), "history is a list"),
    (lambda s: s["position"].update(epoch="1"), "epoch is '1'"),
    (lambda s: s["optimizer"].update(param_groups=[]), "0 parameter group"),
])
def test_a_damaged_checkpoint_is_one_line_before_any_data_is_loaded(
        tiny_root, tmp_path, monkeypatch, capsys, damage, says):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--epochs", "1")) == 0
    state = load_checkpoint(tmp_path / "checkpoint.pt")
    damage(state)
    save_checkpoint(state, tmp_path / "checkpoint.pt")
    capsys.readouterr()
    no_data_loading(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--resume")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "checkpoint.pt cannot be resumed" in err and says in err
    assert "--overwrite" in err and "overwrite=True" not in err


def test_resuming_in_another_number_format_is_one_line_naming_the_option(
        tiny_root, tmp_path, monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--epochs", "1", "--precision", "fp32")) == 0
    capsys.readouterr()
    assert cli.main(train_args(root, tmp_path, "--resume", "--precision", "bf16")) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "was trained in fp32" in err
    assert "--precision fp32" in err and "--overwrite" in err and "precision=" not in err


@pytest.mark.parametrize("bug", [ValueError("a bug"), TypeError("a bug"), KeyError("a bug")])
def test_a_bug_still_shows_its_traceback(tiny_root, tmp_path, monkeypatch, bug):
    root, _ = tiny_root
    use_toy_model(monkeypatch)

    def buggy_train(*args, **kwargs):
        raise bug

    monkeypatch.setattr(cli, "train", buggy_train)
    with pytest.raises(type(bug), match="a bug"):
        cli.main(train_args(root, tmp_path))


# --- Every option checked before any data is loaded ---------------------------------------


@pytest.mark.parametrize("extra, says", [
    (["--lr", "inf"], "--lr must be positive and finite, got inf"),
    (["--weight-decay", "inf"], "--weight-decay must be 0 or more and finite, got inf"),
    (["--lr-schedule", "plateau"], "add --validation N"),
    (["--precision", "fp16"], "--precision fp16 needs a CUDA GPU"),
    (["--seed", str(10**23)], "--seed must be a whole number from 0"),
    (["--seed", "-1"], "--seed must be a whole number from 0"),
    (["--out", ""], "--out is empty"),
    (["--image-size", "100000"], "--image-size"),  # refused after the folder was made
])
def test_bad_options_are_one_line_naming_the_option_and_leave_no_folder(
        tiny_root, tmp_path, monkeypatch, capsys, extra, says):
    root, _ = tiny_root
    no_data_loading(monkeypatch)
    out = tmp_path / "new" / "run"
    assert cli.main(train_args(root, out, *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err, err
    assert "val_iter" not in err and "precision='" not in err
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("command", ["experiment", "bench"])
def test_an_output_that_is_a_file_is_refused_before_any_work(tmp_path, monkeypatch, capsys,
                                                            command):
    def work(*args, **kwargs):
        raise AssertionError("work began")

    monkeypatch.setattr("alexnet_lib.experiments.runner.train_recipe", work)
    monkeypatch.setattr("alexnet_lib.experiments.bench.run_benchmark", work)
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    first = ["experiment", "dropout"] if command == "experiment" else ["bench"]
    assert cli.main([*first, "--device", "cpu", "--out", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "notes.txt is a file" in err
    assert a_file.read_text() == "mine"


# --- A run's files: never replaced unasked, consistent after any stop ---------------------


@pytest.mark.parametrize("extra", [[], ["--resume"]])
def test_a_finished_run_without_a_checkpoint_is_replaced_only_with_overwrite(
        tiny_root, tmp_path, monkeypatch, capsys, extra):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--epochs", "1")) == 0
    (tmp_path / "checkpoint.pt").unlink()
    weights_before = (tmp_path / "weights.pt").read_bytes()
    with monkeypatch.context() as patch:
        no_data_loading(patch)
        assert cli.main(train_args(root, tmp_path, *extra)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds a finished run" in err
    assert "--overwrite" in err and (tmp_path / "weights.pt").read_bytes() == weights_before
    assert cli.main(train_args(root, tmp_path, "--epochs", "2", "--overwrite")) == 0
    assert len(History.load(tmp_path / "history.json")) == 2


@pytest.mark.parametrize("signum, status", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stop_while_weights_are_written_still_writes_weights_and_history(
        tiny_root, tmp_path, monkeypatch, signum, status):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    real_write = cli.write_atomically

    def stopped_while_writing(path, write):
        signal.raise_signal(signum)
        real_write(path, write)

    monkeypatch.setattr(cli, "write_atomically", stopped_while_writing)
    assert cli.main(train_args(root, tmp_path, "--epochs", "1")) == status
    saved = load_checkpoint(tmp_path / "checkpoint.pt")["model"]
    written = torch.load(tmp_path / "weights.pt", weights_only=True)
    assert all(torch.equal(written[key], value) for key, value in saved.items())
    assert len(History.load(tmp_path / "history.json")) == 1
    assert not stray_files(tmp_path)


def test_stale_temporary_files_in_the_output_folder_are_removed(tiny_root, tmp_path,
                                                                monkeypatch):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    for name in ("checkpoint.pt", "weights.pt", "history.json"):
        (tmp_path / f".{name}.a1b2c3d4.tmp").write_bytes(b"PK\x03\x04 partial")
    assert cli.main(train_args(root, tmp_path, "--epochs", "1")) == 0
    assert not stray_files(tmp_path)


def fake_run(recipe, seed, device=None, root=None, lang="en"):
    return {"seed": seed, "test_acc": 0.5, "test_loss": 1.0, "history": History().to_dict(),
            "wall_seconds": 0.0}


def test_an_experiment_on_a_full_disk_names_the_record_and_the_finished_run(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("alexnet_lib.experiments.runner.train_recipe", fake_run)

    def disk_full(path, text):
        raise OSError(errno.ENOSPC, f"No space left on the disk to write {path}")

    monkeypatch.setattr("alexnet_lib.experiments.records.write_text_atomically", disk_full)
    out = tmp_path / "records"
    assert cli.main(["experiment", "dropout", "--seeds", "0", "--variants", "p=0",
                     "--device", "cpu", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "experiment_dropout.json" in err
    assert "'p=0', seed 0 finished (test accuracy 0.5000)" in err
    assert list(out.iterdir()) == []  # no lock file, no 0-byte record


# --- Messages that are true ---------------------------------------------------------------


@pytest.mark.parametrize("signame, status", [("SIGINT", 130), ("SIGTERM", 143)])
def test_a_stopped_experiment_says_what_was_recorded_and_exits_with_the_signal(
        tiny_root, tmp_path, monkeypatch, capsys, signame, status):
    root, _ = tiny_root

    def stopped_train(*args, **kwargs):
        return History(interrupted=True, stopped_by=signame)

    monkeypatch.setattr("alexnet_lib.experiments.runner.train", stopped_train)
    monkeypatch.setattr("alexnet_lib.experiments.runner.split_validation",
                        lambda train_iter, n, **kwargs: (train_iter, None))  # tiny data: 64
    assert cli.main(["experiment", "dropout", "--seeds", "0", "--variants", "p=0", "--device",
                     "cpu", "--data", str(root), "--out", str(tmp_path)]) == status
    err = capsys.readouterr().err
    assert "no training was under way" not in err
    assert f"runs that finished are recorded in {tmp_path}" in err


def test_resume_of_a_complete_run_with_fewer_epochs_says_it_is_complete(
        tiny_root, tmp_path, monkeypatch, capsys):
    root, _ = tiny_root
    use_toy_model(monkeypatch)
    assert cli.main(train_args(root, tmp_path, "--epochs", "2")) == 0
    capsys.readouterr()
    assert cli.main(train_args(root, tmp_path, "--epochs", "1", "--resume")) == 0
    out = capsys.readouterr().out
    assert "holds a complete run: 2 epoch(s)" in out and "Done: 2 epoch(s)" in out
    assert "epoch 3" not in out and "1 epochs" not in out


def test_an_unreadable_data_file_is_not_called_corrupt(tiny_root, tmp_path, monkeypatch,
                                                       capsys):
    root, _ = tiny_root

    def unreadable(path):
        raise PermissionError(errno.EACCES, "Permission denied", path)

    monkeypatch.setattr("alexnet_lib.data.read_image_file", unreadable)
    assert cli.main(train_args(root, tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Permission denied" in err and "make it readable" in err
    assert "truncated" not in err and "corrupt" not in err
