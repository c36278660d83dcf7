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
