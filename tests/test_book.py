"""The book's structure: table of contents, English/Chinese pairs, notebooks, build.

Chapter notebooks are added over time, so the per-notebook tests are parametrized over what
exists; the build test builds the whole book as it stands (the `built_book` fixture,
tests/conftest.py), and tests/test_browser.py opens that build in Chromium.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import nbformat
import pytest
import yaml
from book_modules import extension, script

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LANGUAGES = {"en": "English", "zh": "中文"}  # folder -> caption of its part in _toc.yml
PAGE_SUFFIXES = (".ipynb", ".md")
CHAPTER_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")
APPENDIX_NAME = re.compile(r"^appendix_[a-z0-9_]+$")


first_cell = script("notebook_first_cell")
language_switch = extension("language_switch")
chapter_list = extension("chapter_list")
executor = script("execute_notebooks")


# --- What is on disk and what the table of contents lists ------------------------------


def pages(lang: str) -> dict[str, Path]:
    """The pages of one language, by file name: intro.md, 01_....ipynb, ..."""
    folder = BOOK / lang
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if p.suffix in PAGE_SUFFIXES}


def notebooks() -> list[Path]:
    return first_cell.book_notebooks(BOOK)


def paired_pages(suffixes=PAGE_SUFFIXES) -> list[str]:
    """File names that exist in both book/en/ and book/zh/."""
    en, zh = pages("en"), pages("zh")
    return sorted(name for name in en.keys() & zh.keys() if Path(name).suffix in suffixes)


def load_toc() -> dict:
    return yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))


def toc_entries(entries) -> list[str]:
    """The `file:` entries of a list of chapters, their sections included, in order."""
    files = []
    for entry in entries or []:
        if "file" in entry:
            files.append(entry["file"])
        files += toc_entries(entry.get("sections"))
    return files


def toc_files() -> list[str]:
    toc = load_toc()
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += toc_entries(part.get("chapters"))
    return files


def toc_path(entry: str) -> Path | None:
    """The file a toc entry names (entries may leave the suffix out)."""
    path = ROOT / entry
    if path.suffix in PAGE_SUFFIXES:
        return path if path.is_file() else None
    return next((p for p in map(path.with_suffix, PAGE_SUFFIXES) if p.is_file()), None)


def language_parts(lang: str) -> list[dict]:
    """The toc parts of one language: its captioned part and the uncaptioned ones after it."""
    parts = load_toc()["parts"]
    start = next(i for i, part in enumerate(parts) if part.get("caption") == LANGUAGES[lang])
    end = next((i for i in range(start + 1, len(parts)) if parts[i].get("caption")), len(parts))
    return parts[start:end]


# --- The table of contents ---------------------------------------------------------------


def test_toc_entries_exist():
    missing = [entry for entry in toc_files() if toc_path(entry) is None]
    assert not missing, f"_toc.yml lists pages that do not exist: {missing}"


def test_every_notebook_is_in_the_toc():
    listed = {toc_path(entry) for entry in toc_files()}
    unlisted = [str(nb.relative_to(ROOT)) for nb in notebooks() if nb not in listed]
    assert not unlisted, f"notebooks missing from _toc.yml: {unlisted}"


def test_toc_has_one_part_per_language_each_starting_with_its_intro():
    toc = load_toc()
    assert toc["format"] == "jb-book"
    assert toc["root"] == "index"
    captions = [part["caption"] for part in toc["parts"] if part.get("caption")]
    assert captions == list(LANGUAGES.values())
    chapters = {}
    for lang in LANGUAGES:
        intro_part, *chapter_parts, glossary_part = language_parts(lang)
        # The intro is not numbered, so that the chapters are numbered from 1.
        assert toc_entries(intro_part["chapters"]) == [f"book/{lang}/intro"]
        assert not intro_part.get("numbered")
        # The appendices, then the glossary, follow the last chapter, unnumbered.
        *appendices, glossary = toc_entries(glossary_part["chapters"])
        assert glossary == f"book/{lang}/glossary"
        assert not glossary_part.get("numbered")
        appendix_names = [f.removeprefix(f"book/{lang}/") for f in appendices]
        assert all(APPENDIX_NAME.match(name) for name in appendix_names), appendix_names
        assert appendix_names == sorted(appendix_names), "appendices in file-name order"
        files = [f for part in chapter_parts for f in toc_entries(part["chapters"])]
        assert all(part.get("numbered") is True for part in chapter_parts)
        assert all(f.startswith(f"book/{lang}/") for f in files), files
        names = [f.rsplit("/", 1)[1].removesuffix(".ipynb") for f in files]
        assert all(CHAPTER_NAME.match(name) for name in names), names
        assert names == sorted(names), "chapters must be listed in file-name order"
        chapters[lang] = names + appendix_names
    assert chapters["en"] == chapters["zh"], "both parts must list the same chapters"


def test_every_page_exists_in_both_languages():
    en, zh = set(pages("en")), set(pages("zh"))
    assert en == zh, f"only in English: {sorted(en - zh)}; only in Chinese: {sorted(zh - en)}"


# --- English/Chinese pairs ------------------------------------------------------------------


def headings(path: Path) -> list[tuple[int, str]]:
    """(level, text) of every Markdown heading of a page, outside fenced code blocks."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        texts = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    else:
        texts = [path.read_text(encoding="utf-8")]
    found = []
    for text in texts:
        fence = None
        for line in text.splitlines():
            marker = re.match(r"^\s*(`{3,}|~{3,})", line)
            if marker and (fence is None or marker.group(1).startswith(fence)):
                fence = None if fence else marker.group(1)[0] * 3
                continue
            heading = re.match(r"^(#{1,6})[ \t]+(.+)", line)
            if fence is None and heading:
                found.append((len(heading.group(1)), heading.group(2).strip()))
    return found


