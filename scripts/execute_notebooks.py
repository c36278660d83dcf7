"""Run the book's notebooks top to bottom and store their outputs in place, for publishing.

The book shows stored outputs and never runs a notebook itself, so run this (on a machine
with a GPU) after changing a chapter or the library, and commit the notebooks it rewrites.
Each notebook runs in its own folder, in full mode (ALEXNET_QUICK is unset), with its
widgets' state stored so that sliders, dropdowns and their outputs render on the page.
Progress bars are left out: on a page they are finished bars or blank gaps, and the
per-epoch lines printed beside them say the same.

    python scripts/execute_notebooks.py                       # every notebook under book/
    python scripts/execute_notebooks.py --glob "book/*/03_*.ipynb" --timeout 3600
    python scripts/execute_notebooks.py --drop-progress-bars-only   # no run, outputs kept
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from notebook_first_cell import (  # noqa: E402  (a sibling script, not a package)
    book_notebooks,
    first_cell_source,
    notebook_language,
    problems,
)

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}  # tqdm.notebook's bar


def widget_state(nb: nbformat.NotebookNode) -> dict:
    """The stored widget models of a notebook, by model id."""
    return nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def referenced_models(value: Any) -> set[str]:
    """The model ids that a widget's state or an output refers to, at any depth."""
    if isinstance(value, str):
        return {value.removeprefix("IPY_MODEL_")} if value.startswith("IPY_MODEL_") else set()
    found = set()
    if isinstance(value, dict):
        if isinstance(value.get("model_id"), str):  # a widget view
            found.add(value["model_id"])
        values = value.values()
    elif isinstance(value, list):
        values = value
    else:
        return found
    for item in values:
        found |= referenced_models(item)
    return found


def with_children(model_ids: set[str], state: dict) -> set[str]:
    """The models a view needs: these, and every stored model they refer to, recursively."""
    found: set[str] = set()
    todo = list(model_ids)
    while todo:
        model_id = todo.pop()
        if model_id in found or model_id not in state:
            continue
        found.add(model_id)
        todo += referenced_models(state[model_id].get("state", {}))
    return found


def is_progress_bar(output: dict, state: dict) -> bool:
    """Whether an output displays a widget holding a progress bar."""
    view = output.get("data", {}).get(WIDGET_VIEW)
    if not view:
        return False
    needed = with_children({view.get("model_id")}, state)
    return any(state[model_id].get("model_name") in PROGRESS_MODELS for model_id in needed)


def progress_bars(nb: nbformat.NotebookNode) -> list[str]:
    """Where a notebook stores progress-bar widgets: its cells' outputs or the widget state."""
    state = widget_state(nb)
    found = [
        f"cell {i}"
        for i, cell in enumerate(nb.cells)
        if any(is_progress_bar(out, state) for out in cell.get("outputs", []))
    ]
    if any(model.get("model_name") in PROGRESS_MODELS for model in state.values()):
        found.append("the widget state")
    return found


def drop_progress_bars(nb: nbformat.NotebookNode) -> int:
    """Remove progress-bar outputs, and the stored models no output shows; returns how many."""
    state = widget_state(nb)
    dropped = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        kept = [out for out in cell.outputs if not is_progress_bar(out, state)]
        dropped += len(cell.outputs) - len(kept)
        cell.outputs = kept
    shown = with_children(
        referenced_models([cell.get("outputs", []) for cell in nb.cells]), state
    )
    for model_id in set(state) - shown:
        del state[model_id]
    if not state:
        nb.metadata.pop("widgets", None)
    return dropped


def select(patterns: list[str]) -> list[Path]:
    """The book's notebooks matching any of the glob patterns (relative to the repository)."""
    every = book_notebooks()
    if not patterns:
        return every
    chosen = {path for pattern in patterns for path in ROOT.glob(pattern)}
    return [path for path in every if path in chosen]


def execute(path: Path, timeout: int | None, kernel: str) -> float:
    """Execute one notebook in its folder and write it back; returns the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    lang = notebook_language(path)
    os.environ["ALEXNET_LANG"] = lang  # the kernel would find it from its folder too
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # timestamps of an earlier run
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        record_timing=False,  # no timestamps in the cells: smaller diffs
    )
    start = time.perf_counter()
    client.execute()
    drop_progress_bars(nb)
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--glob", action="append", default=[], metavar="PATTERN",
                        help="run only notebooks matching PATTERN, e.g. 'book/en/0[1-3]_*' "
                             "(repeatable; relative to the repository root)")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds one cell may run (default 3600; 0 for no limit)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel (default python3)")
    parser.add_argument("--drop-progress-bars-only", action="store_true",
                        help="run nothing: remove the progress bars stored by an earlier run")
    args = parser.parse_args(argv)

    paths = select(args.glob)
    if not paths:
        print("No notebook matches.", file=sys.stderr)
        return 1
    if args.drop_progress_bars_only:
        for path in paths:
            nb = nbformat.read(path, as_version=4)
            if progress_bars(nb):
                dropped = drop_progress_bars(nb)
                nbformat.write(nb, path)
                print(f"{path.relative_to(ROOT)}: {dropped} progress bar(s) removed")
        return 0
    # Publishing runs in full: no quick mode, and figures go into the notebook, not to Agg.
    for name in ("ALEXNET_QUICK", "MPLBACKEND"):
        os.environ.pop(name, None)
    source = first_cell_source()
    failed = []
    for path in paths:
        name = path.relative_to(ROOT)
        found = problems(nbformat.read(path, as_version=4), notebook_language(path), source)
        if found:
            print(f"{name}: {'; '.join(found)}. Run scripts/notebook_first_cell.py --fix first.")
            failed.append(name)
            continue
        print(f"{name} ...", flush=True)
        try:
            seconds = execute(path, args.timeout or None, args.kernel)
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as err:
            print(f"{name} failed, left unchanged:\n{err}", file=sys.stderr)
            failed.append(name)
            continue
        print(f"{name} done in {seconds:.0f} s", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) not executed: {', '.join(map(str, failed))}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
