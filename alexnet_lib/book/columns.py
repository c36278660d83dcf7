"""Lining up printed tables whose cells may hold Chinese: a Chinese character takes two columns."""

from __future__ import annotations

import unicodedata


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal or a notebook's output."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def left(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def right(text: str, width: int) -> str:
    return " " * max(0, width - display_width(text)) + text
