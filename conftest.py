"""Pytest runs the unit tests and, through nbval, every notebook of the book.

Notebook kernels inherit this process's environment: quick mode keeps each notebook to
about a minute on a CPU. Unit tests switch it off again (tests/conftest.py).
"""

import os

os.environ.setdefault("ALEXNET_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
