"""The built book in a real browser: pages, language links, images, widgets, formulas, console.

Chromium (the system's, driven by Playwright) opens the book that the `built_book` fixture
builds, in a window 1,280 pixels wide. Saved widgets and formulas render only where the
build served require.js, html-manager and MathJax itself (scripts/fetch_browser_assets.py
puts them in _vendor/); a book built without them loads those from CDNs, so the checks of
every page skip, with the reason, except in CI (environment variable CI set), where they fail.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from book_modules import extension, script

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
LANGUAGES = ("en", "zh")
WIDTH, HEIGHT = 1280, 900
# Playwright adds --headless; its own browser download is not needed.
CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# Widget models the book displays -> the class of their rendered element.
CONTROL_CLASSES = {
    "IntSliderModel": "widget-slider",
    "FloatSliderModel": "widget-slider",
    "FloatLogSliderModel": "widget-slider",
    "DropdownModel": "widget-dropdown",
    "CheckboxModel": "widget-checkbox",
    "OutputModel": "widget-output",
}


language_switch = extension("language_switch")
executor = script("execute_notebooks")


def book_pages() -> list[str]:
    """Every page of the book, as built: the landing page and each language's pages."""
    found = ["index"]
    for lang in LANGUAGES:
        for path in sorted((BOOK / lang).glob("*")):
            if path.suffix in (".md", ".ipynb"):
                found.append(f"book/{lang}/{path.stem}")
    return found


def first_chapter() -> str:
    """The first chapter that exists in both languages, else the intro."""
    names = [{p.stem for p in (BOOK / lang).glob("[0-9][0-9]_*.ipynb")} for lang in LANGUAGES]
    both = sorted(set.intersection(*names))
    return both[0] if both else "intro"


WIDGET_STATE_JS = """() => {
  const state = document.querySelector('script[type="application/vnd.jupyter.widget-state+json"]');
  return state ? JSON.parse(state.textContent).state : {};
}"""

# What a reader sees once the page has settled. Lazy images are made eager and awaited;
# formulas are awaited through MathJax's startup promise.
PAGE_REPORT_JS = """
async () => {
  const images = [...document.images];
  images.forEach(img => { img.loading = "eager"; });
  await Promise.all(images.map(img => img.complete ? null : new Promise(done => {
    img.addEventListener("load", done); img.addEventListener("error", done);
    setTimeout(done, 5000);
  })));
  if (window.MathJax && window.MathJax.startup) await window.MathJax.startup.promise;

  const visible = el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  const name = el => [...el.classList].filter(c => c.startsWith("widget-")).join(".");
  const views = [...document.querySelectorAll(
    'script[type="application/vnd.jupyter.widget-view+json"]')];
  const roots = views.map(view => {
    const area = view.previousElementSibling;  // html-manager renders the view just before it
    return area && area.classList.contains("widget-subarea") ? area.firstElementChild : null;
  });
  const widgets = [...document.querySelectorAll(".widget-subarea .jupyter-widgets")];
  const column = el => (el.closest(".cell_output") || el.closest("article"))
    .getBoundingClientRect();
  const controls = {};
  for (const el of widgets.filter(visible)) {
    for (const c of el.classList) controls[c] = (controls[c] || 0) + 1;
  }
  const link = document.querySelector("a.language-switch-link");
  return {
    href: location.href,
    lang: document.documentElement.lang,
    h1: (document.querySelector("article h1, main h1") || {}).textContent || "",
    links: [...document.querySelectorAll("article a[href]")].map(a => a.href),
    switchHref: link ? link.href : null,
    switchText: link ? link.textContent : null,
    broken: images.filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src),
    viewIds: views.map(view => JSON.parse(view.textContent).model_id),
    unrendered: roots.filter(root => !root).length,
    hidden: roots.filter(root => root && !visible(root)).length,
    cutOff: widgets.filter(el => visible(el) && el.getBoundingClientRect().right
                                 > column(el).right + 1).map(name),
    controls,
    filledOutputs: widgets.filter(el => el.classList.contains("widget-output") && visible(el)
      && el.querySelector(".jp-OutputArea-output")).length,
    formulas: document.querySelectorAll(".math").length,
    untypeset: [...document.querySelectorAll(".math")]
      .filter(el => !el.querySelector("mjx-container")).map(el => el.textContent.slice(0, 60)),
    mathErrors: [...document.querySelectorAll("mjx-merror")]
      .map(el => el.getAttribute("data-mjx-error") || el.textContent),
  };
}
"""


