"""The book's glossary: write its two pages, and find text that uses a term it rejects.

`book/glossary.yml` decides one English and one Chinese term per concept. This script

* writes `book/en/glossary.md` and `book/zh/glossary.md` from it (`--fix`);
* reports pages that are out of date, Chinese text that uses a rejected variant or
  half-width punctuation, and paragraphs that name two things the glossary keeps apart,
  such as the CPU fast track and quick mode (`--check`, the default; exit status 1).

Checked are the markdown cells, the comments and the string literals of the notebooks, and
the other pages of the book, except the glossary pages themselves; in Chinese, only comments
and literals that contain Chinese. tests/test_glossary.py runs the same checks.

    python scripts/glossary.py --fix
    python scripts/glossary.py --check
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
GLOSSARY = BOOK / "glossary.yml"
PAGE_NAME = "glossary.md"
# Pages outside book/ that are checked too (English only).
EXTRA_PAGES = {"en": [ROOT / "README.md"], "zh": []}

CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
HAS_CJK = re.compile(f"[{CJK}]")
# Half-width punctuation touching a Chinese character (emphasis markers may sit between).
HALF_WIDTH = [
    re.compile(f"[{CJK}][ \t*]*[,.;:?!(]"),
    re.compile(f"[,;:?!)][ \t*]*[{CJK}]"),
]

# What markdown prose is checked without: code, math, link targets, URLs and HTML tags.
FENCE = re.compile(r"^[ \t]*(`{3,}|~{3,})[^\n]*\n(.*?)^[ \t]*\1[ \t]*$", re.S | re.M)
NOT_PROSE = [
    re.compile(r"\$\$.*?\$\$", re.S),
    re.compile(r"(?<!\\)\$[^$\n]+\$"),
    re.compile(r"(`+)[^`]*?\1"),
    re.compile(r"\]\([^)\s]*\)"),
    re.compile(r"<[^>\n]+>"),
    re.compile(r"https?://\S+"),
]


# --- The glossary and its pages ---------------------------------------------------------


def load(path: Path = GLOSSARY) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def terms(glossary: dict) -> list[dict]:
    return [term for section in glossary["sections"] for term in section["terms"]]


PAGE_TEXT = {
    "en": {
        "title": "Glossary",
        "intro": (
            "The terms this book uses, each with the one Chinese term that the Chinese part "
            "of the book uses for it. Where *Dive into Deep Learning* in Chinese "
            "(《动手学深度学习》, 2nd edition, d2l-zh) translates a term differently, its "
            "term is listed too, and so are other translations you may meet elsewhere that "
            "this book avoids."
        ),
        "columns": ("English", "Chinese (this book)", "d2l-zh", "Not used", "Note"),
        "source": "This page is generated from `book/glossary.yml`.",
    },
    "zh": {
        "title": "术语表",
        "intro": (
            "本书用到的术语：每个概念只用一个中文译名，并附英文原文。"
            "《动手学深度学习》（第二版，d2l-zh）译法不同的，列出它的译法；"
            "别处可能见到、本书不用的译法也一并列出。"
        ),
        "columns": ("本书译名", "英文", "d2l-zh 译名", "本书不用", "说明"),
        "source": "本页由 `book/glossary.yml` 生成。",
    },
}


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def render_page(glossary: dict, lang: str) -> str:
    """The Markdown of one language's glossary page."""
    text = PAGE_TEXT[lang]
    separator = "，" if lang == "zh" else ", "
    lines = [f"# {text['title']}", "", text["intro"], ""]
    for section in glossary["sections"]:
        lines += [f"## {section[lang]}", ""]
        lines.append("| " + " | ".join(text["columns"]) + " |")
        lines.append("|" + "---|" * len(text["columns"]))
        for term in section["terms"]:
            own, other = (term["en"], term["zh"]) if lang == "en" else (term["zh"], term["en"])
            d2l = term.get("d2l", "")
            not_used = [variant for variant in term.get("reject", []) if variant != d2l]
            row = [own, other, d2l, separator.join(not_used), term.get(f"note_{lang}", "")]
            lines.append("| " + " | ".join(_cell(value) for value in row) + " |")
        lines.append("")
    lines.append(text["source"])
    return "\n".join(lines) + "\n"


def page_path(lang: str) -> Path:
    return BOOK / lang / PAGE_NAME


def stale_pages(glossary: dict) -> list[Path]:
    """The glossary pages whose text differs from what the glossary generates."""
    stale = []
    for lang in PAGE_TEXT:
        path = page_path(lang)
        if not path.is_file() or path.read_text(encoding="utf-8") != render_page(glossary, lang):
            stale.append(path)
    return stale


def write_pages(glossary: dict) -> list[Path]:
    for lang in PAGE_TEXT:
        page_path(lang).write_text(render_page(glossary, lang), encoding="utf-8")
    return [page_path(lang) for lang in PAGE_TEXT]


# --- The text of the book ------------------------------------------------------------------


class Text(NamedTuple):
    """One piece of a page: markdown prose, or a comment or string literal of code."""

    where: str  # "cell 12" or "page"
    kind: str  # "markdown", "comment" or "literal"
    text: str


def prose(markdown: str) -> str:
    """Markdown without code, math, link targets, URLs and HTML tags (each becomes a space)."""
    text = FENCE.sub(" ", markdown)
    for pattern in NOT_PROSE:
        text = pattern.sub(" ", text)
    return text


