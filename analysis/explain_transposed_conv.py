"""Walk through one transposed convolution with small integers: the clone's command.

Run from a clone (both work)::

    python analysis/explain_transposed_conv.py --size 4 --kernel 3 --stride 2 --padding 1 \\
        [--output-padding 1] [--channels 1] [--dilation 1] [--seed 0]
    python -m analysis.explain_transposed_conv ...

A thin script: the walkthrough is :mod:`antialias.tools.explain_transposed` (installed as
``antialias explain-transposed``); it reads and writes no files.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import torch

from antialias.tools import explain_transposed as _tool

PROG = "explain_transposed_conv"


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see :func:`antialias.tools.explain_transposed.main`)."""
    return _tool.main(argv, prog=PROG)


if __name__ == "__main__":
    torch.set_num_threads(1)  # tiny integer tensors: thread start-up would dominate
    sys.exit(main())