class Reader:
    """One browser tab that records what goes wrong while pages load."""

    def __init__(self, page):
        self.page = page
        self.errors: list[str] = []
        self.failed: list[str] = []  # requests that got no answer
        self.remote: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", self._failed)
        page.on("request", self._request)

    def _failed(self, request) -> None:
        self.failed.append(request.url)
        self.errors.append(f"failed: {request.url} ({request.failure})")

    def _request(self, request) -> None:
        if not request.url.startswith(("file:", "data:", "blob:", "about:")):
            self.remote.append(request.url)

    def report(self) -> dict:
        """The page report once it has settled: two equal reports in a row, and the widgets
        rendered unless a script failed to load."""
        deadline = time.monotonic() + 20
        last = None
        while True:
            report = self.page.evaluate(PAGE_REPORT_JS)
            settled = report == last and (report["unrendered"] == 0 or self.failed)
            if settled or time.monotonic() > deadline:
                report["widgetState"] = self.page.evaluate(WIDGET_STATE_JS)
                return report
            last = report
            self.page.wait_for_timeout(250)

    def open(self, url: str) -> dict:
        self.page.goto(url)
        return self.report()

    def click(self, selector: str) -> dict:
        with self.page.expect_navigation():
            self.page.click(selector)
        return self.report()


@pytest.fixture(scope="module")
def browser():
    executable = next(
        filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None
    )
    if executable is None:
        pytest.skip("Chromium is not installed (CI installs it: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -r requirements.txt")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def reader(browser):
    page = browser.new_page(viewport={"width": WIDTH, "height": HEIGHT})
    yield Reader(page)
    page.close()


@pytest.fixture(scope="module")
def local_scripts(built_book) -> None:
    """Skip (fail in CI) unless the build served its widget and formula scripts itself."""
    if not (built_book / "_static" / "versions.json").is_file():
        reason = (
            "the book was built without local copies of require.js, html-manager and MathJax, "
            "so its widgets and formulas need the network; run: "
            "python scripts/fetch_browser_assets.py"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _rendered(page: dict) -> None:
    assert page["h1"].strip(), f"{page['href']}: no title rendered"
    assert not page["broken"], f"{page['href']}: images did not load: {page['broken']}"


def test_landing_page_renders_and_links_both_languages(built_book, reader):
    page = reader.open((built_book / "index.html").as_uri())
    _rendered(page)
    for lang in LANGUAGES:
        target = (built_book / "book" / lang / "intro.html").as_uri()
        assert target in page["links"], f"the landing page does not link to {target}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_chapter_renders_and_switches_language(built_book, reader, lang):
    other = next(code for code in LANGUAGES if code != lang)
    chapter = first_chapter()
    page = reader.open((built_book / "book" / lang / f"{chapter}.html").as_uri())
    _rendered(page)
    assert page["lang"] == language_switch.LANGUAGES[lang][0]
    assert page["switchText"] == language_switch.LANGUAGES[other][2]
    switched = reader.click("a.language-switch-link")
    _rendered(switched)
    assert switched["href"] == (built_book / "book" / other / f"{chapter}.html").as_uri()
    assert switched["lang"] == language_switch.LANGUAGES[other][0]
    assert switched["switchHref"] == page["href"], "the counterpart does not link back"


def expected_controls(page: dict) -> dict[str, int]:
    """How many of each control the page's widget views should show (by element class)."""
    state = page["widgetState"]
    counts: dict[str, int] = {}
    for model_id in executor.with_children(set(page["viewIds"]), state):
        css_class = CONTROL_CLASSES.get(state[model_id].get("model_name"))
        if css_class:
            counts[css_class] = counts.get(css_class, 0) + 1
    return counts


def widget_problems(page: dict) -> list[str]:
    problems = []
    if page["unrendered"]:
        problems.append(f"{page['unrendered']} of {len(page['viewIds'])} widget views not rendered")
    if page["hidden"]:
        problems.append(f"{page['hidden']} widget views rendered invisible (blank gaps)")
    if page["cutOff"]:
        problems.append(f"widgets reach past the text column at {WIDTH} px: {page['cutOff']}")
    expected = expected_controls(page)
    shown = {css_class: page["controls"].get(css_class, 0) for css_class in expected}
    if shown != expected:
        problems.append(f"controls shown {shown}, stored {expected}")
    state = page["widgetState"]
    filled = sum(
        1
        for model_id in executor.with_children(set(page["viewIds"]), state)
        if state[model_id].get("model_name") == "OutputModel"
        and state[model_id]["state"].get("outputs")
    )
    if page["filledOutputs"] < filled:
        problems.append(f"{filled - page['filledOutputs']} interactive outputs show nothing")
    return problems


@pytest.mark.parametrize("name", book_pages())
def test_page_renders_widgets_and_formulas_without_errors(built_book, local_scripts, reader,
                                                          name):  # fmt: skip
    page = reader.open((built_book / f"{name}.html").as_uri())
    _rendered(page)
    problems = widget_problems(page)
    if page["untypeset"]:
        problems.append(f"formulas not typeset: {page['untypeset'][:5]}")
    if page["mathErrors"]:
        problems.append(f"formulas MathJax could not read: {page['mathErrors'][:5]}")
    problems += reader.errors
    if reader.remote:
        problems.append(f"requests leaving the book: {reader.remote[:5]}")
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
