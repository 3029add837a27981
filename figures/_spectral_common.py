"""Accessors of the spectral figures (1-3): one analysis' result pair, checked as it is read.

Each figure reads ``<results>/<stem>.json`` and ``<results>/<stem>.npz`` written by an analysis
in ``analysis/`` (through :func:`figures._main.read_results`); :class:`Results` checks each value
a figure takes from them. It computes nothing. The command line:
:func:`figures._main.figure_main`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python figures/figN_*.py` from anywhere
    sys.path.insert(0, str(ROOT))

from figures._main import RESULTS_DIR, ResultsError, read_results  # noqa: E402

__all__ = ["RESULTS_DIR", "Results", "ResultsError", "load_results"]


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
    """Read ``<directory>/<stem>.json`` and ``.npz`` (:func:`figures._main.read_results`).

    Raises:
        ResultsError: a file is missing or unreadable (the message names ``command``).
    """
    meta, arrays = read_results(directory, stem, command)
    return Results(meta=meta, arrays=arrays, where=Path(directory), command=command)
