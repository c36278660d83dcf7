"""The book's structure: table of contents, English/Chinese pairs, notebooks, build, browser.

Chapter notebooks are added over time, so the per-notebook tests are parametrized over what
exists; the build and browser tests build the whole book as it stands.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LANGUAGES = {"en": "English", "zh": "中文"}  # folder -> caption of its part in _toc.yml
PAGE_SUFFIXES = (".ipynb", ".md")
CHAPTER_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")


def _load_module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


first_cell = _load_module("notebook_first_cell", ROOT / "scripts" / "notebook_first_cell.py")
language_switch = _load_module("language_switch", BOOK / "_ext" / "language_switch.py")
chapter_list = _load_module("chapter_list", BOOK / "_ext" / "chapter_list.py")


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
        # The glossary follows the last chapter, unnumbered.
        assert toc_entries(glossary_part["chapters"]) == [f"book/{lang}/glossary"]
        assert not glossary_part.get("numbered")
        files = [f for part in chapter_parts for f in toc_entries(part["chapters"])]
        assert all(part.get("numbered") is True for part in chapter_parts)
        assert all(f.startswith(f"book/{lang}/") for f in files), files
        names = [f.rsplit("/", 1)[1].removesuffix(".ipynb") for f in files]
        assert all(CHAPTER_NAME.match(name) for name in names), names
        assert names == sorted(names), "chapters must be listed in file-name order"
        chapters[lang] = names
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


@pytest.mark.parametrize("name", paired_pages((".ipynb",)))
def test_pair_has_identical_code_cells(name):
    en, zh = (nbformat.read(BOOK / lang / name, as_version=4) for lang in ("en", "zh"))
    en_code = [cell.source for cell in en.cells if cell.cell_type == "code"]
    zh_code = [cell.source for cell in zh.cells if cell.cell_type == "code"]
    assert len(en_code) == len(zh_code), f"{name}: {len(en_code)} vs {len(zh_code)} code cells"
    for i, (a, b) in enumerate(zip(en_code, zh_code, strict=True)):
        assert a == b, f"{name}: code cell {i} differs\n--- en\n{a}\n--- zh\n{b}"


# --- Each notebook ----------------------------------------------------------------------


def _notebook_id(path: Path) -> str:
    return str(path.relative_to(BOOK))


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
    assert "from alexnet_lib.notebook import setup" in source
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
    nb.cells[1].source = "# Setup: an older version\nfrom alexnet_lib.notebook import setup"
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


@pytest.fixture(scope="module")
def built_book(tmp_path_factory) -> Path:
    """Build the book as CI does (warnings are errors) into a fresh folder; its html/ folder."""
    out = tmp_path_factory.mktemp("book")
    command = [
        sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
        "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"jupyter-book build failed:\n{log[-6000:]}"
    html = out / "_build" / "html"
    assert (html / "index.html").is_file()
    return html


def chapter_pages() -> dict[str, str]:
    """One page per language to look at: the first chapter in both, else the intro."""
    both = paired_pages((".ipynb",))
    name = Path(both[0]).stem if both else "intro"
    return {lang: f"book/{lang}/{name}" for lang in LANGUAGES}


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


# --- The built book in a browser ---------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

# Wait for every image (lazy ones too) and report what a reader would see.
PAGE_REPORT_JS = """
(async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done);
    setTimeout(done, 10000);
  })));
  const link = document.querySelector("a.language-switch-link");
  return {
    href: location.href,
    lang: document.documentElement.lang,
    h1: (document.querySelector("article h1, main h1") || {}).textContent || "",
    images: images.length,
    broken: images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
    switchHref: link ? link.href : null,
    switchText: link ? link.textContent : null,
    links: [...document.querySelectorAll("article a[href]")].map(a => a.href),
  };
})()
"""


def find_chromium() -> str | None:
    return next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )


class Chromium:
    """Headless Chromium driven over the DevTools protocol on a pipe (no extra packages)."""

    def __init__(self, executable: str, profile: Path):
        to_chrome_read, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_write = os.pipe()
        # Chromium reads commands from fd 3 and writes replies to fd 4.
        self.process = subprocess.Popen(
            ["bash", "-c", f'exec "$0" "$@" 3<&{to_chrome_read} 4>&{from_chrome_write}',
             executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
             "--remote-debugging-pipe", "about:blank"],
            pass_fds=(to_chrome_read, from_chrome_write),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chrome_read)
        os.close(from_chrome_write)
        self._buffer = b""
        self._id = 0
        self._events: list[dict] = []
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.send("Page.enable", session=self.session)

    def _receive(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer from Chromium")
            if select.select([self._from_chrome], [], [], left)[0]:
                chunk = os.read(self._from_chrome, 1 << 16)
                if not chunk:
                    raise EOFError("Chromium closed its pipe")
                self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = 30) -> dict:  # fmt: skip
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self._events.append(reply)

    def _wait_for_load(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            for i, event in enumerate(self._events):
                if event.get("method") == "Page.loadEventFired":
                    del self._events[: i + 1]
                    return
            self._events.append(self._receive(deadline))

    def evaluate(self, expression: str):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=self.session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"])
        return result["result"].get("value")

    def open(self, url: str) -> dict:
        self._events.clear()
        self.send("Page.navigate", {"url": url}, session=self.session)
        self._wait_for_load()
        return self.evaluate(PAGE_REPORT_JS)

    def click(self, selector: str) -> dict:
        self._events.clear()
        self.evaluate(f"document.querySelector({json.dumps(selector)}).click()")
        self._wait_for_load()
        return self.evaluate(PAGE_REPORT_JS)

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError, EOFError):
            self.send("Browser.close", timeout=5)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_chrome)
        os.close(self._from_chrome)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    executable = find_chromium()
    if executable is None:
        pytest.skip("Chromium is not installed (CI installs it: apt-get install chromium)")
    chromium = Chromium(executable, tmp_path_factory.mktemp("chromium-profile"))
    yield chromium
    chromium.close()


def _rendered(page: dict) -> None:
    assert page["h1"].strip(), f"{page['href']}: no title rendered"
    assert not page["broken"], f"{page['href']}: images did not load: {page['broken']}"


def test_landing_page_renders_and_links_both_languages(built_book, browser):
    page = browser.open((built_book / "index.html").as_uri())
    _rendered(page)
    for lang in LANGUAGES:
        target = (built_book / "book" / lang / "intro.html").as_uri()
        assert target in page["links"], f"the landing page does not link to {target}"


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_chapter_renders_and_switches_language(built_book, browser, lang):
    other = next(code for code in LANGUAGES if code != lang)
    here, there = chapter_pages()[lang], chapter_pages()[other]
    page = browser.open((built_book / f"{here}.html").as_uri())
    _rendered(page)
    assert page["lang"] == language_switch.LANGUAGES[lang][0]
    assert page["switchText"] == language_switch.LANGUAGES[other][2]
    switched = browser.click("a.language-switch-link")
    _rendered(switched)
    assert switched["href"] == (built_book / f"{there}.html").as_uri()
    assert switched["lang"] == language_switch.LANGUAGES[other][0]
    assert switched["switchHref"] == page["href"], "the counterpart does not link back"
