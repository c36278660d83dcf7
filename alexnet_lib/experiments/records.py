"""Every record the library writes and the book reads: the experiments', the race's and the
benchmark's, in `alexnet_lib/results/` when they ship with it. Records are JSON, written
atomically through one writer; two processes may fill one experiment's record."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import torch

from ..training.files import write_text_atomically

try:
    import fcntl
except ImportError:  # Windows: one process per experiment there
    fcntl = None

RESULTS = Path(__file__).resolve().parent.parent / "results"
"""The records that ship with the library, which the chapters read."""


def write_record(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Write a record as JSON, atomically: readers see the old file or the new one."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_text_atomically(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")


def load_record(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def recorded_results(kind: str = "bench") -> list[dict[str, Any]]:
    """The recorded runs in `alexnet_lib/results/`, oldest first, each with its `file` name.

    kind: "bench" (`python -m alexnet_lib bench`) or "fast_track" (the CPU fast track's
    training runs).
    """
    records = []
    for path in sorted(RESULTS.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        if record.get("kind", "bench") == kind:
            record["file"] = path.name
            records.append(record)
    return records


def merged(mine: dict[str, Any], theirs: dict[str, Any] | None, matches) -> dict[str, Any]:
    """`mine` with the runs of `theirs` (the record on disk) that it lacks, when both are
    records of the same definition (`matches` tells)."""
    if theirs is None or not matches(theirs.get("definition")):
        return mine
    have = {(run["variant"], run["seed"]) for run in mine["runs"]}
    extra = [run for run in theirs["runs"] if (run["variant"], run["seed"]) not in have]
    if not extra:
        return mine
    finished = max(mine.get("finished", ""), theirs.get("finished", ""))
    return {**mine, "runs": mine["runs"] + extra, "finished": finished}


def add_run(path: Path, record: dict[str, Any], run: dict[str, Any], matches) -> dict[str, Any]:
    """Add `run` to the record at `path`, keeping runs that another process wrote there
    meanwhile; the record as written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with record_lock(path):  # held only while reading and writing the record
        record = merged(record, load_record(path), matches)
        if (run["variant"], run["seed"]) in {(r["variant"], r["seed"]) for r in record["runs"]}:
            return record  # the other process finished the same run first
        record = {**record, "runs": [*record["runs"], run],
                  "finished": dt.datetime.now().isoformat(timespec="seconds")}
        write_record(path, record)
    return record


@contextmanager
def record_lock(path: Path) -> Iterator[None]:
    """Wait for, then hold, `.<name>.lock` beside the record; the lock file is deleted when
    released, so that nothing is left beside the record."""
    lock = path.with_name(f".{path.name}.lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:  # the holder before us may have deleted the file meanwhile: then try again
            if os.fstat(fd).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still holding it
        os.close(fd)


def save_results(results: dict[str, Any], folder: str | Path) -> Path:
    """Append-only record: one JSON file per run, named by date, device and image size."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tag = "gpu" if "CPU" not in results["device"] else "cpu"
    stem = f"{results['date']}_{tag}_{results['image_size']}px"
    path, number = folder / f"{stem}.json", 1
    while path.exists():  # a second run on the same day keeps the first
        number += 1
        path = folder / f"{stem}_{number}.json"
    write_record(path, results)
    return path


def machine(device: torch.device) -> dict[str, Any]:
    name = (torch.cuda.get_device_name(device) if device.type == "cuda"
            else f"CPU ({cpu_name()})" if device.type == "cpu" else device.type.upper())
    return {"device": str(device), "device_name": name, "threads": torch.get_num_threads(),
            "torch": str(torch.__version__), "python": platform.python_version()}


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def where(record: dict[str, Any], lang: str = "en") -> str:
    """The machine and date of a record, for the line printed beside its results."""
    threads = record.get("threads", "?")
    if lang == "zh":
        threads = f"{threads} 个线程"
    else:
        threads = f"{threads} thread{'' if threads == 1 else 's'}"
    return (f"{record.get('device_name', '?')}, {threads}, torch {record.get('torch', '?')}, "
            f"{record.get('finished', record.get('started', ''))[:10]}")


def read_message(runs: int, file: str, record: dict[str, Any], call: str, lang: str) -> str:
    if lang == "zh":
        return (f"从 {file} 读取了 {runs} 次记录下来的训练（{record.get('device_name')}，torch "
                f"{record.get('torch')}）；{call} 会重新训练。")
    return (f"Read {runs} recorded runs from {file} ({record.get('device_name')}, torch "
            f"{record.get('torch')}); {call} trains them again.")


def quick_message(name: str, lang: str) -> str:
    if lang == "zh":
        return (f"[快速模式] ALEXNET_QUICK=1：实验 {name} 在极小的数据上训练；"
                "书中的数字来自记录下来的完整运行。")
    return (f"[quick mode] ALEXNET_QUICK=1: training experiment {name!r} on the tiny data set; "
            "the book's figures come from the recorded full run.")


