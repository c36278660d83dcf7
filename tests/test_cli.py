import json
import subprocess
import sys

import torch

from alexnet_lib import History, cli


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
