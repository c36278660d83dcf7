"""The library's own error for a user's mistake: a bad argument, option, file or folder.

`UsageError` is a `ValueError`, so code that catches ValueError keeps working. The command
line prints a UsageError in one line and exits with status 2; any other exception is a bug
and shows its traceback.
"""

from __future__ import annotations


class UsageError(ValueError):
    """Something the user asked for cannot be done; the message says what to do instead."""


class CheckpointError(UsageError):
    """A checkpoint that cannot be resumed: the message names the file and what is wrong."""


def check_choice(name: str, value: object, choices, *, sort: bool = False) -> None:
    """Refuse `value` unless it is one of `choices`, listing them (sorted, with `sort`)."""
    if value not in choices:
        shown = sorted(choices) if sort else choices
        raise UsageError(f"{name} must be one of {shown}, got {value!r}.")
