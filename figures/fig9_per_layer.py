"""Figure 9: where equivariance breaks inside the network, per level and per kind of shift.

Reads ``results/study/study.{json,npz}`` (``python -m analysis.study``, piece ``layers``): for
crop shifts 1..16 px, the feature map of every level (encoder blocks ``enc0..2``, bottleneck,
decoder blocks ``dec2..0``; stride ``r`` = 1, 2, 4, 8, 4, 2, 1) of the shifted input is compared
with the reference's feature map moved by ``shift / r`` pixels, which is possible only when
``r`` divides the shift. Columns group the shifts by the largest power of two dividing them
(odd shifts, 2 mod 4, 4 mod 8, 0 mod 8). Cell: relative RMS error
``sqrt(sum (F_s - shift(F_0))^2 / sum shift(F_0)^2)`` on interior pixels, pooled over those
shifts and the test images (log colour; white: not comparable at that stride). The interior
excludes a wide border (48 px by default): the zero padding reaches far into the coarse levels.

Usage: ``python figures/fig9_per_layer.py [--results DIR] [--out DIR]``
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere
from figures._main import figure_main  # noqa: E402
from figures._study_common import (  # noqa: E402
    TASK_LABEL,
    VARIANT_LABEL,
    VARIANT_ORDER,
    Study,
    load_study,
)

NAME = "fig9_per_layer"
REGION = "interior"
COLS = 5
FLOOR = 1e-4  # relative errors below this (float32 round-off) share the lowest colour


def _class_label(c: int, period: int) -> str:
    if c == 1:
        return "odd"
    if c >= period:
        return f"0 mod {period}"
    return f"{c} mod {2 * c}"


def draw(study: Study) -> plt.Figure:
    """The figure from loaded results (raises ``ResultsError`` if something is missing)."""
    layers = study.get("layers")
    have = layers.get("variants") or {}
    names = [v for v in VARIANT_ORDER if v in have]
    if not names:
        raise study.fail("expected per-layer results for at least one variant")
    levels = layers["levels"]
    strides = layers["strides"]
    classes = layers["shift_classes"]
    period = max(classes)
    grids = {v: study.array(f"layers_{layers['task']}__{v}__{REGION}", ndim=2) for v in names}
    vals = np.concatenate([g[np.isfinite(g)].ravel() for g in grids.values()])
    vmax = max(float(vals.max()) if vals.size else 1.0, FLOOR * 10)
    norm = LogNorm(vmin=FLOOR, vmax=vmax)
    cmap = plt.get_cmap("viridis").with_extremes(bad="#FFFFFF")
    nrows = -(-len(names) // COLS)
    fig, axes = plt.subplots(
        nrows, COLS, figsize=(7.6, 2.7 * nrows + 0.6), squeeze=False, layout="constrained"
    )
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    image = None
    for k, v in enumerate(names):
        ax = axes[k // COLS, k % COLS]
        g = np.clip(grids[v], FLOOR, None)
        image = ax.imshow(g, cmap=cmap, norm=norm, aspect="auto")
        ax.set_xticks(range(len(classes)))
        ax.set_xticklabels([_class_label(c, period) for c in classes], fontsize=6, rotation=35)
        ax.set_yticks(range(len(levels)))
        if k % COLS == 0:
            ax.set_yticklabels([f"{n} (/{s})" for n, s in zip(levels, strides)], fontsize=6.5)
        else:
            ax.set_yticklabels([])
        ax.tick_params(length=2)
        ax.grid(False)
        ax.set_title(VARIANT_LABEL.get(v, v).replace(" + ", "+\n", 1), fontsize=7)
        if k // COLS == nrows - 1 or k + COLS >= len(names):
            ax.set_xlabel("shift (px) class", fontsize=7)
    bar = fig.colorbar(image, ax=axes, shrink=0.85, aspect=30, pad=0.015)
    bar.set_label(f"relative RMS feature error (interior); <= {FLOOR:g} incl. exact 0", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    seeds = max(len(e["seeds"]) for e in have.values())
    top = max(max(abs(a), abs(b)) for cs in layers["class_shifts"].values() for a, b in cs)
    fig.suptitle(
        f"Per-level equivariance error, {TASK_LABEL.get(layers['task'], layers['task'])}: "
        f"crop shifts 1-{top:g}"
        f" px, {layers['n_images']} image(s), {seeds} seed(s)\nrows: levels in forward order "
        f"(/stride); interior: >= {layers.get('border', '?')} px from the window edges; "
        "white: the stride does not divide the shift",
        fontsize=8,
    )
    return fig


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; returns 0, or 2 with one line on stderr for missing/malformed results."""
    return figure_main(
        argv,
        name=NAME,
        description=__doc__.splitlines()[0],
        folder="study",
        load=load_study,
        draw=draw,
    )


if __name__ == "__main__":
    sys.exit(main())
