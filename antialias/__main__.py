"""``antialias <command> [args]``: the one installed entry point (also ``python -m antialias``).

The commands and their targets are :data:`antialias.commands.COMMANDS`; a target is imported
only when its command runs. A command whose module is not installed (or not yet part of this
version) is one line on stderr and exit 2, like every other user mistake
(:mod:`antialias._cli`).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

from antialias.commands import COMMANDS

PROG = "antialias"


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: {PROG} <command> [args ...]   ({PROG} <command> --help for its options)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {cmd.summary}" for name, cmd in COMMANDS.items()]
    lines += ["", "options:", "  -h, --help  this list", "  --version   the installed version"]
    return "\n".join(lines) + "\n"


def _error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def resolve(name: str) -> Callable[[list[str]], int]:
    """The ``main`` function of command ``name``.

    Raises:
        LookupError: unknown command, or its module is not installed (one-line message).
    """
    if name not in COMMANDS:
        raise LookupError(
            f"expected a command among {', '.join(COMMANDS)}, got {name!r} (see {PROG} --help)"
        )
    module_name, _, attr = COMMANDS[name].target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        # Only the command's own module (or a package above it) missing means "not available";
        # a third-party module missing inside it names that module, so the user can install it.
        missing = err.name or "?"
        if module_name == missing or module_name.startswith(missing + "."):
            raise LookupError(
                f"command {name!r} is not available in this installation "
                f"(module {module_name} is missing)"
            ) from None
        raise LookupError(
            f"command {name!r} needs the package {missing!r}, which is not installed"
        ) from None
    return getattr(module, attr)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``argv`` (default ``sys.argv[1:]``) to a command; returns its exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:
        sys.stderr.write(_usage())
        return 2
    first, rest = args[0], args[1:]
    if first in ("-h", "--help", "help"):
        sys.stdout.write(_usage())
        return 0
    if first == "--version":
        from antialias import __version__

        print(f"{PROG} {__version__}")
        return 0
    try:
        command = resolve(first)
    except LookupError as err:
        return _error(str(err.args[0]))
    code = command(rest)
    return 0 if code is None else int(code)


if __name__ == "__main__":
    sys.exit(main())
