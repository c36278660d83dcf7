"""Sphinx extension: each inline script once per page.

Sphinx 7 writes an inline script twice when an extension adds it after the builder has
started (``app.add_js_file(None, body=...)`` then reaches the page both from the builder and
from the registry). sphinx-thebe's ``const THEBE_JS_URL = ...`` is such a script, and its
second copy throws "Identifier 'THEBE_JS_URL' has already been declared" on every page.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def inline_key(script) -> tuple | None:
    """What makes an inline script the same as another (None for a script file)."""
    if getattr(script, "filename", None):
        return None
    attributes = getattr(script, "attributes", {})
    return tuple(sorted(attributes.items()))


def drop_repeated_inline_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree
) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen = set()
    kept = []
    for script in scripts:
        key = inline_key(script)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        kept.append(script)
    scripts[:] = kept


def setup(app: Sphinx) -> dict[str, Any]:
    # Last, after every extension has added its scripts for the page.
    app.connect("html-page-context", drop_repeated_inline_scripts, priority=1000)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