def code_texts(source: str) -> Iterator[tuple[str, str]]:
    """(kind, text) of each comment and string literal of Python code (IPython lines too)."""
    lines = [line if not line.lstrip().startswith(("%", "!")) else "" for line in
             source.splitlines(keepends=True)]  # fmt: skip
    try:
        for token in tokenize.generate_tokens(io.StringIO("".join(lines)).readline):
            if token.type == tokenize.COMMENT:
                yield "comment", token.string
            elif token.type == tokenize.STRING:
                yield "literal", token.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return


def page_texts(path: Path) -> Iterator[Text]:
    """Every piece of text of a page (.md or .ipynb) that the checks read."""
    if path.suffix == ".md":
        cells = [("page", "markdown", path.read_text(encoding="utf-8"))]
    else:
        nb = nbformat.read(path, as_version=4)
        cells = [(f"cell {i}", cell.cell_type, cell.source) for i, cell in enumerate(nb.cells)]
    for where, cell_type, source in cells:
        if cell_type == "markdown":
            yield Text(where, "markdown", source)
            for block in FENCE.finditer(source):
                for kind, text in code_texts(block.group(2)):
                    yield Text(where, kind, text)
        elif cell_type == "code":
            for kind, text in code_texts(source):
                yield Text(where, kind, text)


def checked_pages(lang: str) -> list[Path]:
    """The pages of one language that the checks read: all but the glossary page."""
    folder = BOOK / lang
    pages = sorted(p for p in folder.iterdir() if p.suffix in (".md", ".ipynb"))
    return [p for p in pages if p.name != PAGE_NAME] + EXTRA_PAGES[lang]


# --- The checks ------------------------------------------------------------------------------


def _matches(variant: str, text: str) -> Iterator[re.Match]:
    if variant.isascii():
        return re.finditer(rf"(?<![A-Za-z0-9_.-]){re.escape(variant)}(?![A-Za-z0-9_-])", text)
    return re.finditer(re.escape(variant), text)


def rejected_terms(text: str, glossary: dict) -> list[tuple[str, str, str]]:
    """(variant, preferred term, context) for each rejected variant in a piece of Chinese."""
    found = []
    for term in terms(glossary):
        allowed = [m.span() for a in term.get("allow", []) for m in _matches(a, text)]
        for variant in term.get("reject", []):
            for match in _matches(variant, text):
                start, end = match.span()
                if any(a <= start and end <= b for a, b in allowed):
                    continue
                context = text[max(0, start - 12) : end + 12].replace("\n", " ")
                found.append((variant, term["zh"], context))
    return found


def half_width_punctuation(text: str) -> list[str]:
    """The places where half-width punctuation touches a Chinese character."""
    return [text[max(0, m.start() - 8):m.end() + 8].replace("\n", " ")
            for pattern in HALF_WIDTH for m in pattern.finditer(text)]  # fmt: skip


def paragraphs(text: str) -> list[str]:
    return [p for p in re.split(r"\n[ \t]*\n", text) if p.strip()]


def names_together(text: str, pairs: list[list[str]]) -> list[tuple[str, str]]:
    """The pairs of `pairs` that both occur in one paragraph of `text` (case-insensitive)."""
    together = []
    for paragraph in paragraphs(text):
        lower = paragraph.lower()
        together += [(a, b) for a, b in pairs if a.lower() in lower and b.lower() in lower]
    return together


def page_problems(path: Path, lang: str, glossary: dict, root: Path = ROOT) -> list[str]:
    """What the checks find on one page, one line each, naming the file and the cell."""
    name = path.relative_to(root)
    found = []
    for piece in page_texts(path):
        for a, b in names_together(piece.text, glossary.get("apart", [])):
            found.append(
                f"{name}, {piece.where}: “{a}” and “{b}” are different things; "
                "keep them in separate paragraphs"
            )
        if lang != "zh" or (piece.kind != "markdown" and not HAS_CJK.search(piece.text)):
            continue
        text = prose(piece.text) if piece.kind == "markdown" else piece.text
        for variant, preferred, context in rejected_terms(text, glossary):
            found.append(f"{name}, {piece.where}: “{variant}” → “{preferred}”: …{context}…")
        if piece.kind != "comment":  # comments may hold code, such as [batch, units]
            for context in half_width_punctuation(text):
                found.append(
                    f"{name}, {piece.where}: half-width punctuation in Chinese, "
                    f"use full-width (，。：；？！（）): …{context}…"
                )
    return found


def problems(glossary: dict, root: Path = ROOT) -> list[str]:
    """Stale glossary pages, then what the checks find on every checked page."""
    found = [f"{path.relative_to(root)} is out of date; run: python scripts/glossary.py --fix"
             for path in stale_pages(glossary)]  # fmt: skip
    for lang in PAGE_TEXT:
        for path in checked_pages(lang):
            found += page_problems(path, lang, glossary, root)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--fix", action="store_true", help="rewrite the glossary pages")
    action.add_argument("--check", action="store_true", help="report problems (the default)")
    args = parser.parse_args(argv)
    glossary = load()
    if args.fix:
        for path in write_pages(glossary):
            print(f"wrote {path.relative_to(ROOT)}")
    found = problems(glossary)
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
