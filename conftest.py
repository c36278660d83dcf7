"""Pytest runs the unit tests and, through nbval, every notebook of the book.

Notebook kernels inherit this process's environment: quick mode keeps each notebook to
about a minute on a CPU. Unit tests switch it off again (tests/conftest.py).

The notebooks and the tests that use `real_data_root` need Fashion-MNIST. It is looked for
once, after collection (and downloaded into the cache where that is allowed); where it is
missing, those tests are skipped with one message naming ALEXNET_DATA, and under CI (the
CI variable set) the session stops instead, so that CI never passes without them.
"""

import os
import shutil
import tempfile

import pytest

os.environ.setdefault("ALEXNET_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Quick mode's checkpoints go to a folder of this session's, removed at its end: nothing the
# notebooks write while tested stays beside them, or meets a later run.
_QUICK_DIR = tempfile.mkdtemp(prefix="alexnet-quick-")
os.environ.setdefault("ALEXNET_QUICK_DIR", _QUICK_DIR)


def pytest_unconfigure(config):
    shutil.rmtree(_QUICK_DIR, ignore_errors=True)

DATA_MISSING = "Fashion-MNIST not found: set ALEXNET_DATA (see the README's 'The data')"
_missing_data = pytest.StashKey[tuple]()  # (the loader's message, how many tests skipped)


def _needs_data(item: pytest.Item) -> bool:
    return item.path.suffix == ".ipynb" or "real_data_root" in getattr(item, "fixturenames", ())


def _data_problem() -> str | None:
    """Why Fashion-MNIST cannot be read (after one download try where allowed), or None."""
    from alexnet_lib.data import read_fashion_mnist

    try:
        for train in (True, False):
            read_fashion_mnist(train=train)
    except (FileNotFoundError, ValueError) as err:
        return str(err)
    return None


def pytest_collection_modifyitems(session, config, items):
    needing = [item for item in items if _needs_data(item)]
    problem = _data_problem() if needing else None
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.exit(f"{problem}\n{len(needing)} tests need it.", returncode=1)
    for item in needing:
        item.add_marker(pytest.mark.skip(reason=DATA_MISSING))
    config.stash[_missing_data] = (problem, len(needing))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if _missing_data in config.stash:
        problem, count = config.stash[_missing_data]
        terminalreporter.section("Fashion-MNIST is missing", yellow=True)
        terminalreporter.write_line(f"{count} tests (the notebooks' cells and the tests on the "
                                    f"real data) were skipped.\n{problem}")
