"""Command-line policy shared by every command: a user mistake is one line on stderr, exit 2.

- :class:`ArgumentParser`: argparse whose ``error`` prints ``<prog>: error: <message>`` (no usage
  block) and exits 2.
- :class:`UsageError`: raised by a command's body for anything the user can fix (a missing file,
  a value that contradicts the model); :func:`run` turns it into the same one line and exit 2.
- :func:`run`: calls ``body(args)`` and applies the policy; ``ValueError``/``TypeError`` raised by
  argument *checks* of the library are user mistakes too when the command opts in with
  ``user_errors=``.

Anything else is a bug and keeps its traceback. ``KeyboardInterrupt`` exits 130 quietly.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

__all__ = ["ArgumentParser", "UsageError", "fail", "run"]


class UsageError(Exception):
    """A mistake the user can fix; its message is the whole report (one line)."""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with the one-line error policy."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {_one_line(message)}\n")


def _one_line(message: object) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= 500 else text[:497] + "..."


def fail(message: str) -> NoReturn:
    """Raise :class:`UsageError` (reads well at the call site: ``fail("expected ...")``)."""
    raise UsageError(message)


def run(
    prog: str,
    body: Callable[[], int | None],
    *,
    user_errors: tuple[type[BaseException], ...] = (),
) -> int:
    """Run ``body()`` and return its exit code, printing user mistakes as one line (exit 2).

    Args:
        prog: the command's name, the prefix of the error line.
        body: the command; returns an exit code or ``None`` (= 0).
        user_errors: further exception types to report as user mistakes (for example
            ``(ValueError, TypeError)`` around library calls whose checks name the argument).
    """
    try:
        code = body()
    except UsageError as err:
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except user_errors as err:  # type: ignore[misc]
        print(f"{prog}: error: {_one_line(err)}", file=sys.stderr)
        return 2
    return 0 if code is None else int(code)
