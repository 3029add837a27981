"""The analyses a user runs on their own models, as installed commands.

Each module has ``run(config) -> result`` (no files, no printing) and ``main(argv) -> int``
(the command line: one line on stderr and exit 2 for a user mistake, :mod:`antialias._cli`):

- :mod:`antialias.tools.learned_kernels`: polyphase gains, responses and checkerboards of the
  learned up-samplers of trained models (``antialias kernels``);
- :mod:`antialias.tools.spectra`: spectra of the built-in re-samplers (``antialias spectra``);
- :mod:`antialias.tools.explain_transposed`: one transposed convolution walked through with
  small integers (``antialias explain-transposed``);
- :mod:`antialias.tools.upsamplers`: finding the learned up-samplers of any model (used by the
  kernels analysis and the report).

Default folders (``checkpoints/``, ``results/...``) are relative to the current directory; the
scripts in a clone's ``analysis/`` pass the clone's folders instead.

What does not live here: the study's orchestration and the paper (``analysis/`` in a clone).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

__all__ = ["parse_args"]


def parse_args(
    parser: argparse.ArgumentParser, argv: Sequence[str] | None
) -> argparse.Namespace | int:
    """``parser.parse_args(argv)``, or the exit code argparse chose (0 for ``--help``, 2 for a
    usage error, its one line already printed by :class:`antialias._cli.ArgumentParser`), so
    that ``main`` returns a code instead of raising ``SystemExit``."""
    try:
        return parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 2