@pytest.mark.parametrize("name", paired_pages())
def test_pair_has_the_same_heading_structure(name):
    en, zh = headings(BOOK / "en" / name), headings(BOOK / "zh" / name)
    assert [level for level, _ in en] == [level for level, _ in zh], (
        f"{name}: the headings differ in number or level\n"
        f"en: {[('#' * level, text) for level, text in en]}\n"
        f"zh: {[('#' * level, text) for level, text in zh]}"
    )


def _notebook_id(path: Path) -> str:
    return str(path.relative_to(BOOK))


CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def code_shape(source: str) -> list[str]:
    """The tokens of a code cell with string literals and comments blanked: what the two
    languages must share. IPython lines (%magic, !shell) count as one token each."""
    lines = [f"__ipython__({line.strip()!r})" if line.lstrip().startswith(("%", "!")) else line
             for line in source.splitlines()]
    tokens, in_fstring = [], 0
    for token in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
        kind = tokenize.tok_name[token.type]
        if kind == "FSTRING_START":
            in_fstring += 1
        if in_fstring or kind == "STRING":
            if kind in ("STRING", "FSTRING_END"):
                tokens.append("<string>")
            if kind == "FSTRING_END":
                in_fstring -= 1
            continue
        if kind not in ("COMMENT", "NL", "NEWLINE", "INDENT", "DEDENT", "ENDMARKER"):
            tokens.append(token.string)
    return tokens


