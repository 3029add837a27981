"""Shared plumbing of the spectral figures (1-3): read a result pair, validate it, run a main.

Each figure reads ``<results>/<stem>.json`` and ``<results>/<stem>.npz`` written by an analysis
in ``analysis/``; this module only loads and checks those files (it computes nothing). A missing
or malformed file becomes one clear line on stderr and exit status 2, naming the command that
writes the results.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python figures/figN_*.py` from anywhere
    sys.path.insert(0, str(ROOT))

from figures.style import FIGURES_DIR, RESULTS_DIR, apply_style, save_figure  # noqa: E402

__all__ = [
    "FIGURES_DIR",
    "RESULTS_DIR",
    "Results",
    "ResultsError",
    "figure_main",
]


class ResultsError(Exception):
    """A results file is missing or does not hold what a figure needs (message says which)."""


@dataclass
class Results:
    """One analysis' saved output: the JSON document and the NPZ arrays.

    Attributes:
        meta: the parsed JSON document.
        arrays: every array of the NPZ, loaded into memory.
        where: the folder, for error messages.
        command: the command that writes these results, for error messages.
    """

    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    where: Path
    command: str

    def _fail(self, what: str) -> ResultsError:
        return ResultsError(f"malformed results in {self.where}: {what}; rerun `{self.command}`")

    def get(self, *path: str) -> Any:
        """``meta[path[0]][path[1]]...``, or :class:`ResultsError` naming the missing key."""
        node: Any = self.meta
        for i, key in enumerate(path):
            if not isinstance(node, dict) or key not in node:
                raise self._fail(f"expected the JSON key {'/'.join(path[: i + 1])!r}")
            node = node[key]
        return node

    def number(self, *path: str, allow_none: bool = False) -> float | None:
        """A finite number (or ``None`` if allowed) at ``path`` of the JSON."""
        value = self.get(*path)
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(f"expected a number at {'/'.join(path)!r}, got {value!r}")
        if not np.isfinite(value):
            raise self._fail(f"expected a finite number at {'/'.join(path)!r}, got {value!r}")
        return float(value)

    def array(self, key: str, ndim: int | None = None, shape: tuple[int, ...] | None = None):
        """A finite float array of the NPZ, with the expected ``ndim`` / ``shape``."""
        if key not in self.arrays:
            raise self._fail(f"expected the array {key!r} in the .npz")
        value = np.asarray(self.arrays[key])
        if ndim is not None and value.ndim != ndim:
            raise self._fail(f"expected {key!r} with {ndim} dimensions, got shape {value.shape}")
        if shape is not None and value.shape != shape:
            raise self._fail(f"expected {key!r} of shape {shape}, got {value.shape}")
        if not np.issubdtype(value.dtype, np.number) or not np.all(np.isfinite(value)):
            raise self._fail(f"expected finite numbers in {key!r}")
        return value.astype(np.float64)


def load_results(directory: Path, stem: str, command: str) -> Results:
    """Read ``<directory>/<stem>.json`` and ``.npz``.

    Raises:
        ResultsError: a file is missing or unreadable (the message names ``command``).
    """
    directory = Path(directory)
    js, npz = directory / f"{stem}.json", directory / f"{stem}.npz"
    for path in (js, npz):
        if not path.is_file():
            raise ResultsError(f"missing results file {path}; run `{command}` first")
    try:
        meta = json.loads(js.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ResultsError(f"cannot read {js} ({err}); rerun `{command}`") from err
    if not isinstance(meta, dict):
        raise ResultsError(f"expected a JSON object in {js}; rerun `{command}`")
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as err:
        raise ResultsError(f"cannot read {npz} ({err}); rerun `{command}`") from err
    return Results(meta=meta, arrays=arrays, where=directory, command=command)


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one clear line instead of a usage dump
        raise _UsageError(message)


def figure_main(
    argv: Sequence[str] | None,
    *,
    name: str,
    description: str,
    default_results: Path,
    stem: str,
    command: str,
    draw: Callable[[Results], Any],
) -> int:
    """The command line every spectral figure shares.

    ``python figures/<name>.py [--results DIR] [--out DIR]``: load ``stem`` from ``--results``,
    ``draw`` it (a function returning a matplotlib figure), save PNG + PDF into ``--out``.

    Returns:
        0 on success; 2 (one line on stderr) for a usage error or missing/malformed results.
    """
    parser = _Parser(prog=f"python figures/{name}.py", description=description)
    parser.add_argument(
        "--results", type=Path, default=default_results, help=f"folder holding {stem}.json/.npz"
    )
    parser.add_argument("--out", type=Path, default=FIGURES_DIR, help="where PNG and PDF go")
    try:
        args = parser.parse_args(argv)
        if args.out.exists() and not args.out.is_dir():
            raise _UsageError(f"expected --out to be a folder, got the file {args.out}")
        results = load_results(args.results, stem, command)
        apply_style()
        fig = draw(results)
        written = save_figure(fig, name, args.out)
    except (_UsageError, ResultsError) as err:
        print(f"{name}: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"{name}: error: cannot write the figure: {err}", file=sys.stderr)
        return 2
    print("wrote " + " and ".join(str(p) for p in written))
    return 0
