"""scripts/gpu_check.py: its dry run on the CPU, step by step, stores nothing in the
repository; the targets are judged from a benchmark record; a GPU tier that skipped every
test fails the check; without a GPU it says so."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from book_modules import ROOT, script

gpu_check = script("gpu_check")

RECORD = {"image_size": 224, "train_library": 41_000.0,
          "train_library_compiled": {"default": 52_000.0, "reduce-overhead": 61_000.0},
          "full_run": {"epochs": 10, "wall_seconds": 18.5, "test_acc": 0.925}}


def test_targets_are_judged_from_the_fastest_mode_and_the_full_run():
    checks = gpu_check.target_checks(RECORD)
    assert [measured for _, measured, _, _ in checks] == ["61,000", "18.5 s", "0.925"]
    assert all(met for *_, met in checks)
    slow = {**RECORD, "train_library_compiled": {},
            "full_run": {**RECORD["full_run"], "wall_seconds": 21.0, "test_acc": 0.919}}
    assert [met for *_, met in gpu_check.target_checks(slow)] == [False, False, False]
    no_full_run = {key: value for key, value in RECORD.items() if key != "full_run"}
    assert len(gpu_check.target_checks(no_full_run)) == 1


def test_without_a_gpu_the_check_says_so_and_runs_nothing(monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(gpu_check, "run_step", lambda *args: pytest.fail("a step ran"))
    assert gpu_check.main([]) == 2
    assert "--dry-run" in capsys.readouterr().err


def test_every_step_is_planned_for_the_gpu_with_the_records_in_results(tmp_path):
    commands = gpu_check.step_commands(dry_run=False, out=gpu_check.RESULTS,
                                       tests_report=tmp_path / "report.xml")
    assert list(commands) == list(gpu_check.STEPS)
    assert gpu_check.STEPS[0] == "tests"  # the tier first: nothing else counts if it fails
    tests, env = commands["tests"]
    assert tests[1:3] == ["-m", "pytest"] and env == {}
    assert tests[tests.index("-m", 3) + 1] == "gpu" and "tests/test_gpu.py" in tests
    assert "no:cacheprovider" in tests and f"--junitxml={tmp_path / 'report.xml'}" in tests
    bench, _ = commands["bench"]
    assert bench[bench.index("--device") + 1] == "cuda"
    assert bench[bench.index("--image-size") + 1] == "224"
    assert bench[bench.index("--out") + 1] == str(gpu_check.RESULTS)
    ablation, _ = commands["ablation"]
    assert ablation[3:5] == ["experiment", "ablation-224"]
    assert ablation[ablation.index("--out") + 1] == str(gpu_check.RESULTS)
    chapters, env = commands["chapters"]
    assert "scripts/execute_notebooks.py" in chapters and "ALEXNET_QUICK" not in env
    assert "book/en/06_training.ipynb" in chapters and "book/zh/06_training.ipynb" in chapters


def test_the_chapters_are_those_that_exist_in_both_languages(tmp_path):
    for lang in ("en", "zh"):
        (tmp_path / "book" / lang).mkdir(parents=True)
        (tmp_path / "book" / lang / "06_training.ipynb").touch()
    assert gpu_check.chapter_notebooks((6, 7), tmp_path) == [
        "book/en/06_training.ipynb", "book/zh/06_training.ipynb"]


def junit_report(path, tests, skipped, failures=0):
    """A report as `pytest --junitxml` writes it, with these counts."""
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests">'
        f'<testsuite name="pytest" errors="0" failures="{failures}" skipped="{skipped}" '
        f'tests="{tests}" time="1.0"></testsuite></testsuites>', encoding="utf-8")
    return path


def test_a_gpu_tier_that_skipped_every_test_proves_nothing(tmp_path):
    assert gpu_check.tier_problem(junit_report(tmp_path / "ran.xml", 36, 4)) is None
    skipped = gpu_check.tier_problem(junit_report(tmp_path / "skipped.xml", 36, 36))
    assert "no test ran (36 of 36 skipped)" in skipped
    assert "no report" in gpu_check.tier_problem(tmp_path / "missing.xml")


@pytest.mark.parametrize("skipped", [36, 4])
def test_the_tests_step_fails_when_its_tier_skipped_every_test(monkeypatch, tmp_path, capsys,
                                                               skipped):
    monkeypatch.setattr(gpu_check, "cannot_start", lambda dry_run: None)

    def run_step(name, command, env):  # pytest passes, having written its report
        [report] = [arg.split("=", 1)[1] for arg in command if arg.startswith("--junitxml=")]
        junit_report(Path(report), 36, skipped)
        return True, 1.0

    monkeypatch.setattr(gpu_check, "run_step", run_step)
    status = gpu_check.main(["--steps", "tests", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    if skipped == 36:
        assert status == 1 and "no test ran" in out and f"{'tests':10}  FAILED" in out
    else:
        assert status == 0 and f"{'tests':10}    done" in out


DRY_RUNS = {"tests": [], "bench": [], "ablation": [], "chapters": ["--chapters", "6"]}
"""Each step of the dry run, as the test runs it."""


def dry_run_outputs_in_results() -> dict:
    """What a dry run would leave in alexnet_lib/results/ if it wrote there: a 67-px CPU
    benchmark record, or the 224-px ablation's record (with the time it was written)."""
    paths = [*gpu_check.RESULTS.glob("*_cpu_67px*.json"),
             *gpu_check.RESULTS.glob("experiment_ablation-224.json")]
    return {path: path.stat().st_mtime_ns for path in paths}


@pytest.mark.parametrize("step", gpu_check.STEPS)
def test_dry_run_of_each_step_on_the_cpu_stores_nothing(step, real_data_root, tmp_path):
    before = dry_run_outputs_in_results()
    env = {**os.environ, "ALEXNET_DATA": str(real_data_root)}
    result = subprocess.run(
        [sys.executable, "scripts/gpu_check.py", "--dry-run", "--steps", step,
         *DRY_RUNS[step], "--out", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, out[-4000:]
    assert f"{step:10}    done" in out
    assert dry_run_outputs_in_results() == before
    if step == "bench":
        [record] = tmp_path.glob("*_cpu_67px.json")
        assert json.loads(record.read_text())["limit"] == 128
        assert "target >= 50,000" in out  # shown, not enforced, in a dry run
    if step == "tests":  # the same command as on a GPU, with the GPU hidden: all skipped
        assert "no CUDA device" in out and " passed" not in out
        command, env = gpu_check.step_commands(True, tmp_path)["tests"]
        assert "tests/test_gpu.py" in command and env == {"CUDA_VISIBLE_DEVICES": ""}
    if step == "chapters":  # nbval runs the notebooks without storing their outputs
        command, env = gpu_check.step_commands(True, tmp_path, (6,))["chapters"]
        assert command[1:3] == ["-m", "pytest"] and env == {"ALEXNET_QUICK": "1"}


def test_an_earlier_chapter_6_checkpoint_is_found(tmp_path):
    assert gpu_check.earlier_chapter6_checkpoints(tmp_path) == []
    (tmp_path / "book" / "zh" / "runs").mkdir(parents=True)
    (tmp_path / "book" / "zh" / "runs" / "alexnet_67px.pt").touch()  # the CPU's run: no matter
    checkpoint = tmp_path / "book" / "zh" / "runs" / "alexnet_224px.pt"
    checkpoint.touch()
    assert gpu_check.earlier_chapter6_checkpoints(tmp_path) == [checkpoint]
