"""The book's scripts and Sphinx extensions, loaded as modules (they are files, not a package)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def load_module(path: Path) -> ModuleType:
    """The module in `path`, named after the file; loaded once."""
    name = path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and pickling look their module up there
    spec.loader.exec_module(module)
    return module


def script(name: str) -> ModuleType:
    return load_module(ROOT / "scripts" / f"{name}.py")


def extension(name: str) -> ModuleType:
    return load_module(ROOT / "book" / "_ext" / f"{name}.py")
