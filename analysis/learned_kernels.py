"""Learned up-sampling kernels of the shipped U-Nets: the clone's command for figure 2.

Run from anywhere in a clone (both work)::

    python -m analysis.learned_kernels [--checkpoints checkpoints] [--task nuclei] [--seed 0]
                                       [--variants tconv4,bilinear] [--out results/learned_kernels]
    python analysis/learned_kernels.py

A thin script: the analysis is :mod:`antialias.tools.learned_kernels` (installed as
``antialias kernels``); this passes the clone's ``checkpoints/`` and ``results/learned_kernels/``
as defaults and records paths relative to the clone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from antialias.tools import learned_kernels as _tool

REPO = Path(__file__).resolve().parents[1]
PROG = "python -m analysis.learned_kernels"
DEFAULT_CHECKPOINTS = REPO / "checkpoints"
DEFAULT_OUT = REPO / "results" / "learned_kernels"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line with the clone's folders as defaults (see the module docstring)."""
    return _tool.main(
        argv,
        prog=PROG,
        default_checkpoints=DEFAULT_CHECKPOINTS,
        default_out=DEFAULT_OUT,
        root=REPO,
    )


if __name__ == "__main__":
    sys.exit(main())
