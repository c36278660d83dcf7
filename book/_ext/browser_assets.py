"""Sphinx extension: where pages load the scripts for saved widgets and formulas from.

Pages with saved ipywidgets load require.js and @jupyter-widgets/html-manager (myst-nb's
``nb_ipywidgets_js``); pages with formulas load MathJax 3 (Sphinx's ``mathjax_path``). Both
point at CDNs by default. When ``_vendor/`` holds copies of the three packages
(``python scripts/fetch_browser_assets.py``), the book copies them into ``_static/`` and
loads those instead, so it renders without a network. Either way, widget pages also load
``widgets_shim.js``, which fixes what html-manager needs on these pages (Font Awesome's
font path, MathJax 2's typesetting call).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

logger = logging.getLogger(__name__)

VENDOR_DIR = "_vendor"  # relative to the book's root, filled by scripts/fetch_browser_assets.py
MANIFEST = "versions.json"
PACKAGES = ("requirejs", "html-manager", "mathjax")
STATIC_DIR = Path(__file__).parent / "static"
SHIM = "widgets_shim.js"
FETCH = "python scripts/fetch_browser_assets.py"


def local_entries(vendor: Path) -> dict[str, str] | None:
    """Each package's script, relative to `vendor`, when all three are there; else None.

    A folder that is there but incomplete is reported, since it means a failed fetch.
    """
    if not vendor.is_dir():
        return None
    path = vendor / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        entries = {key: manifest[key]["entry"] for key in PACKAGES}
    except OSError:
        logger.warning(f"{vendor} has no {MANIFEST}: run {FETCH} again, or remove the folder")
        return None
    except (ValueError, KeyError, TypeError):
        logger.warning(f"{path} does not list {', '.join(PACKAGES)}: run {FETCH} again")
        return None
    missing = [entry for entry in entries.values() if not (vendor / entry).is_file()]
    if missing:
        logger.warning(f"{vendor} lacks {', '.join(missing)}: run {FETCH} again")
        return None
    return entries


def widget_scripts(entries: dict[str, str] | None, cdn_scripts: dict) -> dict[str, dict]:
    """The scripts of a widget page, in loading order: the shim, require.js, html-manager."""
    if entries is None:
        embed = next(url for url in cdn_scripts if url.endswith("/embed-amd.js"))
        return {SHIM: {"data-html-manager": folder_of(embed)}, **cdn_scripts}
    # Files of the same site need no integrity or CORS attributes (file:// pages fail CORS).
    cdn = {"data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/"}
    shim = {"data-html-manager": folder_of(entries["html-manager"])}  # relative to _static/
    return {SHIM: shim, entries["requirejs"]: {}, entries["html-manager"]: cdn}


def folder_of(url: str) -> str:
    return url[: url.rindex("/") + 1]


def configure(app: Sphinx, config: Config) -> None:
    if str(STATIC_DIR) not in config.html_static_path:
        config.html_static_path.append(str(STATIC_DIR))
    vendor = Path(app.confdir) / VENDOR_DIR
    entries = local_entries(vendor)
    config.nb_ipywidgets_js = widget_scripts(entries, config.nb_ipywidgets_js)
    if entries is None:
        logger.info(f"widget and formula scripts: from CDNs ({FETCH} for local copies)")
        return
    config.html_static_path.append(str(vendor))  # its files land in _static/
    config.mathjax_path = entries["mathjax"]
    logger.info(f"widget and formula scripts: local copies from {VENDOR_DIR}/")


def setup(app: Sphinx) -> dict[str, Any]:
    # After myst-nb has registered nb_ipywidgets_js (config-inited runs once all are loaded).
    app.connect("config-inited", configure)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
