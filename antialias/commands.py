"""The table of installed commands: ``antialias <command>`` -> ``"module:function"``.

Each target is a ``main(argv: list[str] | None) -> int`` and is imported only when its command
runs, so ``antialias --help`` stays fast and one command's missing dependency never breaks
another. The dispatcher is :mod:`antialias.__main__`; this module holds data only.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["COMMANDS", "Command"]


class Command(NamedTuple):
    """One installed command: where its ``main`` lives and what it does (one line)."""

    target: str
    summary: str


COMMANDS: dict[str, Command] = {
    "shift-consistency": Command(
        "antialias.consistency.cli:main",
        "how far f(shift(x)) is from shift(f(x)), at every offset of the period",
    ),
    "kernels": Command(
        "antialias.tools.learned_kernels:main",
        "learned up-sampling kernels: polyphase gains, responses, checkerboard index",
    ),
    "spectra": Command(
        "antialias.tools.spectra:main",
        "frequency responses of the up- and down-samplers (aliasing, imaging)",
    ),
    "explain-transposed": Command(
        "antialias.tools.explain_transposed:main",
        "what a transposed convolution does: shapes, zero-insertion and matrix views",
    ),
    "report": Command(
        "antialias.report:main",
        "an HTML page with figures from a shift-consistency result (RESULT.json)",
    ),
    "train": Command("antialias.train:main", "train a U-Net on one of the bundled tasks"),
}
