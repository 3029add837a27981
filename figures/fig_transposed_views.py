"""Figure: the matrix view (M, whose transpose is the transposed conv) and the polyphase view.

Reads ``results/transposed_tutorial/tutorial.{json,npz}`` and writes
``fig_transposed_views.{png,pdf}``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._transposed_common import draw_grid, load, wrap_titles  # noqa: E402

NAME = "fig_transposed_views"
PHASE_COLORS = (
    "#88CCEE",
    "#DDCC77",
    "#CC6677",
    "#44AA99",
    "#AA4499",
    "#999933",
    "#332288",
    "#117733",
    "#882255",
)


def draw(arrays: dict[str, np.ndarray], meta: dict) -> plt.Figure:
    cfg = meta["walk"]["config"]
    s, p = cfg["stride"], cfg["padding"]
    m = arrays["walk_matrix"]
    kernels = arrays["walk_phase_kernels"]  # (s, s, Q, Q)
    out = arrays["walk_output"]
    fig = plt.figure(figsize=(7.0, 5.4))
    grid = fig.add_gridspec(2, s * s + 2, height_ratios=[1.0, 1.45])
    ax = fig.add_subplot(grid[0, :])
    vmax = np.abs(m).max()
    shown = np.where(m == 0, np.nan, m)
    im = ax.imshow(shown, cmap="Greens", vmin=0, vmax=vmax, interpolation="nearest", aspect="equal")
    ax.set_facecolor("#F2F2F2")
    ax.grid(False)
    ax.set_xlabel(
        f"column = output pixel of the transposed conv\n({m.shape[1]} = "
        f"{out.shape[0]}x{out.shape[1]}, row-major)"
    )
    ax.set_ylabel(f"row = input pixel ({m.shape[0]})")
    ax.set_title(
        f"Matrix view: M ({m.shape[0]}x{m.shape[1]}) is the stride-{s} conv {out.shape[0]}x"
        f"{out.shape[1]} -> {arrays['walk_x'].shape[0]}x{arrays['walk_x'].shape[1]}; the "
        "transposed conv is y = M^T x (row i of M = the kernel stamp of input pixel i)"
    )
    fig.colorbar(im, ax=ax, fraction=0.015, pad=0.01, label="weight value")
    for a in range(s):
        for b in range(s):
            axk = fig.add_subplot(grid[1, a * s + b])
            draw_grid(axk, kernels[a, b], f"phase ({a},{b})\nconv kernel", cmap="Greens")
            for spine in axk.spines.values():
                spine.set_visible(True)
                spine.set_color(PHASE_COLORS[a * s + b])
                spine.set_linewidth(3)
    axo = fig.add_subplot(grid[1, s * s :])
    h, w = out.shape
    rgb = np.zeros((h, w, 3))
    for r in range(h):
        for c in range(w):
            rgb[r, c] = to_rgb(PHASE_COLORS[((r + p) % s) * s + (c + p) % s])
    draw_grid(
        axo,
        out,
        f"output, coloured by phase\n((row+p) mod {s}, (col+p) mod {s}), p = padding = {p}",
        colors=rgb,
    )
    fig.suptitle(
        f"Polyphase view (bottom): {s * s} ordinary convs of the small input, interleaved by "
        f"pixel shuffle; max |error| vs torch: matrix {meta['walk']['errors']['matrix']:.0e}, "
        f"polyphase {meta['walk']['errors']['polyphase']:.0e}",
        y=0.01,
        va="bottom",
        fontsize=8,
    )
    wrap_titles(fig, 90, 100)
    for axk in fig.axes[2:]:  # the small grids: short titles
        axk.set_title(axk.get_title(), fontsize=8)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
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
