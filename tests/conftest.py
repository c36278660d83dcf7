"""Shared fixtures: tiny IDX data sets written on the fly, the real data when it is there,
and the built book."""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from alexnet_lib.data import FASHION_MNIST_FILES, resolve_data_root


@pytest.fixture(autouse=True)
def _no_quick_mode(monkeypatch):
    """Unit tests run at the settings they ask for; the root conftest sets quick mode for nbval."""
    monkeypatch.delenv("ALEXNET_QUICK", raising=False)


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array in the IDX format Fashion-MNIST uses (magic, big-endian sizes, data)."""
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_tiny_fashion_mnist(root: Path, n_train: int = 64, n_test: int = 32, seed: int = 0):
    """Write a tiny but well-formed FashionMNIST/raw folder under `root`; return the arrays."""
    rng = np.random.default_rng(seed)
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(raw / f"{prefix}-images-idx3-ubyte", images)
        write_idx(raw / f"{prefix}-labels-idx1-ubyte", labels)
        arrays[prefix] = (images, labels)
    return arrays


@pytest.fixture
def tiny_root(tmp_path: Path):
    arrays = make_tiny_fashion_mnist(tmp_path / "data")
    return tmp_path / "data", arrays


@pytest.fixture(scope="session")
def real_data_root() -> Path:
    """The full Fashion-MNIST, from $ALEXNET_DATA or the cache; tests needing it skip otherwise."""
    root, _ = resolve_data_root()
    raw = root / "FashionMNIST" / "raw"
    if not all((raw / name).is_file() for name in FASHION_MNIST_FILES):
        pytest.skip(f"Fashion-MNIST is not in {raw}; set ALEXNET_DATA to run this test")
    return root


@pytest.fixture
def seeded():
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """Build the book as CI does (warnings are errors) into a fresh folder; its html/ folder."""
    root = Path(__file__).resolve().parent.parent
    out = tmp_path_factory.mktemp("book")
    command = [
        sys.executable, "-c", "from jupyter_book.cli.main import main; main()",
        "build", str(root), "--path-output", str(out), "-W", "-n", "--keep-going",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, cwd=root, timeout=900)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"jupyter-book build failed:\n{log[-6000:]}"
    html = out / "_build" / "html"
    assert (html / "index.html").is_file()
    return html
