"""Sphinx extension: a ``{chapter-list}`` directive, the numbered list of a language's chapters.

An intro page writes

    ```{chapter-list}
    ```

and gets one linked line per chapter in its own folder (files named ``NN_name``), titled
from the chapters themselves, in file-name order (the order of ``_toc.yml``). Chapters
that are not written yet are not listed, so the intro never links to a missing page.
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util.docutils import SphinxDirective

CHAPTER_NAME = re.compile(r"^\d\d_")


def chapters_in(folder: str, docnames) -> list[str]:
    """The chapter documents (NN_name) directly inside `folder`, sorted by name."""
    found = []
    for docname in docnames:
        parent, _, name = docname.rpartition("/")
        if parent == folder and CHAPTER_NAME.match(name):
            found.append(docname)
    return sorted(found)


class ChapterList(SphinxDirective):
    has_content = False
    required_arguments = 0

    def run(self) -> list[nodes.Node]:
        docname = self.env.docname
        folder = docname.rpartition("/")[0]
        _listing_docs(self.env).add(docname)
        listing = nodes.enumerated_list(enumtype="arabic", prefix="", suffix=".")
        listing["classes"].append("chapter-list")
        for chapter in chapters_in(folder, self.env.found_docs):
            # A :doc: reference without explicit text: Sphinx fills in the chapter's title.
            xref = addnodes.pending_xref(
                "",
                nodes.inline("", chapter, classes=["xref", "std", "std-doc"]),
                refdomain="std",
                reftype="doc",
                reftarget="/" + chapter,
                refdoc=docname,
                refexplicit=False,
                refwarn=True,
            )
            listing += nodes.list_item("", nodes.paragraph("", "", xref))
        return [listing] if len(listing) else []


def _listing_docs(env: BuildEnvironment) -> set[str]:
    if not hasattr(env, "chapter_list_docs"):
        env.chapter_list_docs = set()
    return env.chapter_list_docs


def reread_when_chapters_change(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """A chapter added or removed since the last build changes the lists that show it."""
    moved = {doc.rpartition("/")[0] for doc in added | removed if CHAPTER_NAME.match(
        doc.rpartition("/")[2])}
    return [doc for doc in _listing_docs(env) if doc.rpartition("/")[0] in moved]


def purge(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    _listing_docs(env).discard(docname)


def merge(app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment):
    _listing_docs(env).update(_listing_docs(other) & set(docnames))


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_directive("chapter-list", ChapterList)
    app.connect("env-get-outdated", reread_when_chapters_change)
    app.connect("env-purge-doc", purge)
    app.connect("env-merge-info", merge)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
