"""Figure: one transposed conv as zero insertion + padding + a sliding flipped kernel.

Reads ``results/transposed_tutorial/tutorial.{json,npz}`` (the 4x4, kernel 3, stride 2,
padding 1, output padding 1 walkthrough) and writes ``fig_transposed_walkthrough.{png,pdf}``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._transposed_common import draw_grid, load, wrap_titles  # noqa: E402
from figures.style import count  # noqa: E402

NAME = "fig_transposed_walkthrough"
HIGHLIGHT = (1, 1)  # the output pixel whose window is drawn


def draw(arrays: dict[str, np.ndarray], meta: dict) -> plt.Figure:
    cfg = meta["walk"]["config"]
    s = cfg["stride"]
    top, _, left, _ = (int(v) for v in arrays["walk_pad"])
    padded = arrays["walk_padded"]
    real = np.zeros(padded.shape, dtype=bool)
    n = arrays["walk_x"].shape[0]
    real[top : top + s * (n - 1) + 1 : s, left : left + s * (n - 1) + 1 : s] = True
    k = arrays["walk_flipped"].shape[0]
    # two rows (input | stuffed input, kernel | output): at page width one row of four grids
    # would leave cells too small for their 7-pt numbers
    fig = plt.figure(figsize=(7.0, 6.6))
    outer = fig.add_gridspec(2, 1, height_ratios=[1, 0.85], hspace=0.3)
    row0 = outer[0].subgridspec(1, 2, width_ratios=[4, 10], wspace=0.25)
    row1 = outer[1].subgridspec(1, 2, width_ratios=[3.2, 8], wspace=0.25)
    axes = [
        fig.add_subplot(row0[0]),
        fig.add_subplot(row0[1]),
        fig.add_subplot(row1[0]),
        fig.add_subplot(row1[1]),
    ]
    draw_grid(axes[0], arrays["walk_x"], f"input x ({n}x{n})", cmap="Oranges")
    draw_grid(
        axes[1],
        padded,
        f"{count(s - 1, 'zero')} inserted, padded {top} before / "
        f"{top + cfg['output_padding']} after",
        cmap="Oranges",
        mask_zero=~real,
    )
    draw_grid(axes[2], arrays["walk_flipped"], "kernel, flipped", cmap="Greens")
    draw_grid(
        axes[3],
        arrays["walk_output"],
        f"output y ({arrays['walk_output'].shape[0]}x{arrays['walk_output'].shape[1]})",
        cmap="Purples",
    )
    r, c = HIGHLIGHT
    axes[1].add_patch(Rectangle((c - 0.5, r - 0.5), k, k, fill=False, lw=2.2, ec="#CC3311"))
    axes[3].add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, lw=2.2, ec="#CC3311"))
    line = next(t for t in meta["walk_lines"] if t.startswith(f"y[{r},{c}]"))
    fig.suptitle(
        f"Transposed conv, kernel {k}, stride {s}, padding {cfg['padding']}, output padding "
        f"{cfg['output_padding']} = stride-1 conv of the flipped kernel over the zero-stuffed, "
        "padded input",
        fontsize=9,
    )
    wrap_titles(fig, 52, 85)
    fig.text(
        0.5,
        0.02,
        f"red window: {line}\n(grey cells are inserted or padding zeros)",
        ha="center",
        fontsize=8,
    )
    fig.subplots_adjust(left=0.04, right=0.98, top=0.88, bottom=0.1)
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="transposed_tutorial",
        load=load,
        draw=lambda loaded: draw(*loaded),
    )


if __name__ == "__main__":
    sys.exit(main())