def code_cells(nb) -> list[str]:
    return [cell.source for cell in nb.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("name", paired_pages((".ipynb",)))
def test_pair_has_the_same_code_but_for_strings_and_comments(name):
    en, zh = (code_cells(nbformat.read(BOOK / lang / name, as_version=4)) for lang in LANGUAGES)
    assert len(en) == len(zh), f"{name}: {len(en)} vs {len(zh)} code cells"
    for i, (a, b) in enumerate(zip(en, zh, strict=True)):
        assert code_shape(a) == code_shape(b), (
            f"{name}: code cell {i} differs beyond strings and comments\n--- en\n{a}\n--- zh\n{b}"
        )


@pytest.mark.parametrize("name", paired_pages((".ipynb",)))
def test_each_language_writes_its_own_strings(name):
    """English code reads as English; no cell picks its text from a {"en": ..., "zh": ...}."""
    for lang in LANGUAGES:
        for i, source in enumerate(code_cells(nbformat.read(BOOK / lang / name, as_version=4))):
            assert "[LANG]" not in source, f"{lang}/{name}, code cell {i}: a per-language dict"
            if lang == "en":
                assert not CJK.search(source), f"en/{name}, code cell {i} holds Chinese"


def test_code_shape_ignores_strings_and_comments_only():
    assert code_shape('ax.set_title("Loss")  # en') == code_shape("ax.set_title('损失')")
    assert code_shape('print(f"{x:.3f} s")') == code_shape('print(f"{y} 秒")')
    assert code_shape("plot(x)") != code_shape("plot(y)")
    assert code_shape("%env A=1\nx = 1") != code_shape("x = 1")


SOLUTION_SUMMARY = {"en": "Solution", "zh": "参考答案"}
EXERCISE_START = {"en": re.compile(r"^\*\*Exercise \d+\*\*"),
                  "zh": re.compile(r"^\*\*练习 ?\d+\*\*")}


def exercises_section(nb, lang: str) -> list:
    """The cells of the `## Exercises` section (## 练习); the heading's cell without the heading
    comes first, since it may hold the first exercise."""
    title = {"en": "## Exercises", "zh": "## 练习"}[lang]
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith(title):
            rest = cell.source.lstrip()[len(title):].strip()
            return [nbformat.v4.new_markdown_cell(rest), *nb.cells[i + 1:]]
    return []


@pytest.mark.parametrize("path", notebooks(), ids=_notebook_id)
def test_every_solution_is_closed_in_every_front_end(path):
    """A solution is a whole cell `<details><summary>Solution</summary> ... </details>`, with
    blank lines around its markdown, right after its exercise (and any code the exercise
    gives): JupyterLab, VS Code, Colab and the web page all show it closed."""
    lang = first_cell.notebook_language(path)
    nb = nbformat.read(path, as_version=4)
    everything = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert ":::{dropdown}" not in everything, f"{path.name}: a MyST dropdown opens only on the web"
    cells = exercises_section(nb, lang)
    assert cells, f"{path.name}: no exercises section"
    summary = SOLUTION_SUMMARY[lang]
    opening = f"<details><summary>{summary}</summary>\n\n"
    waiting = None  # the exercise whose solution has not come yet
    for cell in cells:
        if cell.cell_type != "markdown":
            continue
        text = cell.source.strip()
        if not text:
            continue
        if EXERCISE_START[lang].match(text):
            assert waiting is None, f"{path.name}: {waiting[:40]!r} has no solution cell"
            assert "<details>" not in text, f"{path.name}: a solution inside {text[:40]!r}"
            waiting = text
        elif "<details>" in text or summary in text:
            assert waiting is not None, f"{path.name}: a solution without its exercise"
            assert text.startswith(opening) and text.endswith("\n\n</details>"), (
                f"{path.name}: a solution cell must be exactly {opening!r} ... "
                f"'\\n\\n</details>'; got {text[:60]!r} ... {text[-30:]!r}")
            assert text.count("<details>") == 1, f"{path.name}: two solutions in one cell"
            waiting = None
        else:
            assert waiting is None, f"{path.name}: text between {waiting[:40]!r} and its solution"
    assert waiting is None, f"{path.name}: the last exercise has no solution"


# --- Each notebook ----------------------------------------------------------------------


@pytest.mark.parametrize("path", notebooks(), ids=_notebook_id)
def test_notebook_is_executed_without_errors(path):
    nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.execution_count is not None, f"cell {i} has not been run"
        if "raises-exception" in cell.metadata.get("tags", []):
            continue  # a cell that shows an error on purpose (nbval expects it too)
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert not errors, f"cell {i} stored an error: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", notebooks(), ids=_notebook_id)
def test_notebook_first_cell_and_metadata(path):
    nb = nbformat.read(path, as_version=4)
    lang = first_cell.notebook_language(path)
    found = first_cell.problems(nb, lang, first_cell.first_cell_source())
    assert not found, f"{found}; run: python scripts/notebook_first_cell.py --fix {path.name}"


