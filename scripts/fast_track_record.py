"""Run the CPU fast track from the command line and record it, wall time included.

    python scripts/fast_track_record.py --out alexnet_lib/results

Runs `python -m alexnet_lib train` with the fast track's settings (the README and chapter 6
give them) in a fresh process, times it from start to exit, and writes a `fast_track` record:
the command, the machine, the settings, the wall time, the final test accuracy and the
history. The README quotes these records.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from alexnet_lib.experiments.records import cpu_name, write_record

FAST_TRACK = ["--image-size", "67", "--batch-size", "512", "--epochs", "3", "--lr", "0.002",
              "--lr-schedule", "warmup-linear", "--device", "cpu", "--seed", "0", "--no-progress"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs", help="folder for the JSON record")
    parser.add_argument("--tag", default="", help="a suffix for the file name")
    parser.add_argument("--precision", default="auto", help="the number format (auto chooses)")
    args = parser.parse_args()
    fast_track = [*FAST_TRACK, *(["--precision", args.precision]
                                 if args.precision != "auto" else [])]
    with tempfile.TemporaryDirectory() as run_dir:
        command = [sys.executable, "-m", "alexnet_lib", "train", *fast_track, "--out", run_dir]
        start = time.perf_counter()
        subprocess.run(command, check=True, env=os.environ)
        wall = time.perf_counter() - start
        history = json.loads((Path(run_dir) / "history.json").read_text(encoding="utf-8"))
    settings = history["settings"]
    record = {
        "kind": "fast_track", "date": dt.date.today().isoformat(),
        "device": f"CPU ({cpu_name()})", "threads": torch.get_num_threads(),
        "torch": settings["torch"],
        "command": "python -m alexnet_lib train " + " ".join(fast_track) + " --out OUT",
        "image_size": 67, "batch_size": settings["batch_size"], "epochs": settings["num_epochs"],
        "lr": settings["lr"], "lr_schedule": settings["lr_schedule"],
        "precision": settings["precision"], "wall_seconds": round(wall, 1),
        "test_acc": history["epochs"][-1]["test_acc"], "history": history,
    }
    path = Path(args.out) / f"{record['date']}_cpu_fast_track{args.tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_record(path, record)
    print(f"{wall / 60:.1f} min, test accuracy {record['test_acc']:.3f}; wrote {path}")


if __name__ == "__main__":
    main()
