"""Run the book's notebooks top to bottom and store their outputs in place, for publishing.

The book shows stored outputs and never runs a notebook itself, so run this (on a machine
with a GPU) after changing a chapter or the library, and commit the notebooks it rewrites.
Each notebook runs in its own folder, in full mode (ALEXNET_QUICK is unset), with its
widgets' state stored so that progress bars render on the page.

    python scripts/execute_notebooks.py                       # every notebook under book/
    python scripts/execute_notebooks.py --glob "book/*/03_*.ipynb" --timeout 3600
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

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
    args = parser.parse_args(argv)

    paths = select(args.glob)
    if not paths:
        print("No notebook matches.", file=sys.stderr)
        return 1
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