@pytest.mark.parametrize("path", notebooks(), ids=_notebook_id)
def test_notebook_stores_no_progress_bar(path):
    # A stored progress bar shows on the page as a finished bar or, hidden, as a blank gap.
    found = executor.progress_bars(nbformat.read(path, as_version=4))
    assert not found, (
        f"progress-bar widgets stored in {', '.join(found)}; run: python "
        f"scripts/execute_notebooks.py --drop-progress-bars-only --glob {path.relative_to(ROOT)}"
    )


def _widget(model_name: str, **state) -> dict:
    return {"model_name": model_name, "model_module": "@jupyter-widgets/controls",
            "model_module_version": "2.0.0", "state": state}  # fmt: skip


def _view(model_id: str, text: str) -> nbformat.NotebookNode:
    view = {"model_id": model_id, "version_major": 2, "version_minor": 0}
    return nbformat.v4.new_output(
        "display_data", data={executor.WIDGET_VIEW: view, "text/plain": text}
    )


def test_executor_drops_progress_bars_and_keeps_other_widgets():
    state = {
        # tqdm's bar: a box holding a label, the bar and a text, with their layouts
        "bar": _widget("HBoxModel", children=["IPY_MODEL_label", "IPY_MODEL_progress"],
                       layout="IPY_MODEL_bar_layout"),
        "label": _widget("HTMLModel", value="epoch 1"),
        "progress": _widget("FloatProgressModel", value=235, layout="IPY_MODEL_shared"),
        "bar_layout": _widget("LayoutModel", visibility="hidden"),
        # an interact: a slider and an output that shows a figure
        "interact": _widget("VBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_out"]),
        "slider": _widget("IntSliderModel", value=3, layout="IPY_MODEL_shared"),
        "out": _widget("OutputModel", outputs=[{"output_type": "display_data", "data": {}}]),
        "shared": _widget("LayoutModel"),
        "orphan": _widget("IntSliderModel", value=1),
    }  # fmt: skip
    nb = nbformat.v4.new_notebook()
    nb.metadata["widgets"] = {executor.WIDGET_STATE: {"state": state}}
    epoch_line = nbformat.v4.new_output("stream", name="stdout", text="epoch 1, loss 0.5\n")
    nb.cells = [
        nbformat.v4.new_code_cell("train()", outputs=[_view("bar", "0%|"), epoch_line]),
        nbformat.v4.new_code_cell("interact()", outputs=[_view("interact", "VBox()")]),
    ]
    assert executor.progress_bars(nb) == ["cell 0", "the widget state"]
    assert executor.drop_progress_bars(nb) == 1
    assert executor.progress_bars(nb) == []
    assert nb.cells[0].outputs == [epoch_line]
    assert len(nb.cells[1].outputs) == 1
    assert set(executor.widget_state(nb)) == {"interact", "slider", "out", "shared"}
    # Without widgets left, the notebook stores no widget state at all.
    nb.cells.pop()
    executor.drop_progress_bars(nb)
    assert "widgets" not in nb.metadata


def test_first_cell_check_passes():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "notebook_first_cell.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


# --- The first-cell script, on a notebook of its own -----------------------------------------


def test_first_cell_installs_from_the_configured_repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url, branch = config["repository"]["url"], config["repository"]["branch"]
    source = first_cell.first_cell_source()
    assert f'"git+{url}@{branch}"' in source
    assert "from alexnet_lib.book.notebook import setup" in source
    assert "LANG = setup()" in source
    compile(source, "<first cell>", "exec")


