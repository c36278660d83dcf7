"""The GPU check: one command that measures what only a GPU can, and records it.

    ALEXNET_DATA=/path/to/data python scripts/gpu_check.py       # on a CUDA GPU
    python scripts/gpu_check.py --dry-run                          # every step, tiny, on the CPU
    python scripts/gpu_check.py --steps bench chapters --chapters 6   # some steps only

Steps, in order, sized to take under 12 minutes on an H100 in all (the summary prints each
step's seconds):

1. tests: `python -m pytest -q -m gpu tests/test_gpu.py`, the GPU tier (about 2 minutes):
   AlexNet trained on the GPU in each precision (fp32, bf16, fp16 with a grad scaler) and
   compile mode, its loss falling and a resumed run bit-exact. The step fails when pytest
   fails, and also when every test was skipped: a tier that skipped proves nothing.
2. bench: `python -m alexnet_lib bench --device cuda` at 224 px, batch 128: the naive
   version's pipeline and loop against the library's, eager and compiled, a 10-epoch full
   run and the bf16-versus-fp32 accuracy check; its record goes into alexnet_lib/results/.
3. ablation: `python -m alexnet_lib experiment ablation-224`, the ablation experiment at
   224 px, recorded in alexnet_lib/results/experiment_ablation-224.json.
4. chapters: chapter 6 (training AlexNet) re-executed in English and Chinese by
   scripts/execute_notebooks.py, which stores the fresh outputs in the notebooks.

Then the targets, read from the benchmark's record: at least 50,000 training images/s at
224 px, 10 epochs plus evaluation in at most 20 s, test accuracy at least 0.92. The exit
status is 1 when a step failed or a target was missed, 2 when the check cannot start.

The dry run runs every step on the CPU with tiny settings and stores nothing in the
repository: the GPU tier runs with the GPU hidden (every test skipped, as it should be), the
benchmark (67 px, 128 images, one epoch) writes into a temporary folder, the ablation trains
its baseline from one seed in quick mode (ALEXNET_QUICK=1), and the chapters run under nbval
in quick mode without storing outputs. Its numbers mean nothing; the targets are shown, not
enforced.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from xml.etree import ElementTree

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "alexnet_lib" / "results"
STEPS = ("tests", "bench", "ablation", "chapters")
GPU_TESTS = "tests/test_gpu.py"
CHAPTERS = (6,)

MIN_IMAGES_PER_SEC = 50_000
MAX_FULL_RUN_SECONDS = 20.0
MIN_TEST_ACC = 0.92


def chapter_notebooks(chapters: tuple[int, ...], root: Path = ROOT) -> list[str]:
    """The notebooks of these chapters that exist, both languages, relative to `root`."""
    return sorted(str(path.relative_to(root)) for chapter in chapters
                  for path in root.glob(f"book/*/{chapter:02d}_*.ipynb"))


def step_commands(dry_run: bool, out: Path, chapters: tuple[int, ...] = CHAPTERS,
                  tests_report: Path | None = None,
                  ) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Each step's command line and the environment variables it sets. tests_report: where
    the tests step writes pytest's JUnit XML report (see `tier_problem`)."""
    python, lib = sys.executable, [sys.executable, "-m", "alexnet_lib"]
    notebooks = chapter_notebooks(chapters)
    tests = [python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-m", "gpu",
             GPU_TESTS, *([f"--junitxml={tests_report}"] if tests_report else [])]
    if dry_run:
        quick = {"ALEXNET_QUICK": "1"}
        return {
            "tests": (tests, {"CUDA_VISIBLE_DEVICES": ""}),  # the CPU: every test skips
            "bench": (lib + ["bench", "--device", "cpu", "--image-size", "67", "--batch-size",
                             "16", "--steps", "1", "--limit", "128", "--full-run-epochs", "1",
                             "--precision-check-epochs", "1", "--out", str(out)], {}),
            "ablation": (lib + ["experiment", "ablation-224", "--device", "cpu", "--seeds", "0",
                                "--variants", "baseline", "--out", str(out)], quick),
            "chapters": ([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *notebooks],
                         quick),
        }
    globs = [arg for path in notebooks for arg in ("--glob", path)]
    return {
        "tests": (tests, {}),
        "bench": (lib + ["bench", "--device", "cuda", "--image-size", "224", "--batch-size",
                         "128", "--out", str(out)], {}),
        "ablation": (lib + ["experiment", "ablation-224", "--device", "cuda", "--out",
                            str(out)], {}),
        "chapters": ([python, "scripts/execute_notebooks.py", *globs], {}),
    }


def tier_problem(report: Path) -> str | None:
    """Why the GPU tier proves nothing although pytest passed, or None: pytest wrote no
    report, or no test ran (every one skipped, e.g. where PyTorch sees no GPU)."""
    if not report.is_file():
        return f"pytest wrote no report to {report}"
    root = ElementTree.parse(report).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    counts = {key: sum(int(suite.get(key, 0)) for suite in suites)
              for key in ("tests", "skipped", "failures", "errors")}
    if counts["tests"] - counts["skipped"] - counts["failures"] - counts["errors"] <= 0:
        return (f"no test ran ({counts['skipped']} of {counts['tests']} skipped): a GPU check "
                "whose tier skipped proves nothing")
    return None


