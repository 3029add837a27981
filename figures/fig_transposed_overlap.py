"""Figure: overlap counts of kernel 3 vs 4 at stride 2, and what a flat input becomes.

Reads ``results/transposed_tutorial/tutorial.{json,npz}`` and writes
``fig_transposed_overlap.{png,pdf}``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._transposed_common import draw_grid, load, wrap_titles  # noqa: E402

NAME = "fig_transposed_overlap"


def draw(arrays: dict[str, np.ndarray], meta: dict) -> plt.Figure:
    ov = meta["overlap"]
    fig, axes = plt.subplots(2, 3, figsize=(7.0, 5.6))
    p3, op3 = ov["k3_padding"]
    p4, op4 = ov["k4_padding"]
    draw_grid(
        axes[0, 0],
        arrays["overlap_k3"],
        f"kernel 3, stride 2 (padding {p3}, output padding {op3}):\n"
        "input pixels reaching each output",
        cmap="Reds",
    )
    draw_grid(
        axes[0, 1],
        arrays["overlap_k4"],
        f"kernel 4, stride 2 (padding {p4}, output padding {op4}):\n"
        "input pixels reaching each output",
        cmap="Reds",
    )
    ax = axes[0, 2]
    row = arrays["overlap_k3"].shape[0] // 2
    ax.step(
        np.arange(arrays["overlap_k3"].shape[1]),
        arrays["overlap_k3"][row],
        where="mid",
        label="kernel 3",
        color="#CC6677",
    )
    ax.step(
        np.arange(arrays["overlap_k4"].shape[1]),
        arrays["overlap_k4"][row],
        where="mid",
        label="kernel 4",
        color="#332288",
        linestyle="--",
    )
    ax.set_xlabel("output column")
    ax.set_ylabel(f"count (row {row})")
    ax.set_title("one row: kernel 3 alternates,\nkernel 4 is even away from the borders")
    ax.legend()
    flats = (
        ("flat_k3", "random positive 3x3 transposed conv"),
        ("flat_k4", "random positive 4x4 transposed conv"),
        ("flat_resize", "nearest + random positive 3x3 conv"),
    )
    for ax, (key, title) in zip(axes[1], flats):
        y = arrays[key]
        im = ax.imshow(y, cmap="viridis", interpolation="nearest")
        ax.grid(False)
        ax.set_title(
            f"all-ones input -> {title}\ninterior (2 border pixels cut): min {y.min():.3g}, "
            f"max {y.max():.3g}"
        )
        fig.colorbar(im, ax=ax, fraction=0.046, pad=0.03)
    fig.suptitle(
        "Uneven overlap (kernel 3) or unequal phase sums (any free kernel) turn a flat input "
        "into a checkerboard; a resize-conv cannot",
        fontsize=9,
    )
    wrap_titles(fig, 30)
    fig.tight_layout()
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