def test_first_cell_fix_inserts_the_cell_and_metadata(tmp_path):
    source = first_cell.first_cell_source()
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    )
    assert first_cell.problems(nb, "zh", source)
    first_cell.fix(nb, "zh", source)
    assert first_cell.problems(nb, "zh", source) == []
    assert [cell.cell_type for cell in nb.cells] == ["markdown", "code", "code"]
    assert nb.cells[1].source == source and nb.cells[2].source == "x = 1"
    assert nb.metadata["accelerator"] == "GPU"
    assert nb.metadata["colab"]["gpuType"] == "T4"
    assert nb.metadata["alexnet"] == {"lang": "zh"}
    # An outdated setup cell is replaced, not duplicated; English needs no mystnb prompts.
    nb.cells[1].source = "# Setup: an older version\nfrom alexnet_lib.book.notebook import setup"
    first_cell.fix(nb, "en", source)
    assert [cell.source for cell in nb.cells[1:]] == [source, "x = 1"]
    assert first_cell.problems(nb, "en", source) == []
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    nbformat.validate(nbformat.read(path, as_version=4))


# --- The Sphinx extensions' page logic -------------------------------------------------------


def test_counterpart_pages():
    assert language_switch.counterpart("book/en/02_architecture") == (
        "zh", "book/zh/02_architecture")  # fmt: skip
    assert language_switch.counterpart("book/zh/intro") == ("en", "book/en/intro")
    assert language_switch.counterpart("index") is None
    assert language_switch.counterpart("book/CONTRIBUTING") is None


def test_chapter_list_takes_numbered_pages_of_one_folder():
    docs = {"index", "book/en/intro", "book/en/02_b", "book/en/01_a", "book/zh/01_a"}
    assert chapter_list.chapters_in("book/en", docs) == ["book/en/01_a", "book/en/02_b"]


# --- The built book ------------------------------------------------------------------------


def test_pages_link_to_their_counterpart_and_stay_in_their_language(built_book):
    for name in paired_pages():
        stem = Path(name).stem
        for lang, other in (("en", "zh"), ("zh", "en")):
            html = (built_book / "book" / lang / f"{stem}.html").read_text(encoding="utf-8")
            link = re.search(r'<a class="language-switch-link" href="([^"]+)"', html)
            assert link, f"book/{lang}/{stem}.html has no language link"
            assert link.group(1) == f"../{other}/{stem}.html"
            html_lang = language_switch.LANGUAGES[lang][0]
            assert f'<html lang="{html_lang}"' in html
            # "previous"/"next" stay within the language.
            assert not re.search(rf'<link rel="(next|prev)"[^>]*href="\.\./{other}/', html)


# --- Length --------------------------------------------------------------------------------

WORD_LIMIT = 3000


def prose_words(nb) -> int:
    """Whitespace-separated words in the markdown before `## Exercises` (code blocks, formulas
    and symbols included: what a reader scrolls past), solutions left out."""
    words = 0
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        if cell.source.lstrip().startswith("## Exercises"):
            break
        if not cell.source.lstrip().startswith("<details"):
            words += len(cell.source.split())
    return words


def test_prose_words_counts_markdown_before_the_exercises_only():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# A title\n\nTwo words, — and `code` more."),
        nbformat.v4.new_code_cell("many words in code are not counted"),
        nbformat.v4.new_markdown_cell("<details><summary>Solution</summary>\n\nnot counted"),
        nbformat.v4.new_markdown_cell("## Exercises\n\nnot counted"),
        nbformat.v4.new_markdown_cell("not counted either"),
    ])
    assert prose_words(nb) == 9  # "#" and "—" count as words too


@pytest.mark.parametrize("path", sorted((BOOK / "en").glob("*.ipynb")), ids=lambda p: p.stem)
def test_chapter_prose_is_within_the_word_limit(path):
    words = prose_words(nbformat.read(path, as_version=4))
    assert words <= WORD_LIMIT, (f"{path.name}: {words} words before the exercises, over the "
                                 f"limit of {WORD_LIMIT}")
