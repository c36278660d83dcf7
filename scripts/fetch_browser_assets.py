"""Fetch the scripts that render saved widgets and formulas, so the book needs no CDN.

Pages with saved ipywidgets load require.js and @jupyter-widgets/html-manager; pages with
formulas load MathJax 3. The build takes them from CDNs unless `_vendor/` holds copies,
which this script puts there: each package at a pinned version, its npm tarball checked
against the registry's sha512 before anything is unpacked. Nothing here is committed
(`_vendor/` is ignored); CI runs the script before the tests and the build.

    python scripts/fetch_browser_assets.py      # fetch what is missing or outdated

A package already in `_vendor/` at its pinned version is left alone. The registry is
https://registry.npmjs.org unless NPM_CONFIG_REGISTRY names a mirror, as for npm.
"""

from __future__ import annotations

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "_vendor"
MANIFEST = "versions.json"  # read by book/_ext/browser_assets.py


@dataclass(frozen=True)
class Package:
    key: str  # its folder under _vendor/ and its name in the manifest
    name: str  # on npm
    version: str
    integrity: str  # the registry's "dist.integrity": sha512 of the tarball
    entry: str  # the script a page loads, relative to the package
    keep: tuple[str, ...]  # what to unpack: patterns relative to the package ("*" spans folders)


PACKAGES = (
    Package(
        "requirejs", "requirejs", "2.3.8",
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        "require.js", ("require.js",),
    ),
    Package(
        # The version myst-nb's default CDN link names; it bundles the base and controls
        # widgets of ipywidgets 8.
        "html-manager", "@jupyter-widgets/html-manager", "1.0.6",
        "sha512-+Mn+Ra8wyIHrYaUpfmf9A3dsLkt/NuwzPQN8sthdxBD35VV5cOJbpmgMhNR27n/rmP3mKyEe0PWCJrtZrXTXDQ==",
        "dist/embed-amd.js",
        ("LICENSE", "dist/embed-amd.js",  # and the Font Awesome fonts its styles name
         "dist/*.woff2", "dist/*.woff", "dist/*.ttf", "dist/*.eot", "dist/*.svg"),
    ),
    Package(
        # Sphinx's default MathJax (mathjax@3, es5/tex-mml-chtml.js), with what that component
        # loads on demand: fonts, TeX extensions, the menu and the accessibility tools.
        "mathjax", "mathjax", "3.2.2",
        "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "es5/tex-mml-chtml.js",
        ("LICENSE", "es5/tex-mml-chtml.js", "es5/a11y/*", "es5/input/*", "es5/output/chtml/*",
         "es5/sre/*", "es5/ui/*"),
    ),
)  # fmt: skip


def tarball_url(package: Package, registry: str) -> str:
    """npm's tarball address: <registry>/<name>/-/<name without scope>-<version>.tgz."""
    base = package.name.rsplit("/", 1)[-1]
    return f"{registry.rstrip('/')}/{package.name}/-/{base}-{package.version}.tgz"


def integrity_of(data: bytes) -> str:
    """The Subresource Integrity string npm records for a tarball."""
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def download(package: Package, registry: str) -> bytes:
    url = tarball_url(package, registry)
    with urllib.request.urlopen(url, timeout=60) as response:
        data = response.read()
    found = integrity_of(data)
    if found != package.integrity:
        raise ValueError(f"{url}: checksum {found} differs from the pinned {package.integrity}")
    return data


def unpack(package: Package, data: bytes, folder: Path) -> list[str]:
    """Write the kept regular files of an npm tarball (rooted at package/) into `folder`."""
    written = []
    with tempfile.TemporaryFile() as raw:
        raw.write(data)
        raw.seek(0)
        with tarfile.open(fileobj=raw, mode="r:gz") as tar:
            for member in tar:
                path = PurePosixPath(member.name)
                if not member.isfile() or path.parts[:1] != ("package",) or ".." in path.parts:
                    continue
                relative = path.relative_to("package").as_posix()
                if not any(fnmatch.fnmatch(relative, pattern) for pattern in package.keep):
                    continue
                target = folder / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                written.append(relative)
    if package.entry not in written:
        raise ValueError(f"{package.name}@{package.version} has no {package.entry}")
    return sorted(written)


def read_manifest(vendor: Path) -> dict:
    try:
        return json.loads((vendor / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def is_current(package: Package, recorded: dict | None, vendor: Path) -> bool:
    """Whether `vendor` already holds this package at its pinned version, every file present."""
    if not recorded or recorded.get("integrity") != package.integrity:
        return False
    folder = vendor / package.key
    return all((folder / name).is_file() for name in recorded.get("files", []))


def fetch(vendor: Path = VENDOR, registry: str | None = None) -> dict:
    """Bring `vendor` up to the pinned packages; returns the manifest written there."""
    registry = registry or os.environ.get("NPM_CONFIG_REGISTRY") or "https://registry.npmjs.org"
    vendor.mkdir(parents=True, exist_ok=True)
    old = read_manifest(vendor)
    manifest = {}
    for package in PACKAGES:
        label = f"{package.name}@{package.version}"
        if is_current(package, old.get(package.key), vendor):
            print(f"{label}: already in {vendor.name}/{package.key}/")
            manifest[package.key] = old[package.key]
            continue
        data = download(package, registry)
        folder = vendor / package.key
        shutil.rmtree(folder, ignore_errors=True)
        files = unpack(package, data, folder)
        print(f"{label}: {len(files)} files into {vendor.name}/{package.key}/ (checksum verified)")
        manifest[package.key] = {
            "name": package.name,
            "version": package.version,
            "integrity": package.integrity,
            "entry": f"{package.key}/{package.entry}",
            "files": files,
        }
    (vendor / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    return manifest


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    try:
        fetch()
    except (OSError, ValueError, tarfile.TarError) as err:
        print(f"Could not fetch the browser assets: {err}", file=sys.stderr)
        print("The book still builds without them, loading these scripts from CDNs.",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
