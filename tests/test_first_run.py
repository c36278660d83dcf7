"""A first run without the data: the notebooks and real-data tests are skipped with one message
naming ALEXNET_DATA (no cascade of failures), and CI stops instead of passing without them."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_pytest(data: Path, ci: bool) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["ALEXNET_DATA"] = str(data)
    if ci:
        env["CI"] = "true"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
               "book/en/01_lenet_to_alexnet.ipynb", "tests/test_data.py"]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_without_the_data_what_needs_it_is_skipped_with_one_message(tmp_path):
    result = run_pytest(tmp_path, ci=False)
    out = result.stdout
    assert result.returncode == 0, out[-3000:]
    assert "failed" not in out and "NameError" not in out
    assert out.count("Fashion-MNIST is missing") == 1 and "ALEXNET_DATA" in out
    skipped = re.search(r"(\d+) skipped", out)
    assert skipped and int(skipped[1]) > 10  # every cell of the notebook, the real-data test


def test_under_ci_a_missing_data_set_stops_the_session(tmp_path):
    result = run_pytest(tmp_path, ci=True)
    assert result.returncode != 0
    assert "ALEXNET_DATA" in result.stdout + result.stderr
    assert " passed" not in result.stdout  # stopped before running anything
