"""Spectra of the built-in re-samplers: the clone's command for the paper's figures 1-3.

Run from anywhere in a clone (both work)::

    python -m analysis.spectra [--out results/spectra] [--quick]
    python analysis/spectra.py

A thin script: the analysis is :mod:`antialias.tools.spectra` (installed as
``antialias spectra``); this passes the clone's ``results/spectra/`` as the default.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from antialias.tools import spectra as _tool

REPO = Path(__file__).resolve().parents[1]
PROG = "python -m analysis.spectra"
DEFAULT_OUT = REPO / "results" / "spectra"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line with the clone's ``results/spectra`` as the default ``--out``."""
    return _tool.main(argv, prog=PROG, default_out=DEFAULT_OUT)


if __name__ == "__main__":
    sys.exit(main())
