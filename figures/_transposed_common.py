"""Shared helpers of the fig_transposed_* diagrams: load the tutorial's results, draw grids.

The diagrams read only ``results/transposed_tutorial/tutorial.{json,npz}`` (written by
``analysis/transposed_tutorial.py``) through :func:`load`; nothing here computes a convolution.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # for `python figures/fig_transposed_*.py`
    sys.path.insert(0, str(ROOT))

from figures._main import RESULTS_DIR, read_results  # noqa: E402

TUTORIAL_RESULTS = RESULTS_DIR / "transposed_tutorial"
TUTORIAL_COMMAND = "python analysis/transposed_tutorial.py"

__all__ = ["TUTORIAL_RESULTS", "draw_grid", "load"]


def load(directory: Path = TUTORIAL_RESULTS) -> tuple[dict[str, np.ndarray], dict]:
    """Arrays (npz) and metadata (json) of the tutorial run (:func:`figures._main.read_results`).

    Raises:
        ResultsError: the tutorial has not been run (the message says how to run it), or its
            files are malformed.
    """
    meta, arrays = read_results(directory, "tutorial", TUTORIAL_COMMAND)
    return arrays, meta


def _fmt(v: float, decimals: int) -> str:
    if float(v).is_integer():
        return str(int(v))
    return f"{v:.{decimals}f}"


def draw_grid(
    ax,
    values: np.ndarray,
    title: str,
    *,
    colors: np.ndarray | None = None,
    cmap: str = "Blues",
    decimals: int = 1,
    annotate: bool = True,
    fontsize: float = 8,
    mask_zero: np.ndarray | None = None,
) -> None:
    """A grid of cells with their values written in; ``colors`` overrides the colour source.

    ``mask_zero`` marks cells to draw pale grey (inserted zeros, padding) whatever their value.
    """
    values = np.asarray(values, dtype=float)
    shade = values if colors is None else colors
    if colors is not None and colors.ndim == 3:  # RGB given
        ax.imshow(colors, interpolation="nearest")
    else:
        vmax = np.abs(shade).max() or 1.0
        ax.imshow(
            shade,
            cmap=cmap,
            vmin=-0.15 * vmax if shade.min() >= 0 else -vmax,
            vmax=vmax * 1.25,
            interpolation="nearest",
        )
    if mask_zero is not None:
        pale = np.zeros((*values.shape, 4))
        pale[mask_zero] = (0.93, 0.93, 0.93, 1.0)
        ax.imshow(pale, interpolation="nearest")
    h, w = values.shape
    ax.set_xticks(np.arange(-0.5, w, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, h, 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.grid(which="major", visible=False)
    ax.tick_params(which="both", length=0, labelsize=7)
    ax.set_xticks(range(w))
    ax.set_yticks(range(h))
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title)
    if annotate:
        for i in range(h):
            for j in range(w):
                ax.text(
                    j,
                    i,
                    _fmt(values[i, j], decimals),
                    ha="center",
                    va="center",
                    fontsize=fontsize,
                    color="black",
                )


def wrap_titles(fig, width: int = 34, sup_width: int = 95) -> None:
    """Re-wrap every axes title (and the suptitle) to ``width`` characters per line.

    The diagrams were drawn for a 12-inch canvas; at page width (7 in) with text >= 7 pt a
    title must break more often. Existing line breaks are kept.
    """
    import textwrap

    def wrap(text: str, n: int) -> str:
        return "\n".join(textwrap.fill(line, n) if line else line for line in text.split("\n"))

    for ax in fig.axes:
        ax.set_title(wrap(ax.get_title(), width))
    if fig._suptitle is not None:
        fig._suptitle.set_text(wrap(fig._suptitle.get_text(), sup_width))
