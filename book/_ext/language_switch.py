"""Sphinx extension: every page of one language links to the same page in the other.

The book keeps its languages in parallel folders, ``book/en/X`` and ``book/zh/X``. For each
HTML page in one of them this extension

* puts a link to the counterpart page ("中文版" / "English") at the top of the page body;
* marks the page's language (``<html lang="zh-CN">``), which browsers use to pick CJK fonts;
* keeps the "previous"/"next" links at the foot of the page within its language;
* on Chinese pages, renders the theme's own labels ("Contents", "Search", "previous" ...)
  from the Chinese message catalogs that Sphinx and the theme ship, so that a Chinese page
  reads Chinese where the tooling allows. The rest of the site keeps ``language: en``.

Nothing here is maintained by hand: a page without a counterpart simply gets no link.
"""

from __future__ import annotations

import gettext
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

BOOK_DIR = "book"
# Folder name -> (value of the html lang attribute, gettext locale names, link text).
LANGUAGES = {
    "en": ("en", ("en",), "English"),
    "zh": ("zh-CN", ("zh_CN", "zh"), "中文版"),
}
STATIC_DIR = Path(__file__).parent / "static"


def page_language(pagename: str) -> str | None:
    """"en" or "zh" for a page under book/en/ or book/zh/, else None."""
    parts = pagename.split("/")
    if len(parts) >= 3 and parts[0] == BOOK_DIR and parts[1] in LANGUAGES:
        return parts[1]
    return None


def counterpart(pagename: str) -> tuple[str, str] | None:
    """(other language, its page name) for a page under book/en/ or book/zh/, else None."""
    lang = page_language(pagename)
    if lang is None:
        return None
    other = next(code for code in LANGUAGES if code != lang)
    return other, f"{BOOK_DIR}/{other}/{pagename.split('/', 2)[2]}"


@cache
def _catalog(domain: str, locale_dirs: tuple[Path, ...], languages: tuple[str, ...]):
    """One translation from the first locale dir that has the domain, with the rest behind it."""
    translation: gettext.NullTranslations | None = None
    for locale_dir in locale_dirs:
        found = gettext.translation(domain, locale_dir, languages=languages, fallback=True)
        if translation is None:
            translation = found
        elif found is not translation:
            translation.add_fallback(found)
    return translation or gettext.NullTranslations()


def _theme_locale_dirs() -> tuple[tuple[Path, ...], tuple[Path, ...]]:
    """Where Sphinx, the PyData theme and the book theme keep their message catalogs."""
    import sphinx

    sphinx_dirs = [Path(sphinx.__file__).parent / "locale"]
    book_dirs: list[Path] = []
    try:
        import pydata_sphinx_theme

        sphinx_dirs.insert(0, Path(pydata_sphinx_theme.__file__).parent / "locale")
    except ImportError:
        pass
    try:
        import sphinx_book_theme

        theme = Path(sphinx_book_theme.__file__).parent / "theme" / "sphinx_book_theme"
        book_dirs.append(theme / "static" / "locales")
    except ImportError:
        pass
    return tuple(d for d in sphinx_dirs if d.is_dir()), tuple(d for d in book_dirs if d.is_dir())


def _use_language(context: dict[str, Any], lang: str) -> None:
    """Render this page's template labels in `lang` (the site's own language stays as is)."""
    html_lang, locales, _ = LANGUAGES[lang]
    context["language"] = html_lang
    if lang == "en":
        return
    sphinx_dirs, book_dirs = _theme_locale_dirs()
    sphinx_catalog = _catalog("sphinx", sphinx_dirs, locales)
    book_catalog = _catalog("booktheme", book_dirs, locales)
    # Jinja's i18n extension looks `gettext` up in the render context, so these override the
    # site-wide catalog for this page only; `translate` is the book theme's own lookup.
    context["gettext"] = sphinx_catalog.gettext
    context["ngettext"] = sphinx_catalog.ngettext
    context["translate"] = book_catalog.gettext
    if "theme_search_bar_text" in context:
        context["theme_search_bar_text"] = book_catalog.gettext("Search") + "..."


def _keep_within_language(app: Sphinx, pagename: str, lang: str, context: dict[str, Any]) -> None:
    """Drop a "previous"/"next" link that would cross into the other language's part."""
    relations = getattr(app.builder, "relations", {}).get(pagename)
    if not relations:
        return
    _, previous, following = relations
    crossing = {
        page for page in (previous, following) if page and page_language(page) not in (None, lang)
    }
    if previous in crossing:
        context["prev"] = None
    if following in crossing:
        context["next"] = None
    # The same links in the page head (<link rel="next">).
    context["rellinks"] = [link for link in context.get("rellinks", []) if link[0] not in crossing]


def add_language_switch(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree
) -> None:
    lang = page_language(pagename)
    if lang is None:
        return
    _use_language(context, lang)
    _keep_within_language(app, pagename, lang, context)
    pair = counterpart(pagename)
    if pair is None or pair[1] not in app.env.found_docs or "body" not in context:
        return
    other, other_page = pair
    other_html_lang, _, label = LANGUAGES[other]
    href = escape(app.builder.get_relative_uri(pagename, other_page), quote=True)
    link = (
        f'<p class="language-switch"><a class="language-switch-link" href="{href}" '
        f'hreflang="{other_html_lang}" lang="{other_html_lang}">{label}</a></p>\n'
    )
    context["body"] = link + context["body"]


def add_static_path(app: Sphinx, config) -> None:
    config.html_static_path.append(str(STATIC_DIR))


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("config-inited", add_static_path)
    app.add_css_file("language_switch.css")
    # After the book theme (priority 500/501) has filled in its labels and buttons.
    app.connect("html-page-context", add_language_switch, priority=900)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
