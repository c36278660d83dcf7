"""The book's browser scripts: the pinned fetch into _vendor/, and how the build uses them.

The fetch runs against a registry made of local files (urllib reads file:// addresses), so
these tests need no network.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tarfile
from pathlib import Path

import pytest
from book_modules import extension, script

fetcher = script("fetch_browser_assets")
browser_assets = extension("browser_assets")
inline_scripts = extension("inline_scripts")


def npm_tarball(files: dict[str, bytes], links: tuple[str, ...] = ()) -> bytes:
    """A gzipped tar laid out as npm packs one: every member under package/."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tar.addfile(info)
    return buffer.getvalue()


@pytest.fixture
def registry(tmp_path, monkeypatch):
    """A one-package registry on disk, and the pin that matches it."""
    data = npm_tarball(
        {
            "package/dist/widgets.js": b"// the entry",
            "package/dist/font.woff2": b"font",
            "package/dist/widgets.js.map": b"not kept",
            "package/../outside.js": b"never written",
            "package/README.md": b"not kept",
        },
        links=("package/dist/link.woff2",),
    )
    folder = tmp_path / "registry" / "@scope" / "widgets" / "-"
    folder.mkdir(parents=True)
    (folder / "widgets-1.2.3.tgz").write_bytes(data)
    package = fetcher.Package(
        "widgets", "@scope/widgets", "1.2.3", fetcher.integrity_of(data),
        "dist/widgets.js", ("dist/widgets.js", "dist/*.woff2"),
    )  # fmt: skip
    monkeypatch.setattr(fetcher, "PACKAGES", (package,))
    return (tmp_path / "registry").as_uri(), package


def test_fetch_unpacks_only_the_kept_files_and_records_them(tmp_path, registry, capsys):
    url, package = registry
    vendor = tmp_path / "_vendor"
    manifest = fetcher.fetch(vendor, url)
    assert manifest["widgets"]["entry"] == "widgets/dist/widgets.js"
    assert manifest["widgets"]["files"] == ["dist/font.woff2", "dist/widgets.js"]
    written = sorted(p.relative_to(vendor).as_posix() for p in vendor.rglob("*") if p.is_file())
    assert written == ["versions.json", "widgets/dist/font.woff2", "widgets/dist/widgets.js"]
    assert not (tmp_path / "outside.js").exists()
    assert json.loads((vendor / "versions.json").read_text()) == manifest
    # A second run finds everything in place and downloads nothing.
    fetcher.fetch(vendor, "file:///nowhere")
    assert "already in _vendor/widgets/" in capsys.readouterr().out
    # A missing file is fetched again.
    (vendor / "widgets" / "dist" / "font.woff2").unlink()
    fetcher.fetch(vendor, url)
    assert (vendor / "widgets" / "dist" / "font.woff2").is_file()


def test_fetch_refuses_a_tarball_that_differs_from_its_pin(tmp_path, registry, monkeypatch):
    url, package = registry
    wrong = dataclasses.replace(package, integrity=fetcher.integrity_of(b"other"))
    monkeypatch.setattr(fetcher, "PACKAGES", (wrong,))
    with pytest.raises(ValueError, match="differs from the pinned"):
        fetcher.fetch(tmp_path / "_vendor", url)
    assert not (tmp_path / "_vendor" / "widgets").exists()


def test_fetch_reports_failure_in_one_line(monkeypatch, capsys):
    def unreachable(*args, **kwargs):
        raise OSError("no route to host")

    monkeypatch.setattr(fetcher, "fetch", unreachable)
    assert fetcher.main([]) == 1
    err = capsys.readouterr().err
    assert "Could not fetch the browser assets: no route to host" in err
    assert "Traceback" not in err


def test_the_pins_name_npm_tarballs():
    assert [p.key for p in fetcher.PACKAGES] == list(browser_assets.PACKAGES)
    html_manager = next(p for p in fetcher.PACKAGES if p.key == "html-manager")
    assert fetcher.tarball_url(html_manager, "https://registry.npmjs.org/") == (
        "https://registry.npmjs.org/@jupyter-widgets/html-manager/-/html-manager-1.0.6.tgz"
    )
    for package in fetcher.PACKAGES:
        assert package.integrity.startswith("sha512-")
        assert any(Path(package.entry).match(pattern) for pattern in package.keep)


def test_build_uses_local_copies_only_when_all_are_there(tmp_path):
    vendor = tmp_path / "_vendor"
    assert browser_assets.local_entries(vendor) is None  # no folder: CDNs, quietly
    vendor.mkdir()
    assert browser_assets.local_entries(vendor) is None  # no manifest: a failed fetch
    entries = {key: f"{key}/main.js" for key in browser_assets.PACKAGES}
    manifest = {key: {"entry": entry} for key, entry in entries.items()}
    (vendor / "versions.json").write_text(json.dumps(manifest))
    assert browser_assets.local_entries(vendor) is None  # the scripts themselves are missing
    for entry in entries.values():
        (vendor / entry).parent.mkdir()
        (vendor / entry).write_text("//")
    assert browser_assets.local_entries(vendor) == entries


def test_widget_pages_load_the_shim_first():
    cdn = {
        "https://cdn.example/require.min.js": {"integrity": "sha256-x", "crossorigin": "anonymous"},
        "https://cdn.example/npm/html-manager@1/dist/embed-amd.js": {"crossorigin": "anonymous"},
    }
    scripts = browser_assets.widget_scripts(None, cdn)
    assert list(scripts) == ["widgets_shim.js", *cdn]
    assert scripts["widgets_shim.js"] == {
        "data-html-manager": "https://cdn.example/npm/html-manager@1/dist/"
    }
    local = {"requirejs": "requirejs/require.js", "html-manager": "html-manager/dist/embed-amd.js",
             "mathjax": "mathjax/es5/tex-mml-chtml.js"}  # fmt: skip
    scripts = browser_assets.widget_scripts(local, cdn)
    assert list(scripts) == ["widgets_shim.js", local["requirejs"], local["html-manager"]]
    assert scripts["widgets_shim.js"] == {"data-html-manager": "html-manager/dist/"}
    assert not any("crossorigin" in attributes for attributes in scripts.values())


def test_inline_scripts_are_kept_once_per_page():
    from sphinx.builders.html._assets import _JavaScript

    thebe = {"body": "const THEBE_JS_URL = 'x'"}
    scripts = [
        _JavaScript("doctools.js"),
        _JavaScript(None, **thebe),
        _JavaScript("", **thebe),  # the copy Sphinx 7 adds
        _JavaScript("", body="let other = 1"),
        _JavaScript("doctools.js", defer="defer"),
    ]
    context = {"script_files": scripts}
    inline_scripts.drop_repeated_inline_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts
    assert [(s.filename, s.attributes) for s in scripts] == [
        ("doctools.js", {}),
        (None, thebe),
        ("", {"body": "let other = 1"}),
        ("doctools.js", {"defer": "defer"}),
    ]