def cannot_start(dry_run: bool) -> str | None:
    """Why the check cannot run here (no GPU, no data), or None."""
    sys.path.insert(0, str(ROOT))
    import torch

    from alexnet_lib.data import read_fashion_mnist

    if not dry_run and not torch.cuda.is_available():
        return "PyTorch sees no CUDA GPU here: run this on a GPU, or pass --dry-run on a CPU."
    try:
        read_fashion_mnist(train=False)
    except (FileNotFoundError, ValueError) as err:
        return f"{err}\nSet ALEXNET_DATA to the folder holding FashionMNIST/raw/."
    return None


def earlier_chapter6_checkpoints(root: Path = ROOT) -> list[Path]:
    """Checkpoints an earlier full run of chapter 6 left: the chapter would resume them and
    store a resumed run's outputs instead of a fresh one's."""
    return sorted(root.glob("book/*/runs/alexnet_224px.pt"))


def run_step(name: str, command: list[str], env: dict[str, str]) -> tuple[bool, float]:
    """Run one step, its output streaming through; (succeeded, seconds)."""
    print(f"\n=== {name}: {' '.join(command)}", flush=True)
    start = time.perf_counter()
    environment = {**os.environ, **env}
    if "ALEXNET_QUICK" not in env:
        environment.pop("ALEXNET_QUICK", None)  # a full run, whatever the shell says
    result = subprocess.run(command, cwd=ROOT, env=environment)
    return result.returncode == 0, time.perf_counter() - start


def target_checks(record: dict) -> list[tuple[str, str, str, bool]]:
    """(what, measured, target, met) for each target the benchmark's record answers."""
    speed = max([record["train_library"], *record.get("train_library_compiled", {}).values()])
    checks = [(f"training images/s at {record['image_size']} px", f"{speed:,.0f}",
               f">= {MIN_IMAGES_PER_SEC:,}", speed >= MIN_IMAGES_PER_SEC)]
    full = record.get("full_run")
    if full is not None:
        seconds, accuracy = full["wall_seconds"], full["test_acc"]
        checks += [
            (f"{full['epochs']} epochs + evaluation", f"{seconds:.1f} s",
             f"<= {MAX_FULL_RUN_SECONDS:g} s", seconds <= MAX_FULL_RUN_SECONDS),
            ("test accuracy", f"{accuracy:.3f}", f">= {MIN_TEST_ACC}", accuracy >= MIN_TEST_ACC),
        ]
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="every step on the CPU with tiny settings, nothing stored")
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS),
                        help="run only these steps (default: all, in order)")
    parser.add_argument("--chapters", nargs="+", type=int, default=list(CHAPTERS),
                        help="the chapters the chapters step re-executes, where they exist "
                        "(default: 6)")
    parser.add_argument("--out", default=None,
                        help="folder for the records (default: alexnet_lib/results; for a dry "
                        "run, a new temporary folder)")
    args = parser.parse_args(argv)

    problem = cannot_start(args.dry_run)
    if problem:
        print(f"gpu_check: {problem}", file=sys.stderr)
        return 2
    if args.out:
        out = Path(args.out).resolve()
    elif args.dry_run:
        out = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    else:
        out = RESULTS
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.json"))
    scratch = Path(tempfile.mkdtemp(prefix="gpu_check_tests_"))
    tests_report = scratch / "report.xml"
    commands = step_commands(args.dry_run, out, tuple(args.chapters), tests_report)

    summary, all_ok = [], True
    for name in (step for step in STEPS if step in args.steps):  # always in this order
        ch6 = name == "chapters" and 6 in args.chapters
        earlier = earlier_chapter6_checkpoints() if ch6 else []
        if earlier and not args.dry_run:
            print(f"\n=== {name}: not run: {', '.join(map(str, earlier))} would be resumed; "
                  "move it away for a fresh run", flush=True)
            ok, seconds = False, 0.0
        else:
            ok, seconds = run_step(name, *commands[name])
        if name == "tests" and ok and not args.dry_run:  # in a dry run, skips are expected
            problem = tier_problem(tests_report)
            if problem:
                print(f"\n=== {name}: FAILED: {problem}", flush=True)
                ok = False
        all_ok &= ok
        summary.append(f"{name:10}{'done' if ok else 'FAILED':>8}{seconds:>9.0f} s")

    shutil.rmtree(scratch, ignore_errors=True)
    print(f"\n=== summary{' (dry run: the numbers mean nothing)' if args.dry_run else ''}")
    print("\n".join(summary))
    new_records = sorted(set(out.glob("*.json")) - before)
    bench_records = [path for path in new_records
                     if json.loads(path.read_text(encoding="utf-8")).get("kind", "bench")
                     == "bench"]
    if bench_records:
        checks = target_checks(json.loads(bench_records[-1].read_text(encoding="utf-8")))
        for what, measured, target, met in checks:
            print(f"{what:36}{measured:>10}   target {target:<11}{'met' if met else 'MISSED'}")
        if len(checks) < 3:
            print("The record has no full run: time and accuracy are unchecked.")
        if not args.dry_run:
            all_ok &= len(checks) == 3 and all(met for *_, met in checks)
    for path in new_records:
        print(f"wrote {path}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
