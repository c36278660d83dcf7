"""The first code cell of every chapter, and the notebook metadata that goes with it.

The cell's text lives here and nowhere else; the repository it installs from is read from
_config.yml. With no option the script prints the cell; `--check` lists every notebook
under book/ whose first code cell or metadata differ (exit status 1); `--fix` rewrites them.

    python scripts/notebook_first_cell.py --check
    python scripts/notebook_first_cell.py --fix [book/en/01_lenet_to_alexnet.ipynb ...]

Besides the cell, each notebook's metadata asks Colab for a GPU runtime, records the
chapter's language (read by alexnet_lib.book.notebook.setup on Colab, where the notebook's path
is unknown) and, in Chinese chapters, gives the fold-out prompts of hidden cells in Chinese.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LANGUAGES = ("en", "zh")

CELL_TEMPLATE = """\
# Setup: install alexnet_lib if missing (e.g. on Colab) and report the device.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("alexnet_lib") is None:
    url = "git+{repo_url}@{branch}"
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", url])
    importlib.invalidate_caches()

from alexnet_lib.book.notebook import setup

LANG = setup()"""

# Colab opens a notebook with these settings: a GPU runtime, a T4 where there is a choice.
COLAB_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# myst-nb's prompts on hidden cells ("Show code cell source"), per notebook.
HIDDEN_CELL_PROMPTS = {
    "zh": {"code_prompt_show": "显示代码单元", "code_prompt_hide": "隐藏代码单元"},
}


def repository(config: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """The repository URL and branch, from the book's _config.yml."""
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))["repository"]
    return settings["url"].rstrip("/"), settings.get("branch", "main")


def first_cell_source(config: Path = ROOT / "_config.yml") -> str:
    repo_url, branch = repository(config)
    return CELL_TEMPLATE.format(repo_url=repo_url, branch=branch)


def notebook_language(path: Path) -> str:
    """"en" or "zh": the language folder a notebook sits in (book/<lang>/...)."""
    lang = path.resolve().relative_to(BOOK).parts[0]
    if lang not in LANGUAGES:
        raise ValueError(f"{path} is not inside book/en/ or book/zh/.")
    return lang


def book_notebooks(book: Path = BOOK) -> list[Path]:
    """Every chapter notebook under book/ (checkpoints and build outputs left out)."""
    return sorted(
        path
        for path in book.rglob("*.ipynb")
        if not any(part.startswith((".", "_")) for part in path.relative_to(book).parts)
    )


def expected_metadata(lang: str) -> dict:
    metadata = {**COLAB_METADATA, "alexnet": {"lang": lang}}
    if lang in HIDDEN_CELL_PROMPTS:
        metadata["mystnb"] = HIDDEN_CELL_PROMPTS[lang]
    return metadata


def _first_code_cell(nb) -> int | None:
    return next((i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), None)


def _looks_like_setup(source: str) -> bool:
    return source.startswith("# Setup") or "alexnet_lib.book.notebook" in source


def problems(nb, lang: str, source: str) -> list[str]:
    """What differs from the book's conventions in one notebook (empty when nothing does)."""
    found = []
    index = _first_code_cell(nb)
    if index is None:
        found.append("has no code cell")
    elif nb.cells[index].source != source:
        found.append(f"first code cell (cell {index}) differs from the book's setup cell")
    for key, value in expected_metadata(lang).items():
        current = nb.metadata.get(key)
        if isinstance(value, dict):
            if not isinstance(current, dict) or any(
                current.get(k) != v for k, v in value.items()
            ):
                found.append(f"metadata[{key!r}] should contain {value!r}")
        elif current != value:
            found.append(f"metadata[{key!r}] should be {value!r}")
    return found


def fix(nb, lang: str, source: str) -> None:
    """Make the first code cell the setup cell and fill in the metadata, in place.

    An existing setup cell gets the current text (its outputs are kept: rerun the notebook
    to refresh them); otherwise a new cell is put before the first code cell.
    """
    index = _first_code_cell(nb)
    if index is not None and _looks_like_setup(nb.cells[index].source):
        nb.cells[index].source = source
    else:
        position = index if index is not None else len(nb.cells)
        nb.cells.insert(position, nbformat.v4.new_code_cell(source))
    for key, value in expected_metadata(lang).items():
        if isinstance(value, dict):
            current = nb.metadata.get(key)
            nb.metadata[key] = {**(current if isinstance(current, dict) else {}), **value}
        else:
            nb.metadata[key] = value
    nb.metadata.setdefault("kernelspec", KERNELSPEC)
    nb.metadata.setdefault("language_info", {"name": "python"})


def _display(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="report notebooks that differ")
    mode.add_argument("--fix", action="store_true", help="rewrite notebooks that differ")
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to check or fix (default: all under book/)")
    args = parser.parse_args(argv)

    source = first_cell_source()
    if not (args.check or args.fix):
        print(source)
        return 0
    paths = args.notebooks or book_notebooks()
    failed = 0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        lang = notebook_language(path)
        found = problems(nb, lang, source)
        if not found:
            continue
        name = _display(path)
        if args.fix:
            fix(nb, lang, source)
            nbformat.write(nb, path)
            print(f"fixed {name}")
        else:
            failed += 1
            for problem in found:
                print(f"{name}: {problem}")
    if failed:
        print(f"{failed} notebook(s) differ; run: python scripts/notebook_first_cell.py --fix")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
