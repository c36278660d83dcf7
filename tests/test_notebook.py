"""alexnet_lib.book.notebook: the chapter's language, and the device report of the first cell."""

from __future__ import annotations

import json
import sys
import types

import pytest

from alexnet_lib.book import notebook
from alexnet_lib.book.notebook import detect_language, device_report, language_from_path


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """No language hints at all: no variables, a neutral working directory, not on Colab."""
    monkeypatch.delenv("ALEXNET_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_default_is_english(clean_env):
    assert detect_language() == "en"


@pytest.mark.parametrize("value, lang", [("zh", "zh"), ("zh_CN", "zh"), ("zh-CN", "zh"),
                                         ("EN", "en"), (" en ", "en")])  # fmt: skip
def test_environment_variable_wins(clean_env, tmp_path, value, lang):
    (tmp_path / "book" / "en").mkdir(parents=True)
    clean_env.chdir(tmp_path / "book" / "en")
    clean_env.setenv("JPY_SESSION_NAME", "/x/book/en/01_a.ipynb")
    clean_env.setenv("ALEXNET_LANG", value)
    assert detect_language() == lang


def test_unknown_language_is_an_error(clean_env):
    clean_env.setenv("ALEXNET_LANG", "fr")
    with pytest.raises(ValueError, match="ALEXNET_LANG"):
        detect_language()


def test_notebook_path_from_the_jupyter_server(clean_env):
    clean_env.setenv("JPY_SESSION_NAME", "/home/reader/alexnet/book/zh/03_relu_vs_sigmoid.ipynb")
    assert detect_language() == "zh"


def test_notebook_metadata_when_the_path_says_nothing(clean_env, tmp_path):
    path = tmp_path / "downloaded.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {"alexnet": {"lang": "zh"}}}))
    clean_env.setenv("JPY_SESSION_NAME", str(path))
    assert detect_language() == "zh"


def test_working_directory(clean_env, tmp_path):
    folder = tmp_path / "book" / "zh"
    folder.mkdir(parents=True)
    clean_env.chdir(folder)
    assert detect_language() == "zh"


def test_colab_notebook_metadata(clean_env):
    colab = types.ModuleType("google.colab")
    message = types.ModuleType("google.colab._message")
    message.blocking_request = lambda kind, timeout_sec=5: {
        "ipynb": {"metadata": {"alexnet": {"lang": "zh"}}}
    }
    colab._message = message
    clean_env.setitem(sys.modules, "google.colab", colab)
    clean_env.setitem(sys.modules, "google.colab._message", message)
    assert detect_language() == "zh"


@pytest.mark.parametrize("path, lang", [
    ("book/zh/01_lenet_to_alexnet.ipynb", "zh"),
    ("/srv/alexnet/book/en", "en"),
    ("/srv/alexnet/book/zh/sub/x.ipynb", "zh"),
    ("/srv/zh/notes.ipynb", None),
    ("/srv/book/fr/x.ipynb", None),
])  # fmt: skip
def test_language_from_path(path, lang):
    assert language_from_path(path) == lang


def test_report_with_a_gpu_is_one_line():
    report = device_report("en", "cuda", "Tesla T4")
    assert report == "Device: cuda (Tesla T4)."
    assert "\n" not in device_report("zh", "cuda", "Tesla T4")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_without_a_gpu_explains_colab_and_the_fast_track(lang):
    report = device_report(lang, "cpu")
    assert len(report.splitlines()) == 3
    assert "T4 GPU" in report
    assert "67" in report and ("fast track" in report or "快速通道" in report)
    assert "ALEXNET_QUICK" not in report  # quick mode is for tests, not a way to train


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_report_in_quick_mode_says_so_in_one_line(lang):
    report = device_report(lang, "cpu", quick=True).splitlines()
    assert len(report) == 2
    assert report[1].startswith(("[quick mode]", "[快速模式]"))
    assert "ALEXNET_QUICK=1" in report[1]


def test_setup_returns_the_language_and_reports(clean_env, capsys):
    clean_env.setenv("ALEXNET_LANG", "zh")
    calls = []
    clean_env.setattr(notebook, "use_language", lambda lang: calls.append(lang) or "Font")
    assert notebook.setup() == "zh"
    assert calls == ["zh"]
    out = capsys.readouterr().out
    assert out.startswith("设备：")
    assert "[快速模式]" not in out


def test_setup_in_quick_mode(clean_env, capsys):
    clean_env.setenv("ALEXNET_QUICK", "1")
    assert notebook.setup() == "en"
    assert "[quick mode]" in capsys.readouterr().out


def test_setup_says_when_chinese_figures_lack_a_font(clean_env, capsys):
    clean_env.setenv("ALEXNET_LANG", "zh")
    clean_env.setattr(notebook, "use_language", lambda lang: None)
    notebook.setup()
    assert "fonts-noto-cjk" in capsys.readouterr().out


def test_on_colab_setup_installs_a_chinese_font_when_there_is_none(clean_env, capsys):
    clean_env.setenv("ALEXNET_LANG", "zh")
    clean_env.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    installed, commands = [], []

    def run(command, **kwargs):
        commands.append(command)
        installed.append(True)
        return types.SimpleNamespace(returncode=0)

    clean_env.setattr(notebook.subprocess, "run", run)
    clean_env.setattr(notebook, "use_language",
                      lambda lang: "Noto Sans CJK SC" if installed else None)
    assert notebook.setup() == "zh"
    assert len(commands) == 1 and "fonts-noto-cjk" in commands[0]
    assert "fonts-noto-cjk" not in capsys.readouterr().out  # no warning: the font is there


def test_off_colab_setup_installs_nothing(clean_env, capsys):
    clean_env.setenv("ALEXNET_LANG", "zh")
    clean_env.setattr(notebook.subprocess, "run", lambda *a, **k: pytest.fail("installed"))
    clean_env.setattr(notebook, "use_language", lambda lang: None)
    notebook.setup()
    assert "fonts-noto-cjk" in capsys.readouterr().out  # the advice instead
